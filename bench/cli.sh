#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ipvsctl against ipvsadm on one kernel (run inside the guest):
#   restore  SERVICES x DESTS with `-R` from the same file
#   save     `-S -n` of SAVE_SERVICES services
#   apply    a 1% change to SERVICES x DESTS: `ipvsctl apply` against
#            `ipvsadm -C` + `ipvsadm -R` of the changed table
# Every pair must leave identical tables (checked with sorted `ipvsadm -S -n`).
#   bench/cli.sh BUILD_DIR [SERVICES] [DESTS] [SAVE_SERVICES] [PARTS]
# PARTS: any of restore, apply, save (default all three). Restore and apply
# run each side in a fresh network namespace (IPVS state is per namespace).
# TRIALS (environment, default 1): restore and apply run that many times per
# side, alternating, each in fresh namespaces; the report gives each side's
# fastest and median time and the ratio of the fastest (the least disturbed
# by the host) and of the medians.
set -euo pipefail
build=${1:?usage: cli.sh BUILD_DIR [SERVICES] [DESTS] [SAVE_SERVICES] [PARTS]}
services=${2:-2000}
dests=${3:-4}
save_services=${4:-16000}
parts=${5:-restore apply save}
wants() { [[ " $parts " == *" $1 "* ]]; }
gen="$build/bin/bench_batch"
work=$(mktemp -d)
# ipvsctl runs from a copy on the guest's own root (tmpfs under the overlay),
# as ipvsadm runs from /usr/sbin, where the page cache keeps a binary between
# starts. The build tree is a 9p share mounted cache=mmap: every start of a
# binary there reads its pages over 9p again (0.10-0.11 s for `-v` against
# 0.05-0.06 s for the copy, guest, 2026-12-04), which no installed copy pays.
cp "$build/bin/ipvsctl" "$work/ipvsctl"
ipvsctl="$work/ipvsctl"
bench_namespaces="bench_cli_ref bench_cli_ours bench_cli_apply_ours bench_cli_apply_ref"
cleanup() {
    rm -rf "$work"
    ipvsadm -C
    for n in $bench_namespaces; do ip netns del "$n" 2> /dev/null || true; done
}
trap cleanup EXIT

# bash's own clock: a `date` process per reading would add its start-up (a
# large share of a second in the emulated guest) to every measurement.
now() { echo "$EPOCHREALTIME"; }
# timed VAR COMMAND...: runs COMMAND, stores its wall time in VAR.
timed() {
    local var=$1 t0 t1
    shift
    t0=$(now)
    "$@"
    t1=$(now)
    printf -v "$var" '%s' "$(echo "$t1 - $t0" | bc -l)"
}
# timed_in VAR NS COMMAND...: like timed, for COMMAND run in namespace NS;
# only COMMAND is timed, not `ip netns exec` (which remounts /sys: up to a
# second in the emulated guest, and the same for both tools).
timed_in() {
    local var=$1 ns=$2
    shift 2
    ip netns exec "$ns" bash -c 't0=$EPOCHREALTIME; "${@:2}"; rc=$?
        echo "$EPOCHREALTIME - $t0" > "$1"; exit $rc' _ "$work/elapsed" "$@"
    printf -v "$var" '%s' "$(bc -l < "$work/elapsed")"
}
same_tables() {
    if ! cmp -s "$1" "$2"; then
        echo "cli.sh: tables differ ($3)" >&2
        diff "$1" "$2" | head -20 >&2
        exit 1
    fi
}
report() {  # report WHAT REFERENCE_TIME OURS_TIME
    printf '%-44s ipvsadm %8.3f s   ipvsctl %8.3f s   ratio %6.1fx\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"
}
trials=${TRIALS:-1}
# fastest TIME... / median TIME...: of the given times.
fastest() { printf '%s\n' "$@" | sort -g | head -n 1; }
median() {
    local sorted
    mapfile -t sorted < <(printf '%s\n' "$@" | sort -g)
    local n=${#sorted[@]}
    if ((n % 2)); then echo "${sorted[n / 2]}"; else echo "(${sorted[n / 2 - 1]} + ${sorted[n / 2]}) / 2" | bc -l; fi
}
# report_trials WHAT: from the arrays ref_times and our_times.
report_trials() {
    if [ "$trials" -eq 1 ]; then
        report "$1" "${ref_times[0]}" "${our_times[0]}"
        return
    fi
    echo "$1: ipvsadm ${ref_times[*]} s; ipvsctl ${our_times[*]} s"
    report "$1, fastest of $trials" "$(fastest "${ref_times[@]}")" "$(fastest "${our_times[@]}")"
    report "$1, median of $trials" "$(median "${ref_times[@]}")" "$(median "${our_times[@]}")"
}

# fresh_netns NAME: a namespace where real-server addresses are unicast
# (the kernel refuses a NAT real server it cannot route to).
fresh_netns() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" link add bench0 type dummy
    ip -n "$1" link set bench0 up
    ip -n "$1" route add default dev bench0
}

