#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# healthcheckd against the real IPVS of the QEMU guest (label vm): a real
# server in a namespace joins the kernel table, leaves when killed, returns
# when restarted; drift is repaired; drain/undrain over the control socket;
# a restarted daemon adopts the table without removals; stopping the daemon
# leaves the table as it is.
#   daemon_vm_test.sh HEALTHCHECKD
set -euo pipefail
healthcheckd=$1
source "$(dirname "$0")/../../support/healthcheckd_guest.sh"
work=$(mktemp -d /tmp/healthcheck-vm.XXXXXX)
daemon_pid= server_pid=

cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    ip netns del hcrs 2>/dev/null || true
    ipvsadm -C 2>/dev/null || true
}
trap cleanup EXIT

veth_netns hcrs hcv0 hcv1 198.18.20.1/24 198.18.20.2/24

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

in_table() { ipvsadm -L -n | grep -q "198.18.20.2:8080"; }
not_in_table() { ! in_table; }
# wait_table PRESENT|ABSENT SECONDS
wait_table() {
    if [ "$1" = PRESENT ]; then wait_until "$2" in_table; else wait_until "$2" not_in_table; fi
}

start_server
start_healthcheckd

wait_table PRESENT 120 || fail "server never joined the table"
ipvsadm -L -n
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
start=$(date +%s)
wait_table ABSENT 120 || fail "killed server stayed in the table"
echo "removed after $(( $(date +%s) - start )) s"
start_server
wait_table PRESENT 120 || fail "restarted server did not come back"
ipvsadm -L -n | grep -q "198.18.20.2:8080 *Masq *3" || fail "weight 3 expected"

# Drift: a server deleted by hand is back within about one interval.
ipvsadm -d -t 192.0.2.10:80 -r 198.18.20.2:8080
start=$(date +%s)
wait_table PRESENT 60 || fail "deleted server not repaired"
echo "drift repaired after $(( $(date +%s) - start )) s"

# Drain over the control socket: weight 0 at once, removal when no
# connections are left, undrain restores weight 3.
ask() {
    python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n")
print(s.makefile().readline().strip())' "$work/hc.sock" "$1"
}
target='"service":"tcp:192.0.2.10:80","server":"198.18.20.2:8080"'
reply=$(ask "{\"command\":\"drain\",$target,\"timeout\":300}")
[ "$reply" = '{"ok":true,"state":"draining"}' ] || fail "drain reply: $reply"
wait_table ABSENT 60 || fail "drained server stayed in the table"
grep -q "edit destination TCP 192.0.2.10:80 -> 198.18.20.2:8080 weight 0" "$work/daemon.log" ||
    fail "drain did not set weight 0 first"
reply=$(ask "{\"command\":\"undrain\",$target}")
[ "$reply" = '{"ok":true,"state":"none"}' ] || fail "undrain reply: $reply"
wait_table PRESENT 60 || fail "undrained server did not come back"
ipvsadm -L -n | grep -q "198.18.20.2:8080 *Masq *3" || fail "weight 3 expected after undrain"
reply=$(ask '{"command":"drain","service":"tcp:192.0.2.99:80","server":"198.18.20.2:8080"}')
[ "$reply" = '{"error":"unknown service tcp:192.0.2.99:80","ok":false}' ] || fail "error reply: $reply"

kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit status $?"
daemon_pid=
ipvsadm -L -n | grep -q "198.18.20.2:8080" || fail "stop must leave the table as it is"
grep -q "stopping" "$work/daemon.log" || fail "no stop message"

# Adoption: a restarted daemon keeps what the kernel has, removing nothing.
start_healthcheckd "$work/daemon2.log"
sleep 5
ipvsadm -L -n | grep -q "198.18.20.2:8080 *Masq *3" || fail "adopted server lost"
if grep -q "delete" "$work/daemon2.log"; then cat "$work/daemon2.log" >&2; fail "restart removed something"; fi
kill -TERM "$daemon_pid"; wait "$daemon_pid" || true
daemon_pid=
echo PASS
