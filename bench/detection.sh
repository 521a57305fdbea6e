#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Failure-detection latency of healthcheckd against keepalived's checker
# (keepalived --check), side by side on one kernel (run inside the guest as
# root, see bench/README.md): SERVERS real servers under TCP_CHECK (100 per
# virtual server, answered by one bench_responder in a namespace, as in
# bench/healthcheck.sh); once all are in /proc/net/ip_vs and a round of checks
# has run, FAILURES of them (spread over the list) fail at one instant t0 by an
# nftables table in the responder's namespace, in two kinds:
#   refused: `tcp reset` for their SYNs: a connect fails at once;
#   silent:  their SYNs are dropped: a connect fails by connect_timeout.
# /proc/net/ip_vs is then read every 50 ms; a failed server's latency is from
# t0 (when nft, whose batch makes them fail, returns) to the first read
# without its line (taken after the read), so it overstates by up to a
# read's time plus 50 ms.
# The bound, from keepalived's semantics (a check every delay_loop once the
# previous one ended; after a failed check `retry` more, each
# delay_before_retry after the previous one ended; each connect bounded by
# connect_timeout; down after retry+1 failures in a row):
#   silent:  delay_loop + connect_timeout + retry*(delay_before_retry + connect_timeout)
#   refused: delay_loop + retry*delay_before_retry
# (the worst case is a failure right after a passed check). healthcheckd
# counts delay_before_retry from when the previous check was due, not when it
# ended (healthcheckd(8)), so for it the same bound holds with room to spare.
#   bench/detection.sh BUILD_DIR [SERVERS] [FAILURES] [DELAY_LOOP] [RETRY] [DELAY_BEFORE_RETRY] [CONNECT_TIMEOUT]
# DAEMONS="healthcheckd keepalived" and KINDS="refused silent" (the defaults)
# choose what runs; REPEAT (default 1) runs them all that many rounds (each
# with a fresh daemon) and pools the latencies; DT_LOGS=DIR keeps the daemons'
# logs there; DT_PREFIX (default dt) starts every namespace and link name.
set -euo pipefail
build=${1:?usage: detection.sh BUILD_DIR [SERVERS] [FAILURES] [DELAY_LOOP] [RETRY] [DELAY_BEFORE_RETRY] [CONNECT_TIMEOUT]}
build=$(cd "$build" && pwd)
servers=${2:-200}
failures=${3:-20}
delay_loop=${4:-2}
retry=${5:-1}
delay_before_retry=${6:-1}
connect_timeout=${7:-1}
daemons=${DAEMONS:-healthcheckd keepalived}
kinds=${KINDS:-refused silent}
repeat=${REPEAT:-1}
[ "$(id -u)" = 0 ] || { echo "detection.sh: needs root (run it in the guest)" >&2; exit 1; }
[ -r /proc/net/ip_vs ] || { echo "detection.sh: no /proc/net/ip_vs (run it in the guest)" >&2; exit 1; }
[ "$failures" -ge 1 ] && [ "$failures" -le "$servers" ] ||
    { echo "detection.sh: FAILURES must be 1..SERVERS ($failures of $servers)" >&2; exit 1; }
prefix=${DT_PREFIX:-dt}
ns=${prefix}bench
work=$(mktemp -d /tmp/bench-detection.XXXXXX)
responder_pid= daemon_pid=

cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$responder_pid" ] && kill "$responder_pid" 2>/dev/null
    ip netns del "$ns"
    ipvsadm -C
}
trap cleanup EXIT

