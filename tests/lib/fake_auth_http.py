#!/usr/bin/env python3
"""fake_auth_http.py - an nginx-compatible mail auth_http service for tests.

Listens on 127.0.0.1:PORT (HTTP/1.0, one request per connection, a thread
per connection), appends every raw request it receives, byte for byte, to the
--requests file followed by a line "=====\\n" (flushed each time), and answers
the way nginx's ngx_mail_auth_http_module expects:

  success   HTTP/1.0 200 OK / Auth-Status: OK / Auth-Server: ADDR /
            Auth-Port: PORT / [Auth-User: NEW] / Auth-Pass: <password>
  failure   HTTP/1.0 200 OK / Auth-Status: Invalid login or password /
            [Auth-Wait: N] / [Auth-Error-Code: CODE]  (the last for SMTP only)

Checks (with --users FILE, lines "user:password"; the password is everything
after the first ":" and may hold anything but a newline):
  Auth-Method plain   Auth-User/Auth-Pass %XX-decoded (nginx 1.22 escapes
                      bytes 0x00-0x20 and "%"; DEL and 8-bit bytes come as
                      they are) and compared byte for byte
                      (nginx also sends "plain" for SMTP AUTH LOGIN)
  Auth-Method apop    Auth-Pass == hex MD5(Auth-Salt + password)
  Auth-Method cram-md5  Auth-Pass == hex HMAC-MD5(key=password, msg=Auth-Salt)
  Auth-Method none    (SMTP without AUTH) accepted; the user is empty
  Auth-Method external  accepted if Auth-User is a known user
The Auth-Salt is used as the header value nginx sent ("<pid.time@name>"; the
CRLF that ends it in nginx's memory is the header line's own end).  Without
--users every plain/none/external login is accepted (apop and cram-md5 can
not be checked and are refused).  Auth-Pass is always sent on success, as it
is: nginx copies the reply's Auth-User/Auth-Pass values verbatim (no %XX
decoding) into the backend login; see --escape-pass.  (A password holding CR
or LF can not be sent that way: Auth-Pass is then left out, which nginx
accepts for SMTP and answers with an internal error for POP3/IMAP.)

Usage:
  fake_auth_http.py PORT --requests FILE [options]
    --users FILE          the accounts (see above)
    --backend ADDR:PORT   Auth-Server/Auth-Port for every protocol
    --backend-smtp ADDR:PORT, --backend-pop3 ..., --backend-imap ...
                          per Auth-Protocol (override --backend)
    --rename-user NEW     send Auth-User: NEW on success
    --wait N              send Auth-Wait: N on failure
    --error-code CODE     send Auth-Error-Code: CODE on SMTP failures
                          (e.g. "535 5.7.8")
    --sasl-error B64      send Auth-Error-SASL: B64 on failures
  (Auth-Method xoauth2/oauthbearer: the token in Auth-Pass is good when it
  ends with the user's password of --users; Auth-Pass is that password)
    --status TEXT         the failure text (default "Invalid login or password")
    --header "Name: value"  an extra response header (repeatable; sent after
                          the Auth-* ones, in every answer but garbage/close)
    --escape-pass         send Auth-Pass %XX-escaped as nginx escapes its own
                          (a buggy service: nginx does not decode it, so the
                          backend gets "p%20w" for "p w")
    --port-prefix STR     put STR before the Auth-Port number ("+": a port
                          nginx refuses)
    --no-status-line      leave the "HTTP/1.0 200 OK" line out
    --mode MODE           ok (default: check the credentials) | fail (always
                          refuse) | garbage (random non-HTTP bytes) | slow
                          (sleep --slow-secs, then answer as ok) | close
                          (close without answering) | badserver (OK with
                          Auth-Server: mail.example.test, a name nginx
                          refuses and mailproxy resolves, to nothing) |
                          badname (OK with Auth-Server:
                          mail_server.example.test, no host name at all) |
                          nostatus (Auth-Server/Auth-Port but no
                          Auth-Status: nginx 1.22 takes it as OK) |
                          bigheaders (OK after 10 KB of X-Filler headers:
                          more than nginx's 1 KB buffer, so an internal error,
                          at once or after auth_http_timeout) |
                          wait-status (Auth-Status: WAIT
                          and Auth-Wait: 1 to this process's first request,
                          then ok) | okrefused (the whole OK answer of ok
                          mode, right or wrong password, then Auth-Status:
                          <--status>) | refusedok (the same, the refusal
                          first) | raw (the bytes of --raw FILE, as they
                          are, whatever was asked)
    --raw FILE            the raw mode's answer
    --drip SECS           send any answer one byte every SECS (a service
                          that trickles until the client's timeout)
    --slow-secs SECS      the slow mode's sleep (default 300)
    --server NAME         send Auth-Server: NAME (a host name, say) in place
                          of the backend's address
    --unix PATH           listen on the unix-domain socket PATH instead of
                          127.0.0.1:PORT (PORT is then ignored), as
                          auth_http unix:PATH:/uri reaches it
    --tls-cert FILE --tls-key FILE
                          speak TLS (an https:// service) with that
                          certificate; each handshake logs "tls sni=NAME|-"
                          or "tls handshake failed: REASON"
    --ready FILE          created once listening
    --log FILE            event log, default stderr: "request N ... -> OK|fail"
                          where N numbers the request in the --requests file
                          (counting what it held at start)

Stdlib only.
"""
import argparse
import hashlib
import hmac
import os
import random
import socket
import ssl
import sys
import threading
import time

