#!/bin/sh
# install-deps.sh — install the Debian packages signopt needs, only those missing (called by make and .ci/run).
set -e
PKGS="build-essential pkgconf iproute2 libopenblas-dev zlib1g-dev libcjson-dev libopenmpi-dev openmpi-bin dataset-fashion-mnist gnuplot-nox fortunes-min fortunes"
# --with-python: what the Python package's tests need (make test); --with-torch is the older name of it.
case "$1" in --with-python|--with-torch) PKGS="$PKGS python3-torch python3-numpy python3-pytest";; esac
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "signopt: installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
