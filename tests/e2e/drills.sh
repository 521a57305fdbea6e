#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# e2e, in the guest: failure drills on the director pair (NAT mode) under a
# steady request loop, each with counted outcomes:
#   a real server dies (process killed; then its interface goes down),
#   healthcheckd and vrrpd restart on the master (vrrpd gracefully: SIGUSR2,
#   VIPs kept, resumed as master at once), a rolling release (weight 0
#   through a configuration reload, restart, weight back), the master
#   director dies (SIGKILL of vrrpd, then its links go down), and, in DR
#   mode with the IPVS sync daemons bound to VRRP, an established TCP
#   connection survives the master's death.
# Needs VRRPD, HEALTHCHECKD, IPVSCTL in the environment; run as root.
# E2_DRILLS="rs-kill rs-linkdown ..." runs only those drills (names as logged).
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
make_topology

# Bounds derived from the configuration, with slack for the emulated guest;
# a request in flight at the end of the window may still time out.
DETECT_BOUND=$(( (DELAY_LOOP + CONNECT_TIMEOUT) * SLOW + REQUEST_TIMEOUT ))
FAILOVER_BOUND=$(( (3 * ADVERT_INT + 1) * SLOW + REQUEST_TIMEOUT ))

in_table() { ip netns exec "e2lb$1" "$IPVSCTL" -L -n | grep -q " $2:80 .* [1-9][0-9]* "; }
out_of_table() { ! in_table "$@"; }
vip_on_lb1_only() { has_vip 1 && lacks_vip 2; }

# server_death HOW: rs2 dies (HOW = kill | linkdown) under traffic, then comes back.
server_death() {
    local how=$1 t0 t1 takeovers
    log "== drill: a real server dies ($how)"
    takeovers=$(grep -c 'BACKUP -> MASTER' "$WORK/vrrpd2.log")
    traffic_start "rs-$how"
    t0=$(now)
    if [ "$how" = kill ]; then
        stop_pid rs2 KILL
    else
        ip -n e2rs2 link set eth0 down
    fi
    check "rs-$how: lb1 takes rs2 out" wait_for $((DETECT_BOUND * 3)) out_of_table 1 10.92.2.102
    log "  rs2 out of lb1's table $(elapsed "$t0") s after the event (delay_loop $DELAY_LOOP s, connect_timeout $CONNECT_TIMEOUT s)"
    check "rs-$how: lb2 takes rs2 out" wait_for $((DETECT_BOUND * 3)) out_of_table 2 10.92.2.102
    sleep 4  # traffic goes on: no failure once the server is out
    traffic_stop "rs-$how"
    # A VIP that moved to lb2 and back would explain a failure on rs1 or rs3.
    log "  lb2 took over $(($(grep -c 'BACKUP -> MASTER' "$WORK/vrrpd2.log") - takeovers)) times during the drill"
    drill_report "rs-$how" "$t0" "$DETECT_BOUND"
    if [ "$how" = kill ]; then
        start_server 2
    else
        ip -n e2rs2 link set eth0 up
        realserver_setup nat e2rs2
    fi
    t1=$(now)
    check "rs-$how: rs2 back in lb1's table" wait_for $((DETECT_BOUND * 3)) in_table 1 10.92.2.102
    log "  rs2 back $(elapsed "$t1") s after it recovered"
    check "rs-$how: rs2 back in lb2's table" wait_for $((DETECT_BOUND * 3)) in_table 2 10.92.2.102
}

