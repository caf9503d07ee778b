#!/bin/sh
# Every test in every configuration CI requires: gcc, clang with ASan+UBSan,
# clang with TSan, all -Wall -Wextra -Werror, plus the format check.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
build() {
  name=$1 cc=$2
  shift 2
  echo "=== build $name"
  cmake -S . -B "build/$name" -DCMAKE_C_COMPILER="$cc" "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
}
check() {
  echo "=== test $1"
  # Timing checks in the suite are generous, but share no CPU with others.
  (cd "build/$1" && ctest --output-on-failure --timeout 600)
}
scripts/format.sh --check
scripts/render-man.sh --check
build gcc gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo
check gcc
build clang-asan clang -DCMAKE_BUILD_TYPE=Debug -DSALVO_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 check clang-asan
build clang-tsan clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSALVO_SANITIZE=thread
TSAN_OPTIONS=halt_on_error=1 check clang-tsan
echo "=== all tests passed"
