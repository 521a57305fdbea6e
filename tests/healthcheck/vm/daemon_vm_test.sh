#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# healthcheckd against the real IPVS of the QEMU guest (label vm): a real
# server in a namespace joins the kernel table, leaves when killed, returns
# when restarted; stopping the daemon leaves the table as it is.
#   daemon_vm_test.sh HEALTHCHECKD
set -euo pipefail
healthcheckd=$1
work=$(mktemp -d /tmp/healthcheck-vm.XXXXXX)
daemon_pid= server_pid=

cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    ip netns del hcrs 2>/dev/null || true
    ipvsadm -C 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- daemon log" >&2; cat "$work/daemon.log" >&2 || true; exit 1; }

ip netns add hcrs
ip link add hcv0 type veth peer name hcv1 netns hcrs
ip addr add 198.18.20.1/24 dev hcv0
ip link set hcv0 up
ip -n hcrs addr add 198.18.20.2/24 dev hcv1
ip -n hcrs link set hcv1 up
ip -n hcrs link set lo up

start_server() {
    ip netns exec hcrs python3 -m http.server --bind 198.18.20.2 8080 >/dev/null 2>&1 &
    server_pid=$!
}

cat > "$work/ipvsctl.conf" <<CONF
virtual_server 192.0.2.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.20.2 8080 {
        weight 3
        TCP_CHECK {
            connect_timeout 2
            retry 0
        }
    }
}
CONF

# wait_table PRESENT|ABSENT SECONDS: polls ipvsadm every half second.
wait_table() {
    local want=$1 limit=$2 i
    for i in $(seq 1 $((limit * 2))); do
        if ipvsadm -L -n | grep -q "198.18.20.2:8080"; then
            [ "$want" = PRESENT ] && return 0
        else
            [ "$want" = ABSENT ] && return 0
        fi
        sleep 0.5
    done
    return 1
}

start_server
"$healthcheckd" -f "$work/ipvsctl.conf" --control-socket "$work/hc.sock" 2>"$work/daemon.log" &
daemon_pid=$!

wait_table PRESENT 120 || fail "server never joined the table"
ipvsadm -L -n
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
start=$(date +%s)
wait_table ABSENT 120 || fail "killed server stayed in the table"
echo "removed after $(( $(date +%s) - start )) s"
start_server
wait_table PRESENT 120 || fail "restarted server did not come back"
ipvsadm -L -n | grep -q "198.18.20.2:8080 *Masq *3" || fail "weight 3 expected"

kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit status $?"
daemon_pid=
ipvsadm -L -n | grep -q "198.18.20.2:8080" || fail "stop must leave the table as it is"
grep -q "stopping" "$work/daemon.log" || fail "no stop message"
echo PASS
