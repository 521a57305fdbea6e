#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# healthcheckd's nftables rules with the guest's real IPVS (label vm):
#  - an FNAT virtual server: real servers with no route back to the client
#    answer through the VIP because the director SNATs towards them;
#  - a virtual_server_group of four VIP:port pairs becomes one fwmark service,
#    every pair reaching the servers;
#  - reload to plain NAT: the same requests fail (the SNAT was what worked);
#  - after healthcheckd stops, table inet ipvsctl is gone.
#   vm_test.sh HEALTHCHECKD
set -euo pipefail
healthcheckd=$1
source "$(dirname "$0")/../support/healthcheckd_guest.sh"
work=$(mktemp -d /tmp/nft-vm.XXXXXX)
daemon_pid=
server_pids=()

cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for ns in nfcl nfrs1 nfrs2; do ip netns del $ns 2>/dev/null || true; done
    ip link del nfbr0 2>/dev/null || true
    ipvsadm -C 2>/dev/null || true
}
trap cleanup EXIT

sysctl -qw net.ipv4.ip_forward=1
# Client: its default route is the director.
veth_netns nfcl nfc0 nfc1 10.92.1.1/24 10.92.1.2/24
ip -n nfcl route add default via 10.92.1.1
# Real servers on a bridge, with no route beyond their own subnet.
ip link add nfbr0 type bridge
ip addr add 10.92.2.1/24 dev nfbr0
ip addr add 10.92.2.254/24 dev nfbr0  # the configured FNAT source of 192.0.2.80
ip link set nfbr0 up
for n in 1 2; do
    ip netns add nfrs$n
    ip link add nfr${n}a type veth peer name nfr${n}b netns nfrs$n
    ip link set nfr${n}a master nfbr0 up
    ip -n nfrs$n addr add 10.92.2.1$n/24 dev nfr${n}b
    ip -n nfrs$n link set nfr${n}b up
    ip -n nfrs$n link set lo up
    ip -n nfrs$n route | grep -q default && fail "server $n has a default route"
    mkdir -p "$work/rs$n"
    echo "rs$n" > "$work/rs$n/index.html"
    ip netns exec nfrs$n python3 -m http.server --bind 0.0.0.0 --directory "$work/rs$n" 8080 \
        >/dev/null 2>"$work/rs$n.log" &
    server_pids+=($!)
done
for vip in 192.0.2.80 192.0.2.90 192.0.2.91 192.0.2.92 192.0.2.95; do
    ip addr add $vip/32 dev lo
done

# Both virtual servers balance over the same two real servers.
real_servers() {
    local n
    for n in 1 2; do
        cat <<CONF
    real_server 10.92.2.1$n 8080 {
        TCP_CHECK {
            connect_timeout 2
        }
    }
CONF
    done
}

write_config() {  # METHOD_OF_192.0.2.80 METHOD_OF_GROUP
    cat > "$work/ipvsctl.conf" <<CONF
virtual_server 192.0.2.80 80 {
    delay_loop 1
    lb_algo rr
    lb_kind $1
    protocol TCP
$(real_servers)
}
virtual_server_group web {
    192.0.2.90-92 80
    192.0.2.95 8000
}
virtual_server group web {
    delay_loop 1
    lb_algo rr
    lb_kind $2
    protocol TCP
$(real_servers)
}
CONF
}

fetch() {  # URL -> body or "failed"
    ip netns exec nfcl curl -s --max-time 3 "$1" || echo failed
}

# servers_in_table COUNT: at least COUNT destinations are in the table.
servers_in_table() { [ "$(ipvsadm -L -n | grep -c -- '-> 10.92.2.1')" -ge "$1" ]; }

write_config 'FNAT source 10.92.2.254' FNAT
start_healthcheckd
wait_until 120 servers_in_table 4 || fail "real servers never joined"
ipvsadm -L -n
nft list table inet ipvsctl

services=$(ipvsadm -L -n | grep -cE '^(TCP|UDP|FWM)')
[ "$services" = 2 ] || fail "expected 2 services (VIP and one fwmark), found $services"
mark=$(ipvsadm -L -n | awk '/^FWM/ { print $2 }')
[ -n "$mark" ] && [ $((mark >> 16)) = $((0x4956)) ] || fail "group is not one fwmark service"
[ "$(cat /proc/sys/net/ipv4/vs/conntrack)" = 1 ] || fail "net.ipv4.vs.conntrack is not 1"

seen=""
for i in $(seq 1 10); do seen+=" $(fetch http://192.0.2.80/)"; done
echo "FNAT 192.0.2.80:80 answers:$seen"
case "$seen" in *failed*) fail "a request through the FNAT VIP failed" ;; esac
echo "$seen" | grep -q rs1 && echo "$seen" | grep -q rs2 || fail "rr did not reach both servers"

for url in http://192.0.2.90/ http://192.0.2.91/ http://192.0.2.92/ http://192.0.2.95:8000/; do
    body=$(fetch $url)
    echo "group $url -> $body"
    case "$body" in rs1 | rs2) ;; *) fail "group pair $url did not reach a server" ;; esac
done
body=$(fetch http://192.0.2.93/)
[ "$body" = failed ] || fail "192.0.2.93 is not in the group but answered"
nft list table inet ipvsctl | grep -E 'masquerade' | grep -vq 'packets 0 ' ||
    fail "no masquerade rule counted packets"
# The servers saw the configured source for the VIP, the bridge address for the group.
from_source=$(cat "$work"/rs*.log | grep -c '^10.92.2.254 .*"GET' || true)
from_masq=$(cat "$work"/rs*.log | grep -c '^10.92.2.1 .*"GET' || true)
echo "requests seen by the servers: $from_source from 10.92.2.254, $from_masq from 10.92.2.1"
[ "$from_source" = 10 ] && [ "$from_masq" = 4 ] || fail "unexpected client addresses at the servers"

# Reload to plain NAT: the rules lose their SNAT, the servers cannot answer.
write_config NAT NAT
kill -HUP "$daemon_pid"
no_snat_rules() { ! nft list table inet ipvsctl | grep -q masquerade; }
wait_until 30 no_snat_rules || fail "reload kept the SNAT rules"
nft list table inet ipvsctl | grep -q "meta mark set" || fail "reload lost the mark rules"
body=$(fetch http://192.0.2.80/)
[ "$body" = failed ] || fail "NAT without a route back answered: $body"
body=$(fetch http://192.0.2.91/)
[ "$body" = failed ] || fail "NAT group without a route back answered: $body"
echo "after reload to NAT, requests fail as expected (no route back)"

kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "daemon exit status $?"
daemon_pid=
if nft list tables | grep -q ipvsctl; then fail "table inet ipvsctl left after stop"; fi
echo PASS
