#!/usr/bin/env python3
"""Adds up the results of every test runner's log and prints one closing line.

Understands cargo test ("test result: ok. N passed; M failed"), node --test ("# pass N",
"# fail N"), pytest ("N passed, M failed") and scripts/fuzz.sh (one line per target: "…, no
crash" passes, "… crashed" fails). Fails if any suite failed or if nothing ran, so
a run that executed no test is never green."""
import re
import sys

CARGO = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed")
NODE_PASS = re.compile(r"^# pass (\d+)", re.M)
NODE_FAIL = re.compile(r"^# fail (\d+)", re.M)
FUZZ_PASS = re.compile(r"^fuzz: \S+: .*, no crash$", re.M)
FUZZ_FAIL = re.compile(r"^fuzz: \S+ crashed", re.M)
PYTEST = re.compile(r"^=*\s*(?:(\d+) failed, )?(\d+) passed(?:, [^=\n]*)? in [\d.]+s", re.M)

passed = failed = 0
rows = []
for path in sys.argv[1:]:
    text = open(path, errors="replace").read()
    p = f = 0
    for m in CARGO.finditer(text):
        p, f = p + int(m[1]), f + int(m[2])
    p += sum(int(x) for x in NODE_PASS.findall(text))
    f += sum(int(x) for x in NODE_FAIL.findall(text))
    p += len(FUZZ_PASS.findall(text))
    f += len(FUZZ_FAIL.findall(text))
    for m in PYTEST.finditer(text):
        p, f = p + int(m[2]), f + int(m[1] or 0)
    rows.append((path, p, f))
    passed, failed = passed + p, failed + f

for path, p, f in rows:
    print(f"  {path}: {p} passed, {f} failed")
if passed == 0:
    sys.exit("no test ran")
print(f"seawall: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
