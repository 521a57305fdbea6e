#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every man page is clean under `mandoc -T lint` (all levels, style included)
# and `groff -ww -z -man`: any message fails.
#   man_lint.sh SOURCE_DIR
set -uo pipefail
src=$(cd "$1" && pwd)
pages=(ipvsctl.8 vrrpd.8 healthcheckd.8 ipvsctl.conf.5 libipvsctl.3)
failed=0
for page in "${pages[@]}"; do
    file="$src/man/$page"
    [ -f "$file" ] || { echo "FAIL $page: missing"; failed=1; continue; }
    out=$(mandoc -T lint -W all "$file" 2>&1; groff -ww -z -man "$file" 2>&1)
    if [ -n "$out" ]; then
        echo "FAIL $page:"
        echo "$out"
        failed=1
    else
        echo "ok   $page"
    fi
done
exit $failed
