#!/usr/bin/env bash
# Runs every kfk test from nothing: installs dependencies, builds, runs the
# whole suite, then the codec tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer, then a short fixed-seed libFuzzer run.
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
