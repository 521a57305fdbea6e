#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vrrpd vs keepalived in network namespaces on this host (root; no IPVS
# needed), same settings for both:
#   1. failover time: SIGKILL the master ($EPOCHREALTIME taken just before
#      the kill), time until the backup's first gratuitous ARP for the VIP
#      as captured on the bridge (dumpcap, kernel timestamps, one capture
#      per series, parsed afterwards with tshark); also from the master's
#      last advert before the kill to that ARP (the RFC's bound), and until
#      the VIP appears (`ip -ts monitor address` in the backup's namespace).
#      TRIALS trials at advert_int 1 s (VRRPv2) and 0.1 s (VRRPv3); median,
#      p95, worst, ratio;
#   2. spurious transitions of an idle pair with 10 ms adverts (v3) while
#      both cores are saturated by `yes` loops for STRESS seconds;
#   3. resident memory with 100 instances.
# Not part of CI. Usage (a few minutes):
#   bench/vrrp_failover.sh [VRRPD] [TRIALS] [STRESS_SECONDS]
# PARTS=spurious (or any of "failover spurious memory", space separated)
# runs only those parts; VRRPD_BEFORE=path adds a spurious run of an older
# vrrpd binary in the same conditions, for before/after comparisons.
# SPURIOUS_VARIANTS (default "vrrpd vrrpd_realtime keepalived") picks the
# spurious runs; FAILOVER_SETTINGS ("v2" "v3", default both) and
# FAILOVER_DAEMONS (default "vrrpd keepalived") the failover ones;
# FAILOVER_EXTRA adds options to vrrpd there (e.g. "--realtime 10") and
# KEEPALIVED_GLOBAL lines to keepalived's global_defs (e.g.
# "vrrp_rt_priority 10"). NETNS_PREFIX (default vr) starts every namespace
# name. FAILOVER_TRIALS_OUT=DIR keeps the per-trial tables and captures.
HERE=$(cd "$(dirname "$0")" && pwd)
export VRRPD=${1:-$HERE/../build/bin/vrrpd}
TRIALS=${2:-30}
STRESS=${3:-20}
PARTS=${PARTS:-failover spurious memory}
part() { [[ " $PARTS " == *" $1 "* ]]; }
. "$HERE/../tests/vrrp/netns/lib.sh"
need_root
TAG="${NETNS_PREFIX:-vr}$$"
BR="${TAG}br"
[ -x "$KEEPALIVED" ] || { echo "keepalived not found at $KEEPALIVED"; exit 1; }
make_lan 2
VIP=192.0.2.100

conf() {  # conf ROUTER VERSION ADVERT [EXTRA_GLOBAL]
    cat <<CONF
global_defs {
    router_id r$1
    vrrp_version $2
    ${4:-}
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int $3
    virtual_ipaddress {
        $VIP/24
    }
}
CONF
}

# launch DAEMON ROUTER NAME VERSION ADVERT
launch() {
    ip -n "$(ns_of "$2")" addr del "$VIP/24" dev eth0 2>/dev/null
    if [ "$1" = vrrpd ]; then
        VRRPD_EXTRA=${VRRPD_EXTRA:-${LAUNCH_EXTRA:-}} start_vrrpd "$2" "$3" "$(conf "$2" "$4" "$5")"
    else
        start_keepalived "$2" "$3" "$(conf "$2" "$4" "$5" "${LAUNCH_GLOBAL:-}")"
    fi
}

# kill_hard NAME: SIGKILL the daemon (and keepalived's VRRP child) at once;
# KILL_TS is the wall clock (same clock as the capture) just before.
kill_hard() {
    local pid child=""
    eval "pid=\$PID_$1"
    [ -f "$WORK/$1.vrrp.pid" ] && child=$(cat "$WORK/$1.vrrp.pid")
    KILL_TS=$EPOCHREALTIME
    kill -KILL "$pid" $child 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$WORK/$1.vrrp.pid" "$WORK/$1.pid" "$WORK/$1.chk.pid"
}

