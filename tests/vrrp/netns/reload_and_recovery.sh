#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGHUP reload without a transition, a priority change applied in place, a
# bad file on SIGHUP changing nothing, a VIP deleted behind vrrpd's back
# being restored, and unicast peers instead of multicast.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 2
VIP=192.0.2.100/24

log "== reload"
start_vrrpd 1 master "$(vrrp_conf r1 3 200 0.1 $VIP)"
expect "priority 200 becomes master" 5 has_vip 1 $VIP
start_vrrpd 2 backup "$(vrrp_conf r2 3 100 0.1 $VIP)"
expect "priority 100 starts as backup" 3 log_has backup "INIT -> BACKUP"
sleep 1
check "status: master reports MASTER" status_is master 'j["instances"][0]["state"]' MASTER
check "status: backup reports BACKUP" status_is backup 'j["instances"][0]["state"]' BACKUP
check "status: backup knows the master" status_is backup 'j["instances"][0]["master_address"]' 192.0.2.1
check "status: backup counts adverts" status_is backup 'j["instances"][0]["counters"]["adverts_received"] > 5' True
check "status: backup rejected nothing" status_is backup 'j["instances"][0]["counters"]["rejected_total"]' 0
check "status: the reply says ok" status_is backup 'j["ok"]' True
before=$(log_count master ' -> ')
kill -HUP "$PID_master"
expect "reload of an unchanged file is logged" 3 log_has master "reloaded, 1 instance"
sleep 1
check "unchanged reload made no transition" test "$(log_count master ' -> ')" -eq "$before"
check "unchanged reload kept the VIP" has_vip 1 $VIP

printf 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 400\n' \
    > "$WORK/master.conf"
kill -HUP "$PID_master"
expect "a bad file on SIGHUP is reported" 3 log_has master "reload failed; keeping"
sleep 1
check "a bad file changed nothing" has_vip 1 $VIP
check "a bad file made no transition" test "$(log_count master ' -> ')" -eq "$before"

vrrp_conf r1 3 50 0.1 $VIP > "$WORK/master.conf"
kill -HUP "$PID_master"
expect "lowered priority is applied in place" 3 log_has master "applied without a state change"
expect "the backup (100) preempts the master now at 50" 3 has_vip 2 $VIP
expect "the old master yields" 3 log_has master "MASTER -> BACKUP (higher priority advert)"
check "the old master released the VIP" lacks_vip 1 $VIP

log "== restore"
ip -n "$(ns_of 2)" addr del $VIP dev eth0
expect "a VIP deleted behind our back is restored" 4 has_vip 2 $VIP
check "the restore was logged" log_has backup "removed behind our back; restoring"
stop master KILL
stop backup TERM
expect "backup released on SIGTERM" 3 lacks_vip 2 $VIP

log "== unicast"
UNI1=$'unicast_src_ip 192.0.2.1\n    unicast_peer {\n        192.0.2.2\n    }'
UNI2=$'unicast_src_ip 192.0.2.2\n    unicast_peer {\n        192.0.2.1\n    }'
start_vrrpd 1 uhigh "$(vrrp_conf r1 3 200 0.1 $VIP "$UNI1")"
expect "unicast: priority 200 becomes master" 5 has_vip 1 $VIP
start_vrrpd 2 ulow "$(vrrp_conf r2 3 100 0.1 $VIP "$UNI2")"
sleep 2
check "unicast: backup sees unicast adverts and stays backup" lacks_vip 2 $VIP
check "unicast: backup never became master" bash -c "! grep -q 'BACKUP -> MASTER' '$WORK/ulow.log'"
stop uhigh KILL
expect "unicast: failover after SIGKILL" 3 has_vip 2 $VIP
stop ulow TERM
ip -n "$(ns_of 1)" addr del $VIP dev eth0 2>/dev/null  # left by the SIGKILLed uhigh

log "== notify"
mkdir -p "$WORK/n" && chmod 711 "$WORK" && chmod 777 "$WORK/n"
printf '#!/bin/sh\necho "$(id -un) $*" >> %s/n/notify.log\n' "$WORK" > "$WORK/n/notify.sh"
chmod 755 "$WORK/n/notify.sh"
NOTIFY="notify $WORK/n/notify.sh nobody
    notify_master \"$WORK/n/notify.sh master-only\" nobody"
VRRPD_EXTRA="--realtime 10" start_vrrpd 1 notifier "$(vrrp_conf r1 3 200 0.1 $VIP "$NOTIFY")"
expect "notify: becomes master" 5 has_vip 1 $VIP
expect "--realtime: SCHED_FIFO taken" 3 log_has notifier "SCHED_FIFO priority 10"
check "--realtime: the process runs under SCHED_FIFO" \
    bash -c "chrt -p $PID_notifier | grep -q SCHED_FIFO"
expect "notify: notify ran with keepalived's arguments as nobody" 3 \
    grep -q "^nobody INSTANCE VI_1 MASTER 200$" "$WORK/n/notify.log"
expect "notify: notify_master ran" 3 grep -q "^nobody master-only$" "$WORK/n/notify.log"
check "notify: BACKUP was reported first" grep -q "^nobody INSTANCE VI_1 BACKUP 200$" "$WORK/n/notify.log"
stop notifier TERM
expect "notify: STOP reported on SIGTERM" 3 grep -q "^nobody INSTANCE VI_1 STOP 200$" "$WORK/n/notify.log"
finish
