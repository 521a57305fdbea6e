#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the Debian packages with packaging/build-debs (no -dbgsym packages;
# unit tests skipped, the unit tier runs them) into OUT_DIR, then runs
# lintian on the .debs, the .changes and the .buildinfo: any error or
# warning fails. Overrides, if any, live in
# packaging/debian/*.lintian-overrides with their reasons.
#   debs_lintian.sh SOURCE_DIR OUT_DIR
set -uo pipefail
src=$(cd "$1" && pwd)
out=$2
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

start=$(date +%s)
if ! DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" "$src/packaging/build-debs" "$out" > "$out/build.log" 2>&1; then
    tail -n 60 "$out/build.log"
    echo "FAIL build-debs (log: $out/build.log)"
    exit 1
fi
echo "ok   build-debs in $(($(date +%s) - start)) s:" $(cd "$out" && ls ./*.deb | xargs -n1 basename)
for pkg in libipvsctl1 libipvsctl-dev ipvsctl vrrpd healthcheckd; do
    ls "$out/${pkg}_"*.deb > /dev/null 2>&1 || { echo "FAIL no $pkg package"; exit 1; }
done

# lintian refuses nothing as root but says so; its own verdict is what counts.
report=$(lintian --fail-on error,warning --info "$out"/*.changes "$out"/*.buildinfo "$out"/*.deb 2>&1)
status=$?
echo "$report" | grep -v '^N: ' | grep -v 'running with root privileges' || true
if [ $status -ne 0 ] || grep -qE '^[EW]: ' <<< "$report"; then
    echo "FAIL lintian reported errors or warnings"
    exit 1
fi
echo "ok   lintian: no errors, no warnings ($(grep -c '^[IP]: ' <<< "$report") info/pedantic tags)"
