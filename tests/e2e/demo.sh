#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest half of scripts/demo: a director pair (vrrpd + healthcheckd from
# one configuration) in front of three real servers, real IPVS in NAT mode;
# shows the table and the request distribution, kills a real server and then
# the master director under traffic, and says what happened with the measured
# times. Exits non-zero if anything did not happen as it says.
# Needs VRRPD, HEALTHCHECKD, IPVSCTL in the environment; run as root.
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
DETECT_BOUND=$(( (DELAY_LOOP + CONNECT_TIMEOUT) * SLOW + REQUEST_TIMEOUT ))
FAILOVER_BOUND=$(( (3 * ADVERT_INT + 1) * SLOW + REQUEST_TIMEOUT ))
in_table() { ip netns exec "e2lb$1" "$IPVSCTL" -L -n | grep -q " $2:80 "; }
out_of_table() { ! in_table "$@"; }

log "== 1. The pair: network namespaces client, lb1, lb2, rs1..rs3 (see tests/e2e/lib.sh)."
log "   lb1 and lb2 run vrrpd and healthcheckd from ONE file (-i lb1 / -i lb2):"
make_topology
t0=$(now)
bring_up nat rr || { FAILURES=$((FAILURES + 1)); finish; }
log "   lb1 is VRRP master (VIP $VIP outside, $INSIDE_VIP inside), both tables filled by healthcheckd, in $(elapsed "$t0") s."
log "   ipvsctl -L -n on lb1:"
ip netns exec e2lb1 "$IPVSCTL" -L -n | tee "$WORK/ours.txt" | sed 's/^/     /'
ip netns exec e2lb1 ipvsadm -L -n > "$WORK/theirs.txt"
check "ipvsctl -L -n is byte for byte what Debian's ipvsadm -L -n prints for the same kernel table" \
    cmp -s "$WORK/ours.txt" "$WORK/theirs.txt"

log "== 2. 60 requests from the client to http://$VIP/ (rr: 20 each expected)"
loadgen --count 60 > "$WORK/dist.json"
log "   answered by: $(json "$WORK/dist.json" "', '.join(f'{k} {v}' for k, v in j['servers'].items())"); failed: $(json "$WORK/dist.json" "j['failed']")"
check "every request answered, 20 by each server" \
    [ "$(json "$WORK/dist.json" "j['failed'] == 0 and list(j['servers'].values()) == [20, 20, 20]")" = True ]

log "== 3. rs2's HTTP server is killed (SIGKILL) under a steady request loop"
traffic_start rs
t0=$(now)
stop_pid rs2 KILL
check "healthcheckd on lb1 took rs2 out" wait_for $((DETECT_BOUND * 3)) out_of_table 1 10.92.2.102
log "   lb1's healthcheckd took rs2 out of IPVS $(elapsed "$t0") s later (checks every $DELAY_LOOP s, connect_timeout $CONNECT_TIMEOUT s)"
check "healthcheckd on lb2 took rs2 out" wait_for $((DETECT_BOUND * 3)) out_of_table 2 10.92.2.102
sleep 4
traffic_stop rs
drill_report rs "$t0" "$DETECT_BOUND"
log "   (requests that met rs2 before that were refused; after it, none failed)"

log "== 4. The master director lb1 dies: SIGKILL of its vrrpd, then its links go down"
traffic_start master
t0=$(now)
stop_pid vrrpd1 KILL
check "lb2 took the VIPs" wait_for $((FAILOVER_BOUND * 3)) has_vip 2
log "   lb2 became master and took both VIPs $(elapsed "$t0") s later (advert_int $ADVERT_INT s: 3 missed adverts + skew)"
ip -n e2lb1 link set eth0 down
ip -n e2lb1 link set eth1 down
sleep 5
traffic_stop master
drill_report master "$t0" "$FAILOVER_BOUND"
log "   lb2 now carries the traffic; ipvsctl -L -n on lb2:"
ip netns exec e2lb2 "$IPVSCTL" -L -n | sed 's/^/     /'
check "lb2 forwards to rs1 and rs3" \
    [ "$(json "$WORK/master.json" "sorted(j['servers'])")" = "['rs1', 'rs3']" ]
if [ "$FAILURES" -eq 0 ]; then
    log "== Everything happened as described."
else
    log "== $FAILURES step(s) did NOT happen as described."
fi
finish
