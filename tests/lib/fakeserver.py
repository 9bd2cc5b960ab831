"""fakeserver.py - what the fake mail backends (fake_smtp.py, fake_pop3.py,
fake_imap.py) share: scripted replies, a connection that records every byte
it receives to the transcript, the PROXY header reader, optional TLS, the
common options and the accept loop.  Each fake adds its protocol's dialogue.

TLS (all off by default; Python's ssl module):
  --tls                   implicit TLS: the handshake comes first (after the
                          PROXY header when --proxy: the header is read
                          byte-exact, so a ClientHello sent with it is kept)
  --starttls              advertise STARTTLS (SMTP EHLO, IMAP capabilities)
                          or STLS (POP3 CAPA) until TLS is on, and upgrade
                          on the command (reply "220 2.0.0 Ready to start
                          TLS" / "+OK Begin TLS negotiation" / "<tag> OK
                          Begin TLS negotiation now"; --reply STARTTLS= or
                          STLS= overrides it, and a reply that is not
                          220/+OK/OK does not upgrade).  Bytes the client
                          pipelined after the command are discarded (and
                          logged), as a fixed server does.
  --cert FILE --key FILE  the server cert and key (PEM; --key may be left
                          out when FILE holds both)
  --sni-cert NAME=CRT[,KEY]  serve CRT instead when the client's SNI is NAME
                          (repeatable)
  --client-ca FILE        ask for a client cert, verified against FILE
  --require-client-cert   and refuse the handshake without one
  --tls-min V --tls-max V protocol bounds: TLSv1.2 or TLSv1.3
Every handshake logs one event line:
  tls ok version=TLSv1.3 cipher=NAME sni=NAME|- client_cert=CN|none reused=0|1
or "tls handshake failed: REASON".  The transcript holds the bytes as
received in clear: before STARTTLS as they came, after it decrypted.

Faults every fake takes: --close (close right after accept), --close-on
STATE (close unanswered in that state: see Connection.close_on; logs
"closing on STATE"), --silent (never answer); --greeting-file FILE (the
greeting's lines from FILE: one bigger than argv takes), --flood-line
TEXT (the line a fake's --flood-after sends for ever)."""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"

