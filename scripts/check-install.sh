#!/bin/sh
# check-install.sh BUILD_DIR: installs BUILD_DIR's build under a scratch
# DESTDIR with a prefix of its own, then checks the installed tree as a
# user would meet it: every file in place, salvo.pc naming that prefix,
# the command running, and each C example of the README compiling and
# linking with `pkg-config --cflags --libs salvo` alone.
set -eu
cd "$(dirname "$0")/.."
build=$1
prefix=/opt/salvo-check
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
DESTDIR="$dest" cmake --install "$build" >/dev/null
root="$dest$prefix"
pc=$(find "$root" -name salvo.pc)
libdir=$(dirname "$(dirname "$pc")")
for f in "$root/include/salvo.h" "$root/include/salvo/config.h" \
  "$root/include/salvo/response.h" "$root/bin/salvo" \
  "$root/share/man/man1/salvo.1" "$libdir/libsalvo.so" "$libdir/libsalvo.a"; do
  [ -e "$f" ] || { echo "install: missing ${f#"$dest"}" >&2; exit 1; }
done
export PKG_CONFIG_PATH="$libdir/pkgconfig"
got=$(pkg-config --variable=prefix salvo)
export PKG_CONFIG_SYSROOT_DIR="$dest"
[ "$got" = "$prefix" ] || { echo "install: salvo.pc says prefix $got, not $prefix" >&2; exit 1; }
"$root/bin/salvo" --version | grep -q "^salvo " ||
  { echo "install: the installed command does not run" >&2; exit 1; }
# Every ```c block of the README is a whole program.
awk -v dir="$dest" '
  /^```c$/ { n++; f = dir "/readme" n ".c"; inside = 1; next }
  /^```/ { inside = 0 }
  inside { print > f }' README.md
n=0
for src in "$dest"/readme*.c; do
  n=$((n + 1))
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror -o "${src%.c}" "$src" \
    $(pkg-config --cflags --libs salvo) ||
    { echo "install: README example $n does not build as shown" >&2; exit 1; }
done
[ "$n" -ge 2 ] || { echo "install: found $n C examples in README.md" >&2; exit 1; }
# The Python package into a virtual environment, as the README says.
/usr/bin/python3 -m venv --system-site-packages "$dest/venv"
"$dest/venv/bin/pip" install -q --no-build-isolation --no-index ./python ||
  { echo "install: pip could not install ./python" >&2; exit 1; }
rm -rf python/build python/*.egg-info
(cd "$dest" && venv/bin/python -c 'import salvo; print(salvo.__version__)') ||
  { echo "install: the installed package does not import" >&2; exit 1; }
echo "install: ok ($n README examples built against $prefix; the Python package in a venv)"
