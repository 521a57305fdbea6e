#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# healthcheckd against keepalived's checker (keepalived --check), side by
# side on one kernel (run inside the guest, see bench/README.md):
#   1. SERVERS real servers (100 per virtual server) checked every second,
#      once by TCP_CHECK and once by HTTP_GET: CPU seconds per minute (from
#      /proc/PID/stat, all processes of the daemon), resident memory, and the
#      lateness of checks (gap between two probes of one address minus the
#      1 s interval, measured by the responder for both daemons; healthcheckd
#      also reports its own lateness against its schedule in its metrics);
#   2. reload (SIGHUP) with 10% of RELOAD_SERVERS real servers replaced: time
#      from the signal until /proc/net/ip_vs holds the new table.
# The real servers are addresses of 10.200.0.0/15, answered by one
# bench_responder in a namespace (a local route covers the prefix).
# CPU is reported split into user and system time, and per probe (probes
# counted by the responder): the kernel's TCP work for both ends of a probe
# is charged to the probing process as system time.
# HC_SPLIT=1 puts the daemon on CPU 0 and the responder, with the receive
# processing of both veth ends (RPS), on CPU 1: then the daemon is charged
# for its own work (user time and system calls) and not for the softirq
# work of the server's end, which a real director never does; the whole
# machine's busy time in the window is reported beside it.
# HC_CHECKS (default "tcp http") may add http-reuse: HTTP_GET with
# reuse_connection (our extension; healthcheckd only, compared with
# keepalived's plain HTTP_GET).
# HC_ROUNDS=N (default 1) repeats each check N times per daemon, taking
# turns, and reports the median of the rounds' CPU ratios.
# RELOAD_SERVERS 0 skips the reload part. With HC_DRY_RUN=1 (on a host
# without IPVS) only healthcheckd runs, as `healthcheckd --dry-run` (an
# in-memory kernel model) in a namespace of its own; HC_PREFIX (default hv)
# starts every namespace and link name.
#   bench/healthcheck.sh BUILD_DIR [SERVERS] [WINDOW_S] [RELOAD_SERVERS] [RELOAD_TIMEOUT_S] [DELAY_LOOP_S]
# PARTS="checks reload" and DAEMONS="healthcheckd keepalived" (the
# defaults) choose what runs, e.g. PARTS=reload DAEMONS=healthcheckd.
set -euo pipefail
build=${1:?usage: healthcheck.sh BUILD_DIR [SERVERS] [WINDOW_S] [RELOAD_SERVERS] [RELOAD_TIMEOUT_S]}
build=$(cd "$build" && pwd)
servers=${2:-10000}
window=${3:-60}
reload_servers=${4:-37000}
reload_timeout=${5:-300}
delay_loop=${6:-1}
parts=${PARTS:-checks reload}
daemons=${DAEMONS:-healthcheckd keepalived}
[ "$(id -u)" = 0 ] || { echo "healthcheck.sh: needs root (run it in the guest)" >&2; exit 1; }
dry_run=${HC_DRY_RUN:-0}
prefix=${HC_PREFIX:-hv}
ns=${prefix}bench client_ns=${prefix}client
in_client=()  # how the daemon side runs: the root namespace, or its own with --dry-run
[ "$dry_run" = 1 ] && in_client=(ip netns exec "$client_ns")
work=$(mktemp -d /tmp/bench-healthcheck.XXXXXX)
# http-reuse: a kept connection per server, at both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
responder_pid= daemon_pid=
ticks=$(getconf CLK_TCK)

cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$responder_pid" ] && kill "$responder_pid" 2>/dev/null
    ip netns del "$ns"
    if [ "$dry_run" = 1 ]; then ip netns del "$client_ns"; else ipvsadm -C; fi
}
trap cleanup EXIT

ip netns add "$ns"
if [ "$dry_run" = 1 ]; then
    ip netns add "$client_ns"
    ip -n "$client_ns" link set lo up
    ip link add "${prefix}b0" netns "$client_ns" type veth peer name "${prefix}b1" netns "$ns"