lock = threading.Lock()
# the TLS socket of this thread's connection (wrap_socket detaches the plain
# one): serve() closes it, with a close_notify, when the session ends
_local = threading.local()


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
        self.tls = False

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
        """Fault injection: never read again, send bytes for ever: lines
        of 76 "y", or --flood-line's (an endless "250-..." reply)."""
        self.log("flooding")
        line = (self.args.flood_line.encode("latin-1") if self.args.flood_line
                else b"y" * 76)
        data = (line + b"\r\n") * max(1, 20000 // (len(line) + 2))
        while True:
            try:
                self.conn.sendall(data)
            except OSError:
                return

    def read_proxy(self):
        if self.args.tls:
            return self.read_proxy_exact()
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

    def recv_exact(self, n):
        """n bytes straight from the socket (no read-ahead), recorded."""
        data = b""
        while len(data) < n:
            try:
                more = self.conn.recv(n - len(data))
            except OSError:
                more = b""
            if not more:
                self.eof = True
                break
            data += more
        self.record(data)
        return data

    def peek(self, n):
        """Up to n bytes, waiting until n came or the peer stopped sending
        (bounded: 5 s); nothing is consumed."""
        end = time.time() + 5
        data = b""
        while len(data) < n and time.time() < end:
            try:
                data = self.conn.recv(n, socket.MSG_PEEK)
            except OSError:
                return data
            if not data:
                return data
            if data.startswith(b"PROXY ") and b"\n" in data:
                return data
            if len(data) < n:
                time.sleep(0.01)
        return data

    def read_proxy_exact(self):
        """The PROXY header without reading a byte past it: with implicit
        TLS the ClientHello may follow in the same segment."""
        head = self.peek(16)
        if len(head) >= 16 and head.startswith(PROXY_V2_SIG):
            need = 16 + int.from_bytes(head[14:16], "big")
            hdr = self.recv_exact(need)
            self.log("proxy v2 %s" % hdr.hex())
        elif head.startswith(b"PROXY "):
            head = self.peek(108)
            n = head.find(b"\n")
            line = self.recv_exact(n + 1 if n >= 0 else len(head))
            self.log("proxy v1 %r" % line.rstrip(b"\r\n"))
        else:
            self.log("proxy missing: %r" % head[:16])

    # TLS

    def handshake(self):
        """Wrap the socket in TLS as the server; False (and eof) on failure."""
        a = self.args
        raw = self.conn
        try:
            tls = a.tls_context.wrap_socket(raw, server_side=True,
                                            do_handshake_on_connect=False)
            tls.settimeout(10)
            tls.do_handshake()
            tls.settimeout(None)
        except (OSError, ValueError) as e:
            self.log("tls handshake failed: %s" % e)
            self.eof = True
            return False
        self.conn = tls
        self.tls = True
        _local.tls = tls
        cert = tls.getpeercert()
        cn = "none"
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        cipher = tls.cipher()
        self.log("tls ok version=%s cipher=%s sni=%s client_cert=%s reused=%d" % (
            tls.version(), cipher[0] if cipher else "-",
            getattr(tls, "fake_sni", None) or "-", cn, tls.session_reused))
        return True

    def implicit_tls(self):
        """With --tls: the handshake; False when it failed."""
        if not self.args.tls or self.tls:
            return True
        return self.handshake()

    def starttls(self):
        """After the STARTTLS/STLS go-ahead: drop what the client pipelined,
        then the handshake; False when it failed."""
        if self.buf:
            self.log("starttls: discarded %d pipelined bytes %r" % (
                len(self.buf), self.buf[:64]))
            self.buf = b""
        return self.handshake()

    def close_on(self, state):
        """Fault injection (--close-on STATE): True, and the connection is
        to close unanswered, when STATE is the one named: GREETING (once
        the greeting is out), TLS (once the STARTTLS/STLS go-ahead is out,
        before the handshake), LITERAL (IMAP: once a literal's go-ahead is
        out) or a command's verb (as it arrives, before any reply)."""
        want, _, nth = (self.args.close_on or "").partition("#")
        if want != state:
            return False
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen < int(nth or 1):
            return False
        self.log("closing on %s" % state)
        self.eof = True
        return True

    def offer_starttls(self):
        """True while STARTTLS/STLS is to be advertised."""
        return bool(self.args.starttls) and not self.tls


def parser(doc):
    """The options every fake takes; each adds its own."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("transcript")
    p.add_argument("--multi", action="store_true")
    p.add_argument("--ready")
    p.add_argument("--reply", action="append", default=[])
    p.add_argument("--greeting")
    p.add_argument("--greeting-file")
    p.add_argument("--flood-line")
    p.add_argument("--proxy", action="store_true")
    p.add_argument("--close", action="store_true")
    p.add_argument("--close-on", type=str.upper)
    p.add_argument("--silent", action="store_true")
    p.add_argument("--log")
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--sni-cert", action="append", default=[])
    p.add_argument("--client-ca")
    p.add_argument("--require-client-cert", action="store_true")
    p.add_argument("--tls-min")
    p.add_argument("--tls-max")
    return p


def tls_context(p, a):
    """The server context of --tls/--starttls, or None."""
    if not (a.tls or a.starttls):
        return None
    if not a.cert:
        p.error("--tls and --starttls want --cert")
    versions = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}

    def make(cert, key):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key or None)
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED if a.require_client_cert else ssl.CERT_OPTIONAL
        for opt, attr in ((a.tls_min, "minimum_version"), (a.tls_max, "maximum_version")):
            if opt:
                if opt not in versions:
                    p.error("--tls-min/--tls-max want TLSv1.2 or TLSv1.3, got %r" % opt)
                setattr(ctx, attr, versions[opt])
        return ctx

    ctx = make(a.cert, a.key)
    by_name = {}
    for spec in a.sni_cert:
        name, sep, files = spec.partition("=")
        if not sep:
            p.error("--sni-cert wants NAME=CRT[,KEY], got %r" % spec)
        crt, _, key = files.partition(",")
        by_name[name.lower()] = make(crt, key)

    def sni(sock, name, _ctx):
        sock.fake_sni = name
        if name and name.lower() in by_name:
            sock.context = by_name[name.lower()]
        return None

    ctx.sni_callback = sni
    return ctx


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
    if a.greeting_file:
        # the --greeting of FILE's lines: a greeting too big for argv
        with open(a.greeting_file, encoding="latin-1", newline="") as f:
            a.greeting = "\\n".join(f.read().splitlines())
    a.tls_context = tls_context(p, a)
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
        _local.tls = None
        try:
            session(conn, peer, script, transcript, log)
            if a.hold:
                log("holding %s:%d" % peer)
                time.sleep(a.hold)
        finally:
            if _local.tls is not None:
                conn, _local.tls = _local.tls, None
                try:
                    # close_notify without waiting for the peer's
                    conn.setblocking(False)
                    conn = conn.unwrap()
                except (OSError, ValueError):
                    pass
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
