#!/bin/sh
# Installs the Debian packages salvo needs to build and test, only those
# missing. Needs root (or sudo). Packages only from Debian's archive. When
# another install holds the package manager's lock, waits for it.
set -eu
PKGS="gcc clang make cmake pkg-config clang-format binutils git
libcurl4-openssl-dev libjansson-dev libssl-dev libcmocka-dev
zlib1g-dev libbrotli-dev libzstd-dev libpsl-dev libc-ares-dev dnsmasq-base libnghttp2-dev
libclang-rt-14-dev nginx openssl ca-certificates python3 groff-base
libuv1-dev libevent-dev python3-dev python3-pytest python3-pytest-asyncio
libnginx-mod-http-echo python3-distributed python3-dask
python3-uvloop python3-venv python3-pip python3-wheel python3-setuptools
python3-requests
curl time util-linux wrk nghttp2-client python3-httpx python3-aiohttp
python3-h2"
[ $# -gt 0 ] && PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root to install:$missing" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (a second `make test`, unattended upgrades) may hold the
# lock: wait up to 10 minutes for it instead of failing at once.
APT="$SUDO apt-get -o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
$APT install -y -q --no-install-recommends $missing ||
  { $APT update -q && $APT install -y -q --no-install-recommends $missing; }
