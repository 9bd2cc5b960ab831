#!/usr/bin/env python3
"""fake_syslog.py - a syslog daemon's /dev/log for the inetd tests.

Binds a Unix datagram socket at SOCKET (a test points /dev/log at it in a
mount namespace of its own) and appends each message it gets to LOG, one a
line, as syslog(3) sent it: "<PRI>Mmm dd hh:mm:ss mailproxy[PID]: text".

Usage:
  fake_syslog.py SOCKET LOG [--ready FILE]

Stdlib only.
"""
import argparse
import os
import socket


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("log")
    ap.add_argument("--ready")
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.socket)
    os.chmod(a.socket, 0o666)
    if a.ready:
        open(a.ready, "w").close()
    with open(a.log, "ab", buffering=0) as log:
        while True:
            msg = s.recv(65536)
            log.write(msg.rstrip(b"\0\n") + b"\n")


if __name__ == "__main__":
    main()
