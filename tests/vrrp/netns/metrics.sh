#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# metrics_listen vrrpd: scrape the Prometheus endpoint of a master and a
# backup and check the figures: state, priorities, adverts both ways,
# rejections by reason (a neighbour on another VRID), and agreement with
# the control-socket status.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 3
PORT=9651

metrics_conf() {
    local name=$1 prio=$2 vrid=${3:-51}
    vrrp_conf "$name" 3 "$prio" 0.1 192.0.2.100/24 | sed \
        -e "s/^    vrrp_version 3/    vrrp_version 3\n    metrics_listen vrrpd 127.0.0.1:$PORT/" \
        -e "s/virtual_router_id 51/virtual_router_id $vrid/"
}

scrape() { ip netns exec "$(ns_of "$1")" curl -s --max-time 3 "http://127.0.0.1:$PORT/metrics"; }
# metric ROUTER 'NAME{LABELS}': prints the value
metric() { scrape "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
metric_above() { local v; v=$(metric "$1" "$2"); [ -n "$v" ] && [ "${v%.*}" -gt "$3" ]; }

start_vrrpd 2 high "$(metrics_conf r2 200)"
expect "r2 (200) master" 5 has_vip 2 192.0.2.100/24
start_vrrpd 1 low "$(metrics_conf r1 100)"
expect "r1 backup" 3 log_has low "INIT -> BACKUP"
start_vrrpd 3 other "$(metrics_conf r3 100 52 | sed 's/192.0.2.100/192.0.2.200/')"
expect "r3 masters another VRID" 5 has_vip 3 192.0.2.200/24
check "the endpoint is announced" log_has high "metrics on http://127.0.0.1:$PORT/metrics"

check "content type and HELP/TYPE lines" bash -c \
    "ip netns exec $(ns_of 2) curl -s -i http://127.0.0.1:$PORT/metrics | grep -qi '^content-type: text/plain; version=0.0.4'"
scrape_has() { scrape "$1" | grep -qx -- "$2"; }
check "TYPE of the state family" scrape_has 2 '# TYPE vrrpd_instance_state gauge'
check "TYPE of a counter family" scrape_has 2 '# TYPE vrrpd_adverts_sent_total counter'
check "r2 state MASTER" metric_is 2 'vrrpd_instance_state{vrrp_instance="VI_1",state="MASTER"}' 1
check "r2 not BACKUP" metric_is 2 'vrrpd_instance_state{vrrp_instance="VI_1",state="BACKUP"}' 0
check "r1 state BACKUP" metric_is 1 'vrrpd_instance_state{vrrp_instance="VI_1",state="BACKUP"}' 1
check "r2 priority 200" metric_is 2 'vrrpd_instance_priority{vrrp_instance="VI_1"}' 200
check "r2 effective priority 200" metric_is 2 'vrrpd_instance_effective_priority{vrrp_instance="VI_1"}' 200
check "r1 priority 100" metric_is 1 'vrrpd_instance_priority{vrrp_instance="VI_1"}' 100
check "r2 one transition to MASTER" metric_is 2 'vrrpd_became_master_total{vrrp_instance="VI_1"}' 1
check "r2 transitions INIT->BACKUP->MASTER" metric_is 2 'vrrpd_transitions_total{vrrp_instance="VI_1"}' 2
expect "r2 sends adverts (10/s)" 3 metric_above 2 'vrrpd_adverts_sent_total{vrrp_instance="VI_1"}' 10
expect "r1 receives them" 3 metric_above 1 'vrrpd_adverts_received_total{vrrp_instance="VI_1"}' 10
check "r1 sends none" metric_is 1 'vrrpd_adverts_sent_total{vrrp_instance="VI_1"}' 0
expect "r1 counts r3's adverts as vrid_mismatch" 3 metric_above 1 'vrrpd_adverts_rejected_total{vrrp_instance="VI_1",reason="vrid_mismatch"}' 5
check "no checksum rejections" metric_is 1 'vrrpd_adverts_rejected_total{vrrp_instance="VI_1",reason="bad_checksum"}' 0

# Metrics and status agree (read status first: counters only grow).
S=$(status_field low "j['instances'][0]['counters']['adverts_received']")
M=$(metric 1 'vrrpd_adverts_received_total{vrrp_instance="VI_1"}')
check "metrics and status agree ($S <= $M <= $S+10)" test "$M" -ge "$S" -a "$M" -le $((S + 10))

log "== failover shows in the metrics"
stop high KILL
expect "r1 takes over" 3 has_vip 1 192.0.2.100/24
expect "r1 state MASTER in metrics" 3 metric_is 1 'vrrpd_instance_state{vrrp_instance="VI_1",state="MASTER"}' 1
check "r1 became master once" metric_is 1 'vrrpd_became_master_total{vrrp_instance="VI_1"}' 1
expect "r1 now sends adverts" 3 metric_above 1 'vrrpd_adverts_sent_total{vrrp_instance="VI_1"}' 3
check "anything but GET /metrics is refused" bash -c \
    "ip netns exec $(ns_of 1) curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/other | grep -qv 200"
stop low TERM
stop other TERM
finish