# start_capture TAG: dumpcap on the bridge (VRRP and ARP) and an address
# monitor in each router's namespace, for one series.
CAPTURE_PIDS=()
start_capture() {
    ip netns exec "$BR" dumpcap -q -i br0 -f "arp or ip proto 112" -w "$WORK/$1.pcapng" \
        2>"$WORK/$1.dumpcap.log" &
    CAPTURE_PIDS=($!)
    ip -n "$(ns_of 1)" -ts monitor address >"$WORK/$1.mon1" 2>&1 &
    CAPTURE_PIDS+=($!)
    ip -n "$(ns_of 2)" -ts monitor address >"$WORK/$1.mon2" 2>&1 &
    CAPTURE_PIDS+=($!)
    PIDS+=("${CAPTURE_PIDS[@]}")
    wait_for 10 "dumpcap started" grep -q "Capturing on" "$WORK/$1.dumpcap.log"
}
stop_capture() {
    sleep 0.3  # the last trial's packets reach the file
    kill -TERM "${CAPTURE_PIDS[@]}" 2>/dev/null
    wait "${CAPTURE_PIDS[@]}" 2>/dev/null
}

# analyse TAG ADVERT_MS: joins the kill times ($WORK/TAG.kills: trial
# master backup epoch) with the capture; prints one line per trial:
# trial kill_to_garp_ms advert_to_garp_ms kill_to_vip_ms advert_to_kill_ms
# (the last is negative when that advert was captured after the kill).
analyse() {
    tshark -r "$WORK/$1.pcapng" -T fields -E separator=' ' -E occurrence=f \
        -e frame.time_epoch -e ip.src -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 \
        -Y "vrrp || arp.src.proto_ipv4 == $VIP" >"$WORK/$1.frames" 2>/dev/null
    python3 - "$WORK/$1" "$VIP" <<'PY'
import sys, datetime
base, vip = sys.argv[1], sys.argv[2]
kills = [l.split() for l in open(base + ".kills")]
adverts, garps = {}, []
for line in open(base + ".frames"):
    f = line.split()
    if len(f) == 2:  # VRRP advert: time, source
        adverts.setdefault(f[1], []).append(float(f[0]))
    elif len(f) == 3 and f[1] == vip and f[2] == vip:  # gratuitous ARP
        garps.append(float(f[0]))
def vip_added(router):  # times the VIP appeared in ROUTER's namespace
    out = []
    for line in open(f"{base}.mon{router}"):
        if line.startswith("[") and f" inet {vip}/" in line and "Deleted" not in line:
            stamp = line[1:line.index("]")]
            out.append(datetime.datetime.fromisoformat(stamp).timestamp())
    return out
added = {r: vip_added(r) for r in ("1", "2")}
ms = lambda x: "-" if x is None else "%.1f" % (x * 1000)
for i, (trial, master, backup, kill) in enumerate(kills):
    k = float(kill)
    end = float(kills[i + 1][3]) if i + 1 < len(kills) else float("inf")
    g = next((t for t in sorted(garps) if k < t < end), None)
    v = next((t for t in sorted(added[backup]) if k < t < end), None)
    # An advert sent just before the kill can reach the bridge just after
    # it, so the master's last advert is its last one before the ARP.
    cut = k if g is None else g
    before = [t for t in adverts.get("192.0.2." + master, []) if t <= cut]
    a = max(before) if before else None
    print(trial, ms(None if g is None else g - k),
          ms(None if g is None or a is None else g - a),
          ms(None if v is None else v - k), ms(None if a is None else k - a))
PY
}

# stats FILE: "median p95 max n" of the numbers in FILE.
stats() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - - 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        p = v[int(0.95 * NR + 0.999999)]; if (p == "") p = v[NR]
        printf "%g %g %g %d\n", m, p, v[NR], NR }'
}

