#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The e2e topology, inside the QEMU guest (real IPVS, one table per network
# namespace). Every name starts with "e2".
#
#   e2c  client 10.92.1.100..105 ---+                      outside segment (bridge e2out)
#   e2gw edge router 10.92.1.1 -----+---- e2lb1 10.92.1.11  VIP 10.92.1.10 (VRRP)
#                                   +---- e2lb2 10.92.1.12
#   e2gw 10.92.2.254 ---------------+---- e2lb1 10.92.2.11  inside VIP 10.92.2.1 (VRRP)
#                                   +---- e2lb2 10.92.2.12  inside segment (bridge e2in)
#   e2rs1..3 10.92.2.101..103 ------+
#
# Both directors run vrrpd and healthcheckd from one configuration file
# (-i lb1 / -i lb2). One VRRP instance carries both VIPs, so they move
# together. Real servers answer HTTP on port 80 with their name; for NAT their
# default route is the inside VIP, for DR/TUN the edge router (replies bypass
# the directors).
set -u

E2_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VRRPD=${VRRPD:?path to vrrpd}
HEALTHCHECKD=${HEALTHCHECKD:?path to healthcheckd}
IPVSCTL=${IPVSCTL:?path to ipvsctl}
WORK=${E2_WORK:-$(mktemp -d /tmp/e2.XXXXXX)}
mkdir -p "$WORK"
CONF=$WORK/ipvsctl.conf
VIP=10.92.1.10
INSIDE_VIP=10.92.2.1
RS_ADDRS=(10.92.2.101 10.92.2.102 10.92.2.103)
FAILURES=0
declare -A PID

# The configured timings every bound below is derived from.
ADVERT_INT=1           # vrrp advert_int (s)
DELAY_LOOP=1           # healthcheckd delay_loop (s)
CONNECT_TIMEOUT=1      # checker connect_timeout (s)
REQUEST_TIMEOUT=4      # the client's per-request timeout (s)
# Slack for the emulated guest (10-50x slower than hardware): bounds are
# multiplied by this.
SLOW=${E2_SLOW:-3}

log() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
# elapsed START: seconds since START, milliseconds precision.
elapsed() { python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$1"; }

check() {
    local what=$1; shift
    if "$@"; then log "  ok: $what"; else log "  FAIL: $what"; FAILURES=$((FAILURES + 1)); fi
}

# wait_for SECONDS COMMAND...: polls every 100 ms.
wait_for() {
    local limit=$1; shift
    local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

cleanup() {
    local name ns
    for name in "${!PID[@]}"; do kill -KILL "${PID[$name]}" 2>/dev/null; done
    for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null; done
    for ns in e2c e2gw e2lb1 e2lb2 e2rs1 e2rs2 e2rs3 e2sw; do ip netns del "$ns" 2>/dev/null; done
    if [ "$FAILURES" -ne 0 ] || [ -n "${E2_KEEP_LOGS:-}" ]; then
        for f in "$WORK"/*.log; do
            [ -f "$f" ] || continue
            echo "----- $f"; tail -n 30 "$f"
        done
    fi
}

finish() {
    if [ "$FAILURES" -ne 0 ]; then log "$FAILURES check(s) failed"; exit 1; fi
    log "all checks passed"; exit 0
}

# plug NS IFNAME BRIDGE ADDR/LEN: a veth from NS into a bridge of e2sw.
plug() {
    local ns=$1 ifname=$2 bridge=$3 addr=$4 peer="${1}-${2}"
    ip -n "$ns" link add "$ifname" type veth peer name "$peer" netns e2sw
    ip -n e2sw link set "$peer" master "$bridge" up
    ip -n "$ns" addr add "$addr" dev "$ifname"
    ip -n "$ns" link set "$ifname" up
}

make_topology() {
    local ns i
    modprobe ipip  # tunl0 in every namespace, for TUN real servers
    ip netns add e2sw
    for br in e2out e2in; do
        ip -n e2sw link add "$br" type bridge mcast_snooping 0 forward_delay 0
        ip -n e2sw link set "$br" up
    done
    for ns in e2c e2gw e2lb1 e2lb2 e2rs1 e2rs2 e2rs3; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    plug e2c eth0 e2out 10.92.1.100/24
    for i in 1 2 3 4 5; do ip -n e2c addr add "10.92.1.10$i/24" dev eth0; done
    plug e2gw eth0 e2out 10.92.1.1/24
    plug e2gw eth1 e2in 10.92.2.254/24
    # Replies of DR/TUN servers come in on eth1 with the VIP as source.
    ip netns exec e2gw sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
    for i in 1 2; do
        plug "e2lb$i" eth0 e2out "10.92.1.1$i/24"
        plug "e2lb$i" eth1 e2in "10.92.2.1$i/24"
        ip netns exec "e2lb$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
            net.ipv4.conf.default.rp_filter=0
        # A DR/TUN connection ends in FIN_WAIT on the director (it sees one
        # direction only) and keeps its forwarding method for 2 min; with
        # the default conn_reuse_mode 1 a client that reuses its port after
        # a live switch to NAT/FNAT is sent down the old path and never
        # answered. Bit 2 reschedules such a SYN (ipvs-sysctl.rst); modes.sh
        # checks it with reused ports.
        ip netns exec "e2lb$i" sysctl -qw net.ipv4.vs.conn_reuse_mode=3
    done
    for i in 1 2 3; do
        plug "e2rs$i" eth0 e2in "${RS_ADDRS[i - 1]}/24"
    done
}

# realserver_setup MODE NS: the real-server side of a forwarding mode. DR and
# TUN through `ipvsctl realserver setup` (VIP on lo or tunl0, ARP and
# rp_filter sysctls), with its state file per namespace; only the default
# route is ours: through the inside VIP for NAT, the edge router for DR/TUN
# (replies bypass the directors), none for FNAT (the director's source NAT
# makes replies come back to it on-link).
realserver_setup() {
    local mode=$1 ns=$2
    realserver_teardown "$ns"
    case $mode in
    # replace, never delete and add: a reconfigure under traffic must not
    # leave the servers without a route back for a moment.
    nat) ip -n "$ns" route replace default via "$INSIDE_VIP" ;;
    fnat) ip -n "$ns" route del default 2>/dev/null || true ;;
    dr | tun)
        ip -n "$ns" route replace default via 10.92.2.254
        "$IPVSCTL" realserver setup --mode "$mode" --vip "$VIP" --netns "$ns" \
            --state "$WORK/$ns.realserver.json" > "$WORK/$ns.realserver.log" 2>&1 || {
            log "ipvsctl realserver setup --mode $mode in $ns failed:"; cat "$WORK/$ns.realserver.log"; return 1
        }
        ;;
    *) log "realserver_setup: unknown mode $mode"; return 1 ;;
    esac
}

realserver_teardown() {
    local ns=$1
    if [ -f "$WORK/$ns.realserver.json" ]; then
        "$IPVSCTL" realserver teardown --netns "$ns" --state "$WORK/$ns.realserver.json" \
            >> "$WORK/$ns.realserver.log" 2>&1 || log "ipvsctl realserver teardown in $ns failed"
    fi
    return 0
}

# write_config MODE ALGO [WEIGHTS] [PERSISTENCE]: the shared configuration for both
# directors; WEIGHTS is "w1 w2 w3" (default 1 1 1). E2_GROUP=1: the service is
# a virtual_server_group of VIP:80 and VIP:8080 (one fwmark service through
# nftables) instead of VIP:80. E2_LVS_SYNC=1: the IPVS sync daemons follow
# the VRRP instance (lvs_sync_daemon on eth1).
write_config() {
    local mode=$1 algo=$2 weights=${3:-1 1 1} persistence=${4:-} i w
    local -a ws
    read -r -a ws <<<"$weights"
    {
        cat <<CONF
# e2e director pair: the same file on lb1 and lb2, picked by -i.
@lb1 \$PRIORITY=150
@lb2 \$PRIORITY=100
\$VIP=$VIP

global_defs {
    @lb1 router_id lb1
    @lb2 router_id lb2
CONF
        [ -n "${E2_LVS_SYNC:-}" ] && echo "    lvs_sync_daemon eth1 VI_E2 id 92"
        cat <<CONF
}

vrrp_instance VI_E2 {
    state BACKUP
    interface eth0
    virtual_router_id 92
    priority \$PRIORITY
    advert_int $ADVERT_INT
    virtual_ipaddress {
        \${VIP}/24 dev eth0
        $INSIDE_VIP/24 dev eth1
    }
    track_interface {
        eth1
    }
}

CONF
        if [ -n "${E2_GROUP:-}" ]; then
            printf 'virtual_server_group e2web {\n    ${VIP} 80\n    ${VIP} 8080\n}\n'
            echo "virtual_server group e2web {"
        else
            echo "virtual_server \${VIP} 80 {"
        fi
        cat <<CONF
    delay_loop $DELAY_LOOP
    lb_algo $algo
    lb_kind ${mode^^}
    protocol TCP
CONF
        [ -n "$persistence" ] && echo "    persistence_timeout $persistence"
        for i in 0 1 2; do
            w=${ws[i]}
            cat <<CONF
    real_server ${RS_ADDRS[i]} 80 {
        weight $w
        HTTP_GET {
            url {
                path /healthz
                status_code 200
            }
            connect_timeout $CONNECT_TIMEOUT
            retry 0
        }
    }
CONF
        done
        echo "}"
    } > "$CONF.new"
    mv "$CONF.new" "$CONF"
}

# start_server I: the HTTP server of real server I (1..3).
start_server() {
    ip netns exec "e2rs$1" python3 "$E2_DIR/rs_server.py" "rs$1" 80 >>"$WORK/rs$1.log" 2>&1 &
    PID[rs$1]=$!
}

server_answers() {
    ip netns exec "e2rs$1" python3 -c "import socket; socket.create_connection(('${RS_ADDRS[$1 - 1]}', 80), 1)"
}

stop_pid() {
    local name=$1 sig=$2 pid=${PID[$1]:-} i
    [ -n "$pid" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "PID[$name]"
}

start_vrrpd() {
    ip netns exec "e2lb$1" "$VRRPD" -i "lb$1" -f "$CONF" --control-socket "$WORK/vrrpd$1.sock" \
        >>"$WORK/vrrpd$1.log" 2>&1 &
    PID[vrrpd$1]=$!
}

start_healthcheckd() {
    ip netns exec "e2lb$1" "$HEALTHCHECKD" -i "lb$1" -f "$CONF" \
        --control-socket "$WORK/healthcheckd$1.sock" >>"$WORK/healthcheckd$1.log" 2>&1 &
    PID[healthcheckd$1]=$!
}

has_vip() { ip -n "e2lb$1" -o addr show dev eth0 | grep -q " $VIP/"; }
lacks_vip() { ! has_vip "$1"; }

# ipvs_rs_count LB: real servers with weight > 0 in director LB's table.
ipvs_rs_count() {
    ip netns exec "e2lb$1" "$IPVSCTL" -L -n | awk '$1 == "->" && $2 ~ /:80$/ && $4 > 0' | wc -l
}
table_has() { [ "$(ipvs_rs_count "$1")" -eq "$2" ]; }
# weights_are LB "W1 W2 W3": the weights of LB's real servers, in table order.
weights_are() {
    [ "$(ip netns exec "e2lb$1" "$IPVSCTL" -L -n | awk '$1 == "->" && $2 ~ /:80$/ {printf "%s ", $4}')" = "$2 " ]
}
# table_fwd LB FWD: every real server of LB's table uses FWD (Masq, Route, Tunnel).
table_fwd() {
    [ "$(ip netns exec "e2lb$1" "$IPVSCTL" -L -n | awk -v f="$2" '$1 == "->" && $2 ~ /:80$/ && $3 == f' | wc -l)" -eq 3 ]
}

# bring_up MODE ALGO [WEIGHTS] [PERSISTENCE]: servers, configuration, daemons;
# waits for lb1 to be master and both tables to hold three servers.
bring_up() {
    local i
    for i in 1 2 3; do realserver_setup "$1" "e2rs$i"; start_server "$i"; done
    write_config "$@"
    for i in 1 2 3; do wait_for 30 server_answers "$i" || { log "rs$i does not answer"; return 1; }; done
    for i in 1 2; do start_healthcheckd "$i"; done
    start_vrrpd 1
    wait_for $((10 * SLOW)) has_vip 1 || { log "lb1 never became master"; return 1; }
    start_vrrpd 2
    for i in 1 2; do
        wait_for $((10 * SLOW)) table_has "$i" 3 || {
            log "lb$i table incomplete:"; ip netns exec "e2lb$i" "$IPVSCTL" -L -n; return 1
        }
    done
}

# reconfigure MODE ALGO [WEIGHTS] [PERSISTENCE]: new mode/scheduler through a
# SIGHUP of both healthcheckd.
reconfigure() {
    local i mode=$1
    for i in 1 2 3; do realserver_setup "$mode" "e2rs$i"; done
    write_config "$@"
    for i in 1 2; do kill -HUP "${PID[healthcheckd$i]}"; done
}

# loadgen ARGS...: runs the request loop in the client namespace.
loadgen() { ip netns exec e2c python3 "$E2_DIR/loadgen.py" --url "http://$VIP/" "$@"; }

# json FILE EXPR: evaluates EXPR with j = the JSON object in FILE.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

# traffic_start NAME: a request loop in the background (bounded: 3000
# requests, 240 s); returns once it has answered a few requests.
traffic_start() {
    local name=$1
    rm -f "$WORK/$name.stop" "$WORK/$name.json" "$WORK/$name.jsonl"
    loadgen --count 3000 --duration 240 --interval 0.02 --timeout "$REQUEST_TIMEOUT" \
        --stop-file "$WORK/$name.stop" --log "$WORK/$name.jsonl" > "$WORK/$name.json" &
    PID[loadgen_$name]=$!
    wait_for 60 bash -c "[ \$(wc -l < '$WORK/$name.jsonl') -ge 10 ]"
}

# traffic_stop NAME: ends the loop after the requests in flight; waits for its
# summary. Keeps both directors' connection tables, where drill_report looks
# up the real server a failed request was sent to.
traffic_stop() {
    local i
    touch "$WORK/$1.stop"
    wait "${PID[loadgen_$1]}"
    unset "PID[loadgen_$1]"
    for i in 1 2; do
        ip netns exec "e2lb$i" "$IPVSCTL" -L -n -c > "$WORK/$1.conns$i" 2>&1 || true
    done
}

# drill_report NAME EVENT_EPOCH BOUND_S: prints requests sent, failed and the
# failure window; checks that failures happened only from the event to
# BOUND_S after it (BOUND_S 0: no failure at all). Each failed request is
# listed with its times, client port and the directors' entries for that port.
drill_report() {
    local name=$1 event=$2 bound=$3 verdict
    verdict=$(python3 - "$WORK/$name.json" "$event" "$bound" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
event, bound = float(sys.argv[2]), float(sys.argv[3])
sent, failed = j["sent"], j["failed"]
line = f"{sent} requests sent, {failed} failed"
after = 0
if failed:
    first, last = j["first_failure"] - event, j["last_failure"] - event
    after = sum(1 for r in map(json.loads, open(sys.argv[1] + "l")) if r["start"] > j["last_failure"])
    line += (f", failure window {j['failure_window']:.2f} s"
             f" (first failure at +{first:.2f} s, last ended at +{last:.2f} s after the event), errors {j['errors']},"
             f" then {after} requests without failure")
    ok = first >= -0.5 and last <= bound and bound > 0 and after >= 10
else:
    ok = sent > 0
line += f"; allowed: {'failures within ' + format(bound, '.1f') + ' s of the event' if bound > 0 else 'none'}"
print(("PASS " if ok else "FAIL ") + line)
tables = {}
for lb in (1, 2):
    try:
        tables[lb] = open(f"{sys.argv[1][:-len('.json')]}.conns{lb}").read().splitlines()
    except OSError:
        tables[lb] = []
for r in map(json.loads, open(sys.argv[1] + "l")):
    if r["ok"]:
        continue
    print(f"    failed: started +{r['start'] - event:.2f} s, took {r['end'] - r['start']:.2f} s,"
          f" client port {r.get('port')}: {r['what']}")
    for lb, conns in tables.items():
        for c in conns:
            if r.get("port") and f":{r['port']} " in c + " ":
                print(f"      lb{lb}: {' '.join(c.split())}")
PY
)
    log "  $name: $(head -n 1 <<< "${verdict#* }")"
    [ "$(wc -l <<< "$verdict")" -le 1 ] || log "$(tail -n +2 <<< "$verdict")"
    check "$name: failures only within the bound" [ "${verdict%% *}" = PASS ]
}
