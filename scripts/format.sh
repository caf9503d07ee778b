#!/bin/sh
# clang-format over every C file; --check fails on any difference.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror $files
  echo "format: ok"
else
  clang-format -i $files
fi
