#!/bin/sh
# python_asan.sh PYDIR FAULTD ROUNDS: the extension's stress test
# (tests/python/test_lifetimes.py's STRESS: clients and blocks closed from
# several threads in random order while requests run, bodies are read and
# single requests made), the argument tests (test_arguments.py: what the
# extension refuses, and how it says so), then the whole surface called
# with random arguments (api_fuzz.py; its seed is printed, and
# SALVO_FUZZ_SEED gives it again), on an extension built with
# AddressSanitizer and UBSan, loaded into Debian's python3 with the
# sanitizer's runtime preloaded and its objects in malloc's memory
# (PYTHONMALLOC=malloc, so that a freed object is seen). Any report fails
# it. Leaks are not checked: the interpreter keeps objects to its exit by
# design.
set -eu
pydir=$1 faultd=$2 rounds=$3
here=$(cd "$(dirname "$0")" && pwd)
rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
"$faultd" --port 0 >"$pydir/faultd.port" &
fpid=$!
trap 'kill $fpid 2>/dev/null' EXIT
while ! grep -q PORT "$pydir/faultd.port" 2>/dev/null; do sleep 0.05; done
port=$(sed -n 's/^PORT //p' "$pydir/faultd.port")
LD_PRELOAD=$rt ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONMALLOC=malloc \
  PYTHONPATH=$pydir \
  /usr/bin/python3 -c "
import sys
sys.path.insert(0, '$here/python')
import test_lifetimes
sys.argv = ['stress', 'http://127.0.0.1:$port/delay/20', '$rounds']
exec(test_lifetimes.stress_script())
"
LD_PRELOAD=$rt ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONMALLOC=malloc \
  PYTHONPATH=$pydir SALVO_FAULTD=$faultd \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  "$here/python/test_arguments.py"
seed=${SALVO_FUZZ_SEED:-$(date +%s)}
echo "api_fuzz: seed $seed (SALVO_FUZZ_SEED=$seed repeats it)"
LD_PRELOAD=$rt ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONMALLOC=malloc \
  PYTHONPATH=$pydir \
  /usr/bin/python3 "$here/python/api_fuzz.py" "http://127.0.0.1:$port" \
  "$seed" 600
