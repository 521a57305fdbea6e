#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# track_interface: a negative weight lowers the priority so the backup
# preempts; weight 0 puts the instance in FAULT (priority 0, VIP released);
# recovery brings the master back.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 2
VIP=192.0.2.100/24
# Tracked interfaces: veth pairs (the host kernel has no dummy driver).
for t in trk0 trk1; do
    ip -n "$(ns_of 2)" link add $t type veth peer name ${t}p || exit 1
    ip -n "$(ns_of 2)" link set ${t}p up
    ip -n "$(ns_of 2)" link set $t up
done

TRACK=$'track_interface {\n        trk0 weight -150\n        trk1\n    }'
start_vrrpd 2 high "$(vrrp_conf r2 3 200 0.1 $VIP "$TRACK")"
expect "priority 200 becomes master" 5 has_vip 2 $VIP
start_vrrpd 1 low "$(vrrp_conf r1 3 100 0.1 $VIP)"
expect "priority 100 starts as backup" 3 log_has low "INIT -> BACKUP"

log "== weight -150"
ip -n "$(ns_of 2)" link set trk0 down
expect "tracked interface down lowers the priority to 50" 3 log_has high "effective priority 200 -> 50"
expect "the backup (100) preempts" 3 has_vip 1 $VIP
expect "the lowered master yields" 3 lacks_vip 2 $VIP
check "status shows base and effective priority" \
    status_is high '(j["instances"][0]["priority"], j["instances"][0]["effective_priority"])' "(200, 50)"
ip -n "$(ns_of 2)" link set trk0 up
expect "tracked interface up restores priority 200" 3 log_has high "effective priority 50 -> 200"
expect "priority 200 preempts again" 5 has_vip 2 $VIP
expect "the backup yields again" 3 lacks_vip 1 $VIP

log "== weight 0: FAULT"
ip -n "$(ns_of 2)" link set trk1 down
expect "weight 0 interface down: FAULT" 3 log_has high "MASTER -> FAULT (tracked object failed)"
expect "FAULT releases the VIP" 3 lacks_vip 2 $VIP
expect "the backup takes over at once (priority 0)" 3 has_vip 1 $VIP
check "status shows FAULT" status_is high 'j["instances"][0]["state"]' FAULT
sleep 1
check "a faulted router does not take over" lacks_vip 2 $VIP
ip -n "$(ns_of 2)" link set trk1 up
expect "recovery: FAULT -> BACKUP" 3 log_has high "FAULT -> BACKUP (tracked objects recovered)"
expect "recovered priority 200 preempts" 5 has_vip 2 $VIP
stop high TERM

log "== track_script"
SCRIPT_CONF=$(vrrp_conf r2 3 200 0.1 $VIP $'track_script {\n        chk\n    }')
SCRIPT_CONF="vrrp_script chk {
    script \"/bin/sh -c 'test ! -e $WORK/fail'\"
    interval 0.2
    weight -150
    fall 2
    rise 2
}
$SCRIPT_CONF"
start_vrrpd 2 shigh "$SCRIPT_CONF"
expect "script: priority 200 becomes master" 5 has_vip 2 $VIP
expect "script: the backup yields" 3 lacks_vip 1 $VIP
touch "$WORK/fail"
expect "script: a failing track script lowers the priority" 3 log_has shigh "effective priority 200 -> 50"
check "script: the failure was logged" log_has shigh "vrrp_script chk is now down"
expect "script: the backup (100) preempts" 3 has_vip 1 $VIP
rm -f "$WORK/fail"
expect "script: recovery restores priority 200" 3 log_has shigh "effective priority 50 -> 200"
expect "script: priority 200 preempts again" 5 has_vip 2 $VIP
stop shigh TERM
stop low TERM
finish