else
    ip link add "${prefix}b0" type veth peer name "${prefix}b1" netns "$ns"
fi
"${in_client[@]}" ip addr add 198.18.40.1/30 dev "${prefix}b0"
"${in_client[@]}" ip link set "${prefix}b0" up
ip -n "$ns" addr add 198.18.40.2/30 dev "${prefix}b1"
ip -n "$ns" link set "${prefix}b1" up
ip -n "$ns" link set lo up
ip -n "$ns" route add local 10.200.0.0/15 dev lo
"${in_client[@]}" ip route add 10.200.0.0/15 via 198.18.40.2
ip netns exec "$ns" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
"${in_client[@]}" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
split=${HC_SPLIT:-0}
pin_daemon=() pin_responder=()
if [ "$split" = 1 ]; then
    [ "$(nproc)" -ge 2 ] || { echo "healthcheck.sh: HC_SPLIT=1 needs two CPUs" >&2; exit 1; }
    pin_daemon=(taskset -c 0) pin_responder=(taskset -c 1)
    # Receive Packet Steering: each veth end's receive path runs on CPU 1.
    "${in_client[@]}" sh -c "echo 2 > /sys/class/net/${prefix}b0/queues/rx-0/rps_cpus"
    ip netns exec "$ns" sh -c "echo 2 > /sys/class/net/${prefix}b1/queues/rx-0/rps_cpus"
fi
ip netns exec "$ns" ${pin_responder[@]+"${pin_responder[@]}"} "$build/bin/bench_responder" 80 $((delay_loop * 1000)) > "$work/responder.out" &
responder_pid=$!

# real_server_address INDEX [NET]: 10.NET.x.y, 250 hosts per /24.
address() { echo "10.${2:-200}.$(($1 / 250)).$(($1 % 250 + 1))"; }

# gen_config CHECK(tcp|http) COUNT DELAY_LOOP EXTRA_GLOBAL [REPLACED]: 100 real
# servers per virtual server; the first REPLACED servers come from 10.201/16.
gen_config() {
    local check=$1 count=$2 delay=$3 extra=$4 replaced=${5:-0}
    python3 - "$check" "$count" "$delay" "$extra" "$replaced" <<'PY'
import sys
check, count, delay, extra, replaced = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
out = ["global_defs {", "    router_id bench", extra, "}"]
if check == "tcp":
    body = "        TCP_CHECK {\n            connect_timeout 2\n        }"
else:
    reuse = "            reuse_connection\n" if check == "http-reuse" else ""
    body = ("        HTTP_GET {\n            url {\n                path /\n                status_code 200\n"
            f"            }}\n            connect_timeout 2\n{reuse}        }}")
for vs in range((count + 99) // 100):
    out.append(f"virtual_server 10.100.{vs // 250}.{vs % 250 + 1} 80 {{")
    out.append(f"    delay_loop {delay}\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP")
    for i in range(vs * 100, min(count, vs * 100 + 100)):
        net = 201 if i < replaced else 200
        out.append(f"    real_server 10.{net}.{i // 250}.{i % 250 + 1} 80 {{\n        weight 1\n{body}\n    }}")
    out.append("}")
print("\n".join(out))
PY
}

# "DESTINATIONS REPLACED" (from 10.201/16) from one read of the table: at
# 37,000 servers a read takes a noticeable time in the emulated guest.
table_counts() {
    awk '/^  -> [0-9A-F]/ {n++; if ($2 ~ /^0AC9/) r++} END {print n + 0, r + 0}' /proc/net/ip_vs
}
pids_of() { echo "$1" $(pgrep -P "$1" || true); }
cpu_ticks() {  # "USER SYSTEM" ticks summed over PIDS
    local user=0 system=0 pid
    for pid in "$@"; do
        read -r u s < <(awk '{print $14, $15}' "/proc/$pid/stat")
        user=$((user + u)) system=$((system + s))
    done
    echo "$user $system"
}
# User plus system ticks of the main thread of PID alone (its event loop;
# healthcheckd reads the kernel's table on another thread).
main_thread_ticks() {
    awk '{print $14 + $15}' "/proc/$1/task/$1/stat"
}
rss_kib() {
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")))
    done
    echo "$total"
}
now() { date +%s.%N; }
# "BUSY SOFTIRQ" ticks of the whole machine (every CPU) from /proc/stat.
machine_ticks() {
    awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $8}' /proc/stat
}

