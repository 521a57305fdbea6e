#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# e2e, in the guest: the director pair carries client traffic in NAT, DR and
# TUN mode; for each, the request distribution of rr, wrr (weights 3:2:1) and
# sh (each client address sticks to one server) is printed and asserted; then
# FNAT (real servers without a route back) and a fwmark virtual_server_group
# (VIP:80 and VIP:8080 as one FWM service). DR/TUN real servers are set up
# with `ipvsctl realserver setup`.
# Needs VRRPD, HEALTHCHECKD, IPVSCTL in the environment; run as root.
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
make_topology

N=60
# share FILE SERVER: requests answered by SERVER.
share() { json "$1" "j['servers'].get('$2', 0)"; }
# near VALUE EXPECTED TOLERANCE
near() { [ "$1" -ge $(($2 - $3)) ] && [ "$1" -le $(($2 + $3)) ]; }

distribution() {
    local mode=$1 fwd=$2 out
    log "== $mode: rr"
    check "$mode: lb1 forwards with $fwd" wait_for $((10 * SLOW)) table_fwd 1 "$fwd"
    check "$mode: lb2 forwards with $fwd" wait_for $((10 * SLOW)) table_fwd 2 "$fwd"
    check "$mode: lb1 schedules with rr" wait_for $((10 * SLOW)) \
        bash -c "ip netns exec e2lb1 '$IPVSCTL' -L -n | grep -q ':80 rr'"
    check "$mode: weights 1 1 1" wait_for $((10 * SLOW)) weights_are 1 "1 1 1"
    ip netns exec e2lb1 "$IPVSCTL" -L -n
    out=$WORK/$mode-rr.json
    loadgen --count $N > "$out"
    log "  sent $(json "$out" "j['sent']"), failed $(json "$out" "j['failed']"), servers $(json "$out" "j['servers']")"
    check "$mode rr: every request answered" [ "$(json "$out" "j['ok']")" -eq $N ]
    for s in rs1 rs2 rs3; do check "$mode rr: $s got $N/3 +-2" near "$(share "$out" $s)" $((N / 3)) 2; done

    log "== $mode: wrr 3:2:1"
    reconfigure "$mode" wrr "3 2 1"
    check "$mode: weights 3 2 1 in lb1's table" wait_for $((10 * SLOW)) weights_are 1 "3 2 1"
    check "$mode: weights 3 2 1 in lb2's table" wait_for $((10 * SLOW)) weights_are 2 "3 2 1"
    out=$WORK/$mode-wrr.json
    loadgen --count $N > "$out"
    log "  sent $(json "$out" "j['sent']"), failed $(json "$out" "j['failed']"), servers $(json "$out" "j['servers']")"
    check "$mode wrr: every request answered" [ "$(json "$out" "j['ok']")" -eq $N ]
    check "$mode wrr: rs1 got 3/6 +-3" near "$(share "$out" rs1)" $((N / 2)) 3
    check "$mode wrr: rs2 got 2/6 +-3" near "$(share "$out" rs2)" $((N / 3)) 3
    check "$mode wrr: rs3 got 1/6 +-3" near "$(share "$out" rs3)" $((N / 6)) 3

    log "== $mode: sh from six client addresses"
    reconfigure "$mode" sh
    check "$mode: lb1 schedules with sh" wait_for $((10 * SLOW)) \
        bash -c "ip netns exec e2lb1 '$IPVSCTL' -L -n | grep -q ':80 sh'"
    check "$mode: weights back to 1 1 1" wait_for $((10 * SLOW)) weights_are 1 "1 1 1"
    out=$WORK/$mode-sh.json
    loadgen --count $N --source 10.92.1.100,10.92.1.101,10.92.1.102,10.92.1.103,10.92.1.104,10.92.1.105 > "$out"
    log "  sent $(json "$out" "j['sent']"), failed $(json "$out" "j['failed']"), per client $(json "$out" "j['by_source']")"
    check "$mode sh: every request answered" [ "$(json "$out" "j['ok']")" -eq $N ]
    check "$mode sh: each client address always reached the same server" \
        [ "$(json "$out" "all(len(v) == 1 for v in j['by_source'].values()) and len(j['by_source']) == 6")" = True ]
    check "$mode sh: the clients were spread over more than one server" \
        [ "$(json "$out" "len(j['servers'])")" -ge 2 ]
}

