#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ipvsctl realserver setup/teardown in a namespace of its own (prefix cl):
# setup (checked with ip and sysctl), a second setup changes nothing,
# teardown restores every address, link and sysctl, --dry-run changes nothing.
#   realserver_netns.sh IPVSCTL dr|tun
# dr runs on any kernel with namespaces; tun needs the ipip and ip6_tunnel
# modules (the guest of tests/vm has them, this host's kernel does not).
set -u
IPVSCTL=${1:?usage: realserver_netns.sh IPVSCTL dr|tun}
MODE=${2:?usage: realserver_netns.sh IPVSCTL dr|tun}
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
NS="clrs$$"
WORK=$(mktemp -d /tmp/cl-realserver.XXXXXX)
STATE="$WORK/realserver.json"
FAILURES=0
cleanup() { ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
check() {
    local what=$1; shift
    if "$@"; then echo "# ok: $what"; else echo "# FAIL: $what"; FAILURES=$((FAILURES + 1)); fi
}
rs() { "$IPVSCTL" realserver "$@" --netns "$NS" --state "$STATE"; }
in_ns() { ip netns exec "$NS" "$@"; }
sysctl_is() { [ "$(in_ns sysctl -n "$1")" = "$2" ]; }
has_addr() { ip -n "$NS" -o addr show dev "$1" | grep -q " $2 "; }
lacks_addr() { ! has_addr "$@"; }
link_up() { ip -n "$NS" -o link show dev "$1" | grep -q '[<,]UP[,>]'; }
link_down() { ! link_up "$1"; }
snapshot() {  # everything setup may touch, for the before/after comparison
    {
        ip -n "$NS" -o addr show | awk '{$1=""; print}' | sed 's/valid_lft.*//' | sort
        ip -n "$NS" -o link show | sed 's/^[0-9]*: //; s/ qdisc.*//' | sort
        in_ns sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce \
            net.ipv4.conf.lo.arp_ignore net.ipv4.conf.lo.arp_announce net.ipv4.conf.all.rp_filter
        [ -d /proc/sys/net/ipv4/conf/tunl0 ] && in_ns sysctl net.ipv4.conf.tunl0.rp_filter
    } 2>/dev/null
}

ip netns add "$NS"
if [ "$MODE" = tun ]; then
    # Non-default starting values, so that restoring is visible.
    in_ns sysctl -qw net.ipv4.conf.all.rp_filter=2
    ARGS=(--mode tun --vip 192.0.2.80 --vip 198.51.100.80 --vip 2001:db8::80)
else
    ip -n "$NS" link set lo up
    in_ns sysctl -qw net.ipv4.conf.all.arp_announce=1
    ARGS=(--mode dr --vip 192.0.2.80 --vip 198.51.100.80 --vip 2001:db8::80)
fi
before=$(snapshot)

rs setup "${ARGS[@]}" --dry-run > "$WORK/dry.out"
check "--dry-run exits 0" [ $? -eq 0 ]
cat "$WORK/dry.out"
check "--dry-run lists the changes" grep -q "^add 192.0.2.80/32 to " "$WORK/dry.out"
check "--dry-run changes nothing" [ "$(snapshot)" = "$before" ]
check "--dry-run writes no state" [ ! -e "$STATE" ]

rs setup "${ARGS[@]}" > "$WORK/setup.out"
check "setup exits 0" [ $? -eq 0 ]
cat "$WORK/setup.out"
check "setup printed what --dry-run announced" \
    diff <(grep -v '^(dry run' "$WORK/dry.out" | sed 's/ (was .*//') \
         <(sed 's/ (was .*//' "$WORK/setup.out")
check "state file written" [ -s "$STATE" ]
if [ "$MODE" = dr ]; then
    check "IPv4 VIP /32 on lo" has_addr lo 192.0.2.80/32
    check "second IPv4 VIP /32 on lo" has_addr lo 198.51.100.80/32
    check "IPv6 VIP /128 on lo" has_addr lo 2001:db8::80/128
    check "all.arp_ignore = 1" sysctl_is net.ipv4.conf.all.arp_ignore 1
    check "all.arp_announce = 2" sysctl_is net.ipv4.conf.all.arp_announce 2
    check "lo.arp_ignore = 1" sysctl_is net.ipv4.conf.lo.arp_ignore 1
    check "lo.arp_announce = 2" sysctl_is net.ipv4.conf.lo.arp_announce 2
else
    check "tunl0 up" link_up tunl0
    check "ip6tnl0 up" link_up ip6tnl0
    check "IPv4 VIP /32 on tunl0" has_addr tunl0 192.0.2.80/32
    check "second IPv4 VIP /32 on tunl0" has_addr tunl0 198.51.100.80/32
    check "IPv6 VIP /128 on ip6tnl0" has_addr ip6tnl0 2001:db8::80/128
    check "all.rp_filter = 0" sysctl_is net.ipv4.conf.all.rp_filter 0
    check "tunl0.rp_filter = 0" sysctl_is net.ipv4.conf.tunl0.rp_filter 0
    check "all.arp_ignore = 1" sysctl_is net.ipv4.conf.all.arp_ignore 1
    check "all.arp_announce = 2" sysctl_is net.ipv4.conf.all.arp_announce 2
fi
after_setup=$(snapshot)

rs setup "${ARGS[@]}" > "$WORK/again.out"
check "second setup exits 0" [ $? -eq 0 ]
check "second setup says nothing changed" grep -qx "no changes: already set up" "$WORK/again.out"
check "second setup changed nothing" [ "$(snapshot)" = "$after_setup" ]

rs teardown --dry-run > "$WORK/tdry.out"
check "teardown --dry-run changes nothing" [ "$(snapshot)" = "$after_setup" ]
rs teardown > "$WORK/teardown.out"
check "teardown exits 0" [ $? -eq 0 ]
cat "$WORK/teardown.out"
if [ "$MODE" = tun ]; then
    # The module's fallback devices cannot be deleted; they return to down.
    check "tunl0 down again" link_down tunl0
    check "ip6tnl0 down again" link_down ip6tnl0
    check "teardown says the tunnels stay" grep -q "left tunl0 in place" "$WORK/teardown.out"
    # Compare what existed before setup (the tunnels did not).
    now=$(snapshot | grep -v -e tunl0 -e ip6tnl0 -e 'sit0\|ip6_vti0\|ip_vti0\|gre0\|ip6gre0')
    was=$(echo "$before" | grep -v -e tunl0 -e ip6tnl0 -e 'sit0\|ip6_vti0\|ip_vti0\|gre0\|ip6gre0')
    check "every address and sysctl restored" [ "$now" = "$was" ]
    [ "$now" = "$was" ] || diff <(echo "$was") <(echo "$now")
else
    check "addresses, links and sysctls as before setup" [ "$(snapshot)" = "$before" ]
    [ "$(snapshot)" = "$before" ] || diff <(echo "$before") <(snapshot)
    check "all.arp_announce back to 1" sysctl_is net.ipv4.conf.all.arp_announce 1
fi
check "state file removed" [ ! -e "$STATE" ]
rs teardown > "$WORK/teardown2.out"
check "second teardown: nothing to do, exit 0" grep -q "^no changes" "$WORK/teardown2.out"

"$IPVSCTL" realserver setup --mode dr --vip 192.0.2.300 --netns "$NS" --state "$STATE" 2>"$WORK/err"
rc=$?
check "bad VIP: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "bad VIP named" grep -q "'192.0.2.300'" "$WORK/err"
"$IPVSCTL" realserver setup --mode dr --vip 192.0.2.80 --interface cl-none --netns "$NS" \
    --state "$STATE" 2>"$WORK/err"
rc=$?
check "missing interface: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "missing interface named" grep -q "'cl-none' does not exist" "$WORK/err"
check "refused setups changed nothing" [ ! -e "$STATE" ]

[ "$FAILURES" -eq 0 ] || { echo "# $FAILURES check(s) failed"; exit 1; }
echo "# all checks passed"
