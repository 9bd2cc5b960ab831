#!/usr/bin/env python3
"""fake_imap.py - a scriptable fake IMAP backend for mailproxy's tests.

Listens on 127.0.0.1:PORT, appends every byte it receives, verbatim, to a
transcript file (flushed after each read), and answers like a small IMAP4rev1
server unless told otherwise:

  greeting    * OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] fake_imap ready
  literal     a line ending in {n} gets "+ Ready for literal data", then n
              bytes are read; {n+} (LITERAL+) gets nothing
  CAPABILITY  * CAPABILITY IMAP4rev1 LITERAL+ IDLE / <tag> OK CAPABILITY completed
  LOGIN       <tag> OK [CAPABILITY IMAP4rev1 IDLE] Logged in
  SELECT      * 1 EXISTS / * FLAGS (\\Seen) / <tag> OK [READ-WRITE] SELECT completed
  FETCH       * 1 FETCH (BODY[] {N} + the --message file + ")" / <tag> OK FETCH completed
  NOOP        <tag> OK NOOP completed
  LOGOUT      * BYE fake_imap logging out / <tag> OK LOGOUT completed, and close
  anything else: <tag> BAD unknown command

Every LOGIN's decoded arguments are logged as "login user=HEX pass=HEX"
(hex of the bytes the server parsed: quoted strings unescaped, literals as
they came), so tests can check that odd credentials survive.

Usage:
  fake_imap.py PORT TRANSCRIPT [options]
    --multi                 accept connections until killed (default: one)
    --ready FILE            create FILE once listening (tests wait for it)
    --reply VERB=TEXT       override the reply to VERB (repeatable; repeating
                            a VERB queues replies: 1st use, 2nd use, ..., the
                            last one sticks).  TEXT lines are split on a
                            literal "\\n"; lines starting with "* " or "+" go
                            out as they are, every other line gets "<tag> "
                            in front.  "@none": no reply at all (the client
                            hangs); "@close": close the connection; a line
                            "@raw TEXT": TEXT as it is.  VERB LITERAL is the
                            answer to a literal's {n} (default "+ Ready for
                            literal data"; a tagged answer abandons the
                            command).
    --greeting TEXT         the greeting line(s), sent as they are
    --message FILE          the message FETCH returns (default: a short one)
    --proxy                 expect a PROXY v1 line or v2 header first; it is
                            recorded (as all bytes are) and also logged
    --close                 close each connection right after accept
    --silent                read and record, never answer
    --log FILE              event log (connect/close/proxy/login), default stderr

Stdlib only.
"""
import argparse
import os
import re
import socket
import sys
import threading

DEFAULT_GREETING = "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] fake_imap ready"
DEFAULTS = {
    "CAPABILITY": ["* CAPABILITY IMAP4rev1 LITERAL+ IDLE", "OK CAPABILITY completed"],
    "LOGIN": ["OK [CAPABILITY IMAP4rev1 IDLE] Logged in"],
    "SELECT": ["* 1 EXISTS", "* FLAGS (\\Seen)", "OK [READ-WRITE] SELECT completed"],
    "EXAMINE": ["* 1 EXISTS", "OK [READ-ONLY] EXAMINE completed"],
    "NOOP": ["OK NOOP completed"],
    "LOGOUT": ["* BYE fake_imap logging out", "OK LOGOUT completed"],
    "LITERAL": ["+ Ready for literal data"],
    "UNKNOWN": ["BAD unknown command"],
}
PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
LITERAL = re.compile(rb"\{(\d+)(\+?)\}$")

lock = threading.Lock()


class Script:
    """Replies per verb; a queue per overridden verb, the last one sticks."""

    def __init__(self, overrides):
        self.queues = {}
        for verb, text in overrides:
            self.queues.setdefault(verb, []).append(text.split("\\n"))
        self.used = {}

    def reply(self, verb, default):
        with lock:
            q = self.queues.get(verb)
            if not q:
                return default
            n = self.used.get(verb, 0)
            self.used[verb] = n + 1
            return q[min(n, len(q) - 1)]


def tokens(parts):
    """Arguments of a command: parts alternate text, literal bytes, text..."""
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append(part)
            continue
        text = LITERAL.sub(b"", part) if i + 1 < len(parts) else part
        j = 0
        while j < len(text):
            c = text[j:j + 1]
            if c in (b" ", b"(", b")"):
                j += 1
            elif c == b'"':
                j += 1
                val = bytearray()
                while j < len(text) and text[j:j + 1] != b'"':
                    if text[j:j + 1] == b"\\":
                        j += 1
                    val += text[j:j + 1]
                    j += 1
                j += 1
                out.append(bytes(val))
            else:
                k = j
                while k < len(text) and text[k:k + 1] not in (b" ", b"(", b")"):
                    k += 1
                out.append(text[j:k])
                j = k
    return out


