#!/bin/sh
# fuzz.sh [SECONDS]: builds the libFuzzer harnesses of tests/fuzz with
# clang, ASan and UBSan, and runs each for SECONDS (default 20) from its
# checked-in corpus (new inputs go to build/fuzz/corpus, not the tree).
# Runs them side by side; prints executions per harness; fails on any crash, leak or timeout, the
# reproducer being left in build/fuzz/.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${1:-20}
b=${SALVO_FUZZ_BUILD:-build/fuzz}
cmake -S . -B $b -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DSALVO_SANITIZE=address,undefined -DSALVO_FUZZ=ON -DSALVO_TESTS=OFF \
  >/dev/null || exit 1
fuzzers="url headers retry_after request_line h1 h2 json cookie location config digest"
targets=""
for f in $fuzzers; do targets="$targets fuzz_$f"; done
# shellcheck disable=SC2086
cmake --build $b -j "$(nproc)" --target $targets >/dev/null || exit 1
# The response framing starts from every response of the conformance
# corpus too (scripts/conformance-seeds.py).
python3 scripts/conformance-seeds.py tests/conformance/responses.jsonl \
  "$b/seeds" || exit 1
# HTTP/2 starts from a server's answers written with python3-h2.
/usr/bin/python3 scripts/h2-seeds.py "$b/seeds/h2" || exit 1
# The harnesses run side by side (each is one process on one core): the
# stage takes SECONDS, not SECONDS per harness.
for f in $fuzzers; do
  mkdir -p "$b/corpus/$f" "$b/seeds/$f"
  (cd $b && ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_$f \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "corpus/$f" "$top/tests/fuzz/corpus/$f" \
    "seeds/$f" >"fuzz_$f.log" 2>&1; echo $? >"fuzz_$f.rc") &
done
wait
failed=""
for f in $fuzzers; do
  log="$b/fuzz_$f.log"
  rc=$(cat "$b/fuzz_$f.rc" 2>/dev/null || echo 99)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  if [ "$rc" -eq 0 ]; then
    echo "fuzz $f: ${runs:-?} executions in $secs s, no crash"
  else
    echo "fuzz $f: FAILED (exit $rc); the end of $log:"
    tail -n 30 "$log"
    failed="$failed $f"
  fi
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed"; exit 1; }
