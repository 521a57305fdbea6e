#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# healthcheckd's per-virtual-server policies against the real IPVS of the
# QEMU guest (label vm), in one boot and one daemon:
#   - sorry_server: in the table when every real server is down, out (and the
#     real server back) when one returns;
#   - quorum with hysteresis: quorum 4, hysteresis 1 over three servers of
#     weight 2; lost below 3, regained only at 5; quorum_up/quorum_down run;
#   - backup real servers: in the table only while every primary is down;
#   - administratively `down` servers: never in the table, removed if added
#     by hand, although their port answers;
#   - reload (SIGHUP) with 10 of 100 real servers changed: exactly 10 kernel
#     operations, the other 90 untouched and their check state kept.
#   features_vm_test.sh HEALTHCHECKD
set -euo pipefail
healthcheckd=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/healthcheck-vmf.XXXXXX)
chmod 0777 "$work"
daemon_pid=
declare -A listener

cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    ip netns pids hvrs 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del hvrs 2>/dev/null || true
    ipvsadm -C 2>/dev/null || true
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    ipvsadm -L -n >&2 || true
    echo "--- daemon log" >&2
    cat "$work/daemon.log" >&2 || true
    exit 1
}

ip netns add hvrs
ip link add hvv0 type veth peer name hvv1 netns hvrs
ip addr add 198.18.30.1/24 dev hvv0
ip link set hvv0 up
ip -n hvrs addr add 198.18.30.2/24 dev hvv1
ip -n hvrs link set hvv1 up
ip -n hvrs link set lo up
# The reload servers: a whole /24 answered by one listener (local route).
ip -n hvrs route add local 198.18.31.0/24 dev lo
ip route add 198.18.31.0/24 via 198.18.30.2

rs=198.18.30.2
start() {  # start PORT [ADDR]
    ip netns exec hvrs python3 "$here/listen.py" "${2:-$rs}" "$1" >/dev/null 2>&1 &
    listener[$1]=$!
}
stop() {  # stop PORT
    kill "${listener[$1]}"
    wait "${listener[$1]}" 2>/dev/null || true
    unset "listener[$1]"
}

# table VIP: the real servers of a service as "ADDR:PORT WEIGHT" lines, sorted.
table() {
    ipvsadm -L -n -t "$1" 2>/dev/null | awk '$1 == "->" && $2 ~ /^[0-9]/ {print $2, $4}' | sort
}
# expect VIP SECONDS "LINE" ...: waits until the service holds exactly these lines.
expect() {
    local vip=$1 limit=$2 want got i
    shift 2
    want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
    for i in $(seq 1 $((limit * 4))); do
        got=$(table "$vip")
        [ "$got" = "$want" ] && return 0
        sleep 0.25
    done
    echo "service $vip holds:" >&2
    echo "$got" >&2
    echo "expected:" >&2
    echo "$want" >&2
    return 1
}

cat > "$work/event.sh" <<'SCRIPT'
#!/bin/sh
echo "$1 $(id -un)" >> "$(dirname "$0")/events"
SCRIPT
chmod 0755 "$work/event.sh"

check='TCP_CHECK {
            connect_timeout 1
            retry 0
        }'
{
    cat <<CONF
global_defs {
    script_user nobody
}
virtual_server 192.0.2.20 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    sorry_server $rs 9000
    real_server $rs 8001 {
        $check
    }
    real_server $rs 8002 {
        $check
    }
}
virtual_server 192.0.2.21 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 4
    hysteresis 1
    quorum_up "$work/event.sh quorum-up"
    quorum_down "$work/event.sh quorum-down"
    sorry_server $rs 9001
    real_server $rs 8011 {
        weight 2
        $check
    }
    real_server $rs 8012 {
        weight 2
        $check
    }
    real_server $rs 8013 {
        weight 2
        $check
    }
}
virtual_server 192.0.2.22 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server $rs 8021 {
        $check
    }
    real_server $rs 8022 {
        backup
        $check
    }
    real_server $rs 8023 {
        down
        $check
    }
}
CONF
} > "$work/policies.conf"

# reload_conf FIRST LAST CHANGED_WEIGHT...: 198.18.31.FIRST..LAST, weight 1
# except the listed hosts (weight 5).
reload_conf() {
    local first=$1 last=$2 host weight
    shift 2
    echo "virtual_server 192.0.2.30 80 {"
    echo "    delay_loop 1"
    echo "    lb_algo wrr"
    echo "    lb_kind NAT"
    echo "    protocol TCP"
    for host in $(seq "$first" "$last"); do
        weight=1
        [[ " $* " == *" $host "* ]] && weight=5
        echo "    real_server 198.18.31.$host 8080 {"
        echo "        weight $weight"
        echo "        $check"
        echo "    }"
    done
    echo "}"
}
# Before: hosts 1..100. After: 5..104 (4 gone, 4 new) and hosts 50, 60 reweighted.
reload_conf 1 100 > "$work/reload-before.conf"
reload_conf 5 104 50 60 > "$work/reload-after.conf"
cat "$work/policies.conf" "$work/reload-before.conf" > "$work/ipvsctl.conf"

for port in 8001 8002 8011 8012 8013 8021 8022 8023; do start $port; done
start 8080 0.0.0.0
# Python starts slowly in the emulated guest: wait until all nine listen.
for i in $(seq 1 240); do
    [ "$(ip netns exec hvrs ss -Hltn | wc -l)" -ge 9 ] && break
    sleep 0.25
