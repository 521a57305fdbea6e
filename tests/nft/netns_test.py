#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""nftables rules of ipvsctl against the host kernel, in network namespaces
named nf*: the library's netlink bytes equal nft's own for the same text,
marks land on real packets, SNAT lets a server with no route back answer,
replacing the table never leaves a packet unmarked, removal is complete.

usage: netns_test.py PATH/TO/nft_apply"""
import subprocess
import sys
import time

APPLY = sys.argv[1]
NS = {"client": "nfc", "router": "nfr", "server": "nfs", "golden": "nfg"}
failures = []


def run(*args, check=True, ns=None, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {result.returncode} {result.stderr}")
    return result


def expect(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def apply(ns, *rules, check=True):
    return run(APPLY, "replace", *rules, ns=ns, check=check)


def setup():
    teardown()
    for ns in NS.values():
        run("ip", "netns", "add", ns)
        run("ip", "link", "set", "lo", "up", ns=ns)
    run("ip", "link", "add", "nfcr0", "netns", "nfc", "type", "veth", "peer", "nfrc0", "netns", "nfr")
    run("ip", "link", "add", "nfrs0", "netns", "nfr", "type", "veth", "peer", "nfsr0", "netns", "nfs")
    for ns, dev, addr in [("nfc", "nfcr0", "10.91.1.2/24"), ("nfr", "nfrc0", "10.91.1.1/24"),
                          ("nfr", "nfrs0", "10.91.2.1/24"), ("nfs", "nfsr0", "10.91.2.2/24"),
                          ("nfr", "nfrs0", "10.91.2.254/24")]:
        run("ip", "addr", "add", addr, "dev", dev, ns=ns)
        run("ip", "link", "set", dev, "up", ns=ns)
    run("ip", "route", "add", "default", "via", "10.91.1.1", ns="nfc")
    # The server has no route to the client's subnet: only SNAT lets it answer.
    run("sysctl", "-qw", "net.ipv4.ip_forward=1", ns="nfr")


def teardown():
    for ns in NS.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def counters(ns, table):
    """Packet counters of a table's rules, in order."""
    out = run("nft", "list", "table", "inet", table, ns=ns).stdout
    return [int(line.split("counter packets ")[1].split()[0])
            for line in out.splitlines() if "counter packets" in line]


SEND_UDP = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
count, port, gap = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
for _ in range(count):
    s.sendto(b'x', ('10.91.1.1', port))
    if gap: time.sleep(gap)
"""

SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.91.2.2', 8080)); s.listen(16)
while True:
    c, peer = s.accept()
    c.sendall(('peer ' + peer[0] + '\\n').encode()); c.close()
"""

CLIENT = """
import socket
try:
    c = socket.create_connection(('10.91.2.2', 8080), timeout=2)
    print(c.recv(100).decode().strip())
except OSError as e:
    print('failed', e)
"""


def golden():
    rules = ["mark", "10.9.0.1", "10.9.0.4", "tcp", "80", "0x49560001",
             "mark", "2001:db8::1", "2001:db8::1", "udp", "0", "7",
             "snat-vip", "192.0.2.10", "80", "tcp", "10.1.0.1", "8080", "10.1.0.254",
             "snat-mark", "5", "sctp", "10.1.0.2", "0", "-",
             "snat-vip", "2001:db8::10", "443", "tcp", "2001:db8:1::1", "0", "2001:db8:1::fe"]
    apply("nfg", *rules)
    ours = run("nft", "--debug=netlink", "list", "ruleset", ns="nfg").stdout
    text = run(APPLY, "--text", "replace", *rules).stdout
    run("nft", "flush", "ruleset", ns="nfg")
    run("nft", "-f", "-", ns="nfg", input=text)
    theirs = run("nft", "--debug=netlink", "list", "ruleset", ns="nfg").stdout
    expect(ours == theirs and "snat ip" in ours,
           "library batch programs exactly what nft makes of the same rules (netlink dump)")


def marks():
    apply("nfr", "mark", "10.91.1.1", "10.91.1.1", "udp", "5000", "0x10")
    run("nft", "-f", "-", ns="nfr", input="""table inet nfcheck {
        chain input { type filter hook input priority 0;
            udp dport 5000 meta mark 0x10 counter
            udp dport 5000 meta mark != 0x10 counter
            udp dport 5001 meta mark 0x10 counter
        }
}""")
    run("python3", "-c", SEND_UDP, "20", "5000", "0", ns="nfc")
    run("python3", "-c", SEND_UDP, "5", "5001", "0", ns="nfc")
    marked, unmarked, wrong = counters("nfr", "nfcheck")
    expect((marked, unmarked, wrong) == (20, 0, 0),
           f"20 packets to the marked VIP:port carry the mark, 5 to another port do not "
           f"({marked}, {unmarked}, {wrong})")
    expect(counters("nfr", "ipvsctl") == [20], "the mark rule counted 20 packets")


