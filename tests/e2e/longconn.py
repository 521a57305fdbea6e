#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One long-lived TCP connection for the connection-sync drill: HTTP/1.1
keep-alive requests over the SAME socket every --interval seconds, never
reconnecting; stops at the first error (the connection is lost), at
--duration, or when --stop-file exists.

    longconn.py --host VIP [--port 80] [--interval S] [--timeout S]
                [--duration S] [--stop-file FILE] [--progress FILE]

--progress is rewritten after every exchange with the count so far. Prints one
JSON line: local port, exchanges (epoch end time of each), the server that
answered, the error that ended it (null if none), and the longest gap between
two answers."""
import argparse
import json
import os
import socket
import sys
import time


def exchange(sock, host):
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    if " 200 " not in lines[0] + " ":
        raise ConnectionError("status line " + lines[0])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer in the body")
        body += chunk
    return body[:length].decode(errors="replace").strip()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--duration", type=float, default=180.0)
    p.add_argument("--stop-file")
    p.add_argument("--progress")
    a = p.parse_args()
    began = time.time()
    times, servers, error = [], set(), None
    sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    local_port = sock.getsockname()[1]
    while time.time() - began < a.duration:
        if a.stop_file and os.path.exists(a.stop_file):
            break
        try:
            servers.add(exchange(sock, a.host))
        except (OSError, ValueError) as e:
            error = type(e).__name__ + ": " + str(e)
            break
        times.append(time.time())
        if a.progress:
            with open(a.progress + ".tmp", "w") as f:
                f.write(f"{len(times)} {local_port}\n")
            os.replace(a.progress + ".tmp", a.progress)
        time.sleep(a.interval)
    sock.close()
    gaps = [b - a_ for a_, b in zip(times, times[1:])]
    print(json.dumps({"local_port": local_port, "exchanges": times, "servers": sorted(servers),
                      "error": error, "longest_gap": round(max(gaps), 3) if gaps else 0.0}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
