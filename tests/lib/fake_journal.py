#!/usr/bin/env python3
"""fake_journal.py - journald's native socket, for tests/journal.bats and
the bench's journal row.

Binds a Unix datagram socket at SOCKET (a test puts it where libsystemd
sends, /run/systemd/journal/socket, in a mount namespace of its own) and
appends each entry it gets to OUT as one JSON object a line, field name to
value.  The native protocol (systemd's JOURNAL_NATIVE_PROTOCOL): per field
"NAME=value\\n", or, for a value holding a newline, "NAME\\n", its length
as 64-bit little-endian, the value, "\\n"; an entry too large for a
datagram comes as a memfd passed with SCM_RIGHTS.  A datagram that breaks
the format is written as {"_BAD": "..."} so that the test sees it.

Usage:
  fake_journal.py SOCKET OUT [--ready FILE]

Stdlib only.
"""
import argparse
import array
import json
import os
import socket
import struct


def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl == -1:
            raise ValueError("no newline after byte %d" % i)
        line = data[i:nl]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            i = nl + 1
        else:
            name = line
            (n,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 9
            value = data[start:start + n]
            if len(value) != n or data[start + n:start + n + 1] != b"\n":
                raise ValueError("binary field %r cut short" % name)
            i = start + n + 1
        key = name.decode("ascii")
        if key in fields:
            raise ValueError("field %s twice" % key)
        fields[key] = value.decode("utf-8", "backslashreplace")
    return fields


def receive(s):
    fds = array.array("i")
    msg, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    for fd in fds:
        with os.fdopen(fd, "rb") as f:
            f.seek(0)
            msg = f.read()
    return msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("out")
    ap.add_argument("--ready")
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.socket)
    os.chmod(a.socket, 0o666)
    if a.ready:
        open(a.ready, "w").close()
    with open(a.out, "a", buffering=1) as out:
        while True:
            data = receive(s)
            try:
                entry = parse(data)
            except (ValueError, struct.error, UnicodeDecodeError) as e:
                entry = {"_BAD": "%s: %r" % (e, data[:200])}
            out.write(json.dumps(entry, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