ip netns add "$ns"
ip link add "${prefix}b0" type veth peer name "${prefix}b1" netns "$ns"
ip addr add 198.18.41.1/30 dev "${prefix}b0"
ip link set "${prefix}b0" up
ip -n "$ns" addr add 198.18.41.2/30 dev "${prefix}b1"
ip -n "$ns" link set "${prefix}b1" up
ip -n "$ns" link set lo up
ip -n "$ns" route add local 10.200.0.0/15 dev lo
ip route add 10.200.0.0/15 via 198.18.41.2
# Load nf_tables and the modules of the failure's rules (set, reject) now:
# the first table otherwise takes 1-2 s (module loading in the emulated guest).
ip netns exec "$ns" nft -f - <<'NFT'
table ip dtfail {
  set failed { type ipv4_addr; elements = { 10.201.255.1 } }
  chain input { type filter hook input priority 0; policy accept;
    ip daddr @failed tcp dport 80 reject with tcp reset
    ip daddr @failed tcp dport 80 drop
  }
}
NFT
ip netns exec "$ns" nft delete table ip dtfail
ip netns exec "$ns" "$build/bin/bench_responder" 80 $((delay_loop * 1000)) > "$work/responder.out" &
responder_pid=$!

address() { echo "10.200.$(($1 / 250)).$(($1 % 250 + 1))"; }
# The failed servers: FAILURES indices spread evenly over 0..SERVERS-1.
failed=()
for ((k = 0; k < failures; k++)); do failed+=("$(address $((k * servers / failures)))"); done

gen_config() {
    python3 - "$servers" "$delay_loop" "$retry" "$delay_before_retry" "$connect_timeout" <<'PY'
import sys
count, delay, retry, dbr, ct = int(sys.argv[1]), *sys.argv[2:]
out = ["global_defs {", "    router_id bench", "}"]
body = (f"        TCP_CHECK {{\n            connect_timeout {ct}\n            retry {retry}\n"
        f"            delay_before_retry {dbr}\n        }}")
for vs in range((count + 99) // 100):
    out.append(f"virtual_server 10.100.{vs // 250}.{vs % 250 + 1} 80 {{")
    out.append(f"    delay_loop {delay}\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP")
    for i in range(vs * 100, min(count, vs * 100 + 100)):
        out.append(f"    real_server 10.200.{i // 250}.{i % 250 + 1} 80 {{\n        weight 1\n{body}\n    }}")
    out.append("}")
print("\n".join(out))
PY
}

# start_daemon, stop_daemon, wait_for, destinations (as bench/healthcheck.sh):
. "$(dirname "${BASH_SOURCE[0]}")/checker_daemons.sh"

bound_of() {  # bound_of KIND: seconds
    if [ "$1" = silent ]; then
        echo "$delay_loop + $connect_timeout + $retry * ($delay_before_retry + $connect_timeout)" | bc -l
    else
        echo "$delay_loop + $retry * $delay_before_retry" | bc -l
    fi
}

# measure KIND BOUND: makes the failed servers fail, polls the table, prints
# one latency in seconds per failed server ("never" if still there after
# 3 * BOUND + 10 s), then a line "# nft took S".
measure() {
    python3 - "$1" "$2" "$ns" "${failed[@]}" <<'PY'
import socket, subprocess, sys, time
kind, bound, ns, addrs = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
key = {"%08X:0050" % int.from_bytes(socket.inet_aton(a), "big"): a for a in addrs}
verdict = "reject with tcp reset" if kind == "refused" else "drop"
rules = ("table ip dtfail {\n  set failed { type ipv4_addr; elements = { %s } }\n"
         "  chain input { type filter hook input priority 0; policy accept;\n"
         "    ip daddr @failed tcp dport 80 %s\n  }\n}\n") % (", ".join(addrs), verdict)
def present():
    with open("/proc/net/ip_vs") as f:
        return {line.split()[1] for line in f if line.startswith("  -> ")}
missing = [k for k in key if k not in present()]
if missing:
    sys.exit("detection.sh: not in the table before the failure: " + " ".join(key[k] for k in missing))
# t0 is when nft returns: its batch is committed (the servers fail) just
# before it exits; the time nft took is reported.
t_start = time.monotonic()
subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules.encode(), check=True)
t0 = time.monotonic()
t_nft = t0 - t_start
gone = {}
deadline = t0 + 3 * bound + 10
while len(gone) < len(key) and time.monotonic() < deadline:
    now_present = present()
    t = time.monotonic()
    for k in key:
        if k not in gone and k not in now_present:
            gone[k] = t - t0
    time.sleep(0.05)
for k in key:
    print("%.3f" % gone[k] if k in gone else "never")
print("# nft took %.3f" % t_nft)
PY
}

