#!/bin/sh
# render-man.sh [--check] [PAGE]: renders the man page the build wrote
# (PAGE, default build/release/salvo.1: docs/salvo.1.in with its OPTIONS
# made from cli/options.def) into README.md between the salvo.1 markers,
# so the README always shows the man page as it is. --check fails if it
# would change anything.
set -eu
cd "$(dirname "$0")/.."
check=""
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
src=${1:-build/release/salvo.1}
[ -f "$src" ] || { echo "no $src: build first (make build)" >&2; exit 1; }
page=$(groff -man -Tascii -P-cbou -rLL=78n -rHY=0 "$src" 2>/dev/null |
  sed -e 's/[[:space:]]*$//' | cat -s)
new=$(awk -v page="$page" '
  /<!-- salvo\.1 begin -->/ { print; print "```"; print page; print "```"; skip = 1; next }
  /<!-- salvo\.1 end -->/ { skip = 0 }
  !skip { print }' README.md)
if [ -n "$check" ]; then
  if [ "$new" != "$(cat README.md)" ]; then
    echo "README.md does not show the man page as it is: run scripts/render-man.sh" >&2
    exit 1
  fi
  echo "man page in README: ok"
else
  printf '%s\n' "$new" > README.md
fi
