#!/usr/bin/env bash
# The one abi3 wheel installs and runs on CPython 3.10, 3.12 and 3.13 (from pyenv), each in a
# fresh venv, with nothing else installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
wheel=$(ls "$root"/target/wheels/seawall-*-abi3-*.whl | head -1)
for v in 3.10 3.12 3.13; do
  py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$v.*/bin/python 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$py" ]; then echo "wheel-check: no CPython $v under pyenv"; exit 1; fi
  venv="$root/target/py/wheel-$v"
  rm -rf "$venv" && "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --no-deps "$wheel"
  (cd "$root/target" && "$venv/bin/python" - <<'PY'
import asyncio, sys
import seawall
cb = seawall.CircuitBreaker(failure_threshold=1, recovery_timeout=30.0)
try:
    cb.call(lambda: 1 / 0)
except ZeroDivisionError:
    pass
assert cb.state == "OPEN"
try:
    cb.call(lambda: 1)
except seawall.CircuitBreakerError as e:
    # Real time passes between the failure and this call (the host clock ticks coarsely).
    assert e.code == "CIRCUIT_OPEN" and 29.0 < e.retry_after <= 30.0, e.retry_after
else:
    raise AssertionError("an open breaker let a call through")
n = 0
async def flaky():
    global n
    n += 1
    if n < 3:
        raise ConnectionError("flaky")
    return "ok"
with seawall.virtual_clock():
    assert asyncio.run(seawall.retry_with_backoff(flaky, max_attempts=3)) == "ok"
try:
    seawall.CircuitBreaker(failure_threshold=0)
except ValueError as e:
    assert e.option == "failure_threshold"
print(f"wheel-check: CPython {sys.version.split()[0]} ok")
PY
  )
done

# `pip install ./bindings-python` in a fresh venv builds from source through maturin (PEP 517).
venv="$root/target/py/from-source"
rm -rf "$venv" && python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "$root/bindings-python"
(cd "$root/target" && "$venv/bin/python" -c "import seawall; assert seawall.CircuitBreaker(failure_threshold=2).state == 'CLOSED'; print('wheel-check: pip install ./bindings-python ok')")
