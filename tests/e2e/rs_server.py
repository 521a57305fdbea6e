#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A real server for the e2e tests: answers every GET with its own name, so a
client can count how IPVS spread its requests.
    rs_server.py NAME [PORT]"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1: keep-alive for the connection-sync drill (loadgen sends
    # "Connection: close", so its requests stay one connection each).
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = (self.server.name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    name = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    server.name = name
    server.serve_forever()


if __name__ == "__main__":
    main()
