#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Three vrrpd routers (priorities 100, 150, 200) on one bridge: the highest
# wins; when it dies the next highest (shorter Skew_Time) takes over, never
# the lowest; nopreempt keeps a lower master; preempt_delay postpones.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 3
VIP=192.0.2.100/24

log "== election among three"
start_vrrpd 3 p200 "$(vrrp_conf r3 3 200 0.1 $VIP)"
expect "priority 200 becomes master" 5 has_vip 3 $VIP
start_vrrpd 2 p150 "$(vrrp_conf r2 3 150 0.1 $VIP)"
start_vrrpd 1 p100 "$(vrrp_conf r1 3 100 0.1 $VIP)"
sleep 1
check "150 stays backup" lacks_vip 2 $VIP
check "100 stays backup" lacks_vip 1 $VIP
stop p200 KILL
expect "150 takes over from the dead 200" 3 has_vip 2 $VIP
sleep 1
check "100 never became master (its Skew_Time is longer)" \
    bash -c "! grep -q 'BACKUP -> MASTER' '$WORK/p100.log'"
check "100 follows the new master" lacks_vip 1 $VIP
stop p150 TERM
expect "100 takes over after 150's priority 0" 3 has_vip 1 $VIP
stop p100 TERM
ip -n "$(ns_of 3)" addr del $VIP dev eth0 2>/dev/null

log "== nopreempt"
start_vrrpd 1 np100 "$(vrrp_conf r1 3 100 0.1 $VIP)"
expect "100 alone becomes master" 5 has_vip 1 $VIP
start_vrrpd 3 np200 "$(vrrp_conf r3 3 200 0.1 $VIP nopreempt)"
sleep 2
check "nopreempt: 200 leaves the lower master alone" has_vip 1 $VIP
check "nopreempt: 200 stays backup" lacks_vip 3 $VIP
stop np100 KILL
expect "nopreempt: 200 takes over when the master dies" 3 has_vip 3 $VIP
stop np200 TERM
ip -n "$(ns_of 1)" addr del $VIP dev eth0 2>/dev/null

log "== preempt_delay"
start_vrrpd 1 pd100 "$(vrrp_conf r1 3 100 0.1 $VIP)"
expect "100 alone becomes master" 5 has_vip 1 $VIP
start_vrrpd 3 pd200 "$(vrrp_conf r3 3 200 0.1 $VIP 'preempt_delay 3')"
sleep 2
check "preempt_delay: no preemption within the delay" has_vip 1 $VIP
expect "preempt_delay: 200 preempts once the delay is over" 4 has_vip 3 $VIP
expect "preempt_delay: 100 yields" 3 lacks_vip 1 $VIP
stop pd200 TERM
stop pd100 TERM
finish