class Session:
    def __init__(self, conn, peer, args, script, transcript, log):
        self.conn, self.peer, self.args = conn, peer, args
        self.script, self.transcript, self.log = script, transcript, log
        self.buf = b""
        self.eof = False
        self.closing = False

    def record(self, data):
        with lock:
            self.transcript.write(data)
            self.transcript.flush()

    def fill(self):
        """Read more bytes into buf; False on EOF/reset."""
        if self.eof:
            return False
        try:
            data = self.conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.record(data)
        self.buf += data
        return True

    def readline(self):
        while b"\n" not in self.buf:
            if not self.fill():
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def readn(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def sendraw(self, data):
        if self.args.silent:
            return
        try:
            self.conn.sendall(data)
        except OSError:
            self.eof = True

    def send(self, tag, lines):
        """Sends a reply; False if the reply said to stop."""
        out = []
        for l in lines:
            if l == "@none":
                return True
            if l == "@close":
                self.closing = True
                break
            if l.startswith("@raw "):
                out.append(l[5:])
            elif l.startswith("* ") or l.startswith("+"):
                out.append(l)
            else:
                out.append("%s %s" % (tag, l))
        self.sendraw("".join(l + "\r\n" for l in out).encode("latin-1"))
        return not self.closing

    def read_proxy(self):
        while len(self.buf) < 16:
            if self.buf.startswith(b"PROXY ") and b"\n" in self.buf:
                break
            if not self.fill():
                return
        if self.buf.startswith(PROXY_V2_SIG):
            need = 16 + int.from_bytes(self.buf[14:16], "big")
            while len(self.buf) < need and self.fill():
                pass
            hdr, self.buf = self.buf[:need], self.buf[need:]
            self.log("proxy v2 %s" % hdr.hex())
        elif self.buf.startswith(b"PROXY "):
            line = self.readline()
            self.log("proxy v1 %r" % line)
        else:
            self.log("proxy missing: %r" % self.buf[:16])

    def command(self):
        """One command with its literals: (tag, parts), or None at EOF."""
        line = self.readline()
        if line is None:
            return None
        tag = line.split(b" ", 1)[0].decode("latin-1")
        parts = [line]
        while True:
            m = LITERAL.search(parts[-1])
            if not m:
                return tag, parts
            if not m.group(2):
                r = self.script.reply("LITERAL", DEFAULTS["LITERAL"])
                if not r[0].startswith("+"):
                    self.send(tag, r)
                    return tag, None
                self.send(tag, r)
            data = self.readn(int(m.group(1)))
            line = self.readline() if data is not None else None
            if line is None:
                return None
            parts += [data, line]

    def run(self):
        a = self.args
        self.log("connect %s:%d" % self.peer)
        if a.close:
            return
        if a.proxy:
            self.read_proxy()
        self.send("*", a.greeting.split("\\n") if a.greeting else [DEFAULT_GREETING])
        while not self.eof and not self.closing:
            cmd = self.command()
            if cmd is None:
                break
            tag, parts = cmd
            if parts is None or a.silent:
                continue
            args = tokens(parts)
            verb = args[1].decode("latin-1").upper() if len(args) > 1 else ""
            if verb == "LOGIN" and len(args) == 4:
                self.log("login user=%s pass=%s" % (args[2].hex(), args[3].hex()))
            if verb == "FETCH":
                self.fetch(tag)
            elif verb in DEFAULTS and verb not in ("LITERAL", "UNKNOWN"):
                if not self.send(tag, self.script.reply(verb, DEFAULTS[verb])):
                    break
                if verb == "LOGOUT":
                    break
            else:
                self.send(tag, self.script.reply(verb, DEFAULTS["UNKNOWN"]))

    def fetch(self, tag):
        if self.args.message:
            body = open(self.args.message, "rb").read()
        else:
            body = b"Subject: hello\r\n\r\nhello\r\n"
        self.sendraw(b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body + b")\r\n")
        self.send(tag, ["OK FETCH completed"])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("transcript")
    p.add_argument("--multi", action="store_true")
    p.add_argument("--ready")
    p.add_argument("--reply", action="append", default=[])
    p.add_argument("--greeting")
    p.add_argument("--message")
    p.add_argument("--proxy", action="store_true")
    p.add_argument("--close", action="store_true")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--log")
    a = p.parse_args()
    overrides = []
    for r in a.reply:
        verb, sep, text = r.partition("=")
        if not sep:
            p.error("--reply wants VERB=TEXT, got %r" % r)
        overrides.append((verb.upper(), text))
    script = Script(overrides)
    logf = open(a.log, "a", buffering=1) if a.log else sys.stderr

    def log(msg):
        with lock:
            logf.write("fake_imap[%d] %s\n" % (os.getpid(), msg))
            logf.flush()

    transcript = open(a.transcript, "ab")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(16)
    if a.ready:
        open(a.ready, "w").write("%d\n" % os.getpid())
    log("listening on 127.0.0.1:%d" % a.port)

    def serve(conn, peer):
        try:
            Session(conn, peer, a, script, transcript, log).run()
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            log("close %s:%d" % peer)

    while True:
        conn, peer = srv.accept()
        if not a.multi:
            srv.close()
            serve(conn, peer)
            return
        threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
