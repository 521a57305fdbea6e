#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two vrrpd routers on a bridge: election, preemption, failover on SIGKILL
# and on SIGTERM (priority 0), VIPs added and removed; VRRPv3 over IPv4 and
# IPv6 and VRRPv2 with PASS authentication.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 2

AUTH=$'authentication {\n        auth_type PASS\n        auth_pass secret\n    }'

scenario() {
    local label=$1 version=$2 advert=$3 vip=$4 extra=$5 down=$6
    log "== $label"
    start_vrrpd 2 "high_$label" "$(vrrp_conf r2 "$version" 200 "$advert" "$vip" "$extra")"
    expect "$label: priority 200 becomes master and owns $vip" "$down" has_vip 2 "$vip"
    start_vrrpd 1 "low_$label" "$(vrrp_conf r1 "$version" 100 "$advert" "$vip" "$extra")"
    expect "$label: priority 100 starts as backup" 3 log_has "low_$label" "INIT -> BACKUP"
    check "$label: priority 100 stays backup without $vip" lacks_vip 1 "$vip"
    check "$label: master logged the transition" \
        log_has "high_$label" "\[VI_1 vrid 51 v[46]\] BACKUP -> MASTER"
    sleep "$down"
    check "$label: master still owns $vip" has_vip 2 "$vip"
    check "$label: backup never became master" \
        bash -c "! grep -q 'BACKUP -> MASTER' '$WORK/low_$label.log'"

    stop "high_$label" KILL
    expect "$label: backup takes over after SIGKILL" "$down" has_vip 1 "$vip"

    # The old master's address is still configured (SIGKILL cleans nothing);
    # a restarted vrrpd removes it, returns as backup and preempts.
    start_vrrpd 2 "high2_$label" "$(vrrp_conf r2 "$version" 200 "$advert" "$vip" "$extra")"
    expect "$label: restarted higher priority preempts" "$down" has_vip 2 "$vip"
    expect "$label: lower priority releases $vip" "$down" lacks_vip 1 "$vip"
    check "$label: preemption logged" log_has "low_$label" "MASTER -> BACKUP (higher priority advert)"

    # SIGTERM: priority 0 advert, addresses released, backup takes over after Skew_Time.
    local t0 t1
    t0=$(date +%s%N)
    stop "high2_$label" TERM
    expect "$label: SIGTERM releases $vip" 2 lacks_vip 2 "$vip"
    expect "$label: backup takes over after priority 0" 3 has_vip 1 "$vip"
    t1=$(date +%s%N)
    log "$label: takeover after SIGTERM took $(( (t1 - t0) / 1000000 )) ms"
    check "$label: priority 0 was received" log_has "low_$label" "BACKUP -> MASTER"
    stop "low_$label" TERM
    expect "$label: last router releases $vip on SIGTERM" 2 lacks_vip 1 "$vip"
}

# SIGSTOP and link down: the master goes silent without priority 0.
stall() {
    local vip=192.0.2.102/24
    log "== stall"
    start_vrrpd 2 "shigh" "$(vrrp_conf r2 3 200 0.1 $vip)"
    expect "stall: priority 200 becomes master" 5 has_vip 2 $vip
    start_vrrpd 1 "slow" "$(vrrp_conf r1 3 100 0.1 $vip)"
    expect "stall: priority 100 starts as backup" 3 log_has slow "INIT -> BACKUP"
    kill -STOP "$PID_shigh"
    expect "stall: backup takes over from a SIGSTOPped master" 3 has_vip 1 $vip
    kill -CONT "$PID_shigh"
    expect "stall: the resumed master (200) wins again" 3 log_has slow "MASTER -> BACKUP (higher priority advert)"
    expect "stall: the backup releases the VIP" 3 lacks_vip 1 $vip
    ip -n "$(ns_of 2)" link set eth0 down
    expect "stall: backup takes over when the master's link goes down" 3 has_vip 1 $vip
    ip -n "$(ns_of 2)" link set eth0 up
    # Addresses on a downed link stay configured; once it is back the
    # higher priority takes over again.
    expect "stall: after link up the master (200) preempts again" 5 \
        bash -c "[ \$(grep -c 'MASTER -> BACKUP' '$WORK/slow.log') -ge 2 ]"
    stop shigh TERM
    stop slow TERM
    expect "stall: everything released" 3 lacks_vip 1 $vip
}

stall
scenario v3inet 3 0.1 192.0.2.100/24 "" 5
scenario v2inet 2 1 192.0.2.101/24 "$AUTH" 8
scenario v3inet6 3 0.1 2001:db8::100/64 "" 5
finish