# --- restore
# Each side restores into a network namespace of its own: IPVS keeps deleted
# real servers in a per-namespace "dest trash" that every later add searches,
# so in one shared namespace whichever tool ran second would pay for the
# first one's flush.
"$gen" gen "$services" "$dests" > "$work/table.restore"
ipvsadm -C
# Both programs start warm: `ipvsadm -C` has just brought ipvsadm and its
# libraries into the page cache; this does the same for ipvsctl, whose first
# start in the guest otherwise reads its binary over the 9p root file system
# (2.6 s of a 5.2 s restore 10000x4 on 2026-12-03, against none for ipvsadm).
"$ipvsctl" -v > /dev/null
if wants restore; then
ref_times=() our_times=()
for ((trial = 0; trial < trials; trial++)); do
    for n in bench_cli_ref bench_cli_ours; do ip netns del "$n" 2> /dev/null || true; done
    fresh_netns bench_cli_ref
    fresh_netns bench_cli_ours
    timed_in t_ref bench_cli_ref ipvsadm -R < "$work/table.restore"
    ip netns exec bench_cli_ref ipvsadm -S -n | sort > "$work/ref.save"
    timed_in t_ours bench_cli_ours "$ipvsctl" -R < "$work/table.restore"
    ip netns exec bench_cli_ours ipvsadm -S -n | sort > "$work/ours.save"
    same_tables "$work/ref.save" "$work/ours.save" restore
    ref_times+=("$t_ref") our_times+=("$t_ours")
    ip netns exec bench_cli_ref ipvsadm -C
    ip netns exec bench_cli_ours ipvsadm -C
done
report_trials "restore ${services}x${dests} (-R)"
fi

# --- apply a 1% change: weights of 1% of the services' real servers change,
# and 1% of the services are replaced by new ones.
if wants apply; then
"$ipvsctl" -R < "$work/table.restore"   # the starting table, read back below
"$ipvsctl" -S -n --json > "$work/current.json"
python3 - "$work/current.json" "$work/desired.json" "$work/desired.restore" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
services = doc["services"]
step = 100  # 1%
for i, svc in enumerate(services):
    if i % step == 0:
        for d in svc["destinations"]:
            d["weight"] = d["weight"] + 10
    elif i % step == 1:
        octets = svc["address"].split(".")
        svc["address"] = "10.255.%d.%d" % (i // 250 % 250, i % 250)
json.dump(doc, open(sys.argv[2], "w"))
with open(sys.argv[3], "w") as out:
    for svc in services:
        key = "-t %s:%d" % (svc["address"], svc["port"])
        out.write("-A %s -s %s\n" % (key, svc["scheduler"]))
        for d in svc["destinations"]:
            flag = {"masq": "-m", "route": "-g", "tunnel": "-i"}[d["forward"]]
            out.write("-a %s -r %s:%d %s -w %d\n" % (key, d["address"], d["port"], flag, d["weight"]))
PY
ipvsadm -C
ref_times=() our_times=() shared_times=()
for ((trial = 0; trial < trials; trial++)); do
    # Each side again starts from its own namespace holding the starting table,
    # so neither pays for the other's deleted real servers (see restore).
    for n in bench_cli_apply_ours bench_cli_apply_ref; do ip netns del "$n" 2> /dev/null || true; done
    fresh_netns bench_cli_apply_ours
    fresh_netns bench_cli_apply_ref
    ip netns exec bench_cli_apply_ours "$ipvsctl" -R < "$work/table.restore"
    ip netns exec bench_cli_apply_ref "$ipvsctl" -R < "$work/table.restore"
    timed_in t_ref bench_cli_apply_ref sh -c "ipvsadm -C && ipvsadm -R < '$work/desired.restore'"
    ip netns exec bench_cli_apply_ref ipvsadm -S -n | sort > "$work/ref.save"
    # ipvsctl twice. First beside the reference's 10,000 services in the
    # other namespace: ip_vs's module references then count more services
    # than this namespace's IPv4 ones, and apply reads the services dump.
    timed_in t_shared bench_cli_apply_ours "$ipvsctl" apply --prune -f "$work/desired.json" > "$work/apply.out"
    ip netns exec bench_cli_apply_ours ipvsadm -S -n | sort > "$work/ours.save"
    same_tables "$work/ref.save" "$work/ours.save" "apply beside another namespace"
    # Then alone on the host, as on a director with one IPVS namespace: the
    # references match the IPv4 services read and the dump is skipped.
    ip netns exec bench_cli_apply_ref ipvsadm -C
    ip netns exec bench_cli_apply_ours ipvsadm -C
    ip netns exec bench_cli_apply_ours "$ipvsctl" -R < "$work/table.restore"
    timed_in t_ours bench_cli_apply_ours "$ipvsctl" apply --prune -f "$work/desired.json" > "$work/apply.out"
    ip netns exec bench_cli_apply_ours ipvsadm -S -n | sort > "$work/ours.save"
    same_tables "$work/ref.save" "$work/ours.save" apply
    ip netns exec bench_cli_apply_ours ipvsadm -C
    ref_times+=("$t_ref") our_times+=("$t_ours") shared_times+=("$t_shared")
done
report_trials "apply 1% change to ${services}x${dests}"
our_times=("${shared_times[@]}")
report_trials "  same, other namespace loaded (dump)"
echo "  (ipvsctl apply sent $(grep -c . "$work/apply.out") operations)"
fi

# --- save
wants save || exit 0
ipvsadm -C
"$gen" gen "$save_services" 1 > "$work/save.restore"
"$ipvsctl" -R < "$work/save.restore"
timed t_ref sh -c "ipvsadm -S -n > '$work/ref.S'"
timed t_ours sh -c "'$ipvsctl' -S -n > '$work/ours.S'"
same_tables "$work/ref.S" "$work/ours.S" save
report "save ${save_services} services (-S -n)" "$t_ref" "$t_ours"
timed t_ref sh -c "ipvsadm -L -n > '$work/ref.L'"
timed t_ours sh -c "'$ipvsctl' -L -n > '$work/ours.L'"
same_tables "$work/ref.L" "$work/ours.L" list
report "list ${save_services} services (-L -n)" "$t_ref" "$t_ours"
