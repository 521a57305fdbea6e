#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Accept_Mode (RFC 5798 section 6.4.3): a master that is not the address
# owner and runs with no_accept drops packets addressed to its virtual
# addresses (table inet ipvsctl_vrrp); with accept it answers them, and so
# does the owner (priority 255) with no_accept. IPv6 neighbour discovery for
# the address keeps working. A client in r2 connects to a TCP listener on
# r1 (the master) through the VIP, and to r1's own address as a control.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 2
command -v nft >/dev/null || { echo "nft (package nftables) is needed"; exit 1; }

LISTENERS=()
# listen ROUTER ADDRESS PORT: a TCP echo-once server bound to the wildcard.
listen() {
    # `ip netns exec` execs python3, so $! is the listener itself.
    ip netns exec "$(ns_of "$1")" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"hello\n"); c.close()
' "$2" &
    PIDS+=($!)
}

# connects ROUTER ADDRESS PORT: a TCP connection from ROUTER answers within 1 s.
connects() {
    ip netns exec "$(ns_of "$1")" timeout 3 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
assert s.recv(16) == b"hello\n"
' "$2" "$3" 2>/dev/null
}
refused_or_silent() { ! connects "$@"; }
# pings ROUTER ADDRESS: one ICMP echo (raw socket; no ping binary needed)
# answered within 1 s.
pings() {
    ip netns exec "$(ns_of "$1")" timeout 3 python3 -c '
import socket, struct, sys
def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
body = struct.pack("!BBHHH", 8, 0, 0, 0x7672, 1) + b"vrrpd-test"
s.sendto(body[:2] + struct.pack("!H", checksum(body)) + body[4:], (sys.argv[1], 0))
while True:
    data, (src, _) = s.recvfrom(2048)
    icmp = data[(data[0] & 15) * 4:]
    if src == sys.argv[1] and icmp[0] == 0 and icmp[4:6] == b"\x76\x72":
        break
' "$2" 2>/dev/null
}
unanswered_ping() { ! pings "$@"; }
table_present() { ip netns exec "$(ns_of "$1")" nft list table inet ipvsctl_vrrp >/dev/null 2>&1; }
table_absent() { ! table_present "$@"; }
drop_counter() {
    ip netns exec "$(ns_of "$1")" nft list table inet ipvsctl_vrrp 2>/dev/null |
        sed -n "s/.*daddr ${2//./\\.} counter packets \([0-9]*\).*/\1/p"
}
dropped_some() { [ "$(drop_counter "$1" "$2")" -gt 0 ] 2>/dev/null; }

listen 1 8080
expect "the TCP listener in r1 is up" 5 connects 2 192.0.2.1 8080

# run_mode LABEL VERSION PRIORITY VIP EXTRA: r1 alone, so it becomes master.
run_mode() {
    local label=$1 version=$2 prio=$3 vip=$4 extra=$5 state=BACKUP
    [ "$prio" = 255 ] && state=MASTER  # the address owner must say so
    start_vrrpd 1 "$label" "$(vrrp_conf r1 "$version" "$prio" 0.1 "$vip" "$extra" |
        sed "s/state BACKUP/state $state/")"
    expect "$label: r1 becomes master and owns $vip" 5 has_vip 1 "$vip"
}

# 1. no_accept, IPv4, non-owner: TCP to the VIP is dropped, to r1's own
# address it is answered; ping to the VIP is dropped too.
run_mode v4noaccept 3 150 192.0.2.200/24 no_accept
expect "v4 no_accept: table inet ipvsctl_vrrp installed" 3 table_present 1
check "v4 no_accept: TCP to r1's own address is answered" connects 2 192.0.2.1 8080
check "v4 no_accept: TCP to the VIP is not answered" refused_or_silent 2 192.0.2.200 8080
check "v4 no_accept: ICMP echo to r1's own address is answered" pings 2 192.0.2.1
check "v4 no_accept: ICMP echo to the VIP is not answered" unanswered_ping 2 192.0.2.200
check "v4 no_accept: the drop rule counted packets" dropped_some 1 192.0.2.200
check "v4 no_accept: the enforcement was logged" log_has v4noaccept "traffic to virtual addresses dropped"
stop v4noaccept TERM
expect "v4 no_accept: SIGTERM removes the table" 3 table_absent 1
expect "v4 no_accept: SIGTERM releases the VIP" 3 lacks_vip 1 192.0.2.200/24

