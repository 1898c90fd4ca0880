#!/usr/bin/env bash
# run-tests.sh TEST_BIN… -- REPLAY_BIN… [-- PY_TEST…]
# Runs every unit-test program, then replays each committed fuzz corpus
# (tests/fuzz/<name>/) through its target, then runs each Python test file
# with $PYTHON (default python3; they find the CLI through $TINGLADO_BIN).
# Exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
mode=tests
for bin in "$@"; do
  if [ "$bin" = "--" ]; then
    if [ "$mode" = tests ]; then mode=replay; else mode=python; fi
    continue
  fi
  if [ "$mode" = tests ]; then
    echo "== $bin"
    "$bin" || failed+=("$bin")
  elif [ "$mode" = python ]; then
    echo "== $bin"
    "${PYTHON:-python3}" "$bin" || failed+=("$bin")
  else
    name=$(basename "$bin"); name=${name#fuzz_}
    echo "== replay corpus tests/fuzz/$name"
    if [ ! -d "tests/fuzz/$name" ]; then echo "missing corpus tests/fuzz/$name"; failed+=("$bin"); continue; fi
    "$bin" "tests/fuzz/$name" || failed+=("$bin")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all tests passed"