# failover DAEMON VERSION ADVERT SETTLE_S OUT LIMIT_S: TRIALS kills,
# alternating roles; OUT gets the per-trial table of analyse.
failover() {
    local d=$1 v=$2 adv=$3 settle=$4 out=$5 limit_s=$6
    local master=1 backup=2 t name tag=fo_${d}_$2
    : > "$WORK/$tag.kills"
    start_capture "$tag" || return 1
    launch "$d" 1 "${d}_a0" "$v" "$adv"
    eval "CUR_1=${d}_a0"
    wait_for 15 "first master" has_vip 1 "$VIP/24" || return 1
    launch "$d" 2 "${d}_b0" "$v" "$adv"
    eval "CUR_2=${d}_b0"
    sleep "$settle"
    for t in $(seq 1 "$TRIALS"); do
        eval "name=\$CUR_$master"
        kill_hard "$name"
        echo "$t $master $backup $KILL_TS" >> "$WORK/$tag.kills"
        # Polled only to pace the trials; the times come from the capture.
        wait_for "$limit_s" "takeover in trial $t" has_vip "$backup" "$VIP/24" ||
            log "$d v$v: trial $t: no takeover within ${limit_s} s"
        # The killed router comes back as the new backup (equal priority:
        # it does not preempt).
        launch "$d" "$master" "${d}_${master}_$t" "$v" "$adv"
        eval "CUR_$master=${d}_${master}_$t"
        sleep "$settle"
        local swap=$master; master=$backup; backup=$swap
    done
    stop_capture
    for r in 1 2; do eval "name=\$CUR_$r"; stop "$name" KILL; done
    ip -n "$(ns_of 1)" addr del "$VIP/24" dev eth0 2>/dev/null
    ip -n "$(ns_of 2)" addr del "$VIP/24" dev eth0 2>/dev/null
    analyse "$tag" > "$out"
    if [ -n "${FAILOVER_TRIALS_OUT:-}" ]; then
        mkdir -p "$FAILOVER_TRIALS_OUT"
        cp "$out" "$WORK/$tag".{pcapng,kills,mon1,mon2} "$FAILOVER_TRIALS_OUT/"
    fi
}

# column FILE N: the Nth column of FILE without missing values.
column() { awk -v n="$2" '$n != "-" { print $n }' "$1"; }

declare -A MED
if part failover; then
    echo "## failover after SIGKILL of the master ($TRIALS trials each, priority 100 on both)"
    echo "# kill->GARP: SIGKILL to the backup's first gratuitous ARP on the wire;"
    echo "# advert->GARP: the master's last advert before the kill to that ARP"
    echo "# (goal: worst within Master_Down_Interval + 20 ms); kill->VIP: until"
    echo "# the address appears in the backup's namespace (ip monitor)."
    printf '%-10s %-16s %-22s %-22s %-16s %4s %s\n' daemon setting \
        "kill->GARP med/p95/max" "advert->GARP med/max" "kill->VIP med/max" n "MDI, goal"
fi
part failover && for setting in "2 1 1.5 9 3609" "3 0.1 0.6 3 360"; do
    set -- $setting
    [[ " ${FAILOVER_SETTINGS:-v2 v3} " == *" v$1 "* ]] || continue
    for d in ${FAILOVER_DAEMONS:-vrrpd keepalived}; do
        table=$WORK/fo_${d}_$1.txt
        LAUNCH_EXTRA=${FAILOVER_EXTRA:-} LAUNCH_GLOBAL=${KEEPALIVED_GLOBAL:-} \
            failover "$d" "$1" "$2" "$3" "$table" "$4"
        sed "s/^/# $d v$1 trial /" "$table"
        read -r med p95 max n < <(stats <(column "$table" 2))
        read -r amed _ amax _ < <(stats <(column "$table" 3))
        read -r vmed _ vmax _ < <(stats <(column "$table" 4))
        MED[$d$1]=$med
        # A master silent for longer than Master_Down_Interval before the
        # kill had already lost its role: such trials measure no failover.
        silent=$(awk -v m="$5" '$5 != "-" && $5 > m { n++ } END { print n + 0 }' "$table")
        [ "$silent" -gt 0 ] && log "$d v$1: in $silent trial(s) the master had sent no advert for over $5 ms before the kill"
        goal=$(awk -v m="$amax" -v g="$(($5 + 20))" 'BEGIN { print (m != "-" && m <= g) ? "met" : "missed" }')
        printf '%-10s %-16s %-22s %-22s %-16s %4s %s\n' "$d" "v$1 advert $2 s" \
            "$med/$p95/$max" "$amed/$amax" "$vmed/$vmax" "$n" "$5 ms, $goal (<= $(($5 + 20)))"
    done
    awk -v k="${MED[keepalived$1]:-0}" -v v="${MED[vrrpd$1]:-0}" -v ver="$1" \
        'BEGIN { if (v > 0 && k > 0) printf "ratio keepalived/vrrpd median kill->GARP (v%s): %.2f\n", ver, k / v }'