log "== bringing up the pair (NAT) and three real servers"
bring_up nat rr || { FAILURES=$((FAILURES + 1)); finish; }
distribution nat Masq
reconfigure dr rr
distribution dr Route
reconfigure tun rr
distribution tun Tunnel
# Requests from fixed client ports, reused after the switch to FNAT below.
PORTS=41000
loadgen --count 12 --source-port $PORTS > "$WORK/tun-ports.json"
check "tun: every request from ports $PORTS.. answered" [ "$(json "$WORK/tun-ports.json" "j['ok']")" -eq 12 ]

log "== FNAT: real servers without a route back (source NAT by healthcheckd's nftables rules)"
reconfigure fnat rr
check "fnat: lb1 forwards with Masq" wait_for $((10 * SLOW)) table_fwd 1 Masq
check "fnat: lb1 has the source-NAT rules" wait_for $((10 * SLOW)) \
    bash -c "ip netns exec e2lb1 nft list table inet ipvsctl | grep -q masquerade"
check "fnat: the real servers have no default route" \
    [ -z "$(ip -n e2rs1 route show default; ip -n e2rs2 route show default; ip -n e2rs3 route show default)" ]
# The TUN connections of those ports are still in the directors' tables
# (FIN_WAIT, old forwarding method); conn_reuse_mode 3 (lib.sh) must have
# their reuse scheduled afresh. With the default 1 every one of these timed
# out: that was the requests lost after this switch in earlier runs.
out=$WORK/fnat-ports.json
loadgen --count 12 --source-port $PORTS > "$out"
[ "$(json "$out" "j['failed']")" -eq 0 ] || log "  $(json "$out" "'; '.join(j['messages'])")"
check "fnat: every request from the reused ports $PORTS.. answered" [ "$(json "$out" "j['ok']")" -eq 12 ]
out=$WORK/fnat-rr.json
loadgen --count $N --log "$WORK/fnat-rr.jsonl" > "$out"
log "  sent $(json "$out" "j['sent']"), failed $(json "$out" "j['failed']"), servers $(json "$out" "j['servers']"), errors $(json "$out" "j['errors']")"
[ "$(json "$out" "j['failed']")" -eq 0 ] || log "  $(json "$out" "'; '.join(j['messages'])")"
check "fnat rr: every request answered" [ "$(json "$out" "j['ok']")" -eq $N ]
for s in rs1 rs2 rs3; do check "fnat rr: $s got $N/3 +-2" near "$(share "$out" $s)" $((N / 3)) 2; done

log "== fwmark group: virtual_server_group of $VIP:80 and $VIP:8080 as one FWM service (NAT)"
E2_GROUP=1 reconfigure nat rr
fwm_only() {
    local t
    t=$(ip netns exec "e2lb$1" "$IPVSCTL" -L -n)
    grep -q '^FWM ' <<<"$t" && ! grep -q '^TCP ' <<<"$t"
}
check "group: lb1 has one FWM service and no TCP service" wait_for $((10 * SLOW)) fwm_only 1
check "group: lb2 too" wait_for $((10 * SLOW)) fwm_only 2
check "group: three real servers behind it" wait_for $((10 * SLOW)) table_has 1 3
check "group: the marking rules are in nftables" \
    bash -c "ip netns exec e2lb1 nft list table inet ipvsctl | grep -q 'meta mark set'"
ip netns exec e2lb1 "$IPVSCTL" -L -n
loadgen --count $((N / 2)) > "$WORK/group80.json"
loadgen --url "http://$VIP:8080/" --count $((N / 2)) > "$WORK/group8080.json"
for port in 80 8080; do
    out=$WORK/group$port.json
    log "  port $port: sent $(json "$out" "j['sent']"), failed $(json "$out" "j['failed']"), servers $(json "$out" "j['servers']")"
    [ "$(json "$out" "j['failed']")" -eq 0 ] || log "  $(json "$out" "'; '.join(j['messages'])")"
done
check "group: every request to port 80 answered" \
    [ "$(json "$WORK/group80.json" "j['ok']")" -eq $((N / 2)) ]
check "group: every request to port 8080 answered" \
    [ "$(json "$WORK/group8080.json" "j['ok']")" -eq $((N / 2)) ]
total() { python3 -c "import json,sys; print(sum(json.load(open(f))['servers'].get(sys.argv[1], 0) for f in sys.argv[2:]))" "$@"; }
for s in rs1 rs2 rs3; do
    check "group rr: $s got $N/3 +-2 over both ports (one service)" \
        near "$(total $s "$WORK/group80.json" "$WORK/group8080.json")" $((N / 3)) 2
done
finish
