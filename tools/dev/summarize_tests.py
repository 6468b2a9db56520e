#!/usr/bin/env python3
"""Sums test results from meson testlog.json files into 'N passed, M failed'.

A doctest binary counts as its test cases (from its summary line); any other
test counts as one; skipped tests (exit 77) are reported apart.
"""
import json
import re
import sys

DOCTEST = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"summarize_tests: {path} missing: counting as one failure", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        m = DOCTEST.findall(t.get("stdout", "") or "")
        if t.get("result") == "SKIP":
            skipped += 1
            continue
        ok = t.get("result") in ("OK", "EXPECTEDFAIL")
        if m:
            total, p, f = (int(x) for x in m[-1])
            passed += p
            failed += f
            if not ok and f == 0:
                failed += 1  # crashed or timed out after its summary
        elif ok:
            passed += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
