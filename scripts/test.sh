#!/bin/sh
# Every test in every configuration CI requires: the format and man page
# checks, gcc, clang with ASan+UBSan, clang with TSan (all -Wall -Wextra
# -Werror), the installed-tree check and short fuzzer runs. Every stage runs
# even when an earlier one failed; the exit status is non-zero when any
# did, and the last lines name each failed stage.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc)
failed=""
passed=0
nfailed=0

stage() {
  name=$1
  shift
  echo "=== $name"
  t0=$(date +%s)
  if "$@"; then
    echo "=== $name: ok ($(($(date +%s) - t0)) s)"
    passed=$((passed + 1))
  else
    echo "=== $name: FAILED ($(($(date +%s) - t0)) s)"
    failed="$failed $name"
    nfailed=$((nfailed + 1))
  fi
}

build() {
  dir=$1 cc=$2
  shift 2
  cmake -S . -B "build/$dir" -DCMAKE_C_COMPILER="$cc" "$@" >/dev/null &&
    cmake --build "build/$dir" -j "$jobs"
}

# Tests run side by side, one per core: each is bounded and proves its
# point from what its servers recorded, not from how fast it ran.
check() {
  (cd "build/$1" && ctest -j "$jobs" --output-on-failure --timeout 600)
}

stage format scripts/format.sh --check
stage build-gcc build gcc gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo
stage man-page scripts/render-man.sh --check build/gcc/salvo.1
stage test-gcc check gcc
stage install sh scripts/check-install.sh build/gcc
# The Python package as the gcc build assembled it in build/gcc/python, run
# from the repository root so that python/ cannot shadow it.
# Once per transport, as ctest runs the C suites (native-h2: over HTTP/2,
# through tests/h2front.py), side by side (each has its own servers); each
# stage then reports its run.
for tp in native libcurl native-h2; do
  case $tp in
  native-h2) env="SALVO_TRANSPORT=native SALVO_HTTP_VERSION=2-prior-knowledge" ;;
  *) env="SALVO_TRANSPORT=$tp" ;;
  esac
  (env PYTHONPATH=build/gcc/python $env \
    SALVO_FAULTD=build/gcc/tests/faultd \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python \
    >build/python-$tp.log 2>&1; echo $? >build/python-$tp.rc) &
done
wait
for tp in native libcurl native-h2; do
  stage python-$tp sh -c "cat build/python-$tp.log; exit \$(cat build/python-$tp.rc)"
done
stage build-clang-asan build clang-asan clang -DCMAKE_BUILD_TYPE=Debug \
  -DSALVO_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1 stage test-clang-asan check clang-asan
stage build-clang-tsan build clang-tsan clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSALVO_SANITIZE=thread
TSAN_OPTIONS=halt_on_error=1 stage test-clang-tsan check clang-tsan
stage fuzz sh scripts/fuzz.sh "${SALVO_FUZZ_SECONDS:-20}"

echo "stages: $passed passed, $nfailed failed"
if [ -n "$failed" ]; then
  echo "=== FAILED stages:$failed"
  exit 1
fi
echo "=== all tests passed"