# start_daemon NAME CONFIG: runs healthcheckd or keepalived --check.
# start_daemon, stop_daemon, wait_for, destinations:
. "$(dirname "${BASH_SOURCE[0]}")/checker_daemons.sh"

metrics() { "${in_client[@]}" curl -s http://127.0.0.1:9464/metrics; }
# "LE COUNT ..." of healthcheckd_check_lateness_within_total, then the total.
lateness_within() {
    metrics | awk '/^healthcheckd_check_lateness_within_total\{le="/ {
            split($1, parts, "\""); printf "%s %s ", parts[2], $2 }
        /^healthcheckd_check_lateness_count / { all = $2 }
        END { printf "all %s\n", all }'
}
# "WORK MS ..." of healthcheckd_loop_stall_max_seconds: the longest time each
# kind of work held the event loop since start-up.
loop_stalls() {
    metrics | awk '/^healthcheckd_loop_stall_max_seconds\{work="/ {
            split($1, parts, "\""); printf "%s %.1f, ", parts[2], $2 * 1000 }' | sed 's/, $//'
}
# window_lateness BEFORE AFTER: the share of the window's probes started
# less than 20 ms late, and the smallest bound that 99% of them were under.
window_lateness() {
    awk -v before="$1" -v after="$2" 'BEGIN {
        n = split(before, b, " "); split(after, a, " ")
        total = a[n] - b[n]; if (total <= 0) { print "no probes"; exit }
        p99 = "> 1 s"
        for (i = 1; i < n - 1; i += 2) {
            got = a[i + 1] - b[i + 1]
            if (b[i] == "0.02") share = got / total
            if (got >= 0.99 * total && p99 == "> 1 s") p99 = "< " b[i] * 1000 " ms"
        }
        printf "p99 %s, %.2f%% under 20 ms (%d probes)", p99, share * 100, total }'
}

# settle_time_waits: waits (at most 75 s) until the daemons' namespace holds
# fewer than 1,000 connections in TIME_WAIT. keepalived closes its checks'
# connections with FIN, leaving tens of thousands of them for 60 s, and a
# daemon run right after would pay for them in every connect()'s port search.
settle_time_waits() {
    local waited=0 count
    while :; do
        count=$(${in_client[@]+"${in_client[@]}"} ss -Htan state time-wait | wc -l)
        [ "$count" -ge 1000 ] && [ "$waited" -lt 75 ] || break
        sleep 1
        waited=$((waited + 1))
    done
    [ "$waited" -eq 0 ] || echo "    waited ${waited} s for TIME_WAIT connections to expire ($count left)"
}

