#!/usr/bin/env python3
"""hostile.py - a client that misbehaves on purpose, for mailproxy's tests
of deadlines: it stops reading, floods, drips, or holds its socket open.

Connects to 127.0.0.1:PORT and plays a script read from stdin:

  TEXT              sent as TEXT + CRLF
  @raw STRING       sent with Python escapes decoded, nothing appended
  @times N STRING   the same, N times over in one send (a long line, a
                    pipelined burst)
  @rounds N STRING REGEX [STRING REGEX ...]  N round trips of these
                    steps: send STRING (escapes decoded: \\x20 for a
                    space), read until what came since matches REGEX (no
                    spaces: \\s); they stop at EOF or when a match does
                    not come within --timeout
  @trickle STRING SECS  STRING (escapes decoded) one byte every SECS,
                    reading what comes, until done, EOF, --for or the
                    socket fails (a slow client)
  @wait REGEX       read until all bytes received so far match REGEX
                    (Python re, MULTILINE, on latin-1 text); exit 3 if not
                    within --timeout
  @sleep SECS       pause (reading nothing)
  @flood TEXT       send TEXT + CRLF again and again, never reading, until
                    --for SECS have passed or the socket fails
  @drip TEXT SECS   send TEXT + CRLF every SECS, reading what comes, until
                    --for, EOF, or the socket fails (slow but polite)
  @deaf TEXT SECS   the same, never reading
  @upload           send an endless stream of 78-byte lines, reading and
                    dropping what comes, until --for or the socket fails
  @slurp N SECS     read at most N bytes, then pause SECS, until EOF (a
                    slow reader); exit 3 if no EOF within --timeout
  @eof SECS         read until EOF; exit 3 if none within SECS
  @mark FILE        create FILE (the test waits for it)
  @hold SECS        keep the socket open SECS more, reading nothing
  @shut             half-close (shutdown SHUT_WR)

Options:
  --rcvbuf N        SO_RCVBUF before connecting: a small window, so that
                    the server's writes block soon
  --for SECS        bound of @flood, @drip and @upload (default 10)
  --timeout SECS    bound of each @wait (default 10)
  --out FILE        write every byte received there (default: none)
  --expect REGEX    at the end, all bytes received must match REGEX
                    (Python re, MULTILINE, on latin-1 text); exit 4 and
                    show the tail of what came if not (repeatable)

Prints one line at the end: "ended: REASON after S.SSs, N bytes received",
where REASON is "script" or the socket error that ended a loop.
Stdlib only.
"""
import argparse
import errno
import re
import select
import socket
import sys
import time


class Client:
    def __init__(self, a):
        self.a = a
        self.got = bytearray()
        self.eof = False
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        s.connect(("127.0.0.1", a.port))
        s.setblocking(False)
        self.s = s

    def read_some(self, timeout, most=65536):
        """Read what is there within timeout; False at EOF."""
        if self.eof:
            return False
        r, _, _ = select.select([self.s], [], [], max(timeout, 0))
        if not r:
            return True
        try:
            data = self.s.recv(most)
        except BlockingIOError:
            return True
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.got += data
        return True

    def send_all(self, data, until):
        """Send data unless the deadline passes first; raise on error."""
        view = memoryview(data)
        while view:
            left = until - time.monotonic()
            if left <= 0:
                return False
            _, w, _ = select.select([], [self.s], [], min(left, 0.2))
            if not w:
                continue
            try:
                n = self.s.send(view)
            except BlockingIOError:
                continue
            view = view[n:]
        return True


def rounds(c, a, n, steps):
    """n times each step: send, read until its regex matches what came
    since; False at EOF or when a match does not come within --timeout."""
    for _ in range(n):
        for data, rx in steps:
            mark = len(c.got)
            c.send_all(data, time.monotonic() + a.timeout)
            until = time.monotonic() + a.timeout
            while not rx.search(c.got[mark:].decode("latin-1")):
                if not c.read_some(until - time.monotonic()) or \
                        time.monotonic() >= until:
                    return False
    return True


