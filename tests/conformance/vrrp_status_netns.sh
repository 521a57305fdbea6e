#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `ipvsctl vrrp status` against a real vrrpd in a namespace of its own
# (prefix cl): the table and the JSON reply while it is master, exit 1 naming
# the socket once it has stopped. Every wait is bounded.
#   vrrp_status_netns.sh IPVSCTL VRRPD
set -u
IPVSCTL=${1:?usage: vrrp_status_netns.sh IPVSCTL VRRPD}
VRRPD=${2:?usage: vrrp_status_netns.sh IPVSCTL VRRPD}
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
NS="clvs$$"
WORK=$(mktemp -d /tmp/cl-vrrp-status.XXXXXX)
SOCK="$WORK/vrrpd.sock"
PID=
FAILURES=0
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    [ "$FAILURES" -ne 0 ] && { echo "----- vrrpd log"; tail -n 30 "$WORK/vrrpd.log"; }
    rm -rf "$WORK"
}
trap cleanup EXIT
check() {
    local what=$1; shift
    if "$@"; then echo "# ok: $what"; else echo "# FAIL: $what"; FAILURES=$((FAILURES + 1)); fi
}
wait_for() {  # SECONDS COMMAND...
    local i
    for i in $(seq 1 $(( $1 * 20 ))); do "${@:2}" && return 0; sleep 0.05; done
    return 1
}

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" addr add 192.0.2.10/24 dev eth0
ip -n "$NS" link set eth0p up
ip -n "$NS" link set eth0 up
cat > "$WORK/vrrpd.conf" <<CONF
global_defs {
    vrrp_version 3
}
vrrp_instance VI_CL {
    state BACKUP
    interface eth0
    virtual_router_id 77
    priority 150
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.77/24
    }
}
CONF
ip netns exec "$NS" "$VRRPD" -f "$WORK/vrrpd.conf" --control-socket "$SOCK" \
    >"$WORK/vrrpd.log" 2>&1 &
PID=$!

is_master() { "$IPVSCTL" vrrp status --socket "$SOCK" 2>/dev/null | grep -q '^  state  *MASTER$'; }
check "vrrpd becomes master, as ipvsctl vrrp status shows" wait_for 10 is_master
"$IPVSCTL" vrrp status --socket "$SOCK" > "$WORK/status.txt"
check "exit status 0" [ $? -eq 0 ]
cat "$WORK/status.txt"
has() { grep -qx -- "$1" "$WORK/status.txt"; }
check "instance heading" has "Instance VI_CL (vrid 77, eth0, inet, VRRPv3)"
check "priority" has "  priority            150"
check "effective priority" has "  effective priority  150"
check "master address is our own" has "  master address      192.0.2.10"
check "virtual addresses" has "  virtual addresses   192.0.2.77/24"
check "adverts sent counted" grep -Eq '^  adverts  +received [0-9]+, sent [1-9][0-9]*$' "$WORK/status.txt"
check "transitions" grep -Eq '^  transitions  +2 \(became master 1\)$' "$WORK/status.txt"
check "last transition with its reason" \
    grep -Eq '^  last transition  +BACKUP -> MASTER, [0-9.]+ s ago \(.+\)$' "$WORK/status.txt"
check "the VIP is really there" bash -c "ip -n $NS -o addr show dev eth0 | grep -q ' 192.0.2.77/24 '"

"$IPVSCTL" vrrp status --json --socket "$SOCK" > "$WORK/status.json"
check "--json exits 0" [ $? -eq 0 ]
check "--json is the daemon's reply" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
i = j["instances"][0]
assert j["ok"] is True and i["instance"] == "VI_CL" and i["state"] == "MASTER", j
assert i["virtual_addresses"] == ["192.0.2.77/24"], i
' "$WORK/status.json"

kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
"$IPVSCTL" vrrp status --socket "$SOCK" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "stopped daemon: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "stopped daemon: message names the socket" grep -q "cannot connect to $SOCK" "$WORK/err"
"$IPVSCTL" vrrp status --bogus > /dev/null 2>&1
rc=$?
check "bad usage: exit 2 (got $rc)" [ "$rc" -eq 2 ]

[ "$FAILURES" -eq 0 ] || { echo "# $FAILURES check(s) failed"; exit 1; }
echo "# all checks passed"
