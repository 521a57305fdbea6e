#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bulk programming, side by side on one kernel (run inside the guest):
# SERVICES x DESTS through libipvsctl's batch API and through `ipvsadm -R`.
# Prints both times and their ratio; fails if the two tables differ.
#   bench/batch.sh BUILD_DIR [SERVICES] [DESTS] [ROUNDS]
set -euo pipefail
build=${1:?usage: batch.sh BUILD_DIR [SERVICES] [DESTS] [ROUNDS]}
services=${2:-2000}
dests=${3:-4}
rounds=${4:-3}
bench="$build/bin/bench_batch"
work=$(mktemp -d)
trap 'rm -rf "$work"; ipvsadm -C' EXIT

"$bench" gen "$services" "$dests" > "$work/table.restore"
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

best_ipvsadm=""; best_ours=""
for round in $(seq "$rounds"); do
    ipvsadm -C
    t0=$(now); ipvsadm -R < "$work/table.restore"; t1=$(now)
    t_ipvsadm=$(elapsed "$t0" "$t1")
    ipvsadm -S -n | sort > "$work/ipvsadm.save"
    ipvsadm -C
    t0=$(now); "$bench" apply "$services" "$dests" 2>/dev/null; t1=$(now)
    t_ours=$(elapsed "$t0" "$t1")
    ipvsadm -S -n | sort > "$work/ours.save"
    if ! cmp -s "$work/ipvsadm.save" "$work/ours.save"; then
        echo "batch.sh: tables differ after round $round" >&2
        diff "$work/ipvsadm.save" "$work/ours.save" | head -20 >&2
        exit 1
    fi
    printf 'round %d: ipvsadm -R %.3f s, libipvsctl batch %.3f s\n' "$round" "$t_ipvsadm" "$t_ours"
    if [ -z "$best_ipvsadm" ] || [ "$(echo "$t_ipvsadm < $best_ipvsadm" | bc)" = 1 ]; then best_ipvsadm=$t_ipvsadm; fi
    if [ -z "$best_ours" ] || [ "$(echo "$t_ours < $best_ours" | bc)" = 1 ]; then best_ours=$t_ours; fi
done
lines=$(wc -l < "$work/table.restore")
printf 'bulk programming %dx%d (%d requests), best of %d: ipvsadm -R %.3f s, libipvsctl batch %.3f s, ratio %.1fx\n' \
    "$services" "$dests" "$lines" "$rounds" "$best_ipvsadm" "$best_ours" "$(echo "$best_ipvsadm / $best_ours" | bc -l)"