def run(c, a, lines):
    for raw in lines:
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line.startswith(b"@"):
            c.send_all(line + b"\r\n", time.monotonic() + a.timeout)
            continue
        cmd, _, arg = line.partition(b" ")
        end = time.monotonic() + a.for_
        if cmd == b"@raw":
            c.send_all(arg.decode("unicode_escape").encode("latin-1"),
                       time.monotonic() + a.timeout)
        elif cmd == b"@times":
            n, _, text = arg.partition(b" ")
            data = text.decode("unicode_escape").encode("latin-1") * int(n)
            c.send_all(data, time.monotonic() + a.timeout)
        elif cmd == b"@rounds":
            n, _, rest = arg.partition(b" ")
            words = rest.split()
            steps = [(words[i].decode("unicode_escape").encode("latin-1"),
                      re.compile(words[i + 1].decode("latin-1"), re.M))
                     for i in range(0, len(words) - 1, 2)]
            if not rounds(c, a, int(n), steps):
                continue
        elif cmd == b"@trickle":
            text, _, secs = arg.rpartition(b" ")
            for ch in text.decode("unicode_escape").encode("latin-1"):
                if time.monotonic() >= end:
                    break
                c.send_all(bytes([ch]), end)
                pause = time.monotonic() + float(secs)
                while time.monotonic() < pause:
                    if not c.read_some(pause - time.monotonic()):
                        return 0
        elif cmd == b"@wait":
            rx = re.compile(arg.decode("latin-1"), re.M)
            until = time.monotonic() + a.timeout
            while not rx.search(c.got.decode("latin-1")):
                if not c.read_some(until - time.monotonic()) or \
                        time.monotonic() >= until:
                    sys.stderr.write("hostile.py: no /%s/\n" % rx.pattern)
                    return 3
        elif cmd == b"@sleep":
            time.sleep(float(arg))
        elif cmd == b"@flood":
            data = (arg + b"\r\n") * 64
            while c.send_all(data, end):
                pass
        elif cmd in (b"@drip", b"@deaf"):
            text, _, secs = arg.rpartition(b" ")
            while time.monotonic() < end:
                c.send_all(text + b"\r\n", end)
                if cmd == b"@deaf":
                    time.sleep(float(secs))
                    continue
                pause = time.monotonic() + float(secs)
                while time.monotonic() < pause:
                    if not c.read_some(pause - time.monotonic()):
                        return 0
        elif cmd == b"@upload":
            data = (b"x" * 76 + b"\r\n") * 256
            while time.monotonic() < end and c.read_some(0):
                c.send_all(data, min(end, time.monotonic() + 0.05))
        elif cmd == b"@slurp":
            n, _, secs = arg.partition(b" ")
            until = time.monotonic() + a.timeout
            while c.read_some(until - time.monotonic(), int(n)):
                if time.monotonic() >= until:
                    sys.stderr.write("hostile.py: no EOF\n")
                    return 3
                time.sleep(float(secs))
        elif cmd == b"@mark":
            open(arg.decode(), "w").close()
        elif cmd == b"@eof":
            until = time.monotonic() + float(arg)
            while c.read_some(until - time.monotonic()):
                if time.monotonic() >= until:
                    sys.stderr.write("hostile.py: no EOF\n")
                    return 3
        elif cmd == b"@hold":
            time.sleep(float(arg))
        elif cmd == b"@shut":
            c.s.shutdown(socket.SHUT_WR)
        else:
            sys.stderr.write("hostile.py: unknown directive %r\n" % line)
            return 2
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--rcvbuf", type=int)
    p.add_argument("--for", dest="for_", type=float, default=10)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--out")
    p.add_argument("--expect", action="append", default=[])
    a = p.parse_args()
    lines = sys.stdin.buffer.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    start = time.monotonic()
    c = Client(a)
    try:
        rc = run(c, a, lines)
        why = "script"
    except OSError as e:
        rc, why = 0, errno.errorcode.get(e.errno, str(e))
    if a.out:
        with open(a.out, "wb") as f:
            f.write(bytes(c.got))
    print("ended: %s after %.2fs, %d bytes received" % (
        why, time.monotonic() - start, len(c.got)))
    text = c.got.decode("latin-1")
    for rx in a.expect:
        if not re.search(rx, text, re.M):
            sys.stderr.write("hostile.py: no /%s/ in what came; its end:\n%r\n"
                             % (rx, bytes(c.got[-400:])))
            rc = rc or 4
    c.s.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
