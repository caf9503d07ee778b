#!/bin/sh
# with_faultd.sh FAULTD COMMAND [ARGS...]: runs COMMAND with every @BASE@ in
# its arguments replaced by the base URL of a fresh faultd, then stops it.
set -eu
faultd=$1
shift
fifo=$(mktemp -u)
mkfifo "$fifo"
"$faultd" --port 0 >"$fifo" &
pid=$!
stop() { kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$fifo"; }
trap 'stop; exit 1' INT TERM
read -r _ port <"$fifo"
base="http://127.0.0.1:$port"
n=$#
i=0
while [ $i -lt $n ]; do
  a=$1
  shift
  case $a in *@BASE@*) a=$(printf '%s' "$a" | sed "s|@BASE@|$base|g") ;; esac
  set -- "$@" "$a"
  i=$((i + 1))
done
set +e
"$@"
rc=$?
stop
exit $rc
