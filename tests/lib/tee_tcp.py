#!/usr/bin/env python3
"""tee_tcp.py - a recording TCP relay for tests between mailproxy and a
real server: what mailproxy sends is kept, byte for byte, where the server's
own log cannot show it (the session id we sent, XCLIENT as it went).

  tee_tcp.py PORT HOST:PORT FILE

Listens on 127.0.0.1:PORT; relays each connection to HOST:PORT (from
127.0.0.1, which the server sees as the peer) and appends what the client
side sends to FILE.  Runs until killed.  Stdlib only.
"""
import socket
import sys
import threading


def pipe(a, b, out):
    while True:
        try:
            d = a.recv(65536)
        except OSError:
            d = b""
        if not d:
            break
        if out:
            with open(out, "ab") as f:
                f.write(d)
        b.sendall(d)
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    port, (host, dport), out = int(sys.argv[1]), sys.argv[2].rsplit(":", 1), sys.argv[3]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        u = socket.create_connection((host, int(dport)))
        threading.Thread(target=pipe, args=(c, u, out), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c, None), daemon=True).start()


if __name__ == "__main__":
    main()