# restart_under_traffic DAEMON: stop and start again on the master (lb1):
# healthcheckd by SIGTERM (the new one adopts the kernel table), vrrpd by
# SIGUSR2 (graceful restart: no priority 0, the VIPs stay, the new vrrpd
# resumes as master before lb2's master_down_interval runs out).
restart_under_traffic() {
    local daemon=$1 t0 takeovers
    log "== drill: restart $daemon on the master under traffic"
    takeovers=$(grep -c 'BACKUP -> MASTER' "$WORK/vrrpd2.log")
    traffic_start "restart-$daemon"
    t0=$(now)
    if [ "$daemon" = vrrpd ]; then stop_pid vrrpd1 USR2; else stop_pid "${daemon}1" TERM; fi
    "start_$daemon" 1
    if [ "$daemon" = vrrpd ]; then
        check "restart-vrrpd: lb1 resumed as master" wait_for 30 \
            grep -q 'INIT -> MASTER (resumed after a graceful restart)' "$WORK/vrrpd1.log"
        log "  $(grep -o 'graceful restart: predecessor was master .* ago' "$WORK/vrrpd1.log" | tail -n 1)"
    else
        check "restart-healthcheckd: ready again" wait_for 30 \
            bash -c "[ \$(grep -c 'healthcheckd ready' '$WORK/healthcheckd1.log') -ge 2 ]"
    fi
    log "  $daemon back in $(elapsed "$t0") s"
    sleep 5  # longer than lb2's master_down_interval
    traffic_stop "restart-$daemon"
    drill_report "restart-$daemon" "$t0" 0
    check "restart-$daemon: lb2 never took over" \
        [ "$(grep -c 'BACKUP -> MASTER' "$WORK/vrrpd2.log")" -eq "$takeovers" ]
    check "restart-$daemon: lb1 holds the VIP, lb2 does not" vip_on_lb1_only
    check "restart-$daemon: lb1 still has three servers" table_has 1 3
}

rolling_release() {
    local i t0 takeovers
    log "== drill: rolling release (weight 0 by reload, restart, weight back)"
    # A failed request is explained more easily knowing whether the VIP moved.
    takeovers=$(grep -c 'BACKUP -> MASTER' "$WORK/vrrpd2.log")
    traffic_start rolling
    t0=$(now)
    for i in 1 2 3; do
        local w=("1" "1" "1")
        w[i - 1]=0
        reconfigure nat rr "${w[*]}"
        check "rolling: rs$i drained on lb1" wait_for 30 weights_are 1 "${w[*]}"
        sleep 1
        stop_pid "rs$i" TERM
        start_server "$i"
        check "rolling: rs$i answers again" wait_for 30 server_answers "$i"
        reconfigure nat rr "1 1 1"
        check "rolling: rs$i back at weight 1" wait_for 30 weights_are 1 "1 1 1"
    done
    traffic_stop rolling
    log "  lb2 took over $(($(grep -c 'BACKUP -> MASTER' "$WORK/vrrpd2.log") - takeovers)) times during the release"
    drill_report rolling "$t0" 0
    check "rolling: every server answered during the release" \
        [ "$(json "$WORK/rolling.json" "len(j['servers'])")" -eq 3 ]
}

master_death() {
    local t0
    log "== drill: the master director dies (SIGKILL of its vrrpd, then its links go down)"
    traffic_start master
    t0=$(now)
    stop_pid vrrpd1 KILL
    check "master: lb2 takes the VIPs" wait_for $((FAILOVER_BOUND * 3)) has_vip 2
    log "  lb2 master $(elapsed "$t0") s after the SIGKILL (advert_int $ADVERT_INT s: master down after 3 x advert_int + skew)"
    ip -n e2lb1 link set eth0 down
    ip -n e2lb1 link set eth1 down
    sleep 5  # traffic goes on through lb2
    traffic_stop master
    drill_report master "$t0" "$FAILOVER_BOUND"
    check "master: lb2 has three servers" table_has 2 3
    log "  lb2 now:"; ip netns exec e2lb2 "$IPVSCTL" -L -n
}

