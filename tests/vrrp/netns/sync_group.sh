#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vrrp_sync_group: two routers, a group of two instances on two bridges.
# Link down under one member moves both members (FAULT on one router,
# MASTER on the other), the group notify scripts report it, and recovery
# brings the group back as one.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 2
add_lan2 2

for r in 1 2; do
    printf '#!/bin/sh\necho "$@" >> %s/notify-r%s.txt\n' "$WORK" "$r" > "$WORK/notify-r$r.sh"
    chmod +x "$WORK/notify-r$r.sh"
done

group_conf() {
    local r=$1 prio=$2
    cat <<CONF
global_defs {
    router_id r$r
    vrrp_version 3
}
vrrp_sync_group G1 {
    group {
        VA
        VB
    }
    notify $WORK/notify-r$r.sh
}
vrrp_instance VA {
    state BACKUP
    interface eth0
    notify $WORK/notify-r$r.sh
    virtual_router_id 51
    priority $prio
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
vrrp_instance VB {
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority $prio
    advert_int 0.1
    virtual_ipaddress {
        198.51.100.100/24
    }
}
CONF
}

notified() { grep -q "^$2\$" "$WORK/notify-r$1.txt" 2>/dev/null; }
state_of() { status_field "$1" "' '.join(i['state'] for i in j['instances'])"; }
states_are() { [ "$(state_of "$1" 2>/dev/null)" = "$2" ]; }

start_vrrpd 1 r1 "$(group_conf 1 200)"
both_vips() { has_vip_on "$1" eth0 192.0.2.100 && has_vip_on "$1" eth1 198.51.100.100; }
no_vip() { ! ip -n "$(ns_of "$1")" -o addr | grep -q '\.100/24'; }
expect "r1 (200) owns both VIPs" 5 both_vips 1
start_vrrpd 2 r2 "$(group_conf 2 100)"
expect "r2 (100) starts as backup" 3 log_has r2 "\[group G1\] STOP -> BACKUP"
expect "r1 group notify MASTER" 3 notified 1 "GROUP G1 MASTER 0"
expect "r2 group notify BACKUP" 3 notified 2 "GROUP G1 BACKUP 0"
expect "r1 instance notify VA MASTER" 3 notified 1 "INSTANCE VA MASTER 200"
check "r2 holds no VIP" no_vip 2

log "== link down under VB on r1"
ip -n "$(ns_of 1)" link set eth1 down
expect "r1: both members FAULT" 3 states_are r1 "FAULT FAULT"
expect "r2 takes VA's VIP too" 3 has_vip_on 2 eth0 192.0.2.100
expect "r2 takes VB's VIP" 3 has_vip_on 2 eth1 198.51.100.100
check "r1 released VA's VIP although VA's own link is up" lacks_vip_on 1 eth0 192.0.2.100
check "r1 released VB's VIP" lacks_vip_on 1 eth1 198.51.100.100
check "r2 both MASTER" states_are r2 "MASTER MASTER"
expect "r1 group notify FAULT" 3 notified 1 "GROUP G1 FAULT 0"
expect "r2 group notify MASTER" 3 notified 2 "GROUP G1 MASTER 0"
check "r1 VA logged why it left" log_has r1 "\[VA vrid 51 v4\] MASTER -> FAULT"
sleep 1
check "r1 stays FAULT while the link is down" states_are r1 "FAULT FAULT"
check "r1 status names the group" status_is r1 '[g["state"] for g in j["groups"]]' "['FAULT']"

log "== link up"
ip -n "$(ns_of 1)" link set eth1 up
expect "r1 (200) takes both back" 6 states_are r1 "MASTER MASTER"
expect "r1 owns VA's VIP" 3 has_vip_on 1 eth0 192.0.2.100
expect "r1 owns VB's VIP" 3 has_vip_on 1 eth1 198.51.100.100
expect "r2 back to backup on both" 3 states_are r2 "BACKUP BACKUP"
expect "r2 released both VIPs" 3 no_vip 2
expect "r2 group notify BACKUP again" 3 bash -c "grep -c '^GROUP G1 BACKUP 0\$' $WORK/notify-r2.txt | grep -qx 2"
T1=$(status_field r1 "sum(i['counters']['transitions'] for i in j['instances'])")
sleep 2
check "no flapping afterwards" status_is r1 "sum(i['counters']['transitions'] for i in j['instances'])" "$T1"

log "== SIGHUP without changes keeps the group as it is"
N1=$(wc -l < "$WORK/notify-r1.txt")
kill -HUP "$PID_r1"
expect "r1 reloaded" 3 log_has r1 "vrrpd: reloaded, 2 instance(s)"
sleep 1
check "no transition on reload" status_is r1 "sum(i['counters']['transitions'] for i in j['instances'])" "$T1"
check "no group notify on reload" test "$(wc -l < "$WORK/notify-r1.txt")" -eq "$N1"
check "group still MASTER" status_is r1 '[g["state"] for g in j["groups"]]' "['MASTER']"
check "instances name their group" status_is r1 '[i["sync_group"] for i in j["instances"]]' "['G1', 'G1']"

log "== SIGTERM: the group stops"
stop r1 TERM
expect "r1 group notify STOP" 3 notified 1 "GROUP G1 STOP 0"
expect "r2 takes both over at once (priority 0)" 3 both_vips 2
stop r2 TERM
finish
