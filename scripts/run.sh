#!/bin/sh
# The main job against a local server: fetch 10,000 URLs in parallel.
set -eu
cd "$(dirname "$0")/.."
B=build/release
fifo=$(mktemp -u)
mkfifo "$fifo"
"$B/tests/faultd" --port 0 >"$fifo" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -f "$fifo"' EXIT INT TERM
read -r _ port <"$fifo"
echo "test server on 127.0.0.1:$port"
"$B/fetch_many" "http://127.0.0.1:$port" 10000 64
