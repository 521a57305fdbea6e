#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# lvs_sync_daemon against real IPVS (run in the QEMU guest, where IPVS is
# per network namespace): two namespaces each run vrrpd bound to the kernel
# sync daemon; `ipvsadm -L --daemon` in each shows the master sync daemon
# where VRRP is MASTER and the backup one where it is BACKUP, through a
# SIGKILL failover, a preempting return and a clean stop.
#   tests/vrrp/vm/lvs_sync.sh [VRRPD]
HERE=$(cd "$(dirname "$0")" && pwd)
VRRPD=${1:-${VRRPD:-$HERE/../../../build/bin/vrrpd}}
export VRRPD
. "$HERE/../netns/lib.sh"
need_root
if [ -z "${VMRUN_GUEST:-}" ] && ! [ -d /proc/net/ip_vs ] && ! grep -q ip_vs /proc/modules 2>/dev/null; then
    echo "SKIP: needs IPVS (run through tests/vm/vmrun)"; exit 77
fi
make_lan 2

sync_conf() {
    local r=$1 prio=$2
    cat <<CONF
global_defs {
    router_id r$r
    vrrp_version 3
    lvs_sync_daemon eth0 VI_1 id 7
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
CONF
}

daemons() { ip netns exec "$(ns_of "$1")" ipvsadm -L --daemon 2>&1; }
# sync_is ROUTER ROLE: exactly that role's sync daemon runs (syncid 7).
sync_is() {
    local out; out=$(daemons "$1")
    case $2 in
        master) grep -q "^master sync daemon (mcast=eth0, syncid=7" <<<"$out" && ! grep -q "^backup" <<<"$out" ;;
        backup) grep -q "^backup sync daemon (mcast=eth0, syncid=7" <<<"$out" && ! grep -q "^master" <<<"$out" ;;
        none) [ -z "$out" ] ;;
    esac
}
show() { log "r1: $(daemons 1 | tr '\n' ';')  r2: $(daemons 2 | tr '\n' ';')"; }

check "no sync daemon before vrrpd" sync_is 1 none
start_vrrpd 1 high "$(sync_conf 1 200)"
expect "r1 (200) becomes master" 10 has_vip 1 192.0.2.100/24
expect "r1 runs the master sync daemon only" 10 sync_is 1 master
start_vrrpd 2 low "$(sync_conf 2 100)"
expect "r2 starts as backup" 10 log_has low "INIT -> BACKUP"
expect "r2 runs the backup sync daemon only" 10 sync_is 2 backup
show
check "status reports the master role" status_is high \
    '(j["lvs_sync_daemon"]["master"], j["lvs_sync_daemon"]["backup"])' "(True, False)"

log "== SIGKILL the master"
stop high KILL
expect "r2 takes over the VIP" 10 has_vip 2 192.0.2.100/24
expect "r2 switches to the master sync daemon" 10 sync_is 2 master
show

log "== r1 returns and preempts"
start_vrrpd 1 high2 "$(sync_conf 1 200)"
expect "r1 becomes master again" 15 has_vip 1 192.0.2.100/24
expect "r1 replaced its predecessor's daemon with the master one" 10 sync_is 1 master
expect "r2 back to the backup sync daemon" 10 sync_is 2 backup
check "r1 logged taking over the leftovers" log_has high2 "starting master sync daemon on eth0 (syncid 7)"
show

log "== SIGTERM stops the sync daemons"
stop high2 TERM
expect "r1 runs no sync daemon after SIGTERM" 10 sync_is 1 none
expect "r2 master again after priority 0" 10 sync_is 2 master
stop low TERM
expect "r2 runs no sync daemon after SIGTERM" 10 sync_is 2 none
finish
