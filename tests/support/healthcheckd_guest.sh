# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (not run) by the healthcheckd guest tests, tests/healthcheck/vm and
# tests/nft. The caller sets `healthcheckd` (the binary) and `work` (its
# scratch directory); start_healthcheckd sets `daemon_pid`.

# fail MESSAGE: says what failed, shows the daemon's log, ends the test.
fail() {
    echo "FAIL: $*" >&2
    echo "--- daemon log" >&2
    cat "$work/daemon.log" >&2 || true
    exit 1
}

# veth_netns NS HOST_DEV NS_DEV HOST_ADDR/LEN NS_ADDR/LEN: a new namespace
# joined to the guest by a veth pair; both ends and the namespace's lo up.
veth_netns() {
    local ns=$1 host_dev=$2 ns_dev=$3 host_addr=$4 ns_addr=$5
    ip netns add "$ns"
    ip link add "$host_dev" type veth peer name "$ns_dev" netns "$ns"
    ip addr add "$host_addr" dev "$host_dev"
    ip link set "$host_dev" up
    ip -n "$ns" addr add "$ns_addr" dev "$ns_dev"
    ip -n "$ns" link set "$ns_dev" up
    ip -n "$ns" link set lo up
}

# start_healthcheckd [LOG]: the daemon in the background on $work/ipvsctl.conf,
# control socket $work/hc.sock, stderr to LOG (default $work/daemon.log).
start_healthcheckd() {
    "$healthcheckd" -f "$work/ipvsctl.conf" --control-socket "$work/hc.sock" \
        2>"${1:-$work/daemon.log}" &
    daemon_pid=$!
}

# wait_until SECONDS COMMAND...: true as soon as COMMAND is, polled every
# half second; false when SECONDS pass first.
wait_until() {
    local limit=$1 i
    shift
    for i in $(seq 1 $((limit * 2))); do
        "$@" && return 0
        sleep 0.5
    done
    return 1
}
