#!/usr/bin/python3
"""Checks what a user compiling against kfk's public headers meets first.

    check_public_headers.py SRC_INCLUDE BUILD_INCLUDE PC_FILE CXX [CXX args...]

- every header under kfk/ compiled as C++17 fails with exactly one error,
  "kfk requires C++20 (compile with -std=c++20 or later)";
- all of them together compile as C++20 under -Wall -Wextra -Werror, with
  the documented aggregate form kfk::NewTopic{"orders", 6, 3, {...}};
- the generated kfk.pc carries -std=c++20 in its Cflags.
Exits non-zero naming every failed check.
"""
import glob
import os
import subprocess
import sys
import tempfile

MESSAGE = "kfk requires C++20 (compile with -std=c++20 or later)"


def main(argv):
    src_inc, build_inc, pc_file, cxx = argv[0], argv[1], argv[2], argv[3:]
    headers = sorted({os.path.relpath(p, inc) for inc in (src_inc, build_inc)
                      for p in glob.glob(os.path.join(inc, "kfk", "*.h"))})
    failures = []

    def check(cond, what, detail=""):
        print(("ok: " if cond else "FAIL: ") + what + ("" if cond else "\n" + detail))
        if not cond:
            failures.append(what)

    check("kfk/version.h" in headers and "kfk/errc.h" in headers and "kfk/producer.h" in headers,
          f"found the public headers, generated ones included ({len(headers)})",
          str(headers))

    def compile_text(text, flags):
        with tempfile.NamedTemporaryFile("w", suffix=".cc", delete=False) as f:
            f.write(text)
        try:
            p = subprocess.run(cxx + flags + ["-I", src_inc, "-I", build_inc, "-fsyntax-only", f.name],
                               capture_output=True, text=True, timeout=300)
        finally:
            os.unlink(f.name)
        return p.returncode, p.stdout + p.stderr

    for h in headers:
        rc, out = compile_text(f'#include "{h}"\n', ["-std=c++17"])
        errors = [l for l in out.splitlines() if "error:" in l]
        check(rc != 0 and len(errors) == 1 and MESSAGE in errors[0],
              f"{h} as C++17: exactly one error, the C++20 requirement", out)

    text = "".join(f'#include "{h}"\n' for h in headers) + (
        '\nkfk::NewTopic topic{"orders", 6, 3, {{"retention.ms", "86400000"}}};\n'
        "int main() { return topic.partitions == 6 && topic.replica_assignment.empty() ? 0 : 1; }\n")
    rc, out = compile_text(text, ["-std=c++20", "-Wall", "-Wextra", "-Werror"])
    check(rc == 0, "every header as C++20 with -Wall -Wextra -Werror, NewTopic{\"orders\", 6, 3, {...}}", out)

    try:
        cflags = [l for l in open(pc_file).read().splitlines() if l.startswith("Cflags:")]
    except OSError as e:
        cflags = [str(e)]
    check(len(cflags) == 1 and "-std=c++20" in cflags[0].split(), f"{pc_file} Cflags carry -std=c++20", str(cflags))

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
