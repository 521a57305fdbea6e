#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the packaged systemd units:
#   1. `systemd-analyze verify` passes with no diagnostics;
#   2. `systemd-analyze security --offline=true` rates each at 2.0 or lower;
#   3. both share /run/ipvsctl and preserve it (stopping one keeps the
#      other's socket; tests/packaging/deb_install.sh checks that for real).
#   units.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
units=(vrrpd healthcheckd)
max_exposure=2.0

# verify checks that ExecStart= binaries exist and man: references resolve.
# The units name the installed paths (/usr/sbin/...), which this host does not
# have, so verify runs against a scratch root holding systemd's own units, the
# units under test, this build's binaries at their installed paths, /bin/kill
# (ExecReload) and the man pages (found through MANPATH).
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root/usr/sbin" "$root/bin" \
    "$root/usr/share/man/man5" "$root/usr/share/man/man8"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /bin/kill "$root/bin/"
cp "$src"/man/*.8 "$root/usr/share/man/man8/"
cp "$src"/man/*.5 "$root/usr/share/man/man5/"
failed=0
for unit in "${units[@]}"; do
    [ -x "$build/bin/$unit" ] || { echo "units.sh: $build/bin/$unit not built" >&2; exit 1; }
    cp "$build/bin/$unit" "$root/usr/sbin/"
    cp "$src/packaging/systemd/$unit.service" "$root/etc/systemd/system/"
done

for unit in "${units[@]}"; do
    file="$root/etc/systemd/system/$unit.service"
    if ! out=$(MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" "$file" 2>&1) ||
        [ -n "$out" ]; then
        echo "FAIL verify $unit.service:"
        echo "$out"
        failed=1
    else
        echo "ok   verify $unit.service"
    fi

    report=$(systemd-analyze security --offline=true --no-pager "$src/packaging/systemd/$unit.service" 2>&1)
    exposure=$(echo "$report" | sed -nE 's/.*Overall exposure level for [^:]+: ([0-9]+\.[0-9]+).*/\1/p')
    if [ -z "$exposure" ]; then
        echo "FAIL security $unit.service: no overall exposure level in:"
        echo "$report"
        failed=1
    elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
        echo "ok   security $unit.service: exposure $exposure <= $max_exposure"
    else
        echo "FAIL security $unit.service: exposure $exposure > $max_exposure"
        echo "$report" | grep '✗' || true
        failed=1
    fi

    for want in 'RuntimeDirectory=ipvsctl' 'RuntimeDirectoryPreserve=yes' 'Type=notify' \
        'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' 'NoNewPrivileges=yes'; do
        grep -qxF "$want" "$src/packaging/systemd/$unit.service" ||
            { echo "FAIL $unit.service lacks '$want'"; failed=1; }
    done
done
exit $failed
