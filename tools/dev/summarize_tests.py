#!/usr/bin/env python3
"""Sums test results from meson testlog.json files into 'N passed, M failed'.

A doctest binary counts as its test cases (from its summary line); any other
test counts as one; skipped tests (exit 77) are reported apart. Before the
final line it names every failed test case with its first error lines, so the
tail of a CI log says what failed even when the full log is cut.
"""
import json
import re
import sys

DOCTEST = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
SEPARATOR = "=" * 79


def failed_cases(stdout):
    """Yields (test case, error lines) for each failure block doctest printed."""
    for block in stdout.split(SEPARATOR)[1:]:
        lines = [l for l in block.strip().splitlines() if l.strip()]
        case = next((l.split("TEST CASE:", 1)[1].strip() for l in lines if "TEST CASE:" in l), None)
        if case is None:
            continue
        errors = [l.strip() for l in lines if "ERROR" in l or "FATAL" in l or "values:" in l or "logged:" in l]
        if errors:  # blocks without errors are other output (--duration, MESSAGE)
            yield case, errors[:4]


passed = failed = skipped = 0
report = []
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"summarize_tests: {path} missing: counting as one failure", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        stdout = t.get("stdout", "") or ""
        m = DOCTEST.findall(stdout)
        if t.get("result") == "SKIP":
            skipped += 1
            continue
        ok = t.get("result") in ("OK", "EXPECTEDFAIL")
        if not ok:
            report.append(f"FAILED {t.get('name')} ({t.get('result')}, {t.get('duration', 0):.0f} s)")
            for case, errors in failed_cases(stdout):
                report.append(f"  test case: {case}")
                report.extend(f"    {e}" for e in errors)
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
for line in report:
    print(line)
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
