#!/usr/bin/env python3
"""fake_pop3.py - a scriptable fake POP3 backend for mailproxy's tests.

Listens on 127.0.0.1:PORT, appends every byte it receives, verbatim, to a
transcript file (flushed after each read), and answers like a sane POP3
server with one mailbox of one message unless told otherwise:

  greeting  +OK fake_pop3 ready
  USER      +OK
  PASS      +OK Logged in.   (any password: the transcript is the check)
  STAT      +OK 1 <size>
  LIST      +OK 1 messages / 1 <size> / .      LIST 1 -> +OK 1 <size>
  UIDL      +OK / 1 fake-uid-1 / .             UIDL 1 -> +OK 1 fake-uid-1
  RETR 1    +OK <size> octets, the message dot-stuffed, "."
  TOP 1 n   +OK, the headers and n body lines dot-stuffed, "."
  NOOP RSET DELE -> +OK;  QUIT -> +OK Bye and close;  anything else -> -ERR

Usage:
  fake_pop3.py PORT TRANSCRIPT [options]
    --multi                 accept connections until killed (default: one)
    --ready FILE            create FILE once listening (tests wait for it)
    --reply VERB=TEXT       override the reply to VERB (repeatable; repeating
                            a VERB queues replies: 1st use, 2nd use, ..., the
                            last one sticks).  TEXT lines are split on a
                            literal "\\n"; CRLF is added.  A reply that does
                            not start with "+OK" to PASS keeps the session
                            in the AUTHORIZATION state.
    --greeting TEXT         the greeting line(s)
    --message FILE          the one message (default: a short one)
    --proxy                 expect a PROXY v1 line or v2 header first; it is
                            recorded (as all bytes are) and also logged
    --delay-greeting SECS   sleep before the greeting
    --close                 close each connection right after accept
    --silent                read and record, never answer
    --log FILE              event log (connect/close/proxy), default stderr

Stdlib only.
"""
import argparse
import os
import socket
import sys
import threading
import time

DEFAULT_MESSAGE = (b"From: a@example.test\r\nTo: alice@example.test\r\n"
                   b"Subject: fake\r\n\r\nhello from fake_pop3\r\n"
                   b".a line that starts with a dot\r\n")
PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"

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


def normalize(msg):
    """The message with CRLF line ends, as it travels."""
    return msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def dot_stuff(lines):
    return [b"." + l if l.startswith(b".") else l for l in lines]


class Session:
    def __init__(self, conn, peer, args, script, transcript, log, message):
        self.conn, self.peer, self.args = conn, peer, args
        self.script, self.transcript, self.log = script, transcript, log
        self.message = message
        self.buf = b""
        self.eof = False

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

    def send_raw(self, data):
        if self.args.silent:
            return
        try:
            self.conn.sendall(data)
        except OSError:
            self.eof = True

    def send(self, lines):
        self.send_raw("".join(l + "\r\n" for l in lines).encode("latin-1"))

    def send_multi(self, first, lines):
        body = b"".join(l + b"\r\n" for l in dot_stuff(lines))
        self.send_raw(first.encode("latin-1") + b"\r\n" + body + b".\r\n")

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

    def run(self):
        a = self.args
        self.log("connect %s:%d" % self.peer)
        if a.close:
            return
        if a.proxy:
            self.read_proxy()
        if a.delay_greeting:
            time.sleep(a.delay_greeting)
        self.send(a.greeting.split("\\n") if a.greeting else
                  ["+OK fake_pop3 ready"])
        size = len(self.message)
        lines = self.message[:-2].split(b"\r\n") if self.message else []
        while not self.eof:
            line = self.readline()
            if line is None:
                break
            if a.silent:
                continue
            words = line.split()
            verb = words[0].decode("latin-1").upper() if words else ""
            arg = words[1:]
            if verb == "USER":
                self.send(self.script.reply("USER", ["+OK"]))
            elif verb == "PASS":
                r = self.script.reply("PASS", ["+OK Logged in."])
                self.send(r)
                if r[0].startswith("+OK"):
                    self.log("logged in")
            elif verb == "STAT":
                self.send(self.script.reply("STAT", ["+OK 1 %d" % size]))
            elif verb == "LIST" and arg:
                self.send(["+OK 1 %d" % size])
            elif verb == "LIST":
                self.send_multi("+OK 1 messages", [b"1 %d" % size])
            elif verb == "UIDL" and arg:
                self.send(["+OK 1 fake-uid-1"])
            elif verb == "UIDL":
                self.send_multi("+OK", [b"1 fake-uid-1"])
            elif verb == "RETR":
                self.send_multi("+OK %d octets" % size, lines)
            elif verb == "TOP" and len(arg) == 2:
                n = int(arg[1])
                head = lines.index(b"") if b"" in lines else len(lines)
                self.send_multi("+OK", lines[:head + 1 + n])
            elif verb in ("NOOP", "RSET", "DELE"):
                self.send(self.script.reply(verb, ["+OK"]))
            elif verb == "QUIT":
                self.send(self.script.reply("QUIT", ["+OK Bye"]))
                break
            else:
                self.send(self.script.reply(verb, ["-ERR unknown command"]))


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
    p.add_argument("--delay-greeting", type=float, default=0)
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
    message = DEFAULT_MESSAGE
    if a.message:
        with open(a.message, "rb") as f:
            message = f.read()
    message = normalize(message)
    if message and not message.endswith(b"\r\n"):
        message += b"\r\n"
    logf = open(a.log, "a", buffering=1) if a.log else sys.stderr

    def log(msg):
        with lock:
            logf.write("fake_pop3[%d] %s\n" % (os.getpid(), msg))
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
            Session(conn, peer, a, script, transcript, log, message).run()
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
