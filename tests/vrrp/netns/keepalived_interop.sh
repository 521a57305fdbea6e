#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Interoperability with Debian's keepalived in the next namespace, in both
# roles: VRRPv2 (PASS authentication) and VRRPv3 over IPv4 and IPv6. Each
# side must see the other's adverts, the higher priority wins, and failover
# works both ways.
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$KEEPALIVED" ] || { echo "SKIP: $KEEPALIVED not installed"; exit 77; }
make_lan 2

AUTH=$'authentication {\n        auth_type PASS\n        auth_pass secret\n    }'

# keepalived_has_state NAME STATE: keepalived logs "(VI_1) Entering MASTER STATE".
kstate() { log_has "$1" "(VI_1) Entering $2 STATE"; }

# roles LABEL VERSION ADVERT VIP EXTRA DOWN HIGH_KIND
#   HIGH_KIND=vrrpd: vrrpd (priority 200, r1) against keepalived (100, r2);
#   HIGH_KIND=keepalived: the other way round.
roles() {
    local label=$1 version=$2 advert=$3 vip=$4 extra=$5 down=$6 high=$7
    local low
    if [ "$high" = vrrpd ]; then low=keepalived; else low=vrrpd; fi
    local hn="${label}_high_$high" ln="${label}_low_$low"
    log "== $label: $high (priority 200) vs $low (priority 100)"
    "start_$high" 1 "$hn" "$(vrrp_conf r1 "$version" 200 "$advert" "$vip" "$extra")"
    expect "$label: $high (200) becomes master" "$down" has_vip 1 "$vip"
    "start_$low" 2 "$ln" "$(vrrp_conf r2 "$version" 100 "$advert" "$vip" "$extra")"
    sleep "$down"
    check "$label: $high keeps $vip" has_vip 1 "$vip"
    check "$label: $low stays backup without $vip" lacks_vip 2 "$vip"
    if [ "$low" = keepalived ]; then
        check "$label: keepalived entered BACKUP" kstate "$ln" BACKUP
        check "$label: keepalived never became MASTER" bash -c "! grep -q 'Entering MASTER' '$WORK/$ln.log'"
        check "$label: keepalived found nothing wrong with vrrpd's adverts" \
            bash -c "! grep -Eiq 'bogus|invalid|checksum|mismatch|wrong|error' '$WORK/$ln.log'"
    else
        check "$label: vrrpd never became MASTER" bash -c "! grep -q 'BACKUP -> MASTER' '$WORK/$ln.log'"
        check "$label: vrrpd rejected nothing from keepalived" \
            bash -c "! grep -q 'rejected' '$WORK/$ln.log'"
    fi

    stop "$hn" KILL
    expect "$label: $low takes over after $high is SIGKILLed" "$down" has_vip 2 "$vip"

    # The killed master comes back (removing its stale VIP first) and preempts.
    ip -n "$(ns_of 1)" addr del "$vip" dev eth0 2>/dev/null
    "start_$high" 1 "${hn}_again" "$(vrrp_conf r1 "$version" 200 "$advert" "$vip" "$extra")"
    expect "$label: restarted $high preempts" "$down" has_vip 1 "$vip"
    expect "$label: $low releases $vip" "$down" lacks_vip 2 "$vip"

    # Clean stop of the master: priority 0, the backup takes over quickly.
    stop "${hn}_again" TERM
    expect "$label: $low takes over after $high's SIGTERM" "$down" has_vip 2 "$vip"
    check "$label: $high released $vip" lacks_vip 1 "$vip"
    stop "$ln" TERM
    expect "$label: $low releases $vip on SIGTERM" 3 lacks_vip 2 "$vip"
}

for high in vrrpd keepalived; do
    roles v2inet 2 1 192.0.2.100/24 "$AUTH" 8 "$high"
    roles v3inet 3 1 192.0.2.101/24 "" 8 "$high"
    roles v3inet6 3 1 2001:db8::100/64 "" 8 "$high"
done
finish
