#!/bin/sh
# The main job against a local server: fetch 10,000 URLs in parallel.
set -eu
cd "$(dirname "$0")/.."
B=build/release
exec tests/with_faultd.sh "$B/tests/faultd" "$B/fetch_many" @BASE@ 10000 64
