#!/usr/bin/env python3
"""bench/tlspipe.py - one session with a program in pipeline mode
(stdin/stdout), as its client, in TLS (--ssl=on) or plaintext.

    tlspipe.py [--plain] [--lockstep] [--maps FILE] [--out FILE] -- ARGV...

The commands (lines, CRLF added) come from stdin.  TLSv1.3 only, no
verification, SNI mx.bench, through memory BIOs: the program's stdin and
stdout carry the TLS records, so the whole session, handshake included,
runs in the one process (bench/run.py counts its instructions with
callgrind, tests/perf.bats looks at what it maps).  Pipelined by default:
the greeting, then every command at once, then the replies to EOF.
--lockstep: a command after each reply (a reply is what ends in CRLF).
--maps FILE: after the greeting and after each reply, the shared objects
in the program's /proc/PID/maps are appended to FILE, one a line, after a
"-- reply N" line.  The replies go to stdout (or --out); the exit status
is 0 when the program ended with status 0 and the greeting came.
"""
import os
import ssl
import subprocess
import sys


def maps_of(pid):
    libs = []
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and ".so" in parts[5]:
                    name = parts[5].strip()
                    if name not in libs:
                        libs.append(name)
    except OSError:
        pass
    return libs


class Session:
    def __init__(self, argv, tls=True, stderr=None, cwd=None, env=None):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=stderr,
                                  cwd=cwd, env=env)
        self.eof = False
        self.tls = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
            self.inc, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = ctx.wrap_bio(self.inc, self.outb,
                                    server_hostname="mx.bench")
            while True:
                try:
                    self.tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self.flush()
                    if not self.fill():
                        raise ConnectionError("EOF in the handshake")
            self.flush()

    def flush(self):
        data = self.outb.read()
        if data:
            self.p.stdin.write(data)
            self.p.stdin.flush()

    def fill(self):
        d = os.read(self.p.stdout.fileno(), 65536)
        if not d:
            self.eof = True
            self.inc.write_eof()
            return False
        self.inc.write(d)
        return True

    def send(self, data):
        if self.tls is None:
            self.p.stdin.write(data)
            self.p.stdin.flush()
            return
        self.tls.write(data)
        self.flush()

    def recv(self):
        """Some bytes, b"" at EOF."""
        if self.tls is None:
            return os.read(self.p.stdout.fileno(), 65536)
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.flush()
                if self.eof or not self.fill():
                    return b""
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def reply(self):
        """To the next CRLF at the end of what came, or EOF."""
        buf = b""
        while not buf.endswith(b"\r\n"):
            d = self.recv()
            if not d:
                break
            buf += d
        return buf

    def rest(self):
        buf = b""
        while True:
            d = self.recv()
            if not d:
                return buf
            buf += d

    def close(self, timeout=120):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        return self.p.wait(timeout)


def main():
    args = sys.argv[1:]
    tls, lockstep, maps, out = True, False, None, None
    while args and args[0] != "--":
        a = args.pop(0)
        if a == "--plain":
            tls = False
        elif a == "--lockstep":
            lockstep = True
        elif a in ("--maps", "--out") and args:
            if a == "--maps":
                maps = args.pop(0)
            else:
                out = args.pop(0)
        else:
            sys.exit(__doc__)
    if not args or args[0] != "--" or len(args) < 2:
        sys.exit(__doc__)
    lines = [l.rstrip("\r\n").encode() + b"\r\n" for l in sys.stdin]
    s = Session(args[1:], tls=tls)
    replies = []
    n = 0

    def snap():
        if maps:
            with open(maps, "a") as f:
                f.write("-- reply %d\n" % n)
                f.writelines(x + "\n" for x in maps_of(s.p.pid))

    greeting = s.reply()
    replies.append(greeting)
    snap()
    if lockstep:
        for line in lines:
            s.send(line)
            n += 1
            r = s.reply()
            replies.append(r)
            if not r:
                break
            snap()
        replies.append(s.rest())
    else:
        s.send(b"".join(lines))
        replies.append(s.rest())
    rc = s.close()
    data = b"".join(replies)
    if out:
        with open(out, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
    sys.exit(0 if rc == 0 and greeting else 1)


if __name__ == "__main__":
    main()
