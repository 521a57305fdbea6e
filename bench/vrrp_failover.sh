#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vrrpd vs keepalived in network namespaces on this host (root; no IPVS
# needed), same settings for both:
#   1. failover time: SIGKILL the master, time until the backup holds the
#      VIP (polling `ip addr` in the backup's namespace), TRIALS trials at
#      advert_int 1 s (VRRPv2) and 0.1 s (VRRPv3); median, p95, worst, ratio;
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
# FAILOVER_EXTRA adds options to vrrpd there (e.g. "--realtime 10").
HERE=$(cd "$(dirname "$0")" && pwd)
export VRRPD=${1:-$HERE/../build/bin/vrrpd}
TRIALS=${2:-30}
STRESS=${3:-20}
PARTS=${PARTS:-failover spurious memory}
part() { [[ " $PARTS " == *" $1 "* ]]; }
. "$HERE/../tests/vrrp/netns/lib.sh"
need_root
[ -x "$KEEPALIVED" ] || { echo "keepalived not found at $KEEPALIVED"; exit 1; }
make_lan 2
VIP=192.0.2.100

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

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
        start_keepalived "$2" "$3" "$(conf "$2" "$4" "$5")"
    fi
}

# kill_hard NAME: SIGKILL the daemon (and keepalived's VRRP child) at once.
kill_hard() {
    local pid child=""
    eval "pid=\$PID_$1"
    [ -f "$WORK/$1.vrrp.pid" ] && child=$(cat "$WORK/$1.vrrp.pid")
    kill -KILL "$pid" $child 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$WORK/$1.vrrp.pid" "$WORK/$1.pid" "$WORK/$1.chk.pid"
}

# wait_vip ROUTER LIMIT_MS: polls until ROUTER holds the VIP; prints the
# milliseconds since START_MS, or fails after LIMIT_MS.
wait_vip() {
    local ns; ns=$(ns_of "$1")
    local deadline=$(( START_MS + $2 ))
    while :; do
        if ip -n "$ns" -o addr show dev eth0 | grep -q " $VIP/"; then
            echo $(( $(ms_now) - START_MS )); return 0
        fi
        [ "$(ms_now)" -gt "$deadline" ] && return 1
    done
}

# stats FILE: "median p95 max n" of the numbers in FILE.
stats() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - - 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        p = v[int(0.95 * NR + 0.999999)]; if (p == "") p = v[NR]
        printf "%g %g %g %d\n", m, p, v[NR], NR }'
}

# failover DAEMON VERSION ADVERT SETTLE_S OUT: TRIALS kills, alternating roles.
failover() {
    local d=$1 v=$2 adv=$3 settle=$4 out=$5 limit_ms=$6
    local master=1 backup=2 t n=0 name
    : > "$out"
    launch "$d" 1 "${d}_a0" "$v" "$adv"
    eval "CUR_1=${d}_a0"
    wait_for 15 "first master" has_vip 1 "$VIP/24" || return 1
    launch "$d" 2 "${d}_b0" "$v" "$adv"
    eval "CUR_2=${d}_b0"
    sleep "$settle"
    for t in $(seq 1 "$TRIALS"); do
        eval "name=\$CUR_$master"
        START_MS=$(ms_now)
        kill_hard "$name"
        if ms=$(wait_vip "$backup" "$limit_ms"); then
            echo "$ms" >> "$out"; n=$((n + 1))
        else
            log "$d v$v: trial $t: no takeover within ${limit_ms} ms"
        fi
        # The killed router comes back as the new backup (equal priority:
        # it does not preempt).
        launch "$d" "$master" "${d}_${master}_$t" "$v" "$adv"
        eval "CUR_$master=${d}_${master}_$t"
        sleep "$settle"
        local swap=$master; master=$backup; backup=$swap
    done
    for r in 1 2; do eval "name=\$CUR_$r"; stop "$name" KILL; done
    ip -n "$(ns_of 1)" addr del "$VIP/24" dev eth0 2>/dev/null
    ip -n "$(ns_of 2)" addr del "$VIP/24" dev eth0 2>/dev/null
}

declare -A MED
part failover && echo "## failover after SIGKILL of the master ($TRIALS trials each, priority 100 on both)"
part failover && printf '%-10s %-18s %8s %8s %8s %4s %s\n' daemon setting median_ms p95_ms max_ms n master_down_interval
part failover && for setting in "2 1 1.5 8000 3609" "3 0.1 0.6 2000 360"; do
    set -- $setting
    [[ " ${FAILOVER_SETTINGS:-v2 v3} " == *" v$1 "* ]] || continue
    for d in ${FAILOVER_DAEMONS:-vrrpd keepalived}; do
        LAUNCH_EXTRA=${FAILOVER_EXTRA:-} failover "$d" "$1" "$2" "$3" "$WORK/fo_${d}_$1.txt" "$4"
        read -r med p95 max n < <(stats "$WORK/fo_${d}_$1.txt")
        MED[$d$1]=$med
        printf '%-10s %-18s %8s %8s %8s %4s %s ms\n' "$d" "v$1 advert $2 s" "$med" "$p95" "$max" "$n" "$5"
    done
    awk -v k="${MED[keepalived$1]}" -v v="${MED[vrrpd$1]}" -v ver="$1" \
        'BEGIN { if (v > 0) printf "ratio keepalived/vrrpd median (v%s): %.2f\n", ver, k / v }'
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
