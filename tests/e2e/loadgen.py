#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Request loop for the e2e tests: one new TCP connection per HTTP request,
bounded by a count and a duration; records each request's start, end, outcome
and the answering server (per source address too).

    loadgen.py --url http://VIP/ [--count N] [--duration S] [--interval S]
               [--timeout S] [--source ADDR] [--source-port P] [--log FILE]
               [--stop-file FILE]

Prints one JSON summary line: sent, ok, failed, per-server counts, the first
and last failure times (epoch seconds) and the failure window (last failure
end minus first failure start, 0 when nothing failed). --log writes one JSON
line per request. --stop-file ends the loop early once that file exists.
--source-port P binds request k (from 0) to client port P + k, so that a later
run with the same P reuses exactly those ports. Each logged request carries its
client port, so that a failure can be found in the director's connection table."""
import argparse
import errno
import http.client
import json
import os
import select
import socket
import sys
import time
import urllib.parse


def connected_socket(host, port, timeout, source, source_port, used):
    """A connected socket from source (if given) and source_port (if given;
    SO_REUSEADDR lets a port be taken again right after its last connection
    closed). The client port goes into used["port"] as soon as connect() has
    chosen it, so that it is known even when the connection fails."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if source_port is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if source or source_port is not None:
            sock.bind((source or "", source_port or 0))
        sock.setblocking(False)
        error = sock.connect_ex((host, port))
        used["port"] = sock.getsockname()[1]
        if error not in (0, errno.EINPROGRESS):
            raise OSError(error, os.strerror(error))
        if not select.select([], [sock], [], timeout)[1]:
            raise TimeoutError("connect timed out")
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, os.strerror(error))  # the errno's own subclass
        sock.settimeout(timeout)
    except OSError:
        sock.close()
        raise
    return sock


def one_request(host, port, path, timeout, source, source_port=None):
    """(ok, server name or error, client port or None)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    used = {"port": None}
    try:
        conn.sock = connected_socket(host, port, timeout, source, source_port, used)
        conn.request("GET", path, headers={"Connection": "close"})
        reply = conn.getresponse()
        body = reply.read().decode(errors="replace").strip()
        if reply.status != 200:
            return False, f"status {reply.status}", used["port"]
        return True, body, used["port"]
    except (OSError, http.client.HTTPException) as e:
        return False, type(e).__name__ + ": " + str(e), used["port"]
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, default=60)
    p.add_argument("--duration", type=float, default=300.0)
    p.add_argument("--interval", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=4.0)
    p.add_argument("--source", help="source address, or several comma-separated (used in turn)")
    p.add_argument("--source-port", type=int, help="bind request k to this port + k")
    p.add_argument("--log")
    p.add_argument("--stop-file")
    a = p.parse_args()
    if a.count < 1 or a.duration <= 0:
        p.error("--count and --duration must be positive")
    u = urllib.parse.urlsplit(a.url)
    host, port, path = u.hostname, u.port or 80, u.path or "/"
    log = open(a.log, "w") if a.log else None
    sources = a.source.split(",") if a.source else [None]
    servers, errors, by_source, messages = {}, {}, {}, []
    sent = ok = 0
    first_fail = last_fail = None
    began = time.time()
    while sent < a.count and time.time() - began < a.duration:
        if a.stop_file and os.path.exists(a.stop_file):
            break
        source = sources[sent % len(sources)]
        start = time.time()
        source_port = a.source_port + sent if a.source_port else None
        good, what, client_port = one_request(host, port, path, a.timeout, source, source_port)
        end = time.time()
        sent += 1
        if good:
            ok += 1
            servers[what] = servers.get(what, 0) + 1
            seen = by_source.setdefault(source or "default", {})
            seen[what] = seen.get(what, 0) + 1
        else:
            errors[what.split(":")[0]] = errors.get(what.split(":")[0], 0) + 1
            if len(messages) < 5:
                messages.append(
                    f"request {sent} at +{start - began:.2f} s from port {client_port}: {what}"
                )
            first_fail = start if first_fail is None else first_fail
            last_fail = end
        if log:
            entry = {"start": start, "end": end, "ok": good, "what": what, "port": client_port}
            log.write(json.dumps(entry) + "\n")
            log.flush()
        if a.interval > 0:
            time.sleep(a.interval)
    summary = {
        "sent": sent,
        "ok": ok,
        "failed": sent - ok,
        "servers": dict(sorted(servers.items())),
        "errors": errors,
        "messages": messages,
        "by_source": by_source,
        "began": began,
        "ended": time.time(),
        "first_failure": first_fail,
        "last_failure": last_fail,
        "failure_window": round(last_fail - first_fail, 3) if first_fail is not None else 0.0,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