def atomic_replace():
    run("nft", "flush", "table", "inet", "nfcheck", ns="nfr")
    run("nft", "-f", "-", ns="nfr", input="""table inet nfcheck {
        chain input { type filter hook input priority 0;
            udp dport 5000 meta mark 0x10 counter
            udp dport 5000 meta mark != 0x10 counter
        }
}""")
    a = ["mark", "10.91.1.1", "10.91.1.1", "udp", "5000", "0x10"]
    b = a + ["mark", "10.91.9.0", "10.91.9.255", "tcp", "443", "0x11"]
    sender = subprocess.Popen(["ip", "netns", "exec", "nfc", "python3", "-c", SEND_UDP,
                               "4000", "5000", "0.0005"])
    replaced = 0
    while sender.poll() is None and replaced < 400:
        apply("nfr", *(a if replaced % 2 else b))
        replaced += 1
    sender.wait()
    marked, unmarked = counters("nfr", "nfcheck")
    expect(replaced >= 20 and marked == 4000 and unmarked == 0,
           f"{replaced} replacements during 4000 packets: {marked} marked, {unmarked} unmarked")
    # The same stream with remove-then-add shows what the single batch avoids.
    run("nft", "reset", "counters", "table", "inet", "nfcheck", ns="nfr")
    sender = subprocess.Popen(["ip", "netns", "exec", "nfc", "python3", "-c", SEND_UDP,
                               "4000", "5000", "0.0005"])
    cycles = 0
    while sender.poll() is None and cycles < 400:
        run(APPLY, "remove", ns="nfr")
        apply("nfr", *a)
        cycles += 1
    sender.wait()
    marked, unmarked = counters("nfr", "nfcheck")
    print(f"info remove-then-add ({cycles} cycles): {unmarked} of 4000 packets went unmarked")


def snat():
    server = subprocess.Popen(["ip", "netns", "exec", "nfs", "python3", "-c", SERVER])
    try:
        time.sleep(0.5)
        run(APPLY, "remove", ns="nfr")
        out = run("python3", "-c", CLIENT, ns="nfc").stdout.strip()
        expect(out.startswith("failed"), f"without rules the server cannot answer ({out})")
        apply("nfr", "snat-vip", "10.91.2.2", "8080", "tcp", "10.91.2.2", "8080", "10.91.2.254")
        out = run("python3", "-c", CLIENT, ns="nfc").stdout.strip()
        expect(out == "peer 10.91.2.254", f"snat to a given source: the server answers ({out})")
        expect(counters("nfr", "ipvsctl") == [1], "the snat rule saw the flow's first packet only")
        apply("nfr", "mark", "10.91.2.2", "10.91.2.2", "tcp", "8080", "0x20",
              "snat-mark", "0x20", "tcp", "10.91.2.2", "8080", "-")
        out = run("python3", "-c", CLIENT, ns="nfc").stdout.strip()
        expect(out == "peer 10.91.2.1",
               f"marked flow masqueraded to the primary address: the server answers ({out})")
        apply("nfr", "snat-vip", "10.91.2.2", "8081", "tcp", "10.91.2.2", "8080", "10.91.2.1")
        out = run("python3", "-c", CLIENT, ns="nfc").stdout.strip()
        expect(out.startswith("failed"), f"a flow of another service is not translated ({out})")
    finally:
        server.kill()
        server.wait()


def bad_input_and_removal():
    apply("nfr", "mark", "10.91.1.1", "10.91.1.1", "udp", "5000", "0x10")
    before = run("nft", "-s", "list", "table", "inet", "ipvsctl", ns="nfr").stdout
    bad = apply("nfr", "mark", "10.91.1.9", "10.91.1.1", "udp", "5000", "0x10", check=False)
    after = run("nft", "-s", "list", "table", "inet", "ipvsctl", ns="nfr").stdout
    expect(bad.returncode == 1 and "ends before it starts" in bad.stderr and before == after,
           f"a backwards range is refused and changes nothing ({bad.stderr.strip()})")
    run(APPLY, "remove", ns="nfr")
    tables = run("nft", "list", "tables", ns="nfr").stdout
    expect("ipvsctl" not in tables and "nfcheck" in tables, "remove drops our table only")
    again = run(APPLY, "remove", ns="nfr", check=False)
    expect(again.returncode == 0, "removing a missing table is not an error")


try:
    setup()
    golden()
    marks()
    atomic_replace()
    snat()
    bad_input_and_removal()
finally:
    teardown()
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