done
[ "$(ip netns exec hvrs ss -Hltn | wc -l)" -ge 9 ] || fail "listeners did not start"
"$healthcheckd" -f "$work/ipvsctl.conf" --control-socket "$work/hc.sock" 2>"$work/daemon.log" &
daemon_pid=$!

# Everything up: no sorry servers, no backup, no down server.
expect 192.0.2.20:80 90 "$rs:8001 1" "$rs:8002 1" || fail "sorry: initial table"
expect 192.0.2.21:80 30 "$rs:8011 2" "$rs:8012 2" "$rs:8013 2" || fail "quorum: initial table"
expect 192.0.2.22:80 30 "$rs:8021 1" || fail "backup/down: initial table"
before=$(for h in $(seq 1 100); do echo "198.18.31.$h:8080 1"; done)
expect 192.0.2.30:80 60 "$before" || fail "reload: initial table"
echo "ok: initial tables"

# --- sorry_server
stop 8001
expect 192.0.2.20:80 30 "$rs:8002 1" || fail "sorry: one server down"
stop 8002
expect 192.0.2.20:80 30 "$rs:9000 1" || fail "sorry server not in when every server is down"
start 8002
expect 192.0.2.20:80 30 "$rs:8002 1" || fail "sorry server not out after a server returned"
echo "ok: sorry_server"

# --- administratively down: a hand-added entry is removed, the port answers.
ipvsadm -a -t 192.0.2.22:80 -r $rs:8023 -m -w 1
expect 192.0.2.22:80 30 "$rs:8021 1" || fail "down server added by hand stayed"
# --- backup: in only while the primary is down.
stop 8021
expect 192.0.2.22:80 30 "$rs:8022 1" || fail "backup not in after the primary failed"
start 8021
expect 192.0.2.22:80 30 "$rs:8021 1" || fail "backup not out after the primary returned"
echo "ok: backup and down"

# --- quorum 4, hysteresis 1: alive weight 6 -> 4 keeps it (>= 3).
[ ! -e "$work/events" ] || fail "quorum scripts ran while the quorum held: $(cat "$work/events")"
stop 8011
expect 192.0.2.21:80 30 "$rs:8012 2" "$rs:8013 2" || fail "quorum: weight 4 must keep quorum"
# 4 -> 2: lost (< 3), the sorry server serves and quorum_down runs.
stop 8012
expect 192.0.2.21:80 30 "$rs:9001 1" || fail "quorum: not lost at weight 2"
for i in $(seq 1 40); do [ -s "$work/events" ] && break; sleep 0.25; done
[ "$(cat "$work/events")" = "quorum-down nobody" ] || fail "quorum_down events: $(cat "$work/events" 2>/dev/null)"
# 2 -> 4: still below quorum + hysteresis (5): stays lost.
start 8011
sleep 4
expect 192.0.2.21:80 10 "$rs:9001 1" || fail "quorum: regained at weight 4 despite hysteresis"
[ "$(cat "$work/events")" = "quorum-down nobody" ] || fail "quorum_up ran too early"
# 4 -> 6: regained, the servers serve again, quorum_up runs.
start 8012
expect 192.0.2.21:80 30 "$rs:8011 2" "$rs:8012 2" "$rs:8013 2" || fail "quorum: not regained at 6"
for i in $(seq 1 40); do [ "$(wc -l < "$work/events")" -ge 2 ] && break; sleep 0.25; done
[ "$(cat "$work/events")" = "quorum-down nobody
quorum-up nobody" ] || fail "quorum events: $(cat "$work/events")"
echo "ok: quorum with hysteresis"

# --- reload with 10 of 100 servers changed: exactly 10 kernel operations.
cat "$work/policies.conf" "$work/reload-after.conf" > "$work/ipvsctl.conf"
marker=$(wc -l < "$work/daemon.log")
kill -HUP "$daemon_pid"
after=$(for h in $(seq 5 104); do
    w=1; { [ "$h" = 50 ] || [ "$h" = 60 ]; } && w=5
    echo "198.18.31.$h:8080 $w"
done)
expect 192.0.2.30:80 60 "$after" || fail "reload: table after SIGHUP"
sleep 3  # later stray operations would show here
tail -n +"$((marker + 1))" "$work/daemon.log" > "$work/after-reload.log"
ops=$(grep -E "(add|edit|delete) (destination|service)" "$work/after-reload.log" || true)
echo "$ops"
[ "$(echo "$ops" | grep -c 'delete destination')" = 4 ] || fail "reload: 4 deletions expected"
[ "$(echo "$ops" | grep -c 'add destination')" = 4 ] || fail "reload: 4 additions expected"
[ "$(echo "$ops" | grep -c 'edit destination')" = 2 ] || fail "reload: 2 weight edits expected"
[ "$(echo "$ops" | grep -c .)" = 10 ] || fail "reload: exactly 10 kernel operations expected"
grep -q "reload: .*(4 new, 4 gone)" "$work/after-reload.log" || fail "reload: probe targets not kept"
# Unchanged servers keep their check state: no transition logged for them.
if grep -E "198\.18\.31\.([5-9]|[1-9][0-9]|100):8080.* -> " "$work/after-reload.log" |
    grep -v "198.18.31.10[1-4]"; then
    fail "reload: an unchanged server changed state"
fi
echo "ok: reload applied only the difference"

kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit status $?"
daemon_pid=
echo PASS
