#!/usr/bin/env python3
"""Fails if a wasm module imports anything from its host (the core must be pure).

Reads the binary format directly: the import section is section id 2."""
import sys


def leb(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def name(data, i):
    n, i = leb(data, i)
    return data[i:i + n].decode(), i + n


def imports_and_exports(path):
    data = open(path, "rb").read()
    assert data[:4] == b"\0asm", f"{path} is not a wasm module"
    i, imports, exports = 8, [], []
    while i < len(data):
        sid, i = data[i], i + 1
        size, i = leb(data, i)
        end = i + size
        if sid in (2, 7):
            count, j = leb(data, i)
            for _ in range(count):
                if sid == 2:
                    mod, j = name(data, j)
                    field, j = name(data, j)
                    imports.append(f"{mod}.{field}")
                    kind, j = data[j], j + 1
                    if kind == 0:
                        _, j = leb(data, j)
                    elif kind == 1:
                        j += 1
                        flags, j = leb(data, j)
                        _, j = leb(data, j)
                        if flags & 1:
                            _, j = leb(data, j)
                    elif kind == 2:
                        flags, j = leb(data, j)
                        _, j = leb(data, j)
                        if flags & 1:
                            _, j = leb(data, j)
                    else:
                        j += 2
                else:
                    field, j = name(data, j)
                    exports.append(field)
                    j += 1
                    _, j = leb(data, j)
        i = end
    return imports, exports


if __name__ == "__main__":
    imports, exports = imports_and_exports(sys.argv[1])
    probes = [e for e in exports if e.startswith("probe_")]
    print(f"wasm: {sys.argv[1]}: {len(imports)} host imports, {len(probes)} probe exports")
    if len(probes) < 4:
        sys.exit("wasm: the probe exports are missing, so the check proves nothing")
    if imports:
        sys.exit("wasm: the core imports from its host: " + ", ".join(imports))
