#!/usr/bin/env bash
# Real face photos for tests and benchmarks: dlib's example faces, from Debian's libdlib19.1 package
# (extracted, not installed: no root needed beyond apt-get's download).
set -euo pipefail
dest="${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache/dlib}"
if [ -f "$dest/faces/bald_guys.jpg" ]; then echo "$dest/faces"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download libdlib19.1 >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download libdlib19.1 >/dev/null; }
dpkg-deb -x libdlib19.1_*.deb x
mkdir -p "$dest"
cp -r x/usr/share/doc/libdlib19.1/examples/faces "$dest/"
# Debian compresses some docs
find "$dest/faces" -name '*.gz' -exec gunzip -f {} +
echo "$dest/faces"
