#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages in a guest with real IPVS and checks them the
# way an operator would use them:
#   - dpkg -i of every .deb (the guest's root is a throwaway overlay) under a
#     running systemd, so the maintainer scripts create the user and enable
#     and start both units exactly as on a director;
#   - /usr/sbin/ipvsctl -A/-a/-L against the kernel;
#   - vrrpd and healthcheckd started by their units (so with the ExecStart
#     line and the packaged /etc/ipvsctl/ipvsctl.conf), as user ipvsctl with
#     only their capabilities, answering on their control sockets; reload;
#     stopping either one keeps the other's socket (RuntimeDirectoryPreserve);
#   - then a config made for this test (the packaged one has no instance and
#     no virtual server, so it proves nothing about scripts or IPVS): vrrpd
#     adds a virtual address and runs a notify script, healthcheckd runs a
#     MISC_CHECK and adds the real server, both scripts as user ipvsctl;
#   - a consumer built against libipvsctl-dev with pkg-config and with CMake
#     find_package (tests/install/consumer), then run.
# systemd runs as PID 1 of a new PID namespace inside the guest (vmrun's own
# init stays the guest's PID 1), started for a target of our own so that
# nothing else of the host's configuration starts with it.
#   deb_install.sh SOURCE_DIR [DEB_DIR]
# Without DEB_DIR the packages are built first (packaging/build-debs, no
# tests) into a temporary directory under /var/tmp (the guest sees /var/tmp).
set -uo pipefail

