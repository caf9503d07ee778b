#!/bin/sh
# Renders docs/salvo.1 into README.md between the salvo.1 markers, so the
# README always shows the man page as it is. --check fails if it would
# change anything.
set -eu
cd "$(dirname "$0")/.."
page=$(groff -man -Tascii -P-cbou -rLL=78n -rHY=0 docs/salvo.1 2>/dev/null |
  sed -e 's/[[:space:]]*$//' | cat -s)
new=$(awk -v page="$page" '
  /<!-- salvo\.1 begin -->/ { print; print "```"; print page; print "```"; skip = 1; next }
  /<!-- salvo\.1 end -->/ { skip = 0 }
  !skip { print }' README.md)
if [ "${1:-}" = "--check" ]; then
  if [ "$new" != "$(cat README.md)" ]; then
    echo "README.md does not show docs/salvo.1 as it is: run scripts/render-man.sh" >&2
    exit 1
  fi
  echo "man page in README: ok"
else
  printf '%s\n' "$new" > README.md
fi
