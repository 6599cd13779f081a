#!/usr/bin/env bash
# An arm64 Debian userland in a folder (target/tools/arm64-root), never installed system-wide:
# what qemu-aarch64-static needs (-L) to run the arm64 Node from npm and Debian's arm64
# CPython 3.11 against our arm64 builds. Debian packages only: apt-get download + dpkg -x.
set -euo pipefail
root=${1:-target/tools/arm64-root}
[ -x "$root/usr/bin/python3.11" ] && [ -e "$root/lib/ld-linux-aarch64.so.1" ] && exit 0
command -v qemu-aarch64-static >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null; }
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
apt-cache policy libc6:arm64 | grep -q 'Candidate: [0-9]' || apt-get update -qq
arm=(libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 libffi8 libssl3 libbz2-1.0 liblzma5 libsqlite3-0 libncursesw6 libtinfo6
     libreadline8 libuuid1 libcrypt1 libnsl2 libtirpc3 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
     libcom-err2 libkeyutils1 libdb5.3 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11-venv)
all=(python3-pip-whl python3-setuptools-whl)
dl=$(mktemp -d)
trap 'rm -rf "$dl"' EXIT
(cd "$dl" && apt-get download -qq "${arm[@]/%/:arm64}" "${all[@]}")
mkdir -p "$root"
for deb in "$dl"/*.deb; do dpkg -x "$deb" "$root"; done
# Debian keeps the loader under /lib/aarch64-linux-gnu; the binaries ask for /lib/ld-linux-aarch64.so.1.
[ -e "$root/lib/ld-linux-aarch64.so.1" ] || ln -sf aarch64-linux-gnu/ld-linux-aarch64.so.1 "$root/lib/ld-linux-aarch64.so.1"
echo "arm64 userland in $root"