# conn_sync: DR mode, lvs_sync_daemon bound to VI_E2. One keep-alive TCP
# connection through the VIP is synced to lb2's table; the master dies
# (SIGKILL of vrrpd, links down); the same connection goes on through lb2.
conn_sync() {
    local t0 t_vip port before after
    log "== drill: an established TCP connection survives the master's death (DR, lvs_sync_daemon)"
    ip -n e2lb1 link set eth0 up
    ip -n e2lb1 link set eth1 up
    E2_LVS_SYNC=1 reconfigure dr rr
    kill -HUP "${PID[vrrpd2]}"
    start_vrrpd 1  # after the new file is written: no SIGHUP before its handler
    check "sync: lb1 master again" wait_for $((FAILOVER_BOUND * 3)) has_vip 1
    check "sync: lb2 released the VIP" wait_for $((FAILOVER_BOUND * 3)) lacks_vip 2
    check "sync: lb1 forwards with Route" wait_for $((10 * SLOW)) table_fwd 1 Route
    check "sync: lb2 forwards with Route" wait_for $((10 * SLOW)) table_fwd 2 Route
    check "sync: lb1 runs the master sync daemon" wait_for 30 \
        bash -c "ip netns exec e2lb1 '$IPVSCTL' -L --daemon | grep -q 'master sync daemon'"
    check "sync: lb2 runs the backup sync daemon" wait_for 30 \
        bash -c "ip netns exec e2lb2 '$IPVSCTL' -L --daemon | grep -q 'backup sync daemon'"
    rm -f "$WORK/long.stop" "$WORK/long.progress"
    ip netns exec e2c python3 "$E2_DIR/longconn.py" --host "$VIP" --interval 0.2 --timeout 30 \
        --duration 200 --stop-file "$WORK/long.stop" --progress "$WORK/long.progress" \
        > "$WORK/long.json" 2> "$WORK/long.log" &
    PID[longconn]=$!
    check "sync: the long-lived connection exchanges data" wait_for 60 \
        bash -c "[ \$(cut -d' ' -f1 '$WORK/long.progress' 2>/dev/null || echo 0) -ge 10 ]"
    port=$(cut -d' ' -f2 "$WORK/long.progress")
    check "sync: lb2 (backup) holds the synced connection from port $port" wait_for 30 \
        bash -c "ip netns exec e2lb2 '$IPVSCTL' -L -n -c | grep -q ':$port '"
    ip netns exec e2lb2 "$IPVSCTL" -L -n -c | grep ":$port " | sed 's/^/    lb2: /'
    traffic_start sync
    before=$(cut -d' ' -f1 "$WORK/long.progress")
    t0=$(now)
    stop_pid vrrpd1 KILL
    ip -n e2lb1 link set eth0 down
    ip -n e2lb1 link set eth1 down
    check "sync: lb2 takes the VIPs" wait_for $((FAILOVER_BOUND * 3)) has_vip 2
    log "  lb2 master $(elapsed "$t0") s after the SIGKILL"
    t_vip=$(cut -d' ' -f1 "$WORK/long.progress")
    check "sync: the same connection goes on through lb2" wait_for $((FAILOVER_BOUND * 3)) \
        bash -c "[ \$(cut -d' ' -f1 '$WORK/long.progress') -ge $((t_vip + 10)) ]"
    after=$(cut -d' ' -f1 "$WORK/long.progress")
    traffic_stop sync
    touch "$WORK/long.stop"
    wait "${PID[longconn]}"
    unset "PID[longconn]"
    log "  long-lived connection (client port $port): $before exchanges before the SIGKILL, $((after - before)) after;" \
        "longest pause $(json "$WORK/long.json" "j['longest_gap']") s; ended by: $(json "$WORK/long.json" "j['error'] or 'the drill (no error)'")"
    check "sync: the connection was never broken" [ "$(json "$WORK/long.json" "j['error']")" = None ]
    check "sync: one connection, one real server" [ "$(json "$WORK/long.json" "len(j['servers'])")" -eq 1 ]
    check "sync: pause within the failover bound" \
        [ "$(json "$WORK/long.json" "j['longest_gap'] <= $FAILOVER_BOUND")" = True ]
    drill_report sync "$t0" "$FAILOVER_BOUND"
}

# wanted DRILL: DRILL is in E2_DRILLS (space-separated; unset: every drill).
wanted() { [ -z "${E2_DRILLS:-}" ] || [[ " $E2_DRILLS " == *" $1 "* ]]; }

log "== bringing up the pair (NAT) and three real servers"
bring_up nat rr || { FAILURES=$((FAILURES + 1)); finish; }
wanted rs-kill && server_death kill
wanted rs-linkdown && server_death linkdown
wanted restart-healthcheckd && restart_under_traffic healthcheckd
wanted restart-vrrpd && restart_under_traffic vrrpd
wanted rolling && rolling_release
wanted master && master_death
wanted sync && conn_sync
finish
