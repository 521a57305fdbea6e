#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Adverts from vrrpd captured on the wire decode in Wireshark's VRRP
# dissector (tshark) with correct checksums: VRRPv2 over IPv4 (PASS
# authentication), VRRPv3 over IPv4 and over IPv6 (RFC 5798 section 5.2.8
# pseudo-header), including the priority 0 adverts sent on SIGTERM. As
# controls, so the check cannot pass vacuously: the v3 IPv4 checksums come out
# bad when tshark checks them the v2 way (no pseudo-header), and a copy with
# one byte flipped in every packet has only bad checksums.
. "$(dirname "$0")/lib.sh"
need_root
command -v tshark >/dev/null || { echo "tshark is needed (scripts/install-deps)"; exit 1; }
make_lan 2

# Three instances in one vrrpd on r1 (alone, so master of all three).
start_vrrpd 1 wire "$(cat <<'CONF'
global_defs {
    router_id r1
    vrrp_version 3
}
vrrp_instance V2 {
    state BACKUP
    interface eth0
    virtual_router_id 12
    version 2
    priority 120
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret12
    }
    virtual_ipaddress {
        192.0.2.112/24
    }
}
vrrp_instance V3 {
    state BACKUP
    interface eth0
    virtual_router_id 13
    priority 130
    advert_int 0.2
    virtual_ipaddress {
        192.0.2.113/24
        192.0.2.114/24
    }
}
vrrp_instance V6 {
    state BACKUP
    interface eth0
    virtual_router_id 16
    priority 160
    advert_int 0.2
    virtual_ipaddress {
        2001:db8::116/64
    }
}
CONF
)"
expect "all three instances are master" 8 bash -c \
    "[ \$(grep -c 'BACKUP -> MASTER' '$WORK/wire.log') -eq 3 ]"

# Capture on the receiving router for 4 s (several v2 adverts at 1 s), then
# SIGTERM vrrpd so its priority 0 adverts are in the capture too.
ip netns exec "$(ns_of 2)" tshark -q -i eth0 -f "ip proto 112 or ip6 proto 112" \
    -a duration:6 -F pcap -w "$WORK/adverts.pcap" >"$WORK/tshark.log" 2>&1 &
CAPTURE=$!
PIDS+=($CAPTURE)
sleep 5
stop wire TERM
wait "$CAPTURE"

# A copy with the last byte of every packet flipped (inside the VRRP
# message: the last address or authentication byte).
python3 - "$WORK/adverts.pcap" "$WORK/corrupted.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
at = 24  # pcap file header, then 16-byte record headers (caplen at +8)
while at + 16 <= len(data):
    caplen = struct.unpack_from("<I", data, at + 8)[0]
    data[at + 16 + caplen - 1] ^= 0xFF
    at += 16 + caplen
open(sys.argv[2], "wb").write(data)
PY

# fields CHECK_AS_V2 [FILE]: one line per VRRP packet.
fields() {
    tshark -r "$WORK/${2:-adverts.pcap}" -o "vrrp.v3_checksum_as_in_v2:$1" -Y vrrp -T fields \
        -E separator=';' -e vrrp.version -e vrrp.virt_rtr_id -e vrrp.prio -e vrrp.checksum.status \
        -e ip.ttl -e ipv6.hlim -e vrrp.addr_count -e vrrp.ip_addr -e vrrp.ipv6_addr \
        -e vrrp.auth_string 2>/dev/null
}
fields FALSE > "$WORK/decoded.txt"
fields TRUE > "$WORK/decoded_as_v2.txt"
fields FALSE corrupted.pcap > "$WORK/decoded_corrupted.txt"
log "decoded $(wc -l < "$WORK/decoded.txt") VRRP packets; first of each:"
sort -u -t';' -k2,3 "$WORK/decoded.txt" | sed 's/^/#   /'

count() { grep -c -- "$1" "$WORK/${2:-decoded.txt}"; }
at_least() { [ "$(count "$1" "${3:-decoded.txt}")" -ge "$2" ]; }
none() { [ "$(count "$1" "${2:-decoded.txt}")" -eq 0 ]; }

# Every IP protocol 112 packet decodes as VRRP, and nothing is malformed.
total=$(tshark -r "$WORK/adverts.pcap" -Y "ip.proto == 112 or ipv6.nxt == 112" 2>/dev/null | wc -l)
check "every captured protocol-112 packet decodes as VRRP ($total)" \
    [ "$total" -eq "$(wc -l < "$WORK/decoded.txt")" ]
check "no malformed packets" \
    [ "$(tshark -r "$WORK/adverts.pcap" -Y _ws.malformed 2>/dev/null | wc -l)" -eq 0 ]

# version;vrid;prio;checksum status (1 = good);ttl;hlim;count;v4 addrs;v6 addrs;auth
check "v2 IPv4 adverts decode with a good checksum, TTL 255 and PASS secret12" \
    at_least "^2;12;120;1;255;;1;192.0.2.112;;secret12$" 3
check "v3 IPv4 adverts decode with a good checksum and both addresses" \
    at_least "^3;13;130;1;255;;2;192.0.2.113,192.0.2.114;;$" 10
check "v3 IPv6 adverts decode with a good checksum, hop limit 255" \
    at_least "^3;16;160;1;;255;1;;2001:db8::116;$" 10
check "priority 0 on SIGTERM, v2, good checksum" at_least "^2;12;0;1;255;" 1
check "priority 0 on SIGTERM, v3 IPv4, good checksum" at_least "^3;13;0;1;255;" 1
check "priority 0 on SIGTERM, v3 IPv6, good checksum" at_least "^3;16;0;1;;255;" 1
check "no checksum is bad or unverified" none "^[23];[0-9]*;[0-9]*;[^1];"
# Control: the v2 rule applied to v3 adverts gives bad checksums (0), while
# v2 adverts stay good.
check "control: v3 IPv4 checksums are bad when checked without the pseudo-header" \
    none "^3;13;[0-9]*;1;" decoded_as_v2.txt
check "control: v3 IPv4 packets are still there in that decoding" \
    at_least "^3;13;[0-9]*;0;" 10 decoded_as_v2.txt
check "control: v2 checksums stay good" at_least "^2;12;120;1;" 3 decoded_as_v2.txt
# Control: one flipped byte makes every checksum bad, v2 and v3, IPv4 and IPv6.
check "control: corrupted copy has as many VRRP packets" \
    [ "$(wc -l < "$WORK/decoded_corrupted.txt")" -eq "$total" ]
check "control: no corrupted packet has a good checksum" none "^[23];[0-9]*;[0-9]*;1;" \
    decoded_corrupted.txt
for vrid in 12 13 16; do
    check "control: corrupted VRID $vrid adverts are flagged bad" \
        at_least "^[23];$vrid;[0-9]*;0;" 3 decoded_corrupted.txt
done
finish
