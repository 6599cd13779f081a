#!/usr/bin/env bash
# Checks what `make dist` built, by the artifacts' own headers (no macOS, Windows or musl
# runtime can be had here): each addon's format and CPU, the glibc it needs (≤ 2.17), each
# wheel's tags and the format of the library inside, the npm packages' platforms and the main
# package's optionalDependencies, and `twine check` on every wheel and the sdist.
set -euo pipefail
out=${1:-target/dist}
py=target/py/venv/bin/python
fail() { echo "check-dist: $*" >&2; exit 1; }

expect_file() { # path, pattern `file` must print
  local got; got=$(file -b "$1")
  [[ $got =~ $2 ]] || fail "$(basename "$1"): expected /$2/, file says: $got"
}
max_glibc() { objdump -T "$1" | grep -oE 'GLIBC_[0-9.]+' | sed 's/GLIBC_//' | sort -V | tail -1; }

declare -A addon=(
  [linux-x64-gnu]='ELF 64-bit LSB shared object, x86-64'
  [linux-arm64-gnu]='ELF 64-bit LSB shared object, ARM aarch64'
  [linux-x64-musl]='ELF 64-bit LSB shared object, x86-64'
  [linux-arm64-musl]='ELF 64-bit LSB shared object, ARM aarch64'
  [darwin-x64]='Mach-O 64-bit (dynamically linked shared library )?x86_64'
  [darwin-arm64]='Mach-O 64-bit (dynamically linked shared library )?arm64'
  [win32-x64-msvc]='PE32\+ executable \(DLL\).*x86-64'
)
for p in "${!addon[@]}"; do
  f="$out/addons/seawall.$p.node"
  [ -f "$f" ] || fail "no addon for $p"
  expect_file "$f" "${addon[$p]}"
  case $p in
    *-gnu) v=$(max_glibc "$f"); [ "$(printf '%s\n2.17\n' "$v" | sort -V | tail -1)" = 2.17 ] || fail "$p needs glibc $v (> 2.17)" ;;
    *-musl) [[ $(objdump -T "$f") != *GLIBC_* ]] || fail "$p refers to glibc symbols" ;;
    win32-*) [[ $(x86_64-w64-mingw32-objdump -p "$f") == *"DLL Name: node.exe"* ]] || fail "$p does not import N-API from node.exe" ;;
  esac
done
echo "check-dist: ${#addon[@]} addons: formats and CPUs as named; linux gnu ≤ glibc 2.17, musl without glibc"

"$py" - "$out" <<'PY'
import json, subprocess, sys, tarfile, zipfile, pathlib
out = pathlib.Path(sys.argv[1])
def fail(msg): sys.exit(f"check-dist: {msg}")
platforms = {"linux-x64-gnu": ("linux", "x64", "glibc"), "linux-arm64-gnu": ("linux", "arm64", "glibc"),
             "linux-x64-musl": ("linux", "x64", "musl"), "linux-arm64-musl": ("linux", "arm64", "musl"),
             "darwin-x64": ("darwin", "x64", None), "darwin-arm64": ("darwin", "arm64", None), "win32-x64-msvc": ("win32", "x64", None)}
tgzs = {p.name: p for p in (out / "npm").glob("*.tgz")}
def manifest(p):
    with tarfile.open(p) as t:
        return json.load(t.extractfile("package/package.json")), t.getnames()
main, names = manifest(next(p for n, p in tgzs.items() if n.startswith("seawall-0")))
if sorted(main.get("optionalDependencies", {})) != sorted(f"seawall-{p}" for p in platforms):
    fail(f"main package optionalDependencies: {main.get('optionalDependencies')}")
if any(n.endswith(".node") for n in names) or "install" in main.get("scripts", {}):
    fail("the main package carries an addon or an install hook")
for p, (os_, cpu, libc) in platforms.items():
    pkg, files = manifest(tgzs[f"seawall-{p}-{main['version']}.tgz"])
    if pkg["os"] != [os_] or pkg["cpu"] != [cpu] or pkg.get("libc") != ([libc] if libc else None) or f"package/seawall.{p}.node" not in files:
        fail(f"seawall-{p}: {pkg}")
print(f"check-dist: npm: seawall + {len(platforms)} platform packages (os, cpu, libc; optionalDependencies)")

wheels = {
    "manylinux2014_x86_64": "ELF 64-bit LSB shared object, x86-64", "manylinux2014_aarch64": "ELF 64-bit LSB shared object, ARM aarch64",
    "musllinux_1_2_x86_64": "ELF 64-bit LSB shared object, x86-64", "musllinux_1_2_aarch64": "ELF 64-bit LSB shared object, ARM aarch64",
    "macosx_10_13_x86_64": "Mach-O 64-bit", "macosx_11_0_arm64": "Mach-O 64-bit", "win_amd64": "PE32+ executable (DLL)",
}
found = list((out / "python").glob("*.whl"))
for tag, kind in wheels.items():
    w = [p for p in found if tag in p.name and "-cp310-abi3-" in p.name]
    if len(w) != 1:
        fail(f"wheel {tag}: {[p.name for p in found]}")
    with zipfile.ZipFile(w[0]) as z:
        lib = next(n for n in z.namelist() if n.startswith("seawall/_native") and n.endswith((".so", ".pyd")))
        data = z.read(lib)
    got = subprocess.run(["file", "-b", "-"], input=data, capture_output=True).stdout.decode()
    if kind not in got:
        fail(f"{w[0].name}: {lib} is {got.strip()}")
if len(list((out / "python").glob("seawall-*.tar.gz"))) != 1:
    fail("no sdist")
print(f"check-dist: python: {len(wheels)} abi3 wheels (tags and libraries as named) + sdist")
PY
"$py" -m twine check --strict "$out"/python/*
