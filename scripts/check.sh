#!/bin/sh
# check.sh: the fast tier, for while you work (make check): the release
# build, its unit tests and every suite on the native transport (C, the
# command, Python), side by side. The full gate, both transports under
# every compiler and sanitizer, is `make test`.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc)
b=build/release
cmake -S . -B $b -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build $b -j "$jobs" >/dev/null || exit 1
rc=0
(cd $b && ctest -j "$jobs" --output-on-failure --timeout 300 \
  -E 'libcurl|bench_smoke') || rc=1
PYTHONPATH=$b/python SALVO_TRANSPORT=native SALVO_FAULTD=$b/tests/faultd \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python || rc=1
[ $rc -eq 0 ] && echo "=== check: ok" || echo "=== check: FAILED"
exit $rc
