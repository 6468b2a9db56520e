#!/usr/bin/env bash
# Runs every kfk test from nothing: installs dependencies, builds, runs the
# whole suite, then the codec tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer, then a clang build checked with -Wthread-safety
# whose client and broker suites run under ThreadSanitizer, then a short
# fixed-seed libFuzzer run.
# Ends with one line: "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bash tools/dev/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }

logs=()
status=0
step() { echo "== $*" >&2; }

step "build (debugoptimized)"
if [[ ! -d build ]]; then meson setup build >/dev/null || status=1; fi
if ninja -C build > build-ninja.log 2>&1 || { grep -E "error|FAILED" -A3 build-ninja.log | head -60; false; }; then
  step "meson test"
  meson test -C build --print-errorlogs --num-processes 2 || status=1
  logs+=(build/meson-logs/testlog.json)
else
  status=1; logs+=(build/meson-logs/missing-testlog.json)
fi

step "codec tests under ASan + UBSan"
if [[ ! -d build-asan ]]; then
  CXX=clang++ CC=clang meson setup build-asan -Dsanitizers=address,undefined -Dbenchmarks=false >/dev/null || status=1
fi
if ninja -C build-asan test/protocol/test_protocol >/dev/null; then
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --no-rebuild --print-errorlogs --suite protocol || status=1
  logs+=(build-asan/meson-logs/testlog.json)
else
  status=1; logs+=(build-asan/meson-logs/missing-testlog.json)
fi

# One clang build does two checks: -Wthread-safety over the whole tree (the
# GUARDED_BY/REQUIRES annotations, lib/io/thread_annotations.h; a broken lock
# rule fails the build), and the client and broker suites under
# ThreadSanitizer (a data race fails the test). tools/dev/tsan.supp holds the
# only suppressions, each explained.
if [[ -d build-tsan ]] || command -v clang++ >/dev/null; then
  step "clang -Wthread-safety build; client and broker tests under ThreadSanitizer"
  if [[ ! -d build-tsan ]]; then
    # b_lundef=false: clang links no sanitizer runtime into shared
    # libraries (libkfk.so); the executables that load them bring it.
    CXX=clang++ CC=clang meson setup build-tsan -Dsanitizers=thread -Dthread_safety_analysis=true \
      -Db_lundef=false -Dbenchmarks=false -Dfuzzers=disabled >/dev/null || status=1
  fi
  if ninja -C build-tsan > build-tsan-ninja.log 2>&1 || { grep -E "error|FAILED" -A3 build-tsan-ninja.log | head -60; false; }; then
    TSAN_OPTIONS="suppressions=$root/tools/dev/tsan.supp halt_on_error=0 second_deadlock_stack=1" \
      meson test -C build-tsan --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
      --suite client --suite broker || status=1
    logs+=(build-tsan/meson-logs/testlog.json)
  else
    status=1; logs+=(build-tsan/meson-logs/missing-testlog.json)
  fi
fi

if [[ -d build-fuzz ]] || command -v clang++ >/dev/null; then
  step "libFuzzer: request decoder and record walk, fixed seeds"
  if [[ ! -d build-fuzz ]]; then
    CXX=clang++ CC=clang meson setup build-fuzz -Dfuzzers=enabled -Dtests=false -Dbenchmarks=false >/dev/null || status=1
  fi
  if ninja -C build-fuzz test/fuzz/fuzz_request_decoder test/fuzz/fuzz_record_walk >/dev/null; then
    meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz || status=1
    logs+=(build-fuzz/meson-logs/testlog.json)
  else
    status=1; logs+=(build-fuzz/meson-logs/missing-testlog.json)
  fi
fi

python3 tools/dev/summarize_tests.py "${logs[@]}" || status=1
exit $status
