#!/usr/bin/env bash
# Install checks, as a user would do them:
#  1. `npm pack` gives a tarball that installs and runs on linux-x64 with no Rust on PATH
#     (ESM and CommonJS).
#  2. `npm install <path to bindings-node>` into a fresh project works on a machine with Rust,
#     building the addon when no binary is present (the install hook runs cargo).
set -euo pipefail
pkg=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node_bin=$(dirname "$(command -v node)")
npm_cli=$(command -v npm)

cat > "$work/check.mjs" <<'JS'
import { CircuitBreaker, withBackoff, resilienceManager, ResiliencePolicies } from 'seawall';
const cb = new CircuitBreaker({ failureThreshold: 1 });
await cb.execute(async () => { throw new Error('x'); }).catch(() => {});
let n = 0;
const r = await withBackoff(async () => (++n < 2 ? Promise.reject(new Error('flaky')) : 'ok'), { baseDelay: 1 });
const m = await resilienceManager.execute('install-check', async () => 7, ResiliencePolicies.api());
if (cb.getState() !== 'OPEN' || r !== 'ok' || m !== 7) throw new Error('install check failed');
console.log('esm ok');
JS
cat > "$work/check.cjs" <<'JS'
const { CircuitBreaker } = require('seawall');
if (new CircuitBreaker({ failureThreshold: 2 }).getState() !== 'CLOSED') throw new Error('cjs failed');
console.log('cjs ok');
JS

# 1. The tarball, without Rust. First npm's conventions on it: publint --strict (exports,
#    files, types) and arethetypeswrong (types and JS resolve alike for ESM, CommonJS, node10
#    and bundlers, for `seawall` and `seawall/wasm`; `seawall/inline` and `seawall/init` are for browsers only).
tgz=$(cd "$pkg" && npm pack --silent --pack-destination "$work" | tail -1)
(cd "$pkg" && npx publint --strict "$work/$tgz" && npx attw "$work/$tgz" --format table-flipped --exclude-entrypoints ./inline ./init)
mkdir "$work/from-tarball" && cd "$work/from-tarball"
cp ../check.mjs ../check.cjs .
echo '{"name":"consumer","version":"1.0.0","private":true}' > package.json
env PATH="$node_bin:/usr/bin:/bin" "$npm_cli" install "../$tgz" --no-audit --no-fund --loglevel=error
if env PATH="$node_bin:/usr/bin:/bin" sh -c 'command -v cargo' >/dev/null; then echo "cargo still on PATH"; exit 1; fi
env PATH="$node_bin:/usr/bin:/bin" node check.mjs
env PATH="$node_bin:/usr/bin:/bin" node check.cjs
echo "install-check: tarball $(du -k "$work/$tgz" | cut -f1) KB installs and runs without Rust"

# 2. From the source path, with no prebuilt addon: the install hook builds it with cargo.
stash="$work/stash"
mkdir "$stash"
mv "$pkg"/native/*.node "$stash"/
restore() { if ls "$stash"/*.node >/dev/null 2>&1 && ! ls "$pkg"/native/*.node >/dev/null 2>&1; then mv "$stash"/*.node "$pkg"/native/; fi; rm -rf "$work"; }
trap restore EXIT
mkdir "$work/from-path" && cd "$work/from-path"
cp ../check.mjs ../check.cjs .
echo '{"name":"consumer","version":"1.0.0","private":true}' > package.json
npm install "$pkg" --no-audit --no-fund --loglevel=error
ls "$pkg"/native/*.node >/dev/null
node check.mjs
node check.cjs
echo "install-check: npm install <path> built the addon from source and runs"
