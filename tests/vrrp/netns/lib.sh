#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for vrrpd netns tests: a bridge namespace and router namespaces
# joined to it by veth pairs. Only documentation addresses (192.0.2.0/24,
# 2001:db8::/32) inside namespaces this script creates. Every wait is bounded;
# namespaces and daemons are cleaned up on any exit.
set -u

VRRPD=${VRRPD:?path to the vrrpd binary}
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
TAG="vr$$"
WORK=$(mktemp -d "/tmp/vrrpd-netns.XXXXXX")
BR="${TAG}br"
NAMESPACES=()
PIDS=()
FAILURES=0

log() { printf '# %s\n' "$*"; }

cleanup() {
    local pid ns
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    if [ "$FAILURES" -ne 0 ] || [ -n "${KEEP_LOGS:-}" ]; then
        for f in "$WORK"/*.log; do
            [ -f "$f" ] || continue
            echo "----- $f"; tail -n 40 "$f"
        done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

need_root() {
    if [ "$(id -u)" -ne 0 ]; then echo "SKIP: netns tests need root"; exit 77; fi
}

# make_lan N: bridge namespace plus routers r1..rN, eth0 192.0.2.i/24 and
# 2001:db8::i/64.
make_lan() {
    local n=$1 i ns
    ip netns add "$BR" && NAMESPACES+=("$BR")
    ip -n "$BR" link add br0 type bridge mcast_snooping 0
    ip -n "$BR" link set br0 up
    for i in $(seq 1 "$n"); do
        ns="${TAG}r$i"
        ip netns add "$ns" && NAMESPACES+=("$ns")
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0
        ip -n "$ns" link set lo up
        ip -n "$ns" link add eth0 type veth peer name "v$i" netns "$BR"
        ip -n "$BR" link set "v$i" master br0 up
        ip -n "$ns" addr add "192.0.2.$i/24" dev eth0
        ip -n "$ns" addr add "2001:db8::$i/64" dev eth0 nodad
        ip -n "$ns" link set eth0 up
    done
    # Link-local addresses appear once the links are up.
    wait_for 5 "link-local addresses" all_link_local "$n"
}

# add_lan2 N: a second bridge namespace; routers r1..rN get eth1
# 198.51.100.i/24 on it.
add_lan2() {
    local n=$1 i ns
    ip netns add "${TAG}b2" && NAMESPACES+=("${TAG}b2")
    ip -n "${TAG}b2" link add br0 type bridge mcast_snooping 0
    ip -n "${TAG}b2" link set br0 up
    for i in $(seq 1 "$n"); do
        ns="${TAG}r$i"
        ip -n "$ns" link add eth1 type veth peer name "w$i" netns "${TAG}b2"
        ip -n "${TAG}b2" link set "w$i" master br0 up
        ip -n "$ns" addr add "198.51.100.$i/24" dev eth1
        ip -n "$ns" link set eth1 up
    done
    wait_for 5 "second LAN up" all_running eth1 "$n"
}

# all_running DEVICE N: DEVICE is operationally up in routers r1..rN.
all_running() {
    local i
    for i in $(seq 1 "$2"); do
        ip -n "${TAG}r$i" -o link show dev "$1" | grep -q "state UP" || return 1
    done
}

# has_vip_on ROUTER DEVICE ADDRESS
has_vip_on() { ip -n "$(ns_of "$1")" -o addr show dev "$2" | grep -q " ${3%/*}/"; }
lacks_vip_on() { ! has_vip_on "$@"; }

all_link_local() {
    local i
    for i in $(seq 1 "$1"); do
        ip -n "${TAG}r$i" -6 -o addr show dev eth0 scope link | grep -q fe80 || return 1
    done
}

ns_of() { echo "${TAG}r$1"; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls every 50 ms.
wait_for() {
    local limit=$1 what=$2; shift 2
    local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" && return 0
        sleep 0.05
    done
    log "timed out after ${limit}s waiting for: $what"
    return 1
}

# has_vip ROUTER ADDRESS
has_vip() { ip -n "$(ns_of "$1")" -o addr show dev eth0 | grep -q " ${2%/*}/"; }
lacks_vip() { ! has_vip "$@"; }

# start_vrrpd ROUTER NAME CONFIG_TEXT: runs vrrpd in the router's namespace.
start_vrrpd() {
    local r=$1 name=$2 conf="$WORK/$2.conf"
    printf '%s\n' "$3" > "$conf"
    ip netns exec "$(ns_of "$r")" "$VRRPD" -v -f "$conf" --control-socket "$WORK/$name.sock" ${VRRPD_EXTRA:-} >>"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$name=$!"
}

# start_keepalived ROUTER NAME CONFIG_TEXT
start_keepalived() {
    local r=$1 name=$2 conf="$WORK/$2.conf"
    printf '%s\n' "$3" > "$conf"
    ip netns exec "$(ns_of "$r")" "$KEEPALIVED" --dont-fork --log-console --log-detail --vrrp \
        --use-file "$conf" --pid "$WORK/$name.pid" --vrrp_pid "$WORK/$name.vrrp.pid" \
        --checkers_pid "$WORK/$name.chk.pid" >>"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$name=$!"
}

# stop NAME SIGNAL: signals the daemon started as NAME and waits (bounded).
stop() {
    local pid
    eval "pid=\$PID_$1"
    kill "-$2" "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# status_field NAME PYTHON_EXPR: evaluates EXPR with j = the status reply of
# the vrrpd started as NAME and prints it.
status_field() {
    timeout 5 python3 - "$WORK/$1.sock" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(b'{"command": "status"}\n')
j = json.loads(s.makefile().readline())
print(eval(sys.argv[2]))
PY
}

# status_is NAME PYTHON_EXPR VALUE
status_is() { [ "$(status_field "$1" "$2" 2>/dev/null)" = "$3" ]; }

log_has() { grep -q -- "$2" "$WORK/$1.log"; }
log_count() { grep -c -- "$2" "$WORK/$1.log"; }

# check DESCRIPTION COMMAND...: records a failure but keeps going.
check() {
    local what=$1; shift
    if "$@"; then log "ok: $what"; else log "FAIL: $what"; FAILURES=$((FAILURES + 1)); fi
}

# expect DESCRIPTION SECONDS COMMAND...: check with a bounded wait.
expect() {
    local what=$1 limit=$2; shift 2
    check "$what" wait_for "$limit" "$what" "$@"
}

finish() {
    if [ "$FAILURES" -ne 0 ]; then log "$FAILURES check(s) failed"; exit 1; fi
    log "all checks passed"; exit 0
}

# vrrp_conf NAME VERSION PRIORITY ADVERT VIP [FAMILY_EXTRA] [EXTRA]: one instance on eth0.
vrrp_conf() {
    local name=$1 version=$2 prio=$3 advert=$4 vip=$5 extra=${6:-}
    cat <<CONF
global_defs {
    router_id $name
    vrrp_version $version
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int $advert
    $extra
    virtual_ipaddress {
        $vip
    }
}
CONF
}
