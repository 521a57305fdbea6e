#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the build into a scratch prefix and builds a consumer program
# against it twice: with pkg-config and with CMake's find_package.
#   check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" > /dev/null

libdir=$(dirname "$(find "$prefix" -name 'libipvsctl.so.1' | head -n 1)")
[ -n "$libdir" ] || { echo "check.sh: libipvsctl.so.1 not installed" >&2; exit 1; }
readelf -d "$libdir/libipvsctl.so.1" | grep -q 'SONAME.*libipvsctl.so.1' || {
    echo "check.sh: wrong SONAME" >&2; exit 1; }

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046 # pkg-config prints words
c++ -std=c++20 "$here/consumer/consumer.cpp" -o "$prefix/consumer-pc" $(pkg-config --cflags --libs ipvsctl)
LD_LIBRARY_PATH="$libdir" "$prefix/consumer-pc"

cmake -S "$here/consumer" -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
cmake --build "$prefix/consumer-build" > /dev/null
LD_LIBRARY_PATH="$libdir" "$prefix/consumer-build/consumer"
echo "check.sh: pkg-config and find_package consumers built and ran"