SEP = b"=====\n"
MAX_REQUEST = 1 << 20
lock = threading.Lock()
state = {"count": 0, "served": 0}   # requests in the file; by this process


def unescape(v):
    """%XX-decode bytes (nginx's ngx_escape_uri(NGX_ESCAPE_MAIL_AUTH))."""
    out = bytearray()
    i = 0
    while i < len(v):
        c = v[i]
        if c == 0x25 and _ishex(v[i + 1:i + 3]):
            out.append(int(v[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _ishex(b):
    return len(b) == 2 and all(ch in b"0123456789abcdefABCDEF" for ch in b)


def escape(v):
    """%XX-encode what nginx 1.22 escapes in Auth-User/Auth-Pass: bytes
    0x00-0x20 and "%" (DEL and 8-bit bytes go as they are)."""
    out = bytearray()
    for c in v:
        if c <= 0x20 or c == 0x25:
            out += b"%%%02X" % c
        else:
            out.append(c)
    return bytes(out)


def load_users(path):
    users = {}
    if not path:
        return None
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line or line.startswith(b"#") or b":" not in line:
                continue
            u, _, p = line.partition(b":")
            users[u] = p
    return users


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want ADDR:PORT, got %r" % s)
    return host.strip("[]"), port


def parse_request(raw):
    """Header dict (lower-case name -> raw bytes value, the first one wins)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    hdrs = {}
    for l in lines[1:]:
        name, sep, val = l.partition(b":")
        if not sep:
            continue
        hdrs.setdefault(name.strip().lower().decode("latin-1"), val.strip(b" \t"))
    return lines[0], hdrs


class Service:
    def __init__(self, a):
        self.a = a
        self.users = load_users(a.users)
        self.req = open(a.requests, "ab")
        # requests are numbered in the file: go on from what it holds
        with open(a.requests, "rb") as f:
            state["count"] = sum(1 for l in f if l == SEP)
        self.logf = open(a.log, "a") if a.log else sys.stderr

    def log(self, msg):
        with lock:
            self.logf.write("%.3f %s\n" % (time.time(), msg))
            self.logf.flush()

    def record(self, raw):
        with lock:
            self.req.write(raw)
            if not raw.endswith(b"\n"):
                self.req.write(b"\n")
            self.req.write(SEP)
            self.req.flush()
            state["count"] += 1
            state["served"] += 1
            return state["count"], state["served"]

    def backend(self, proto):
        a = self.a
        b = {"smtp": a.backend_smtp, "pop3": a.backend_pop3,
             "imap": a.backend_imap}.get(proto) or a.backend
        return b or ("127.0.0.1", "0")

    def check(self, h):
        """(ok, user, password) for the request's credentials."""
        method = h.get("auth-method", b"").lower()
        proto = h.get("auth-protocol", b"").lower()
        user = unescape(h.get("auth-user", b""))
        given = unescape(h.get("auth-pass", b""))
        salt = h.get("auth-salt", b"")
        if method == b"none":
            return proto == b"smtp", user, b""
        if method in (b"xoauth2", b"oauthbearer"):
            # a bearer token is good when it ends with the user's password
            pw = (self.users or {}).get(user)
            return pw is not None and given.endswith(pw), user, pw
        if self.users is None:
            if method in (b"plain", b"login", b"external"):
                return True, user, given
            return False, user, None
        pw = self.users.get(user)
        if pw is None:
            return False, user, None
        if method in (b"plain", b"login"):
            return hmac.compare_digest(given, pw), user, pw
        if method == b"apop":
            want = hashlib.md5(salt + pw).hexdigest().encode()
            return hmac.compare_digest(given.lower(), want), user, pw
        if method == b"cram-md5":
            want = hmac.new(pw, salt, hashlib.md5).hexdigest().encode()
            return hmac.compare_digest(given.lower(), want), user, pw
        if method == b"external":
            return True, user, pw
        return False, user, None

    def ok_headers(self, h, pw, server=None):
        a = self.a
        proto = h.get("auth-protocol", b"").lower().decode("latin-1")
        addr, port = self.backend(proto)
        out = [b"Auth-Status: OK",
               b"Auth-Server: " + (server or addr).encode(),
               b"Auth-Port: " + (a.port_prefix + port).encode()]
        if a.rename_user:
            out.append(b"Auth-User: " + a.rename_user.encode("latin-1"))
        if pw is not None and (a.escape_pass or not (b"\r" in pw or b"\n" in pw)):
            out.append(b"Auth-Pass: " + (escape(pw) if a.escape_pass else pw))
        return out

    def fail_headers(self, h):
        a = self.a
        out = [b"Auth-Status: " + a.status.encode("latin-1")]
        if a.wait is not None:
            out.append(b"Auth-Wait: %d" % a.wait)
        if a.error_code and h.get("auth-protocol", b"").lower() == b"smtp":
            out.append(b"Auth-Error-Code: " + a.error_code.encode("latin-1"))
        if a.sasl_error:
            out.append(b"Auth-Error-SASL: " + a.sasl_error.encode("latin-1"))
        return out

    def answer(self, n, served, raw):
        """The reply bytes, or None to close without one."""
        a = self.a
        first, h = parse_request(raw)
        mode = a.mode
        if mode == "garbage":
            return bytes(random.choice(range(1, 256)) for _ in range(300)) \
                .replace(b"HTTP", b"XXXX").replace(b"\n", b"\x01")
        if mode == "close":
            return None
        if mode == "raw":
            with open(a.raw, "rb") as f:
                return f.read()
        if mode == "slow":
            time.sleep(a.slow_secs)
        if mode == "wait-status" and served == 1:
            hdrs = [b"Auth-Status: WAIT", b"Auth-Wait: 1"]
        elif mode == "nostatus":
            proto = h.get("auth-protocol", b"").lower().decode("latin-1")
            addr, port = self.backend(proto)
            hdrs = [b"Auth-Server: " + addr.encode(), b"Auth-Port: " + port.encode()]
        elif mode == "fail":
            hdrs = self.fail_headers(h)
        elif mode in ("okrefused", "refusedok"):
            # a service that says yes and no: the no must win
            ok, user, pw = self.check(h)
            self.log("request %d %s: OK and %r" % (n, mode, a.status))
            no = [b"Auth-Status: " + a.status.encode("latin-1")]
            yes = self.ok_headers(h, pw)
            hdrs = yes + no if mode == "okrefused" else no + yes
        else:
            ok, user, pw = self.check(h)
            self.log("request %d %s method=%s proto=%s user=%r -> %s" % (
                n, first.decode("latin-1"), h.get("auth-method", b"").decode("latin-1"),
                h.get("auth-protocol", b"").decode("latin-1"), user,
                "OK" if ok else "fail"))
            if not ok:
                hdrs = self.fail_headers(h)
            else:
                server = {"badserver": "mail.example.test",
                          "badname": "mail_server.example.test"}.get(mode, a.server)
                hdrs = self.ok_headers(h, pw, server)
                if mode == "bigheaders":
                    filler = [b"X-Filler-%03d: %s" % (i, b"x" * 80) for i in range(110)]
                    hdrs = filler + hdrs
        hdrs += [x.encode("latin-1") for x in a.header]
        status = b"" if a.no_status_line else b"HTTP/1.0 200 OK\r\n"
        return status + b"".join(x + b"\r\n" for x in hdrs) + b"\r\n"

    def handle(self, conn, peer):
        if not isinstance(peer, tuple) or len(peer) < 2:
            peer = ("unix", 0)
        try:
            conn.settimeout(30)
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.log("tls handshake failed: %s" % e)
                    return
                self.log("tls sni=%s" % (getattr(conn, "sni", None) or "-"))
            raw = b""
            while b"\r\n\r\n" not in raw and len(raw) < MAX_REQUEST:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                raw += data
            if not raw:
                self.log("connection from %s:%d closed before a request" % peer)
                return
            n, served = self.record(raw)
            self.log("request %d from %s:%d (%d bytes) mode=%s" % (
                n, peer[0], peer[1], len(raw), self.a.mode))
            reply = self.answer(n, served, raw)
            if reply is not None:
                try:
                    if self.a.drip:
                        for i in range(len(reply)):
                            conn.sendall(reply[i:i + 1])
                            time.sleep(self.a.drip)
                    else:
                        conn.sendall(reply)
                except OSError as e:
                    self.log("request %d: send: %s" % (n, e))
        finally:
            try:
                conn.close()
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("--requests", required=True)
    p.add_argument("--users")
    p.add_argument("--backend", type=parse_hostport)
    p.add_argument("--backend-smtp", type=parse_hostport)
    p.add_argument("--backend-pop3", type=parse_hostport)
    p.add_argument("--backend-imap", type=parse_hostport)
    p.add_argument("--rename-user")
    p.add_argument("--wait", type=int)
    p.add_argument("--error-code")
    p.add_argument("--sasl-error")
    p.add_argument("--status", default="Invalid login or password")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--escape-pass", action="store_true")
    p.add_argument("--port-prefix", default="")
    p.add_argument("--no-status-line", action="store_true")
    p.add_argument("--mode", default="ok", choices=[
        "ok", "fail", "garbage", "slow", "close", "badserver", "badname", "nostatus",
        "bigheaders", "wait-status", "okrefused", "refusedok", "raw"])
    p.add_argument("--raw")
    p.add_argument("--drip", type=float, default=0)
    p.add_argument("--slow-secs", type=float, default=300)
    p.add_argument("--server")
    p.add_argument("--unix")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--ready")
    p.add_argument("--log")
    a = p.parse_args()
    svc = Service(a)
    svc.tls = None
    if a.tls_cert:
        svc.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        svc.tls.load_cert_chain(a.tls_cert, a.tls_key)

        def sni(sock, name, ctx):
            sock.sni = name
        svc.tls.sni_callback = sni
    if a.unix:
        if os.path.exists(a.unix):
            os.unlink(a.unix)
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(a.unix)
    else:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", a.port))
    ls.listen(64)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(a.ready + ".tmp", a.ready)
    svc.log("listening on %s mode=%s%s" % (
        "unix:" + a.unix if a.unix else "127.0.0.1:%d" % a.port, a.mode,
        " tls" if svc.tls else ""))
    while True:
        conn, peer = ls.accept()
        threading.Thread(target=svc.handle, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