declare -A result
run_checks() {  # run_checks DAEMON CHECK
    local name=$1 check=$2 extra="" t0 t1 c0 c1 m0 m1 pids stats late rss main0 main1
    [ "$name" = healthcheckd ] && extra="    metrics_listen healthcheckd 127.0.0.1:9464"
    gen_config "$check" "$servers" "$delay_loop" "$extra" > "$work/$name-$check.conf"
    settle_time_waits
    t0=$(now)
    start_daemon "$name" "$work/$name-$check.conf"
    # A saturated daemon may never hold them all (failed probes): go on, say so.
    if [ "$dry_run" = 1 ]; then
        sleep 2  # no kernel table to watch
    else
        wait_for "$servers" 180 || echo "$name: only $(destinations) of $servers servers in the table after 180 s" >&2
    fi
    t1=$(now)
    local ready
    ready=$(echo "$t1 - $t0" | bc -l)
    # First round of checks done: a first check waits its spread over the
    # interval plus a random warmup (default one delay_loop), up to two
    # intervals in all. Sooner, the responder would time an address's
    # first check in the window against the previous daemon's last one
    # (seen as probe gaps of tens of seconds after another daemon's run).
    sleep $((2 * delay_loop + 10))
    pids=$(pids_of "$daemon_pid")
    local within0="" within1=""
    local stalls0=""
    [ "$name" = healthcheckd ] && within0=$(lateness_within) && stalls0=$(loop_stalls)
    # The responder's window (between two SIGUSR1) and the CPU window coincide.
    kill -USR1 "$responder_pid"
    c0=$(cpu_ticks $pids); m0=$(machine_ticks); t0=$(now); main0=$(main_thread_ticks "$daemon_pid")
    sleep "$window"
    kill -USR1 "$responder_pid"
    c1=$(cpu_ticks $pids); m1=$(machine_ticks); t1=$(now); main1=$(main_thread_ticks "$daemon_pid")
    # Before the scrape below: rendering the metrics of 10,000 servers leaves
    # healthcheckd's heap larger until its next trim (at most 30 s).
    rss=$(rss_kib $pids)
    [ "$name" = healthcheckd ] && within1=$(lateness_within)
    sleep 0.5
    stats=$(tail -n 1 "$work/responder.out")
    local cpu_min user_min sys_min p99 probes per_probe_us machine_min softirq_min
    read -r u0 s0 <<< "$c0"
    read -r u1 s1 <<< "$c1"
    user_min=$(echo "($u1 - $u0) / $ticks / ($t1 - $t0) * 60" | bc -l)
    sys_min=$(echo "($s1 - $s0) / $ticks / ($t1 - $t0) * 60" | bc -l)
    cpu_min=$(echo "$user_min + $sys_min" | bc -l)
    read -r mb0 ms0 <<< "$m0"
    read -r mb1 ms1 <<< "$m1"
    machine_min=$(echo "($mb1 - $mb0) / $ticks / ($t1 - $t0) * 60" | bc -l)
    softirq_min=$(echo "($ms1 - $ms0) / $ticks / ($t1 - $t0) * 60" | bc -l)
    p99=$(echo "$stats" | awk '{for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1)}')
    # Probes are SYNs (a half-open TCP_CHECK is never accepted) and requests
    # on kept connections after their first.
    probes=$(echo "$stats" | awk '{for (i = 1; i < NF; i++) if ($i == "syns" || $i == "reused") n += $(i + 1)} END {print n + 0}')
    per_probe_us=$(echo "(($u1 - $u0) + ($s1 - $s0)) / $ticks * 1000000 / ($probes + 1)" | bc -l)
    late=""
    if [ "$name" = healthcheckd ]; then
        late=$(metrics |
            awk '/^healthcheckd_check_lateness_seconds\{quantile="0.99"\}/ {printf "%.1f", $2 * 1000}')
        late=", own schedule p99 ${late} ms since start, in the window $(window_lateness "$within0" "$within1")"
        result[$name-$check-own]=$(window_lateness "$within0" "$within1")
        result[$name-$check-stalls]=$(loop_stalls)
    fi
    printf '%-12s %-4s %d servers every %d s: cpu %.1f s/min (user %.1f, sys %.1f), %.0f us/probe, %.0f probes/s, rss %d KiB, probe gap lateness p99 %s ms%s; ready after %.1f s\n' \
        "$name" "$check" "$servers" "$delay_loop" "$cpu_min" "$user_min" "$sys_min" "$per_probe_us" \
        "$(echo "$probes / ($t1 - $t0)" | bc -l)" "$rss" "$p99" "$late" "$ready"
    printf '    whole machine in the window: busy %.1f s/min (of it softirq %.1f), split %s\n' "$machine_min" "$softirq_min" "$split"
    echo "    responder: $stats"
    if [ "$name" = healthcheckd ]; then
        local main_min
        main_min=$(echo "($main1 - $main0) / $ticks / ($t1 - $t0) * 60" | bc -l)
        printf '    threads: main (the event loop) %.1f s/min, the others (table reads) and scripts %.1f\n' \
            "$main_min" "$(echo "$cpu_min - $main_min" | bc -l)"
    fi
    [ "$name" = healthcheckd ] && [ "$check" = tcp ] &&
        { grep -m1 '^<6>TCP_CHECK' "$work/$name.log" | sed 's/^<6>/    /' || true; }
    if [ "$name" = healthcheckd ]; then
        # Maxima since start-up: a kind whose maximum grew in the window stalled in it.
        echo "    longest loop stalls since start (ms), before the window: $stalls0"
        echo "    longest loop stalls since start (ms), after the window:  ${result[$name-$check-stalls]}"
    fi
    result[$name-$check-user]=$user_min
    result[$name-$check-probe]=$per_probe_us
    result[$name-$check-cpu]=$cpu_min
    result[$name-$check-machine]=$machine_min
    result[$name-$check-rss]=$rss
    result[$name-$check-p99]=$p99
    stop_daemon
}

