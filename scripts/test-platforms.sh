#!/usr/bin/env bash
# make test-platforms (after make dist and make test-arm64): the slow checks of the release
# artifacts, each printing its runner's summary.
#  1. the whole pytest suite on the manylinux2014 aarch64 wheel, Debian's arm64 CPython under qemu;
#  2. the whole pytest suite on the manylinux2014 x86_64 wheel in CPython 3.10, 3.12 and 3.13;
#  3. the sdist, built by pip in a fresh venv with only Rust (maturin from PyPI);
#  4. the npm packages as users get them: main + its linux-x64-gnu package (napi), and the main
#     package alone (no platform package: wasm), each from ESM and CommonJS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dist=target/dist
arm=target/platforms/arm64
qemu=(qemu-aarch64-static -L "$root/target/tools/arm64-root")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. arm64: the pytest suite on the manylinux2014 aarch64 wheel (qemu)"
(cd bindings-python && PYTHONPATH="$root/$arm/site" SEAWALL_EXEC_PREFIX="${qemu[*]}" \
  "${qemu[@]}" "$root/target/tools/arm64-root/usr/bin/python3.11" -m pytest tests -q -p no:cacheprovider)

echo "== 2. the manylinux2014 x86_64 wheel: the whole pytest suite in CPython 3.10, 3.12, 3.13"
wheel=$(ls $dist/python/seawall-*-manylinux2014_x86_64*.whl)
for v in 3.10 3.12 3.13; do
  py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$v.*/bin/python 2>/dev/null | sort -V | tail -1)
  [ -n "$py" ] || { echo "no CPython $v under pyenv"; exit 1; }
  "$py" -m venv "$work/py$v"
  "$work/py$v/bin/python" -m pip install -q "$wheel" ${PY_TEST_CORE:?run it from make test-platforms}
  # The SDKs, frameworks and tools the suite also runs (the Makefile's PY_TEST_DEPS), each where
  # this CPython has the pinned version (fastapi 0.163 needs 3.11): the tests of one it lacks skip.
  for dep in ${PY_TEST_DEPS:?run it from make test-platforms}; do
    "$work/py$v/bin/python" -m pip install -q "$dep" 2>/dev/null || echo "CPython $v: no $dep (its tests skip)"
  done
  (cd bindings-python && "$work/py$v/bin/python" -m pytest tests -q -p no:cacheprovider)
done

echo "== 3. the sdist, built by pip in a fresh venv"
python3 -m venv "$work/sdist"
"$work/sdist/bin/python" -m pip install -q "$(ls $dist/python/seawall-*.tar.gz)"
(cd "$work" && "$work/sdist/bin/python" -c "import seawall; cb = seawall.CircuitBreaker(failure_threshold=1); print('sdist: built and imported, breaker', cb.state)")

echo "== 4. the npm packages as installed by users"
cat >"$work/check.mjs" <<'JS'
import { backendName, CircuitBreaker } from 'seawall';
const cb = new CircuitBreaker({ failureThreshold: 1 });
await cb.execute(() => Promise.reject(new Error('x'))).catch(() => {});
if (cb.getState() !== 'OPEN') throw new Error('breaker did not open');
console.log(`esm: ${backendName()}`);
JS
echo "const s = require('seawall'); new s.CircuitBreaker(); console.log('cjs: ' + s.backendName());" >"$work/check.cjs"
ver=$(node -p "require('./bindings-node/package.json').version")
for mode in napi wasm; do
  d="$work/npm-$mode" && mkdir "$d" && cp "$work/check.mjs" "$work/check.cjs" "$d/"
  echo '{"name":"consumer","version":"1.0.0","private":true}' >"$d/package.json"
  extra=(); [ $mode = napi ] && extra=("$root/$dist/npm/seawall-linux-x64-gnu-$ver.tgz")
  (cd "$d" && npm install --omit=optional --no-audit --no-fund --loglevel=error "$root/$dist/npm/seawall-$ver.tgz" "${extra[@]}" >/dev/null)
  got=$(cd "$d" && node check.mjs && node check.cjs)
  echo "$got"
  [ "$got" = "$(printf 'esm: %s\ncjs: %s' $mode $mode)" ] || { echo "npm ($mode): expected the $mode backend"; exit 1; }
done
echo "test-platforms: done"
