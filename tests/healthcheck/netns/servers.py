#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Real servers for the healthcheck netns tests: HTTP on PORT, HTTPS on
# TLS_PORT with the given certificate. Paths:
#   /healthz  200 "ok\n"           /host   200, body = Host header
#   /chunked  200 chunked "ok\n"   /sni    200, body = TLS server name seen
#   /slow     answers after 5 s    /pause  200 "ok\n" after 20 ms
#   /big      200, 100,000 bytes of "x" (a reply that takes many reads)
#   /keep     200 "ok\n", keeping the connection (HTTP/1.1 keep-alive)
#   /keep-briefly  as /keep, but closes the connection after 0.3 s idle
#   /keep-pause    as /keep, after 50 ms   /keep-big  as /big, kept
#   /once     as /keep for a connection's first request; closes on a later one
#   other     404
# The same HTTP on PORT of ADDRESS6. Plain TCP listeners that accept and
# close, for TCP_CHECK: ports 20000-20250 of ADDRESS and of ADDRESS6.
#   servers.py ADDRESS PORT TLS_PORT CERT KEY ADDRESS6
import http.server, selectors, socket, socketserver, ssl, sys, threading, time

address, port, tls_port, cert, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
address6 = sys.argv[6]
seen_sni = {"name": ""}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def send_kept(self, body):
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.served = getattr(self, "served", 0) + 1  # requests on this connection
        if self.path == "/keep":
            self.send_kept("ok\n")
        elif self.path == "/keep-briefly":
            self.connection.settimeout(0.3)  # idle longer: the server closes
            self.send_kept("ok\n")
        elif self.path == "/keep-pause":
            time.sleep(0.05)
            self.send_kept("ok\n")
        elif self.path == "/keep-big":
            self.send_kept("x" * 100000)
        elif self.path == "/once":
            if self.served > 1:
                self.close_connection = True  # closes without a reply
                return
            self.send_kept("ok\n")
        elif self.path == "/healthz":
            self.send_body(200, "ok\n")
        elif self.path == "/host":
            self.send_body(200, self.headers.get("Host", ""))
        elif self.path == "/sni":
            self.send_body(200, seen_sni["name"])
        elif self.path == "/slow":
            time.sleep(5)
            self.send_body(200, "late\n")
        elif self.path == "/big":
            self.send_body(200, "x" * 100000)
        elif self.path == "/pause":
            time.sleep(0.02)
            self.send_body(200, "ok\n")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"2\r\nok\r\n1\r\n\n\r\n0\r\n\r\n")
        else:
            self.send_body(404, "no\n")

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

class Server6(Server):
    address_family = socket.AF_INET6

plain = Server((address, port), Handler)
plain6 = Server6((address6, port), Handler)
threading.Thread(target=plain6.serve_forever, daemon=True).start()
secure = Server((address, tls_port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
def on_sni(sock, name, ctx):
    seen_sni["name"] = name or ""
context.sni_callback = on_sni
secure.socket = context.wrap_socket(secure.socket, server_side=True)
threading.Thread(target=secure.serve_forever, daemon=True).start()

def accept_and_close(listeners):
    selector = selectors.DefaultSelector()
    for listener in listeners:
        selector.register(listener, selectors.EVENT_READ)
    while True:
        for ready, _ in selector.select():
            try:
                ready.fileobj.accept()[0].close()
            except OSError:
                pass

listeners = []
for family, host, ports in ((socket.AF_INET, address, range(20000, 20251)),
                            (socket.AF_INET6, address6, range(20000, 20251))):
    for p in ports:
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, p))
        listener.listen(1024)
        listener.setblocking(False)
        listeners.append(listener)
threading.Thread(target=accept_and_close, args=(listeners,), daemon=True).start()
print("ready", flush=True)
plain.serve_forever()
