#!/bin/sh
# Only the public API may be exported from libsalvo: every defined dynamic
# symbol must be salvo_<something> (internal helpers are salvo__*).
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^_\(init\|fini\)$' || true)
bad=$(printf '%s\n' "$syms" | grep -v '^salvo_[a-z]' | grep -v '^$' || true)
internal=$(printf '%s\n' "$syms" | grep '^salvo__' || true)
if [ -n "$bad$internal" ]; then
  echo "unexpected exported symbols:"; printf '%s\n' $bad $internal
  exit 1
fi
n=$(printf '%s\n' "$syms" | grep -c '^salvo_')
echo "exports ok: $n public symbols"
