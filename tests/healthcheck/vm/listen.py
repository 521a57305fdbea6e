# SPDX-License-Identifier: GPL-2.0-or-later
# A minimal TCP real server for the guest tests: accepts on ADDR:PORT,
# answers "HTTP/1.0 200 OK" and closes. Killing it makes the port refuse.
#   python3 listen.py ADDR PORT
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(1024)
while True:
    conn, _ = server.accept()
    try:
        conn.settimeout(0.2)
        try:
            conn.recv(4096)
        except OSError:
            pass
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        conn.close()
