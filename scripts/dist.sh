#!/usr/bin/env bash
# make dist: every release artifact into target/dist/ — the npm packages (main + one per
# platform, napi-rs layout) and the Python wheels + sdist — then checks them (file headers,
# wheel tags, twine check). Cross-builds with zig (PyPI ziglang) through cargo-zigbuild (napi)
# and maturin --zig; the Windows addon with mingw-w64. Tools are installed by `make dist-tools`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=target/dist
py=target/py/venv/bin/python
export PATH="$root/target/tools/bin:$PATH"
rm -rf "$out" && mkdir -p "$out/addons" "$out/npm" "$out/python"

# --- Node addons -----------------------------------------------------------------------------
# target triple (".2.17": glibc 2.17, as manylinux2014) → napi-rs platform name
node_targets=(
  "x86_64-unknown-linux-gnu.2.17 linux-x64-gnu"
  "aarch64-unknown-linux-gnu.2.17 linux-arm64-gnu"
  "x86_64-unknown-linux-musl linux-x64-musl"
  "aarch64-unknown-linux-musl linux-arm64-musl"
  "x86_64-apple-darwin darwin-x64"
  "aarch64-apple-darwin darwin-arm64"
)
for row in "${node_targets[@]}"; do
  read -r triple platform <<<"$row"
  tmp=$(mktemp -d)
  case $triple in
    x86_64-apple-darwin) export MACOSX_DEPLOYMENT_TARGET=10.13 ;;
    aarch64-apple-darwin) export MACOSX_DEPLOYMENT_TARGET=11.0 ;;
  esac
  (cd bindings-node && npx napi build --platform --release --manifest-path Cargo.toml --target "$triple" -x --no-js --output-dir "$tmp" >/dev/null)
  unset MACOSX_DEPLOYMENT_TARGET
  cp "$tmp/seawall.$platform.node" "$out/addons/"
  rm -rf "$tmp"
  echo "dist: addon $platform"
done

# Windows x64: mingw-w64 (there is no MSVC SDK here). napi-build links N-API from "libnode";
# the import library says those functions come from node.exe, as node-gyp's addons do. The
# symbol list is napi-sys's own. Standard (MSVC-built) Node loads the `win32-x64-msvc` addon,
# and N-API is a C ABI, so that is the name it ships under.
lib=target/tools/libnode-win64
mkdir -p "$lib"
napi_sys=$(cargo metadata --format-version 1 --manifest-path bindings-node/Cargo.toml | "$py" -c "import json,sys; print(next(p['manifest_path'] for p in json.load(sys.stdin)['packages'] if p['name']=='napi-sys'))")
{ echo "LIBRARY node.exe"; echo "EXPORTS"; grep -ohE "fn (napi|node_api)_[a-z_0-9]+" "$(dirname "$napi_sys")/src/functions.rs" | sed 's/^fn //' | sort -u; } >"$lib/node.def"
x86_64-w64-mingw32-dlltool -d "$lib/node.def" -l "$lib/libnode.dll.a"
: >"$lib/libnode.dll" # napi-build only checks that it exists; the linker takes libnode.dll.a
LIBNODE_PATH="$root/$lib" CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  cargo build -q --release -p seawall-node --target x86_64-pc-windows-gnu
cp target/x86_64-pc-windows-gnu/release/seawall_node.dll "$out/addons/seawall.win32-x64-msvc.node"
echo "dist: addon win32-x64-msvc (mingw-w64)"

# --- npm packages ----------------------------------------------------------------------------
main=$(cd bindings-node && npm pack --silent --pack-destination "$root/$out" | tail -1)
node bindings-node/scripts/dist-npm.mjs "$out/$main" "$out/addons" "$out/npm"
rm -f "$out/$main"

# --- Python wheels and sdist -----------------------------------------------------------------
maturin=target/py/venv/bin/maturin
wheel() { (cd bindings-python && "../$maturin" build --release --out "../$out/python" "$@" 2>&1 | grep -E '📦|error' || true); }
wheel --zig --target x86_64-unknown-linux-gnu --compatibility manylinux2014
wheel --zig --target aarch64-unknown-linux-gnu --compatibility manylinux2014
wheel --zig --target x86_64-unknown-linux-musl --compatibility musllinux_1_2
wheel --zig --target aarch64-unknown-linux-musl --compatibility musllinux_1_2
MACOSX_DEPLOYMENT_TARGET=10.13 wheel --zig --target x86_64-apple-darwin
MACOSX_DEPLOYMENT_TARGET=11.0 wheel --zig --target aarch64-apple-darwin
wheel --target x86_64-pc-windows-gnu
(cd bindings-python && "../$maturin" sdist --out "../$out/python" 2>&1 | grep -E '📦|error' || true)

bash scripts/check-dist.sh "$out"
