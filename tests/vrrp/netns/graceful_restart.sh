#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Graceful restart (vrrpd(8), SIGUSR2): the master stops without priority 0
# and keeps its VIP; the restarted vrrpd resumes as master at once, so the
# backup never takes over and the VIP never leaves. The RFC still holds: a
# higher-priority peer takes the VIP from a resumed lower-priority router, a
# stale note (older than 3 x advert_int) does not resume, and SIGTERM still
# releases with priority 0.
. "$(dirname "$0")/lib.sh"
# Host namespaces of this test start with "ee" (shared machine).
TAG="ee$$"
BR="${TAG}br"
need_root
make_lan 3

VIP=192.0.2.100/24
# vip_gone_ever ROUTER: a background sampler saw the VIP missing on ROUTER.
sample_vip() {
    local r=$1 out=$2
    : > "$out"
    while [ ! -e "$out.stop" ]; do
        has_vip "$r" $VIP || echo "missing $(date +%s.%N)" >> "$out"
        sleep 0.02
    done
}

log "== graceful restart of the master keeps the VIP in place"
start_vrrpd 2 high "$(vrrp_conf r2 3 200 1 $VIP)"
expect "priority 200 becomes master" 6 has_vip 2 $VIP
start_vrrpd 1 low "$(vrrp_conf r1 3 100 1 $VIP)"
expect "priority 100 starts as backup" 3 log_has low "INIT -> BACKUP"
sample_vip 2 "$WORK/gaps" &
SAMPLER=$!
PIDS+=("$SAMPLER")
stop high USR2
check "SIGUSR2 logged" log_has high "stopping for a restart; 1 master instance(s) keep"
check "no priority 0 sent: backup did not take over at once" lacks_vip 1 $VIP
check "the VIP stays on the stopped master" has_vip 2 $VIP
start_vrrpd 2 high "$(vrrp_conf r2 3 200 1 $VIP)"
expect "restarted vrrpd resumes as master" 3 log_has high "INIT -> MASTER (resumed after a graceful restart)"
sleep 5  # longer than the backup's master_down_interval (3.61 s)
touch "$WORK/gaps.stop"; wait "$SAMPLER"
check "the VIP never left the master (sampled every 20 ms)" [ ! -s "$WORK/gaps" ]
check "the backup never became master" bash -c "! grep -q 'BACKUP -> MASTER' '$WORK/low.log'"
check "the backup never held the VIP" lacks_vip 1 $VIP
check "backup saw no priority 0" status_is low "j['instances'][0]['counters']['priority_zero_received']" 0
check "restart note consumed" [ ! -e "$WORK/high.sock.restart" ]

log "== a resumed lower-priority router yields to a higher-priority master"
# r1 (100) is made master by stopping r2, then stopped gracefully; r3 (250)
# starts meanwhile and wins; r1 resumes and must give the VIP up.
stop high TERM
expect "r1 takes over after priority 0" 3 has_vip 1 $VIP
stop low USR2
check "r1 keeps the VIP while stopped" has_vip 1 $VIP
start_vrrpd 3 top "$(vrrp_conf r3 3 250 1 $VIP)"
start_vrrpd 1 low "$(vrrp_conf r1 3 100 1 $VIP)"
expect "r1 resumed" 3 log_has low "INIT -> MASTER (resumed after a graceful restart)"
expect "r3 (250) becomes master" 8 has_vip 3 $VIP
expect "resumed r1 yields to the higher priority and drops the VIP" 4 lacks_vip 1 $VIP
check "r1 logged the RFC transition" log_has low "MASTER -> BACKUP (higher priority advert)"
stop top TERM
expect "r1 takes over again after r3's priority 0" 4 has_vip 1 $VIP

log "== a stale note (older than 3 x advert_int) does not resume"
stop low USR2
sleep 3.5  # 3 x advert_int of 1 s
# Counted before the start: the log already holds these lines from earlier
# runs, and the stopped vrrpd left the VIP in place.
startups=$(log_count low 'INIT -> BACKUP (startup)')
takeovers=$(log_count low 'BACKUP -> MASTER (master down timer expired)')
start_vrrpd 1 low "$(vrrp_conf r1 3 100 1 $VIP)"
expect "stale: r1 starts as backup" 3 \
    bash -c "[ \$(grep -c -- 'INIT -> BACKUP (startup)' '$WORK/low.log') -gt $startups ]"
check "stale: no resume logged twice" [ "$(log_count low 'resumed after a graceful restart')" -eq 1 ]
expect "stale: alone, r1 becomes master after master_down_interval" 6 \
    bash -c "[ \$(grep -c -- 'BACKUP -> MASTER (master down timer expired)' '$WORK/low.log') -gt $takeovers ]"
check "stale: r1 holds the VIP as master" has_vip 1 $VIP

log "== SIGTERM still releases the VIP"
stop low TERM
expect "SIGTERM removes the VIP" 2 lacks_vip 1 $VIP
finish