done

part spurious && echo "## spurious transitions, idle pair, v3 advert 10 ms, both cores busy for ${STRESS} s"
spurious() {  # spurious DAEMON LABEL [VRRPD_EXTRA]
    local d=$1 label=$2 a b before after averted pids=() i
    VRRPD_EXTRA=${3:-} launch "$d" 1 "${label}_s1" 3 0.01
    wait_for 10 "master" has_vip 1 "$VIP/24" || return 1
    VRRPD_EXTRA=${3:-} launch "$d" 2 "${label}_s2" 3 0.01
    sleep 2
    pattern='(BACKUP|MASTER|FAULT) -> |Entering (MASTER|BACKUP|FAULT) STATE'
    before=$(cat "$WORK/${label}_s1.log" "$WORK/${label}_s2.log" | grep -cE "$pattern")
    for i in 1 2 3 4; do timeout "$STRESS" yes > /dev/null & pids+=($!); done
    wait "${pids[@]}"
    sleep 1
    after=$(cat "$WORK/${label}_s1.log" "$WORK/${label}_s2.log" | grep -cE "$pattern")
    # vrrpd -v logs each master-down expiry the late-timer guard cancelled.
    averted=$(cat "$WORK/${label}_s1.log" "$WORK/${label}_s2.log" | grep -c "no takeover")
    printf '%-22s transitions during stress: %d (late expiries averted: %d)\n' "$label" \
        $((after - before)) "$averted"
    stop "${label}_s1" KILL; stop "${label}_s2" KILL
    ip -n "$(ns_of 1)" addr del "$VIP/24" dev eth0 2>/dev/null
    ip -n "$(ns_of 2)" addr del "$VIP/24" dev eth0 2>/dev/null
}
if part spurious; then
    if [ -n "${VRRPD_BEFORE:-}" ]; then
        AFTER=$VRRPD VRRPD=$VRRPD_BEFORE
        spurious vrrpd vrrpd_before
        spurious vrrpd vrrpd_before_realtime "--realtime 10"
        VRRPD=$AFTER
    fi
    variants=" ${SPURIOUS_VARIANTS:-vrrpd vrrpd_realtime keepalived} "
    [[ $variants == *" vrrpd "* ]] && spurious vrrpd vrrpd
    [[ $variants == *" vrrpd_realtime "* ]] && spurious vrrpd vrrpd_realtime "--realtime 10"
    [[ $variants == *" keepalived "* ]] && spurious keepalived keepalived
fi

part memory || { finish; exit; }
echo "## resident memory with 100 instances (v3, advert 1 s, one router)"
hundred() {
    echo "global_defs {
    router_id r1
    vrrp_version 3
}"
    for i in $(seq 1 100); do
        echo "vrrp_instance VI_$i {
    state BACKUP
    interface eth0
    virtual_router_id $i
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.1.$i.1/32
    }
}"
    done
}
rss_kb() { awk '/^VmRSS/ { s += $2 } END { print s }' "$@" 2>/dev/null; }
start_vrrpd 1 rss_v "$(hundred)"
start_keepalived 2 rss_k "$(hundred)"
sleep 6
RV=$(rss_kb /proc/"$PID_rss_v"/status)
KP="/proc/$PID_rss_k/status"
[ -f "$WORK/rss_k.vrrp.pid" ] && KP="$KP /proc/$(cat "$WORK/rss_k.vrrp.pid")/status"
# shellcheck disable=SC2086
RK=$(rss_kb $KP)
echo "vrrpd: ${RV} kB (one process); keepalived: ${RK} kB (parent + VRRP child)"
check "vrrpd ran 100 instances" bash -c "[ \$(grep -c 'INIT -> BACKUP' '$WORK/rss_v.log') -eq 100 ]"
stop rss_v KILL; kill_hard rss_k
finish
