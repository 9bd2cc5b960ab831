"""fakeserver.py - what the fake mail backends (fake_smtp.py, fake_pop3.py,
fake_imap.py) share: scripted replies, a connection that records every byte
it receives to the transcript, the PROXY header reader, the common options
and the accept loop.  Each fake adds its protocol's dialogue."""
import argparse
import os
import socket
import sys
import threading
import time

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


class Connection:
    """One client: a read buffer over the socket, every byte recorded."""

    def __init__(self, conn, peer, args, script, transcript, log):
        self.conn, self.peer, self.args = conn, peer, args
        self.script, self.transcript, self.log = script, transcript, log
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

    def readn(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def send_raw(self, data):
        if self.args.silent:
            return
        try:
            self.conn.sendall(data)
        except OSError:
            self.eof = True

    def stall(self):
        """Fault injection: never read again, but send a line every 0.2 s
        (a backend that stopped reading yet is not idle)."""
        self.log("stalled: reading no more")
        while True:
            try:
                self.conn.sendall(b"* still here\r\n")
            except OSError:
                return
            time.sleep(0.2)

    def flood(self):
        """Fault injection: never read again, send bytes for ever."""
        self.log("flooding")
        data = (b"y" * 76 + b"\r\n") * 256
        while True:
            try:
                self.conn.sendall(data)
            except OSError:
                return

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


def parser(doc):
    """The options every fake takes; each adds its own."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("transcript")
    p.add_argument("--multi", action="store_true")
    p.add_argument("--ready")
    p.add_argument("--reply", action="append", default=[])
    p.add_argument("--greeting")
    p.add_argument("--proxy", action="store_true")
    p.add_argument("--close", action="store_true")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--log")
    p.add_argument("--hold", type=float, default=0)
    return p


def serve(name, p, a, session):
    """Listen on 127.0.0.1:a.port; session(conn, peer, script, transcript,
    log) runs one client.  One connection, or with --multi until killed."""
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
            logf.write("%s[%d] %s\n" % (name, os.getpid(), msg))
            logf.flush()

    transcript = open(a.transcript, "ab")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(16)
    if a.ready:
        open(a.ready, "w").write("%d\n" % os.getpid())
    log("listening on 127.0.0.1:%d" % a.port)

    def one(conn, peer):
        try:
            session(conn, peer, script, transcript, log)
            if a.hold:
                log("holding %s:%d" % peer)
                time.sleep(a.hold)
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
            one(conn, peer)
            return
        threading.Thread(target=one, args=(conn, peer), daemon=True).start()
