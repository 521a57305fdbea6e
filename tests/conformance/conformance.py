#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ipvsctl against Debian's ipvsadm 1.31 on the same kernel (run in the guest).

Every scenario runs twice on a flushed table: once programmed by ipvsadm,
once by ipvsctl. Each command's exit status, stdout and stderr are compared
byte for byte, and after each run the table is listed by both tools in every
format; all four (programmer x lister) listings must equal ipvsadm's own.
Then ipvsctl's extensions are checked: atomic -R with rollback, JSON
save/restore, apply/diff, drain and --netns.

Both tools run with argv[0] = "ipvsadm", so usage hints print the same name.

usage: conformance.py PATH/TO/ipvsctl
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

IPVSADM = "/usr/sbin/ipvsadm"
IPVSCTL = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/bin/ipvsctl"
TOOLS = {"ipvsadm": IPVSADM, "ipvsctl": IPVSCTL}

LISTINGS = [
    "-L -n", "-L", "-l -n", "-L -n --stats", "-L -n --stats --exact", "-L -n --rate",
    "-L -n --rate -X", "-L -n --thresholds", "-L -n --persistent-conn", "-L -n --tun-info",
    "-L -n --nosort", "-L -n --sort", "-Ln --thresholds --persistent-conn", "-S -n", "-S", "-Sn",
    "-L --timeout", "-L --daemon", "-L -n -c", "-L -c -n --persistent-conn",
]

comparisons = 0
mismatches = []