run_reload() {  # run_reload DAEMON
    local name=$1 changed=$((reload_servers / 10)) t0 t1 converged=no
    gen_config tcp "$reload_servers" 300 "" > "$work/$name-reload.conf"
    cp "$work/$name-reload.conf" "$work/$name-reload-active.conf"
    t0=$(now)
    start_daemon "$name" "$work/$name-reload-active.conf"
    wait_for "$reload_servers" 1200 || { echo "$name never programmed $reload_servers servers" >&2; exit 1; }
    t1=$(now)
    printf '%-12s reload: %d servers programmed after %.1f s\n' "$name" "$reload_servers" "$(echo "$t1 - $t0" | bc -l)"
    sleep 15
    # What one poll of the table costs (it bounds the resolution of the result).
    local r0 r1
    r0=$(now); table_counts > /dev/null; r1=$(now)
    printf '%-12s reload: one read of the table (%d servers) takes %.3f s\n' "$name" "$reload_servers" "$(echo "$r1 - $r0" | bc -l)"
    gen_config tcp "$reload_servers" 300 "" "$changed" > "$work/$name-reload-active.conf"
    # A read of 37,000 rows takes about a second in the emulated guest, so
    # polling the table alone adds up to a read to the result. healthcheckd
    # logs "applied N operations" once the kernel acknowledged the reload's
    # batch: its time is taken from that line, seen through `tail -F`
    # (inotify; -s 0.01 bounds a fallback to polling) and `grep
    # --line-buffered` (bash's `read` takes a pipe one byte per system
    # call: thousands of operation lines would cost it seconds in the
    # emulated guest) into a FIFO read with bash's own `read -t 0.01` (no
    # process per poll; $EPOCHREALTIME for the times). It counts only if
    # the next read of the table shows the new table complete; otherwise
    # the table polling decides, as for keepalived.
    local acked= handled= acked_ok=no reads=0 tail_pid= logfd= line pending=
    if [ "$name" = healthcheckd ]; then
        local log_lines
        log_lines=$(wc -l < "$work/$name.log")
        rm -f "$work/reload.fifo"
        mkfifo "$work/reload.fifo"
        # $! is tail's: killed, it ends the grep with it.
        tail -n +$((log_lines + 1)) -s 0.01 -F "$work/$name.log" 2>/dev/null > >(
            grep --line-buffered -E '^<6>(reload: reading |applied [0-9]+ operations)' > "$work/reload.fifo") &
        tail_pid=$!
        exec {logfd}< "$work/reload.fifo"
    fi
    # From a settled daemon: the file's writing and tail's start done.
    sleep 1
    t0=$EPOCHREALTIME
    kill -HUP "$daemon_pid"
    local deadline=$(( ${t0%.*} + reload_timeout ))
    local counts
    while [ "${EPOCHREALTIME%.*}" -lt "$deadline" ]; do
        if [ -n "$logfd" ] && [ -z "$acked" ]; then
            if IFS= read -r -t 0.01 -u "$logfd" line; then
                line=$pending$line
                pending=
                case $line in
                    '<6>reload: reading '*) [ -n "$handled" ] || handled=$EPOCHREALTIME ;;
                    '<6>applied '[0-9]*' operations'*) acked=$EPOCHREALTIME ;;
                esac
            else
                pending=$pending$line  # a timeout keeps a partial line
            fi
            [ -n "$acked" ] || continue
        fi
        counts=$(table_counts)
        reads=$((reads + 1))
        if [ "$counts" = "$reload_servers $changed" ]; then
            converged=yes
            break
        fi
        sleep 0.1
    done
    t1=$EPOCHREALTIME
    if [ -n "$tail_pid" ]; then
        kill "$tail_pid" 2>/dev/null || true
        wait "$tail_pid" 2>/dev/null || true
        exec {logfd}<&-
        rm -f "$work/reload.fifo"
    fi
    # The acknowledgement counts when the first read after it was complete.
    [ -n "$acked" ] && [ "$converged" = yes ] && [ "$reads" = 1 ] && acked_ok=yes
    local took
    took=$(echo "$t1 - $t0" | bc -l)
    [ -z "$handled" ] ||
        printf '%-12s reload: the daemon logged "reload: reading" %.3f s after the signal\n' "$name" "$(echo "$handled - $t0" | bc -l)"
    if [ "$converged" = yes ]; then
        if [ "$acked_ok" = yes ]; then
            local by_read=$took
            took=$(echo "$acked - $t0" | bc -l)
            printf '%-12s reload: batch acknowledged after %.2f s, table read complete right after (%.2f s, at the end of that read)\n' "$name" "$took" "$by_read"
        fi
        printf '%-12s reload: %d of %d servers replaced, converged after %.2f s\n' "$name" "$changed" "$reload_servers" "$took"
        result[$name-reload]=$took
    else
        printf '%-12s reload: not converged after %d s (%s of %d new servers in)\n' "$name" "$reload_timeout" "${counts#* }" "$changed"
        result[$name-reload]=">$reload_timeout"
    fi
    # healthcheckd's own account of the reload (parse, plan, kernel batch).
    if [ "$name" = healthcheckd ]; then
        { grep -E '^<6>(reload|applied|start)' "$work/$name.log" || true; } | tail -n 5 | sed 's/^/    /'
    fi
    stop_daemon
}

