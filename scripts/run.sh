#!/bin/sh
# The main job against a local server: 10,000 URLs through the salvo
# command, with its progress line (on a terminal) and its summary.
set -eu
cd "$(dirname "$0")/.."
B=build/release
urls=build/run-urls.txt
out=build/run-results.jsonl
# From a file the total is known: the progress line shows done/total, ETA.
tests/with_faultd.sh "$B/tests/faultd" sh -c \
  "seq 0 9999 | sed 's|^|@BASE@/json/|' >$urls && $B/salvo -c 64 -i $urls -o $out"
echo "results: $out ($(wc -l <$out) JSON lines), e.g.:"
head -n 1 "$out"
