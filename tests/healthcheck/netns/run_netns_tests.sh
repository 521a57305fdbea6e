#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the healthcheck netns tests: a client namespace (where the test
# binary runs) and a server namespace joined by a veth pair, real servers in
# the server namespace. Everything is removed on exit, failure included.
#   run_netns_tests.sh TEST_BINARY HEALTHCHECKD SOURCE_DIR [catch2 args...]
set -euo pipefail
test_binary=$1 healthcheckd=$2 source_dir=$3
shift 3

[ "$(id -u)" = 0 ] || { echo "netns tests need root" >&2; exit 1; }
tag=hc$$
client=${tag}c server=${tag}s
work=$(mktemp -d /tmp/healthcheck-netns.XXXXXX)
server_pid=

cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    ip netns pids "$server" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$client" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$client" 2>/dev/null || true
    ip netns del "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$client"
ip netns add "$server"
ip link add "${tag}a" netns "$client" type veth peer name "${tag}b" netns "$server"
ip -n "$client" addr add 198.18.10.1/24 dev "${tag}a"
ip -n "$server" addr add 198.18.10.2/24 dev "${tag}b"
ip -n "$client" addr add fd00:18:10::1/64 dev "${tag}a" nodad
ip -n "$server" addr add fd00:18:10::2/64 dev "${tag}b" nodad
ip -n "$client" link set lo up
ip -n "$server" link set lo up
ip -n "$client" link set "${tag}a" up
ip -n "$server" link set "${tag}b" up
# Port 9999 black-holes: SYNs vanish without an answer.
ip netns exec "$server" nft -f - <<NFT
table inet hc_blackhole {
    chain input {
        type filter hook input priority 0;
        tcp dport 9999 drop
        # Port 20250 loses every other SYN: the first of each probe (SYN
        # retransmission test); its answers are not touched.
        tcp dport 20250 tcp flags & (fin | syn | rst | ack) == syn numgen inc mod 2 == 0 drop
    }
}
# Port 8081 is the HTTP server of 8080 behind a SYN that is lost every other
# time: a handshake that takes a SYN retransmission (about 1 s).
table inet hc_slow_http {
    chain lose {
        type filter hook prerouting priority -200;
        tcp dport 8081 tcp flags & (fin | syn | rst | ack) == syn numgen inc mod 2 == 0 drop
    }
    chain to_8080 {
        type nat hook prerouting priority -100;
        tcp dport 8081 redirect to :8080
    }
}
# What a probe of ports 20000-20249 looks like on the wire: SYNs seen, and
# pure ACKs (the last step of a completed handshake: a half-open probe has none);
# and the connections opened to the HTTP server (its SYNs).
table inet hc_counters {
    counter syns { }
    counter handshake_acks { }
    counter http_syns { }
    chain input {
        type filter hook input priority 0;
        tcp dport 8080 tcp flags & (fin | syn | rst | ack) == syn counter name "http_syns"
        tcp dport 20000-20249 tcp flags & (fin | syn | rst | ack) == syn counter name "syns"
        tcp dport 20000-20249 tcp flags & (fin | syn | rst | ack) == ack counter name "handshake_acks"
    }
}
NFT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=checker.example" \
    -addext "subjectAltName=DNS:checker.example" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

ip netns exec "$server" python3 "$source_dir/servers.py" 198.18.10.2 8080 8443 \
    "$work/cert.pem" "$work/key.pem" fd00:18:10::2 >"$work/servers.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    grep -q ready "$work/servers.log" 2>/dev/null && break
    sleep 0.1
done
grep -q ready "$work/servers.log" || { echo "servers did not start" >&2; cat "$work/servers.log" >&2; exit 1; }

export HC_SERVER=198.18.10.2 HC_CLIENT=198.18.10.1 HC_CA_FILE="$work/cert.pem"
export HC_SERVER6=fd00:18:10::2 HC_CLIENT6=fd00:18:10::1
export HC_SERVER_NETNS=$server HC_WORK=$work HC_HEALTHCHECKD=$healthcheckd HC_SOURCE_DIR=$source_dir
ip netns exec "$client" "$test_binary" "$@"