# 2. accept (explicit): TCP to the VIP is answered, no table.
run_mode v4accept 3 150 192.0.2.201/24 accept
check "v4 accept: TCP to the VIP is answered" connects 2 192.0.2.201 8080
check "v4 accept: ICMP echo to the VIP is answered" pings 2 192.0.2.201
check "v4 accept: no table inet ipvsctl_vrrp" table_absent 1
stop v4accept TERM

# 3. The owner (priority 255) accepts even with no_accept (RFC 5798 section 6.1).
run_mode v4owner 3 255 192.0.2.202/24 no_accept
check "v4 owner with no_accept: TCP to the VIP is answered" connects 2 192.0.2.202 8080
check "v4 owner with no_accept: no table" table_absent 1
stop v4owner TERM

# 4. IPv6 no_accept: TCP dropped, neighbour discovery still answered (r2
# resolves the VIP's link-layer address), and the filter leaves with MASTER.
ip -n "$(ns_of 2)" -6 neigh flush dev eth0
run_mode v6noaccept 3 150 2001:db8::200/64 no_accept
expect "v6 no_accept: table installed" 3 table_present 1
check "v6 no_accept: TCP to r1's own address is answered" connects 2 2001:db8::1 8080
check "v6 no_accept: TCP to the VIP is not answered" refused_or_silent 2 2001:db8::200 8080
check "v6 no_accept: the VIP's neighbour entry was resolved" \
    bash -c "ip -n $(ns_of 2) -6 neigh show 2001:db8::200 | grep -q lladdr"
# Neighbour unreachability detection sends its NS unicast to the VIP itself:
# a STALE entry that is used goes DELAY, then PROBE, and only the master's NA
# makes it REACHABLE again (RFC 4861 section 7.3.3).
ip netns exec "$(ns_of 2)" sysctl -qw net.ipv6.neigh.eth0.delay_first_probe_time=1
mac=$(ip -n "$(ns_of 2)" -6 neigh show 2001:db8::200 dev eth0 | awk '{print $3}')
check "v6 no_accept: the entry is forced STALE" \
    ip -n "$(ns_of 2)" -6 neigh change 2001:db8::200 lladdr "$mac" dev eth0 nud stale
check "v6 no_accept: the entry is STALE" \
    bash -c "ip -n $(ns_of 2) -6 neigh show 2001:db8::200 dev eth0 | grep -q STALE"
ip netns exec "$(ns_of 2)" python3 -c '
import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("2001:db8::200", 9))'
expect "v6 no_accept: a unicast NS to the VIP is answered (entry REACHABLE again)" 6 \
    bash -c "ip -n $(ns_of 2) -6 neigh show 2001:db8::200 dev eth0 | grep -q REACHABLE"
check "v6 no_accept: the drop rule counted packets" dropped_some 1 2001:db8::200

# A higher priority router takes over: r1 leaves MASTER, the filter goes.
start_vrrpd 2 v6high "$(vrrp_conf r2 3 200 0.1 2001:db8::200/64 no_accept)"
expect "v6 no_accept: r1 steps down for priority 200" 5 lacks_vip 1 2001:db8::200/64
expect "v6 no_accept: leaving MASTER removes r1's table" 3 table_absent 1
expect "v6 no_accept: r2 (master, not owner) installs its own" 3 table_present 2
stop v6high TERM
stop v6noaccept TERM
finish
