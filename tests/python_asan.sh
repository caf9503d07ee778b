#!/bin/sh
# python_asan.sh PYDIR FAULTD ROUNDS [h2]: the extension's stress test
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
# design. With h2, all of it over HTTP/2: the native transport with prior
# knowledge (SALVO_HTTP_VERSION) to tests/h2front.py in front of faultd,
# where streams, not connections, are what closing resets.
set -eu
pydir=$1 faultd=$2 rounds=$3 mode=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
# serve FILE CMD...: CMD started in the background, its pid in $pid and
# the port it prints ("PORT N") in $port; FILE is removed first, so that a
# run before this one cannot answer for it.
serve() {
  f=$1
  shift
  rm -f "$f"
  "$@" >"$f" &
  pid=$!
  while ! grep -q PORT "$f" 2>/dev/null; do sleep 0.05; done
  port=$(sed -n 's/^PORT //p' "$f")
}
serve "$pydir/faultd$mode.port" "$faultd" --port 0
fpid=$pid hpid=
trap 'kill $fpid $hpid 2>/dev/null' EXIT
if [ "$mode" = h2 ]; then
  serve "$pydir/front.port" /usr/bin/python3 "$here/h2front.py" \
    --upstream "$port"
  hpid=$pid
  export SALVO_TRANSPORT=native SALVO_HTTP_VERSION=2-prior-knowledge
fi
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