def run(tool, args, stdin=None):
    if isinstance(args, str):
        args = shlex.split(args)
    done = subprocess.run(["ipvsadm"] + args, executable=TOOLS[tool], input=stdin,
                          capture_output=True, timeout=120)
    return (done.returncode, done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"))


def report(label, expected, got):
    mismatches.append((label, expected, got))
    print(f"MISMATCH {label}\n  ipvsadm: {expected!r}\n  ipvsctl: {got!r}", flush=True)


def compare(label, expected, got):
    global comparisons
    comparisons += 1
    if expected != got:
        report(label, expected, got)


def check(label, condition, detail=""):
    global comparisons
    comparisons += 1
    if not condition:
        report(label, "condition", detail)


def reset():
    run("ipvsadm", "-C")
    run("ipvsadm", "--stop-daemon master")
    run("ipvsadm", "--stop-daemon backup")
    run("ipvsadm", "--set 900 120 300")


def setup_guest():
    # No DNS in the guest: fail lookups at once instead of timing out, and
    # give a few addresses names so that non-numeric listings show names.
    with open("/etc/resolv.conf", "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    with open("/etc/hosts", "a") as f:
        f.write("10.0.0.1 vip1.test\n10.1.0.1 real1.test\n2001:db8::1 vip6.test\n"
                "10.1.0.200 a-very-long-real-server-host-name.example.test\n")


def scenario_commands(text):
    """One command per line; '<<' starts stdin for the previous -R."""
    commands = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("<<"):
            args, stdin = commands[-1]
            commands[-1] = (args, (stdin or b"") + line[2:].strip().encode() + b"\n")
            continue
        commands.append((line, None))
    return commands


SCENARIOS = {
    "nat_v4": """
        -A -t 10.0.0.1:80 -s rr
        -a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3
        -a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m
        -a -t 10.0.0.1:80 -r 10.1.0.3 -m -w 0
        -L -n -t 10.0.0.1:80
        -L -t 10.0.0.1:80 --stats
        -L -n -t 10.0.0.1:80 --rate
    """,
    "schedulers": "\n".join(
        f"-A -t 10.0.0.{i + 1}:80 -s {s}" for i, s in enumerate(
            "rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos".split())),
    "scheduler_flags": """
        -A -t 10.0.0.1:80 -s sh -b sh-fallback
        -A -t 10.0.0.2:80 -s sh -b sh-port,sh-fallback
        -A -t 10.0.0.3:80 -s mh -b mh-fallback
        -A -t 10.0.0.4:80 -s mh -b mh-port
        -A -t 10.0.0.5:80 -s rr -b flag-1,flag-2,flag-3
        -A -t 10.0.0.6:80 -s rr -b flag-2
        -A -t 10.0.0.7:80 -b flag-3
        -A -t 10.0.0.8:80 -s rr -b sh-port
        -A -t 10.0.0.9:80 -s sh -b nonsense
        -A -t 10.0.0.10:80 -s sh -b ,sh-port,
        -E -t 10.0.0.1:80 -s sh -b sh-port
    """,
    "persistence": """
        -A -t 10.0.0.1:80 -p
        -A -t 10.0.0.2:80 -p 600
        -A -t 10.0.0.3:80 -p 60 -M 255.255.255.0
        -A -t 10.0.0.4:0 -p 30 -M 255.255.0.0 -s rr
        -A -u [2001:db8::1]:53 -s rr -p 60 -M 64
        -A -f 9 -p 100 -M 255.255.255.128
        -A -f 10 -6 -p 100 -M 96
        -A -t 10.0.0.5:80 -p 30 --pe sip
        -A -u 10.0.0.5:5060 -p 30 --pe sip
        -A -t 10.0.0.6:80 --pe sip
        -A -t 10.0.0.7:80 -p0
        -A -t 10.0.0.7:80 -p 2678401
        -A -t 10.0.0.7:80 -p abc
        -A -t 10.0.0.7:80 -p 10 -M 300.0.0.0
        -A -t [2001:db8::7]:80 -p 10 -M 129
        -A -t 10.0.0.8:0
        -E -t 10.0.0.2:80 -p 900 -M 255.255.0.0
        -E -t 10.0.0.3:80
    """,
    "one_packet": """
        -A -u 10.0.0.1:53 -o
        -A -t 10.0.0.2:80 -o
        -A -f 3 -o -s rr
        -A --sctp-service 10.0.0.3:3868 -o
        -A -u [2001:db8::2]:53 -o -p 10
    """,
    "ipv6": """
        -A -t [2001:db8::1]:80 -s wrr
        -a -t [2001:db8::1]:80 -r [2001:db8:1::1]:8080 -m -w 2
        -a -t [2001:db8::1]:80 -r [2001:db8:1::2] -g
        -a -t [2001:db8::1]:80 -r [fd00::1]:80 -i -w 7
        -a -t [2001:db8::1]:80 -r 10.1.0.9 -i
        -a -t [2001:db8::1]:80 -r 10.1.0.10 -m
        -A -u [2001:db8::53]:53
        -a -u [2001:db8::53]:53 -r [2001:db8:1::53]:5353 -m -x 10 -y 5
        -A --sctp-service [2001:db8::3]:3868 -s lc
        -L -n -t [2001:db8::1]:80
        -L -n -t [2001:db8::1]:80 --tun-info
        -L -t [2001:db8::1]:80
        -A -t 2001:db8::9 -s rr
        -A -t [2001:db8::9 -s rr
    """,
    "fwmark": """
        -A -f 1 -s rr
        -A -f 2 -6 -s wlc
        -A -f 4294967295
        -A -f 4294967296
        -A -f 0
        -A -f -5
        -A -f 12abc
        -a -f 1 -r 10.1.0.1 -m
        -a -f 1 -r 10.1.0.2:8080 -m -w 4
        -a -f 1 -r 10.1.0.3:99 -g
        -a -f 1 -r 10.1.0.4 -i --tun-type gue --tun-port 5555
        -a -f 2 -6 -r [2001:db8:1::7]:443 -m
        -a -f 2 -r [2001:db8:1::8]:443 -m
        -L -n -f 1
        -L -n -f 2 -6
        -L -n -f 3
        -Z -f 1
        -E -f 1 -s wrr -p 20
        -d -f 1 -r 10.1.0.3:99
        -D -f 2 -6
    """,
    "sctp": """
        --sctp-service 10.0.0.1:3868
        -A --sctp-service 10.0.0.1:3868 -s rr
        -A --sctp-service=10.0.0.2:2905
        -a --sctp-service 10.0.0.1:3868 -r 10.1.0.1:3868 -m
        -a --sctp-service 10.0.0.1:3868 -r 10.1.0.2 -g -w 9
        -L -n --sctp-service 10.0.0.1:3868
        -L --sctp-service 10.0.0.1:3868
    """,
    "forwarding_and_tunnels": """
        -A -t 10.0.0.1:80
        -a -t 10.0.0.1:80 -r 10.1.0.1 -g
        -a -t 10.0.0.1:80 -r 10.1.0.2:81 -g
        -a -t 10.0.0.1:80 -r 10.1.0.3 -m
        -a -t 10.0.0.1:80 -r 10.1.0.4:8080 -m
        -a -t 10.0.0.1:80 -r 10.1.0.5 -i
        -a -t 10.0.0.1:80 -r 10.1.0.6 -i --tun-type ipip
        -a -t 10.0.0.1:80 -r 10.1.0.7 -i --tun-type gue --tun-port 6080
        -a -t 10.0.0.1:80 -r 10.1.0.8 -i --tun-type gue --tun-port 6081 --tun-csum
        -a -t 10.0.0.1:80 -r 10.1.0.9 -i --tun-type gue --tun-port 6082 --tun-remcsum
        -a -t 10.0.0.1:80 -r 10.1.0.10 -i --tun-type gue --tun-port 6083 --tun-nocsum
        -a -t 10.0.0.1:80 -r 10.1.0.11 -i --tun-type gre
        -a -t 10.0.0.1:80 -r 10.1.0.12 -i --tun-type gre --tun-csum
        -a -t 10.0.0.1:80 -r 10.1.0.13 -i --tun-type gre --tun-nocsum
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type gre --tun-remcsum
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type gre --tun-port 9
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type gue
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type ipip --tun-csum
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-port 80
        -a -t 10.0.0.1:80 -r 10.1.0.14 -m --tun-type gre
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type vxlan
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type gue --tun-port 0
        -a -t 10.0.0.1:80 -r 10.1.0.14 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum
        -a -t 10.0.0.1:80 -r 10.1.0.14 -m -g
        -a -t 10.0.0.1:80 -r [2001:db8:1::1]:80 -m
        -a -t 10.0.0.1:80 -r [2001:db8:1::1]:80 -i
        -e -t 10.0.0.1:80 -r 10.1.0.7 -i --tun-type gre --tun-csum -w 5
        -e -t 10.0.0.1:80 -r 10.1.0.3 -m -w 0
        -L -n -t 10.0.0.1:80 --tun-info
        -S -n
    """,
    "thresholds_and_weights": """
        -A -t 10.0.0.1:80 -s wrr
        -a -t 10.0.0.1:80 -r 10.1.0.1 -m -x 100 -y 10
        -a -t 10.0.0.1:80 -r 10.1.0.2 -m -x 100
        -a -t 10.0.0.1:80 -r 10.1.0.3 -m -y 50 -x 60 -w 5
        -a -t 10.0.0.1:80 -r 10.1.0.4 -m -x 5 -y 10
        -a -t 10.0.0.1:80 -r 10.1.0.5 -m -x -1
        -a -t 10.0.0.1:80 -r 10.1.0.5 -m -y abc
        -a -t 10.0.0.1:80 -r 10.1.0.5 -m -w -3
        -a -t 10.0.0.1:80 -r 10.1.0.5 -m -w 70000
        -a -t 10.0.0.1:80 -r 10.1.0.6 -m -w 2147483647
        -a -t 10.0.0.1:80 -r 10.1.0.7 -m -w 2147483648
        -e -t 10.0.0.1:80 -r 10.1.0.1 -m -x 200 -y 20 -w 9
        -L -n --thresholds -t 10.0.0.1:80
        -L -n --persistent-conn -t 10.0.0.1:80
    """,
    "edit_delete_zero_flush": """
        -A -t 10.0.0.1:80 -s rr
        -A -t 10.0.0.2:80 -s rr
        -A -u 10.0.0.2:53
        -a -t 10.0.0.1:80 -r 10.1.0.1 -m
        -a -t 10.0.0.1:80 -r 10.1.0.2 -m
        -a -t 10.0.0.1:80 -r 10.1.0.1 -m
        -e -t 10.0.0.1:80 -r 10.1.0.1 -g -w 4
        -e -t 10.0.0.1:80 -r 10.1.0.99 -g
        -e -t 10.0.0.9:80 -r 10.1.0.1 -g
        -d -t 10.0.0.1:80 -r 10.1.0.2
        -d -t 10.0.0.1:80 -r 10.1.0.2
        -d -t 10.0.0.9:80 -r 10.1.0.2
        -E -t 10.0.0.1:80 -s lc
        -E -t 10.0.0.9:80 -s lc
        -E -t 10.0.0.1:80 -s nonexistent
        -D -t 10.0.0.2:80
        -D -t 10.0.0.2:80
        -D -t 10.0.0.2:80 -s rr
        -Z -t 10.0.0.1:80
        -Z -t 10.0.0.9:80
        -Z
        -Z -u 10.0.0.2:53
        -A -t 10.0.0.1:80
    """,
    "flush": """
        -A -t 10.0.0.1:80
        -a -t 10.0.0.1:80 -r 10.1.0.1 -m
        -A -f 5
        -C
        -L -n
        -C -n
        --clear
    """,
    "timeouts": """
        --set 100 50 200
        -L --timeout
        --set 0 0 0
        -L --timeout
        --set 0 30 0
        -L --timeout
        --set 1 2
        --set 1 2 3 4
        --set a b c
        --set 2678400 1 1
        --set 2678401 1 1
        --set -1 1 1
        -L --timeout -n
        -L --timeout --stats
        -L --timeout -t 10.0.0.1:80
    """,
    "sync_daemon": """
        -L --daemon
        --start-daemon master --mcast-interface lo --syncid 5
        -L --daemon
        --start-daemon master --mcast-interface lo
        --start-daemon backup --mcast-interface ipvs0 --syncid 9 --mcast-group 224.0.0.99 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1000
        -L --daemon
        --stop-daemon backup
        --stop-daemon backup
        --start-daemon backup --mcast-interface ipvs0 --mcast-group ff02::1
        -L --daemon
        --stop-daemon master
        --start-daemon foo
        --stop-daemon foo
        --start-daemon master --mcast-group 10.0.0.1
        --start-daemon master --mcast-group ff02::zz
        --start-daemon master --mcast-port 0
        --start-daemon master --mcast-ttl 256
        --start-daemon master --sync-maxlen 65508
        --start-daemon master --syncid 256
        --start-daemon master --mcast-interface lo --stats
        --stop-daemon master --syncid 3
        --stop-daemon master --mcast-interface lo
    """,
    "names": """
        -A -t vip1.test:http -s rr
        -a -t vip1.test:http -r real1.test:http-alt -m
        -a -t vip1.test:http -r real1.test -g
        -a -t vip1.test:http -r a-very-long-real-server-host-name.example.test:https -m
        -A -u vip1.test:domain
        -A -t localhost:www
        -A -t 10.0.0.2:nosuchservice
        -A -t nosuchhost.invalid:80
        -A -t 10.0.0.3:99999
        -A -t 10.0.0.3:-1
        -A -t [2001:db8::1]:https
        -A -t 10.0.0.4:80 -p 10 -M localhost
        -L -t vip1.test:http
        -L -n -t vip1.test:80
    """,
    "sorting": """
        -A -t 192.168.0.1:80
        -A -t 10.0.0.1:80
        -A -t 200.0.0.1:80
        -A -t 172.16.0.1:80
        -A -t 1.2.3.4:80
        -A -t 128.0.0.1:80
        -A -t 127.255.255.255:80
        -A -t 10.0.0.1:8080
        -A -t 10.0.0.1:443
        -A -u 10.0.0.1:80
        -A --sctp-service 10.0.0.1:80
        -A -f 3000000000
        -A -f 7
        -A -f 2147483648
        -A -f 1
        -A -t [2001:db8::1]:80
        -A -t [fd00::1]:80
        -A -t [2001:db8:ffff::1]:80
        -a -t 10.0.0.1:80 -r 192.168.1.1 -m
        -a -t 10.0.0.1:80 -r 10.1.0.1 -m
        -a -t 10.0.0.1:80 -r 172.16.1.1 -m
        -a -t 10.0.0.1:80 -r 10.1.0.1:81 -m
        -a -t 10.0.0.1:80 -r 10.200.0.1 -m
        -a -t 10.0.0.1:80 -r 192.168.200.1 -m
        -a -t [2001:db8::1]:80 -r [fd00::9]:80 -m
        -a -t [2001:db8::1]:80 -r [2001:db8:1::9]:80 -m
        -a -t [2001:db8::1]:80 -r 10.1.0.5 -i
        -a -t [2001:db8::1]:80 -r [2001:db8:1::9]:79 -m
    """,
    "option_grammar": """
        -At10.0.0.1:80 -srr
        -A --tcp-service=10.0.0.2:80 --scheduler=wlc -p
        -A -t 10.0.0.3:80 -p -s rr
        -A -t 10.0.0.4:80 -p300
        -A -t 10.0.0.5:80 -s rr -p 300 -M255.255.255.0
        -at 10.0.0.1:80 -r10.1.0.1 -mw5
        -a -t 10.0.0.1:80 -r 10.1.0.2 -w5 -m -x7 -y3
        --add-service --udp-service 10.0.0.6:53 --scheduler lc
        --add-server --udp-service 10.0.0.6:53 --real-server 10.1.0.6:53 --masquerading --weight 2
        --edit-server --udp-service 10.0.0.6:53 --real-server 10.1.0.6:53 --gatewaying --weight 3 --u-threshold 9 --l-threshold 1
        --delete-server --udp-service 10.0.0.6:53 --real-server 10.1.0.6:53
        --edit-service --udp-service 10.0.0.6:53 --scheduler rr --ops
        -L -n --numeric
        -Ln
        -lnc
        -nL
        -Lq
        -L --bogus
        --foo
        --add -t 10.0.0.8:80
        -A -A
        -LL
        -A -t
        -A -t 10.0.0.9:80 -s
        -A -t 10.0.0.9:80 extra words
        -A -t 10.0.0.9:80 -- -s
        -A -t 10.0.0.9:80 -s rr -s wlc
        -A -t 10.0.0.9:80 -t 10.0.0.10:80
        -A
        -a -t 10.0.0.1:80
        -d -t 10.0.0.1:80
        -L -s rr
        -L -r 10.1.0.1
        -L -c -t 10.0.0.1:80
        -L --timeout --daemon
        -Lc --stats
        -L --timeout --persistent-conn
        -L --daemon --rate
        -S --stats
        -C -t 10.0.0.1:80
        -Z -r 10.1.0.1
        -R -n
        -A -6 -f 1
        -A -f 1 -6 -6
        -A -t 10.0.0.9:80 -6
        -A -t 10.0.0.9
        -A -t 10.0.0.9:80 -w 3
        -A -t 10.0.0.9:80 -M 255.0.0.0
        -a -t 10.0.0.1:80 -r 10.1.0.1 -s rr
        -a -t 10.0.0.1:80 -r 10.1.0.3 --tun-info
        -a -t 10.0.0.1:80 -r [2001:db8::5] -i
        -a -t 10.0.0.1:80 -r 10.1.0.2 -p
        ""
        -
        justaword
    """,
    "restore_valid": """
        -R
        << -A -t 10.0.0.1:80 -s rr
        << -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1
        << -a -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w 3
        << -A -u [2001:db8::1]:53 -s wlc -p 60 -M 64
        << -a -u [2001:db8::1]:53 -r [2001:db8:1::5]:53 -m -w 1
        << -A -f 7 -s mh -b mh-port
        << -a -f 7 -r 10.1.0.9:0 -g -w 1
        << -a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
        << --set 10 20 30
        << -E -t 10.0.0.1:80 -s wrr
        << -e -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 5
        << -d -t 10.0.0.1:80 -r 10.1.0.2:80
        -L -n --timeout
    """,
}


def program_and_list(programmer):
    reset()
    results = [run(programmer, args, stdin) for args, stdin in SCENARIO_COMMANDS]
    listings = {lister: [run(lister, listing) for listing in LISTINGS] for lister in TOOLS}
    return results, listings


def run_scenario(name, text):
    global SCENARIO_COMMANDS
    SCENARIO_COMMANDS = scenario_commands(text)
    outputs = {programmer: program_and_list(programmer) for programmer in TOOLS}
    reference_results, reference_listings = outputs["ipvsadm"]
    results, _ = outputs["ipvsctl"]
    for (args, _), expected, got in zip(SCENARIO_COMMANDS, reference_results, results):
        compare(f"{name}: ipvsadm {args}", expected, got)
    for programmer in TOOLS:
        for lister in TOOLS:
            if programmer == lister == "ipvsadm":
                continue
            for listing, expected, got in zip(LISTINGS, reference_listings["ipvsadm"],
                                              outputs[programmer][1][lister]):
                compare(f"{name}: programmed by {programmer}, '{listing}' by {lister}",
                        expected, got)


def listings_now(tool):
    return [run(tool, listing) for listing in LISTINGS]


def test_connections():
    """Traffic through a service: -c, --stats, --rate read by both tools."""
    reset()
    run("ipvsadm", "-A -t 192.0.2.50:80 -s rr")
    run("ipvsadm", "-a -t 192.0.2.50:80 -r 10.2.0.1:80 -m")
    run("ipvsadm", "-A -u 192.0.2.50:53 -p 30 --pe sip")
    run("ipvsadm", "-a -u 192.0.2.50:53 -r 10.2.0.2:53 -m")
    for _ in range(2):
        subprocess.run(["timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/192.0.2.50/80"],
                       capture_output=True)
    subprocess.run(["bash", "-c", "echo hi > /dev/udp/192.0.2.50/53"], capture_output=True)
    for listing in ["-L -n -c", "-L -c", "-L -c -n --persistent-conn", "-L -n --stats",
                    "-L -n --stats --exact", "-L -n --rate", "-L -n --thresholds",
                    "-L -n --persistent-conn", "-L -n"]:
        # Counters move with time: ipvsctl must equal a listing taken just
        # before or just after it.
        for attempt in range(3):
            before = run("ipvsadm", listing)
            mine = run("ipvsctl", listing)
            after = run("ipvsadm", listing)
            if mine in (before, after):
                break
        compare(f"connections: '{listing}'", before if mine != after else after, mine)


def table_snapshot():
    return [run("ipvsadm", listing) for listing in
            ("-S -n", "-L -n --thresholds", "-L -n --tun-info", "-L -n --persistent-conn")]


def test_atomic_restore():
    reset()
    run("ipvsadm", "-A -t 10.0.0.1:80 -s rr")
    run("ipvsadm", "-a -t 10.0.0.1:80 -r 10.1.0.1 -m")
    before = table_snapshot()
    many = "".join(f"-A -t 10.5.{i // 250}.{i % 250 + 1}:80\n" for i in range(4999))
    status, out, err = run("ipvsctl", "-R", (many + "-A -t 10.9.9.9:80 -s rr -x 3\n").encode())
    check("restore: bad line 5000 exits 2", status == 2, (status, err))
    check("restore: bad line 5000 is named", err.startswith("line 5000: "), err)
    compare("restore: bad line 5000 changes nothing", before, table_snapshot())

    status, out, err = run("ipvsctl", "-R", b"-A -t 10.0.0.2:80\n-A -t 10.0.0.1:80\n")
    check("restore: duplicate exits 255", status == 255, (status, err))
    compare("restore: duplicate message", "line 2: Service already exists\n", err)
    compare("restore: duplicate changes nothing", before, table_snapshot())

    # The kernel refuses line 3 (no such scheduler): lines 1-2 are rolled back.
    status, out, err = run("ipvsctl", "-R",
                           b"-A -t 10.0.0.3:80\n-a -t 10.0.0.1:80 -r 10.1.0.2 -m\n"
                           b"-A -t 10.0.0.4:80 -s nosuchscheduler\n-A -t 10.0.0.5:80\n")
    check("restore: kernel refusal exits 255", status == 255, (status, err))
    check("restore: kernel refusal names line 3",
          err.startswith("line 3: Scheduler or persistence engine not found"), err)
    compare("restore: kernel refusal rolled back", before, table_snapshot())

    status, out, err = run("ipvsctl", "-R", b"-E -t 10.0.0.1:80 -s wrr\n-d -t 10.0.0.1:80 -r 10.1.0.9\n")
    compare("restore: missing destination message",
            (255, "", "line 2: No such destination\n"), (status, out, err))
    compare("restore: missing destination changes nothing", before, table_snapshot())

    status, _, err = run("ipvsctl", "-R", b"# comment\n\n-A -t 10.0.0.6:80 -s rr\n")
    check("restore: comments and blank lines", status == 0, err)


def test_json_round_trip():
    reset()
    for line in ["-A -t 10.0.0.1:80 -s sh -b sh-port -p 60 -M 255.255.255.0",
                 "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3 -x 100 -y 10",
                 "-a -t 10.0.0.1:80 -r 10.1.0.2 -i --tun-type gue --tun-port 6080 --tun-remcsum",
                 "-a -t 10.0.0.1:80 -r 10.1.0.3 -i --tun-type gre --tun-csum -x 7",
                 "-A -u [2001:db8::1]:53 -o -p 30 -M 100 --pe sip",
                 "-a -u [2001:db8::1]:53 -r 10.1.0.4 -i",
                 "-A -f 7 -6 -s mh -b mh-fallback,mh-port"]:
        run("ipvsadm", line)
    before = table_snapshot()
    status, saved, err = run("ipvsctl", "-S --json")
    check("json: -S --json", status == 0 and json.loads(saved)["services"], err)
    run("ipvsadm", "-C")
    status, _, err = run("ipvsctl", "-R --json", saved.encode())
    check("json: -R --json", status == 0, err)
    compare("json: save/restore round trip (thresholds, tunnels, flags)", before, table_snapshot())
    status, listed, err = run("ipvsctl", "-L -n --json")
    document = json.loads(listed)
    check("json: -L --json has counters",
          "stats" in document["services"][0] and "version" in document, listed[:200])
    for listing in ("-L --timeout --json", "-L --daemon --json", "-L -c --json",
                    "-L -n -t 10.0.0.1:80 --json"):
        status, out, err = run("ipvsctl", listing)
        check(f"json: '{listing}' is JSON", status == 0 and json.loads(out) is not None, err)


def ipvsctl_cli(args, stdin=None, env=None):
    done = subprocess.run([IPVSCTL] + args, input=stdin, capture_output=True, timeout=120,
                          env=None if env is None else {**os.environ, **env})
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_apply_diff_drain():
    reset()
    run("ipvsadm", "-A -t 10.0.0.1:80 -s rr")
    run("ipvsadm", "-a -t 10.0.0.1:80 -r 10.1.0.1 -m")
    run("ipvsadm", "-A -t 10.0.0.2:80")
    desired = {"services": [
        {"protocol": "tcp", "address": "10.0.0.1", "port": 80, "scheduler": "wrr",
         "destinations": [{"address": "10.1.0.1", "port": 80, "forward": "masq", "weight": 5},
                          {"address": "10.1.0.2", "port": 80, "forward": "tunnel",
                           "tunnel": {"type": "gre", "checksum": "csum"}}]},
        {"fwmark": 9, "family": "inet6", "scheduler": "rr",
         "persistence": {"timeout": 100, "netmask": 64}},
    ]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(desired, f)
        path = f.name
    before = table_snapshot()
    status, out, err = ipvsctl_cli(["diff", "-f", path])
    check("diff: exit 0 and prints a plan", status == 0 and "edit service" in out, (out, err))
    compare("diff: changes nothing", before, table_snapshot())
    status, out, err = ipvsctl_cli(["apply", "-f", path, "--dry-run"])
    compare("apply --dry-run: changes nothing", before, table_snapshot())
    status, out, err = ipvsctl_cli(["apply", "-f", path])
    check("apply: exit 0", status == 0, (out, err))
    saved = run("ipvsadm", "-S -n")[1]
    check("apply: result", "-A -t 10.0.0.1:80 -s wrr" in saved and "-A -t 10.0.0.2:80" in saved
          and "--tun-type gre --tun-csum" in saved and "-A -f 9 -6 -s rr -p 100 -M 64" in saved,
          saved)
    status, out, err = ipvsctl_cli(["diff", "-f", path])
    compare("diff after apply: no changes", (0, "no changes\n", ""), (status, out, err))
    status, out, err = ipvsctl_cli(["apply", "-f", path, "--prune"])
    check("apply --prune deletes extra service",
          status == 0 and "-A -t 10.0.0.2:80" not in run("ipvsadm", "-S -n")[1], (out, err))
    with open(path, "w") as f:
        f.write('{"services": [{"protocol": "tcp", "address": "10.0.0.1", "port": 80, '
                '"destinations": [{"address": "10.1.0.1", "weight": -4}]}]}')
    status, out, err = ipvsctl_cli(["apply", "-f", path])
    check("apply: bad document exits 2 naming the field",
          status == 2 and "services[0].destinations[0].weight" in err, (status, err))
    status, out, err = ipvsctl_cli(["apply", "-f", "/nonexistent.json"])
    check("apply: missing file exits 2", status == 2, (status, err))
    with open(path, "w") as f:
        json.dump({"services": [{"protocol": "tcp", "address": "10.0.0.77", "port": 80,
                                 "scheduler": "nosuchscheduler"}]}, f)
    before = table_snapshot()
    status, out, err = ipvsctl_cli(["apply", "-f", path])
    check("apply: kernel refusal exits 1", status == 1, (status, err))
    compare("apply: kernel refusal rolled back", before, table_snapshot())
    status, out, err = ipvsctl_cli(["apply"])
    check("apply: usage error exits 2", status == 2, (status, err))

    status, out, err = ipvsctl_cli(["drain", "-t", "10.0.0.1:80", "-r", "10.1.0.1", "--timeout", "0"])
    check("drain: exit 0", status == 0, (out, err))
    check("drain: server deleted", "10.1.0.1:80" not in run("ipvsadm", "-S -n")[1], out)
    status, out, err = ipvsctl_cli(["drain", "-t", "10.0.0.1:80", "-r", "10.1.0.99"])
    check("drain: unknown server exits 1", status == 1, (status, err))
    status, out, err = ipvsctl_cli(["drain", "-t", "10.0.0.1:80"])
    check("drain: missing -r exits 2", status == 2, (status, err))


def test_apply_beyond_ipv4():
    """apply plans first from the IPv4 services getsockopt() lists and keeps
    that plan only when the netlink dump shows nothing else: IPv6 services
    and persistence engines must still be planned against."""
    reset()
    run("ipvsadm", "-A -t 10.0.0.5:80 -s rr")
    run("ipvsadm", "-a -t 10.0.0.5:80 -r 10.1.0.5 -g -w 3")
    run("ipvsadm", "-A -u 10.0.0.6:5060 -s rr -p 60 --pe sip")
    run("ipvsadm", "-A -t [2001:db8::5]:443 -s wlc")
    status, saved, err = ipvsctl_cli(["-S", "-n", "--json"])
    check("apply/IPv6+pe: --json save", status == 0, err)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(saved)
        path = f.name
    status, out, err = ipvsctl_cli(["diff", "--prune", "-f", path])
    compare("apply/IPv6+pe: own save plans nothing", (0, "no changes\n", ""), (status, out, err))
    doc = json.loads(saved)
    doc["services"] = [s for s in doc["services"] if s.get("address") == "10.0.0.5"]
    with open(path, "w") as f:
        json.dump(doc, f)
    status, out, err = ipvsctl_cli(["apply", "--prune", "-f", path])
    check("apply/IPv6+pe: --prune deletes the IPv6 and engine services",
          status == 0 and "2001:db8::5" in out and "10.0.0.6" in out, (out, err))
    compare("apply/IPv6+pe: only the IPv4 service stays",
            "-A -t 10.0.0.5:80 -s rr\n-a -t 10.0.0.5:80 -r 10.1.0.5:80 -g -w 3\n",
            run("ipvsadm", "-S -n")[1])
    status, out, err = ipvsctl_cli(["diff", "--prune", "-f", path])
    compare("apply/IPv6+pe: then nothing to do", (0, "no changes\n", ""), (status, out, err))
    os.unlink(path)


def test_apply_module_count():
    """apply skips the services dump only when ip_vs's module references
    count exactly the IPv4 services getsockopt() listed; every other table
    (an IPv6 service, an IPv6 fwmark, a SIP engine, a service in another
    namespace) must still be planned against from the dump."""
    cases = {
        "IPv4 only": ([], "module references"),
        "IPv6 service": (["-A -t [2001:db8::7]:80 -s rr"], "dump"),
        "IPv6 fwmark": (["-A -f 7 -6 -s rr"], "dump"),
        "SIP engine": (["-A -u 10.0.0.7:5060 -s rr -p 60 --pe sip"], "dump"),
        "other namespace": ([], "dump"),
    }
    for name, (extra, method) in cases.items():
        reset()
        run("ipvsadm", "-A -t 10.0.0.5:80 -s rr")
        run("ipvsadm", "-a -t 10.0.0.5:80 -r 10.1.0.5 -g -w 3")
        status, saved, err = ipvsctl_cli(["-S", "-n", "--json"])
        check(f"module count/{name}: --json save", status == 0, err)
        for line in extra:
            run("ipvsadm", line)
        if name == "SIP engine":  # the engine is in the document: nothing to do
            saved = ipvsctl_cli(["-S", "-n", "--json"])[1]
        if name == "other namespace":
            subprocess.run(["ip", "netns", "add", "conformance_other"], check=True)
            subprocess.run(["ip", "netns", "exec", "conformance_other", IPVSADM, "-A", "-t",
                            "[2001:db8::8]:80"], check=True)
        try:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                f.write(saved)
                path = f.name
            status, out, err = ipvsctl_cli(["diff", "--prune", "-f", path],
                                           env={"IPVSCTL_TIMING": "1"})
            check(f"module count/{name}: decided by {method}",
                  f"services beyond IPv4 checked by {method})" in err, err)
            if extra and name != "SIP engine":
                check(f"module count/{name}: --prune plans the removal",
                      status == 0 and out != "no changes\n" and out.count("\n") == 1, (out, err))
            else:
                compare(f"module count/{name}: nothing to do", (0, "no changes\n"), (status, out))
            os.unlink(path)
        finally:
            if name == "other namespace":
                subprocess.run(["ip", "netns", "del", "conformance_other"])


def test_netns():
    reset()
    subprocess.run(["ip", "netns", "add", "conformance"], check=True)
    try:
        status, _, err = ipvsctl_cli(["--netns", "conformance", "-A", "-t", "10.0.0.1:80", "-s", "rr"])
        check("netns: add in namespace", status == 0, err)
        inside = subprocess.run(["ip", "netns", "exec", "conformance", IPVSADM, "-S", "-n"],
                                capture_output=True).stdout.decode()
        compare("netns: ipvsadm sees it inside", "-A -t 10.0.0.1:80 -s rr\n", inside)
        check("netns: not outside", "10.0.0.1:80" not in run("ipvsadm", "-S -n")[1])
        status, out, _ = ipvsctl_cli(["-S", "-n", "--netns", "conformance"])
        compare("netns: ipvsctl lists it", "-A -t 10.0.0.1:80 -s rr\n", out)
    finally:
        subprocess.run(["ip", "netns", "del", "conformance"])


def main():
    setup_guest()
    started = time.monotonic()
    for name, text in SCENARIOS.items():
        run_scenario(name, text)
        print(f"[{time.monotonic() - started:6.1f}s] {name}: {comparisons} comparisons so far",
              flush=True)
    for test in (test_connections, test_atomic_restore, test_json_round_trip,
                 test_apply_diff_drain, test_apply_beyond_ipv4, test_apply_module_count,
                 test_netns):
        test()
        print(f"[{time.monotonic() - started:6.1f}s] {test.__name__}: {comparisons} comparisons so far",
              flush=True)
    reset()
    print(f"conformance: {comparisons} comparisons, {len(mismatches)} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