if [ "${1:-}" != --guest ]; then
    src=$(cd "$1" && pwd)
    debs=${2:-}
    cleanup=""
    if [ -z "$debs" ]; then
        debs=$(mktemp -d /var/tmp/ipvsctl-debs.XXXXXX)
        cleanup=$debs
        start=$(date +%s)
        DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" "$src/packaging/build-debs" "$debs" \
            > "$debs/build.log" 2>&1 || { tail -n 50 "$debs/build.log"; rm -rf "$cleanup"; exit 1; }
        echo "deb_install: packages built in $(($(date +%s) - start)) s"
    fi
    debs=$(cd "$debs" && pwd)
    ls "$debs"/*.deb > /dev/null || { echo "deb_install: no .deb in $debs" >&2; exit 1; }
    "$src/tests/vm/vmrun" --timeout 900 -- "$src/tests/packaging/deb_install.sh" --guest "$src" "$debs"
    status=$?
    [ -z "$cleanup" ] || rm -rf "$cleanup"
    exit $status
fi

# ---- in the guest ----
src=$2
debs=$3
failed=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=1; }
check() {  # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; return 1; fi
}
# eventually SECONDS COMMAND...: polls COMMAND every half second.
eventually() {
    local limit=$(($1 * 2)) i
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" 2> /dev/null && return 0
        sleep 0.5
    done
    return 1
}

mkdir -p /etc/systemd/system
printf '[Unit]\nDescription=deb_install test\n' > /etc/systemd/system/ipvsctl-test.target
unshare --pid --fork --mount-proc /lib/systemd/systemd --system --unit=ipvsctl-test.target \
    --log-target=kmsg > /dev/null 2>&1 &
unshare_pid=$!
sd=""
eventually 30 pgrep -P $unshare_pid > /dev/null && sd=$(pgrep -P $unshare_pid)
[ -n "$sd" ] || { echo "FAIL systemd did not start"; exit 1; }
in_systemd() { nsenter -t "$sd" -m -p "$@"; }
state() { in_systemd systemctl is-system-running 2> /dev/null; }
eventually 60 sh -c "[ \"\$(nsenter -t $sd -m -p systemctl is-system-running 2>/dev/null)\" = running ]" ||
    { echo "FAIL systemd is $(state)"; exit 1; }
pass "systemd running as PID 1 of its namespace"

# The guest's root is the host's, and a Docker image ships
# /usr/sbin/policy-rc.d exiting 101 ("do not start services"): with it the
# maintainer scripts enable the units but never start them. A director has
# none; remove it from the throwaway overlay so dpkg -i behaves as there.
if [ -e /usr/sbin/policy-rc.d ]; then
    echo "note removing the host's /usr/sbin/policy-rc.d (exits $(/usr/sbin/policy-rc.d x start > /dev/null 2>&1; echo $?)) in the guest"
    rm -f /usr/sbin/policy-rc.d
fi

# -- install --
t0=$(date +%s)
if in_systemd dpkg -i "$debs"/*.deb > /tmp/dpkg.log 2>&1; then
    pass "dpkg -i $(cd "$debs" && ls -1 ./*.deb | xargs -n1 basename | tr '\n' ' ')($(($(date +%s) - t0)) s)"
else
    fail "dpkg -i"; cat /tmp/dpkg.log
fi
check "user ipvsctl created by the package" id ipvsctl
check "default config installed as a conffile" \
    grep -qx /etc/ipvsctl/ipvsctl.conf /var/lib/dpkg/info/ipvsctl.conffiles
for unit in vrrpd healthcheckd; do
    check "$unit.service enabled by the package" in_systemd systemctl is-enabled --quiet $unit
done

# -- the CLI --
check "ipvsctl -A" /usr/sbin/ipvsctl -A -t 10.1.2.3:80 -s rr
check "ipvsctl -a" /usr/sbin/ipvsctl -a -t 10.1.2.3:80 -r 10.0.0.7:80 -m -w 2
listing=$(/usr/sbin/ipvsctl -L -n)
check "ipvsctl -L lists the service" grep -q '^TCP  10.1.2.3:80 rr' <<< "$listing"
check "ipvsctl -L lists the real server" grep -qE '^  -> 10\.0\.0\.7:80 +Masq +2 ' <<< "$listing"
/usr/sbin/ipvsctl -C

# -- the daemons as their units run them --
status_of() {  # status_of SOCKET: the daemon's reply to {"command":"status"}
    python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"{\"command\":\"status\"}\n"); d=b""
while not d.endswith(b"\n"):
    c=s.recv(65536)
    if not c: break
    d+=c
sys.stdout.write(d.decode())' "$1"
}
declare -A caps=([vrrpd]=0000000000003000 [healthcheckd]=0000000000003000)  # NET_RAW=13 (VRRP, SYN probes), NET_ADMIN=12
# diagnose UNIT: what systemd knows about a unit that misbehaved.
diagnose() {
    in_systemd systemctl status --no-pager --full "$1" 2>&1 | sed 's/^/  | /'
    in_systemd journalctl --no-pager -u "$1" 2>&1 | tail -n 40 | sed 's/^/  | /'
}
for unit in vrrpd healthcheckd; do
    check "$unit.service active" eventually 30 in_systemd systemctl is-active --quiet $unit ||
        diagnose $unit
    pid=$(in_systemd systemctl show -p MainPID --value $unit)
    exec_start=$(in_systemd systemctl show -p ExecStart --value $unit)
    check "$unit started as /usr/sbin/$unit -f /etc/ipvsctl/ipvsctl.conf" \
        grep -q "argv\[\]=/usr/sbin/$unit -f /etc/ipvsctl/ipvsctl.conf ;" <<< "$exec_start"
    if [ "$pid" -gt 0 ] 2> /dev/null; then
        # The main PID in systemd's namespace; read /proc there.
        user=$(in_systemd stat -c %U /proc/$pid)
        check "$unit runs as user ipvsctl (is $user)" [ "$user" = ipvsctl ]
        eff=$(in_systemd awk '/^CapEff/ { print $2 }' /proc/$pid/status)
        check "$unit capabilities are exactly ${caps[$unit]} (are $eff)" [ "$eff" = "${caps[$unit]}" ]
    else
        fail "$unit has no main PID"
    fi
    check "$unit answers on /run/ipvsctl/$unit.sock" \
        eventually 10 sh -c "$(declare -f status_of); status_of /run/ipvsctl/$unit.sock | grep -q ." ||
        diagnose $unit
done
check "vrrpd status: ok, no instances (packaged config)" \
    sh -c "$(declare -f status_of); status_of /run/ipvsctl/vrrpd.sock | grep -q '\"instances\":\[\]'"
check "systemctl reload vrrpd healthcheckd" in_systemd systemctl reload vrrpd healthcheckd
for unit in vrrpd healthcheckd; do
    check "$unit active after reload" in_systemd systemctl is-active --quiet $unit || diagnose $unit
done

# Both units share /run/ipvsctl: stopping one must not remove the other's socket.
in_systemd systemctl stop vrrpd
check "vrrpd stopped" sh -c "! nsenter -t $sd -m -p systemctl is-active --quiet vrrpd"
check "healthcheckd's socket survives stopping vrrpd" \
    sh -c "$(declare -f status_of); status_of /run/ipvsctl/healthcheckd.sock | grep -q ."
in_systemd systemctl start vrrpd
in_systemd systemctl stop healthcheckd
check "vrrpd's socket survives stopping healthcheckd" \
    sh -c "$(declare -f status_of); status_of /run/ipvsctl/vrrpd.sock | grep -q ."
in_systemd systemctl start healthcheckd

# -- scripts and kernel changes, with a config made for this test --
# A veth pair (names with this worktree's prefix) carries the VRRP instance.
ip link add pkv0 type veth peer name pkv1
ip addr add 198.18.77.1/24 dev pkv0
ip link set pkv0 up
ip link set pkv1 up
cp /etc/ipvsctl/ipvsctl.conf /tmp/packaged.conf
cat > /etc/ipvsctl/ipvsctl.conf <<'CONF'
global_defs {
    router_id deb_install
    vrrp_rt_priority 10
}
vrrp_instance VI_TEST {
    state MASTER
    interface pkv0
    virtual_router_id 77
    priority 255
    # 3 s: the graceful restart of the upgrade below must finish within
    # 3 advert intervals, and dpkg is slow in the emulated guest.
    advert_int 3
    virtual_ipaddress {
        198.18.77.77/32 dev pkv0
    }
    notify_master "/bin/sh -c 'id -un > /run/ipvsctl/notify.user; grep ^CapEff /proc/self/status > /run/ipvsctl/notify.caps'"
}
virtual_server 10.1.2.4 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.8 80 {
        weight 1
        MISC_CHECK {
            misc_path "/bin/sh -c 'id -un > /run/ipvsctl/misc.user; grep ^CapEff /proc/self/status > /run/ipvsctl/misc.caps'"
        }
    }
}
virtual_server 10.1.2.5 80 {
    delay_loop 1
    lb_algo rr
    lb_kind FNAT
    protocol TCP
    real_server 10.0.0.9 80 {
        weight 1
        MISC_CHECK {
            misc_path /bin/true
        }
    }
}
CONF
# FULLNAT needs net.ipv4.vs.conntrack=1, which the unprivileged daemon cannot
# write: the unit's ExecReload=+ (healthcheckd --prepare, as root) does.
echo 0 > /proc/sys/net/ipv4/vs/conntrack
check "test config is valid" /usr/sbin/vrrpd --check -f /etc/ipvsctl/ipvsctl.conf
check "systemctl reload with the test config" in_systemd systemctl reload vrrpd healthcheckd
check "vrrpd (unit) runs SCHED_FIFO 10 from vrrp_rt_priority" \
    eventually 20 sh -c "chrt -p \$(pidof vrrpd) | grep -q 'policy: SCHED_FIFO' &&
        chrt -p \$(pidof vrrpd) | grep -q 'priority: 10'" || diagnose vrrpd
check "vrrpd (unit) added the virtual address" \
    eventually 20 sh -c "ip -o addr show dev pkv0 | grep -q '198.18.77.77/32'" || diagnose vrrpd
check "healthcheckd (unit) added the checked real server" \
    eventually 20 sh -c "/usr/sbin/ipvsctl -L -n | grep -q '10.0.0.8:80'" || diagnose healthcheckd
check "FULLNAT: the unit's --prepare set net.ipv4.vs.conntrack to 1" \
    grep -qx 1 /proc/sys/net/ipv4/vs/conntrack
check "FULLNAT: healthcheckd (unit) saw net.ipv4.vs.conntrack=1" \
    eventually 20 sh -c "nsenter -t $sd -m -p journalctl -u healthcheckd | grep -q 'FULLNAT: net.ipv4.vs.conntrack=1'" ||
    diagnose healthcheckd
check "notify script ran as ipvsctl" eventually 20 grep -qx ipvsctl /run/ipvsctl/notify.user
check "MISC_CHECK script ran as ipvsctl" eventually 20 grep -qx ipvsctl /run/ipvsctl/misc.user
# The daemons clear their ambient capabilities before exec, so a script
# runs as plain user ipvsctl without the units' NET_ADMIN/NET_RAW.
for script in notify misc; do
    # The MISC_CHECK rewrites its file every second (truncate, then write):
    # read until one read holds the line, then check that copy.
    script_caps=
    for _ in $(seq 40); do
        script_caps=$(cat /run/ipvsctl/$script.caps 2> /dev/null)
        grep -q CapEff <<< "$script_caps" && break
        sleep 0.25
    done
    check "$script script ran with no capabilities ($script_caps)" \
        grep -qP '^CapEff:\t0{16}$' <<< "$script_caps"
done
# -- an upgrade: vrrpd.postinst restarts vrrpd gracefully (SIGUSR2), so the
# master keeps its address and resumes at once instead of failing over.
old_vrrpd=$(pidof vrrpd)
rm -f /tmp/address-lost /tmp/upgrade-done
(
    # The listing is read whole first: under pipefail, `ip | grep -q`
    # fails whenever grep's early exit makes ip die of SIGPIPE.
    while [ ! -e /tmp/upgrade-done ]; do
        addresses=$(ip -o addr show dev pkv0)
        grep -q '198.18.77.77/32' <<< "$addresses" || echo "$(date +%T.%N) missing" >> /tmp/address-lost
        sleep 0.1
    done
) &
watcher=$!
t0=$(date +%s)
if in_systemd dpkg -i "$debs"/vrrpd_*.deb > /tmp/dpkg-upgrade.log 2>&1; then
    pass "dpkg -i vrrpd again, as an upgrade ($(($(date +%s) - t0)) s)"
else
    fail "dpkg -i vrrpd as an upgrade"; cat /tmp/dpkg-upgrade.log
fi
check "vrrpd restarted by the upgrade (pid $old_vrrpd before)" \
    eventually 20 sh -c "p=\$(pidof vrrpd) && [ \"\$p\" != '$old_vrrpd' ]" || diagnose vrrpd
check "vrrpd resumed as master after the graceful restart" \
    eventually 20 sh -c "nsenter -t $sd -m -p journalctl -u vrrpd | grep -q 'graceful restart: predecessor was master'" ||
    diagnose vrrpd
touch /tmp/upgrade-done
wait $watcher
check "the virtual address stayed on the master through the upgrade" [ ! -e /tmp/address-lost ] ||
    { cat /tmp/address-lost; diagnose vrrpd; }

in_systemd systemctl stop vrrpd healthcheckd
check "vrrpd released the virtual address on stop" \
    eventually 20 sh -c "! ip -o addr show dev pkv0 | grep -q '198.18.77.77/32'"
# The unit without its --prepare step (a drop-in resetting ExecStartPre=):
# the daemon, sandboxed, cannot write the value (CAP_NET_ADMIN would do
# outside ProtectKernelTunables) and must say so clearly.
echo 0 > /proc/sys/net/ipv4/vs/conntrack
mkdir -p /etc/systemd/system/healthcheckd.service.d
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/sbin/healthcheckd --check -f /etc/ipvsctl/ipvsctl.conf\n' \
    > /etc/systemd/system/healthcheckd.service.d/no-prepare.conf
in_systemd systemctl daemon-reload
in_systemd systemctl start healthcheckd
check "FULLNAT: healthcheckd.service without --prepare reports conntrack 0 as an error" \
    eventually 20 sh -c "nsenter -t $sd -m -p journalctl -u healthcheckd |
        grep -q 'conntrack is 0 and cannot be set to 1 (Read-only file system); FULLNAT SNAT will not apply'" ||
    diagnose healthcheckd
check "FULLNAT: net.ipv4.vs.conntrack stayed 0 without --prepare" grep -qx 0 /proc/sys/net/ipv4/vs/conntrack
in_systemd systemctl stop healthcheckd
rm -r /etc/systemd/system/healthcheckd.service.d
in_systemd systemctl daemon-reload
/usr/sbin/ipvsctl -C
cp /tmp/packaged.conf /etc/ipvsctl/ipvsctl.conf

# -- the developer files --
work=$(mktemp -d)
t0=$(date +%s)
# shellcheck disable=SC2046 # pkg-config prints words
if c++ -std=c++20 "$src/tests/install/consumer/consumer.cpp" -o "$work/consumer-pc" \
    $(pkg-config --cflags --libs ipvsctl) && "$work/consumer-pc"; then
    pass "consumer built with pkg-config and ran ($(($(date +%s) - t0)) s)"
else
    fail "consumer with pkg-config"
fi
t0=$(date +%s)
if cmake -S "$src/tests/install/consumer" -B "$work/cmake" > "$work/cmake.log" 2>&1 &&
    cmake --build "$work/cmake" >> "$work/cmake.log" 2>&1 && "$work/cmake/consumer"; then
    pass "consumer built with CMake find_package and ran ($(($(date +%s) - t0)) s)"
else
    fail "consumer with find_package"; cat "$work/cmake.log"
fi
# Compared by real path: with merged /usr the loader may name /lib/... .
linked=$(ldd "$work/cmake/consumer" | awk '/libipvsctl\.so/ { print $3 }')
check "consumer links the packaged library (${linked:-none})" \
    [ "$(readlink -f "${linked:-/nonexistent}")" = "$(readlink -f /usr/lib/x86_64-linux-gnu/libipvsctl.so.1)" ]

kill -9 "$sd" 2> /dev/null
[ $failed = 0 ] && echo "deb_install: all checks passed"
exit $failed
