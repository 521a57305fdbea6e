# SPDX-License-Identifier: GPL-2.0-or-later
# Starting, stopping and waiting for the two checker daemons, sourced by
# bench/healthcheck.sh and bench/detection.sh. Uses the caller's $build,
# $work and $daemon_pid, and optionally $dry_run (1: healthcheckd
# --dry-run, no IPVS) and the array in_client (a command prefix that runs
# the daemon in the client's namespace) and pin_daemon (a command prefix
# that pins it to a CPU).

# How many real servers the kernel's table holds.
destinations() { grep -c '^  -> [0-9A-F]' /proc/net/ip_vs || true; }

start_daemon() {
    if [ "$1" = healthcheckd ]; then
        local dry=()
        [ "${dry_run:-0}" = 1 ] && dry=(--dry-run)
        # HC_WRAP: a command to run the daemon under (e.g. heaptrack), for profiling.
        ${in_client[@]+"${in_client[@]}"} ${pin_daemon[@]+"${pin_daemon[@]}"} ${HC_WRAP:-} "$build/bin/healthcheckd" -f "$2" --control-socket "$work/hc.sock" "${dry[@]}" 2>"$work/$1.log" &
    else
        ${pin_daemon[@]+"${pin_daemon[@]}"} keepalived --check --dont-fork --log-console --use-file "$2" \
            --pid "$work/k.pid" --checkers_pid "$work/kc.pid" 2>"$work/$1.log" >&2 &
    fi
    daemon_pid=$!
}
stop_daemon() {
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || true
    daemon_pid=
    [ "${dry_run:-0}" = 1 ] || ipvsadm -C
}
# wait_for COUNT SECONDS: until the kernel holds COUNT destinations.
wait_for() {
    local deadline=$(( $(date +%s) + $2 ))
    while [ "$(destinations)" -lt "$1" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}
