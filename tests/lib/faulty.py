#!/usr/bin/env python3
"""faulty.py - one TCP end, client or server, that plays a script of byte
moves and faults, for mailproxy's tests of faults during the relay
(tests/relay_faults.bats): it sends N bytes, half-closes, resets, stalls
and resumes, and records every byte it received.

  faulty.py client PORT [options] STEP...    connect to 127.0.0.1:PORT
  faulty.py server PORT [options] STEP...    accept one connection there
                                             (--ready FILE once listening)

Steps, in order (each one argument):
  send:TEXT         send TEXT, Python escapes decoded (\\r\\n)
  file:PATH         send the file's bytes
  head:PATH:N       send the first N bytes of the file
  wait:REGEX        read until the bytes received so far match REGEX
                    (Python re, latin-1, DOTALL); exit 3 if not within
                    --timeout
  stall:SECS        neither read nor write for SECS (with --rcvbuf small,
                    the peer's writes block meanwhile)
  shut              half-close: shutdown(SHUT_WR)
  reset             SO_LINGER 0 and close: an RST; the script ends there
  eof:SECS          read until EOF or a reset; exit 3 if neither within
                    SECS
  mark:FILE         create FILE (a test waits for it)
Writes never stall the script: while a send waits for room, what arrives
is read (unless the step is stall), so both directions can be full.

Options:
  --rcvbuf N        SO_RCVBUF (a small window: the peer blocks soon)
  --timeout SECS    bound of each wait: and of each send (default 20)
  --out FILE        every byte received, written as it comes
Prints one line at the end: "ended: REASON after S.SSs, N bytes received,
M bytes sent", REASON being "script", "eof", "reset" or the error.
Stdlib only."""
import argparse
import codecs
import re
import select
import socket
import struct
import sys
import time


class End(Exception):
    pass


class Peer:
    def __init__(self, sock, a):
        self.s, self.a = sock, a
        self.s.setblocking(False)
        self.got = bytearray()
        self.sent = 0
        self.eof = False
        self.out = open(a.out, "wb") if a.out else None

    def take(self, data):
        self.got += data
        if self.out:
            self.out.write(data)
            self.out.flush()

    def read_some(self, timeout):
        if self.eof:
            time.sleep(timeout)
            return
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return
        try:
            data = self.s.recv(262144)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.eof = "reset"
            return
        if not data:
            self.eof = "eof"
        else:
            self.take(data)

    def send(self, data):
        view, end = memoryview(data), time.monotonic() + self.a.timeout
        while view:
            if time.monotonic() > end:
                raise End("send timeout")
            r = [] if self.eof else [self.s]
            r, w, _ = select.select(r, [self.s], [], 0.2)
            if r:
                self.read_some(0)
            if w:
                try:
                    n = self.s.send(view[:262144])
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError) as e:
                    raise End("send: " + type(e).__name__)
                self.sent += n
                view = view[n:]

    def wait(self, regex):
        pat, end = re.compile(regex.encode("latin-1"), re.S), time.monotonic() + self.a.timeout
        while not pat.search(self.got):
            if self.eof:
                raise End("wait %r: %s first" % (regex, self.eof))
            if time.monotonic() > end:
                raise End("wait %r: timeout" % regex)
            self.read_some(0.2)

    def run(self, steps):
        for step in steps:
            verb, _, arg = step.partition(":")
            if verb == "send":
                self.send(codecs.escape_decode(arg.encode())[0])
            elif verb == "file":
                self.send(open(arg, "rb").read())
            elif verb == "head":
                path, _, n = arg.rpartition(":")
                self.send(open(path, "rb").read()[:int(n)])
            elif verb == "wait":
                self.wait(arg)
            elif verb == "stall":
                time.sleep(float(arg))
            elif verb == "shut":
                self.s.shutdown(socket.SHUT_WR)
            elif verb == "reset":
                self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
                self.s.close()
                return "script"
            elif verb == "eof":
                end = time.monotonic() + float(arg)
                while not self.eof:
                    if time.monotonic() > end:
                        raise End("no eof within %ss" % arg)
                    self.read_some(0.2)
                return self.eof
            elif verb == "mark":
                open(arg, "w").close()
            else:
                sys.exit("faulty.py: unknown step " + step)
        return "script"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("role", choices=("client", "server"))
    p.add_argument("port", type=int)
    p.add_argument("steps", nargs="*")
    p.add_argument("--rcvbuf", type=int)
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--out")
    p.add_argument("--ready")
    a = p.parse_intermixed_args()
    s = socket.socket()
    if a.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    if a.role == "client":
        s.connect(("127.0.0.1", a.port))
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", a.port))
        s.listen(1)
        if a.ready:
            open(a.ready, "w").close()
        c, _ = s.accept()
        s.close()
        s = c
    peer = Peer(s, a)
    start = time.monotonic()
    try:
        reason = peer.run(a.steps)
        code = 0
    except End as e:
        reason, code = str(e), 3
    print("ended: %s after %.2fs, %d bytes received, %d bytes sent"
          % (reason, time.monotonic() - start, len(peer.got), peer.sent), flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