echo "healthcheck bench: $servers servers every $delay_loop s, ${window} s windows, reload of $reload_servers; $(nproc) CPUs, $(uname -r)"
want() { [[ " $parts " == *" $1 "* ]] && [[ " $daemons " == *" $2 "* ]]; }
[ "$dry_run" = 1 ] && daemons=healthcheckd  # keepalived cannot run without IPVS
[ "$reload_servers" -gt 0 ] || parts=${parts//reload/}
# HC_ROUNDS=N runs each check N times per daemon, the daemons taking turns
# (odd rounds healthcheckd first, even rounds keepalived first), and reports
# every round's CPU ratio and their median: the emulated guest's speed
# drifts by tens of percent between runs of the same binary.
rounds=${HC_ROUNDS:-1}
declare -A round_cpu=() round_ratios=()
for check in ${HC_CHECKS:-tcp http}; do
    for ((round = 1; round <= rounds; round++)); do
        [ "$rounds" = 1 ] || echo "--- $check: round $round of $rounds"
        order="healthcheckd keepalived"
        [ $((round % 2)) = 1 ] || order="keepalived healthcheckd"
        for name in $order; do
            [ "$name-$check" = keepalived-http-reuse ] && continue  # not a keepalived keyword
            unset "result[$name-$check-cpu]"
            if want checks "$name"; then
                run_checks "$name" "$check"
                round_cpu[$name-$check]+=" $(printf '%.1f' "${result[$name-$check-cpu]}")"
            fi
        done
        [ -n "${result[healthcheckd-$check-cpu]:-}" ] && [ -n "${result[keepalived-$check-cpu]:-}" ] &&
            round_ratios[$check]+=" $(printf '%.2f' "$(echo "${result[healthcheckd-$check-cpu]} / ${result[keepalived-$check-cpu]}" | bc -l)")"
    done
done
[ "$dry_run" = 1 ] && exit 0
for name in healthcheckd keepalived; do
    if want reload "$name"; then run_reload "$name"; fi
done

echo "--- summary (healthcheckd / keepalived)"
# http-reuse is compared with keepalived's HTTP_GET, which opens a connection per check.
for check in ${HC_CHECKS:-tcp http}; do
    if [ "$check" = http-reuse ]; then
        for kind in cpu user probe rss p99 machine; do
            [ -z "${result[keepalived-http-$kind]:-}" ] || result[keepalived-http-reuse-$kind]=${result[keepalived-http-$kind]}
        done
    fi
done
for check in ${HC_CHECKS:-tcp http}; do
    [ -n "${result[healthcheckd-$check-cpu]:-}" ] && [ -n "${result[keepalived-$check-cpu]:-}" ] || continue
    printf '%-4s cpu %.1f / %.1f s/min (ratio %.2f, goal <= 0.33); user %.1f / %.1f s/min (ratio %.2f); per probe %.0f / %.0f us (ratio %.2f); rss %d / %d KiB; gap p99 %s / %s ms\n' "$check" \
        "${result[healthcheckd-$check-cpu]}" "${result[keepalived-$check-cpu]}" \
        "$(echo "${result[healthcheckd-$check-cpu]} / ${result[keepalived-$check-cpu]}" | bc -l)" \
        "${result[healthcheckd-$check-user]}" "${result[keepalived-$check-user]}" \
        "$(echo "${result[healthcheckd-$check-user]} / ${result[keepalived-$check-user]}" | bc -l)" \
        "${result[healthcheckd-$check-probe]}" "${result[keepalived-$check-probe]}" \
        "$(echo "${result[healthcheckd-$check-probe]} / ${result[keepalived-$check-probe]}" | bc -l)" \
        "${result[healthcheckd-$check-rss]}" "${result[keepalived-$check-rss]}" \
        "${result[healthcheckd-$check-p99]}" "${result[keepalived-$check-p99]}"
    printf '%-4s whole machine busy %.1f / %.1f s/min (ratio %.2f; HC_SPLIT=%s)\n' "$check" \
        "${result[healthcheckd-$check-machine]}" "${result[keepalived-$check-machine]}" \
        "$(echo "${result[healthcheckd-$check-machine]} / ${result[keepalived-$check-machine]}" | bc -l)" "$split"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
if [ "$rounds" != 1 ]; then
    for check in ${HC_CHECKS:-tcp http}; do
        [ -n "${round_ratios[$check]:-}" ] || continue
        echo "$check over $rounds rounds: cpu ratio median $(median <<< "${round_ratios[$check]}") (goal <= 0.33; rounds:${round_ratios[$check]}); healthcheckd s/min:${round_cpu[healthcheckd-$check]}, keepalived:${round_cpu[keepalived-$check]}"
    done
fi
for check in ${HC_CHECKS:-tcp http}; do
    [ -z "${result[healthcheckd-$check-own]:-}" ] ||
        echo "$check healthcheckd own lateness in the window: ${result[healthcheckd-$check-own]}; longest loop stalls (ms): ${result[healthcheckd-$check-stalls]}"
done
[[ " $parts " != *" reload "* ]] ||
    echo "reload 10% of $reload_servers: healthcheckd ${result[healthcheckd-reload]:-not run} s, keepalived ${result[keepalived-reload]:-not run} s (goal < 1 s)"