# stats NAME KIND BOUND NOTE FILE: one line of statistics of FILE's latencies.
stats() {
    python3 - "$@" <<'PY'
import sys
name, kind, bound, note, path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
words = open(path).read().split()
never = words.count("never")
v = sorted(float(w) for w in words if w != "never")
n = len(v)
if n == 0:
    print("%-12s %-7s no server removed (%d never)" % (name, kind, never))
    sys.exit()
p99 = v[min(n - 1, -(-99 * n // 100) - 1)]
med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
over = sum(1 for x in v if x > bound)
print("%-12s %-7s %d failed: min %.2f median %.2f p99 %.2f max %.2f s; bound %.2f s, %d over it, "
      "%d never removed %s" % (name, kind, n + never, v[0], med, p99, v[-1], bound, over, never, note))
with open(path + ".median", "w") as f:
    print(med, file=f)
PY
}

declare -A median
run() {  # run DAEMON KIND
    local name=$1 kind=$2 bound out
    bound=$(bound_of "$kind")
    gen_config > "$work/$name.conf"
    start_daemon "$name" "$work/$name.conf"
    wait_for "$servers" 120 || { echo "$name: only $(destinations) of $servers servers in the table after 120 s" >&2; exit 1; }
    # A full round of checks passed (the table may be filled before any check).
    sleep $((delay_loop + connect_timeout + 2))
    wait_for "$servers" 30 || { echo "$name: servers dropped out before the failure ($(destinations) of $servers)" >&2; exit 1; }
    out=$(measure "$kind" "$bound")
    ip netns exec "$ns" nft delete table ip dtfail
    stop_daemon
    local nft_took lat
    nft_took=$(echo "$out" | awk '/^# nft took/ {print $4}')
    lat=$(echo "$out" | grep -v '^#')
    echo "$lat" > "$work/$name-$kind.lat"
    stats "$name" "$kind" "$bound" "(nft took $nft_took s)" "$work/$name-$kind.lat"
    cat "$work/$name-$kind.lat" >> "$work/$name-$kind.all"
    cp "$work/$name.log" "$work/$name-$kind-$round.log"
}

echo "detection bench: $servers servers, $failures fail; delay_loop $delay_loop, retry $retry, delay_before_retry $delay_before_retry, connect_timeout $connect_timeout; $(nproc) CPUs, $(uname -r)"
echo "bound: silent $(bound_of silent) s = delay_loop + connect_timeout + retry*(delay_before_retry + connect_timeout); refused $(bound_of refused) s = delay_loop + retry*delay_before_retry"
for ((round = 1; round <= repeat; round++)); do
    for kind in $kinds; do
        for name in healthcheckd keepalived; do
            if [[ " $daemons " == *" $name "* ]]; then run "$name" "$kind"; fi
        done
    done
done
echo "--- all $repeat rounds pooled"
for kind in $kinds; do
    for name in healthcheckd keepalived; do
        [ -f "$work/$name-$kind.all" ] || continue
        stats "$name" "$kind" "$(bound_of "$kind")" "" "$work/$name-$kind.all"
        median[$name-$kind]=$(cat "$work/$name-$kind.all.median" 2>/dev/null || true)
    done
done
if [ -n "${DT_LOGS:-}" ]; then mkdir -p "$DT_LOGS" && cp "$work"/*.log "$DT_LOGS"/; fi
echo "--- summary (median healthcheckd / keepalived, pooled)"
for kind in $kinds; do
    h=${median[healthcheckd-$kind]:-} k=${median[keepalived-$kind]:-}
    [ -n "$h" ] && [ -n "$k" ] || continue
    printf '%-7s %.2f / %.2f s (ratio %.2f)\n' "$kind" "$h" "$k" "$(echo "$h / $k" | bc -l)"
done
