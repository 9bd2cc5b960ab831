#!/usr/bin/env python3
"""chat.py - a precise line-protocol client for mailproxy's tests.

Connects to HOST:PORT, plays a script read from stdin, then reads until the
peer closes, and writes every byte received, verbatim (CRs included), to
stdout.  Use `| od -c` or compare with $'...\\r\\n' strings for byte checks.

Script lines (stdin):
  TEXT            sent as TEXT + CRLF (in --lockstep mode, then waits for
                  the protocol's complete reply to it)
  @wait REGEX     wait until the bytes received since the last send match
                  REGEX (Python re, MULTILINE, on latin-1 text)
  @raw STRING     send STRING with Python escapes decoded (\\r \\n \\x00 ...),
                  nothing appended: pipelining, bare LF, PROXY v2 headers
  @first STRING   like @raw, but sent before the greeting is awaited
                  (--expect-greeting): a PROXY header for a server that
                  speaks only after it
  @sleep SECS     pause
  @shut           half-close (shutdown SHUT_WR)
  @nowait         the next TEXT line does not wait for a reply (lockstep)
  @starttls       the TLS handshake now (after the server's go-ahead);
                  received bytes stay in the output, TLS or not

Options:
  --host H              default 127.0.0.1
  --source ADDR         connect from ADDR (a loopback such as 127.0.0.6)
  --expect-greeting     wait for the greeting before the first line (other
                        than @first lines)
  --lockstep PROTO      smtp | pop3 | imap: after each TEXT line wait for its
                        complete reply (SMTP: DATA body lines up to "." wait
                        for nothing; POP3: multi-line answers to CAPA, LIST,
                        UIDL, RETR, TOP; IMAP: the tagged reply or "+ ")
  --timeout SECS        bound on each wait and on the final wait for EOF (10)
  --linger SECS         at the end, stop after SECS without data instead of
                        waiting for EOF (for peers that do not close)
  --echo                copy the dialogue to stderr as "C: "/"S: " lines
  --tls                 implicit TLS: the handshake right after connecting
  --cafile F            verify the server against F (default: no verify)
  --servername N        SNI and the name verified (default: none sent)
  --cert F --key F      a client certificate
  --alpn P[,P...]       offer these ALPN protocols
  --tls-info F          append "version cipher alpn subject-CN" of each
                        handshake to F

Exit: 0 done (EOF, a reset, or linger ended); 3 a wait timed out or EOF came
first (what was received is still printed); 2 usage or connection error;
4 the TLS handshake failed.
stderr stays empty when the exit is 0 (unless --echo), so `run` output is
exactly the bytes received; on failure it says what was awaited.
"""
import argparse
import os
import re
import select
import socket
import ssl
import sys
import time
import types

SMTP_END = re.compile(rb"(^|\n)\d{3}( [^\n]*)?\r?\n")
POP3_MULTI = {"CAPA", "LIST", "UIDL", "RETR", "TOP"}


class Chat:
    def __init__(self, sock, a):
        self.sock, self.a = sock, a
        self.all = bytearray()   # everything received
        self.mark = 0            # start of the data of the current exchange
        self.eof = False

    def pump(self, timeout):
        """Wait up to timeout for data; False if none came (or EOF)."""
        if self.eof:
            return False
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        if not pending:
            r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
            if not r:
                return False
        try:
            data = self.sock.recv(65536)
        except ssl.SSLWantReadError:
            return True
        except (ConnectionResetError, ssl.SSLError) as e:
            if isinstance(e, ssl.SSLError) and self.a.echo:
                sys.stderr.write("chat.py: %s\n" % e)
            if self.a.echo:
                sys.stderr.write("chat.py: connection reset by peer\n")
            data = b""
        if not data:
            self.eof = True
            return False
        self.all += data
        if self.a.echo:
            for l in data.decode("latin-1").splitlines():
                sys.stderr.write("S: %s\n" % l)
        return True

    def wait(self, pred, what, start=None):
        """Wait until pred(bytes received since start, default the last send)."""
        start = self.mark if start is None else start
        deadline = time.monotonic() + self.a.timeout
        while not pred(bytes(self.all[start:])):
            left = deadline - time.monotonic()
            if self.eof or left <= 0:
                sys.stderr.write("chat.py: timeout/EOF waiting for %s\n" % what)
                return False
            self.pump(left)
        return True

    def send(self, data):
        self.mark = len(self.all)
        if self.a.echo:
            for l in data.decode("latin-1").splitlines():
                sys.stderr.write("C: %s\n" % l)
        self.sock.sendall(data)


def tls_wrap(sock, a):
    """The handshake on sock, as the options say; the TLS socket."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if a.cafile:
        ctx.load_verify_locations(a.cafile)
        ctx.check_hostname = bool(a.servername)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    t = ctx.wrap_socket(sock, server_hostname=a.servername)
    if a.tls_info:
        cert = t.getpeercert() or {}
        cn = [v for f in cert.get("subject", ()) for k, v in f
              if k == "commonName"]
        with open(a.tls_info, "a") as f:
            f.write("%s %s %s %s\n" % (t.version(), t.cipher()[0],
                                       t.selected_alpn_protocol() or "-",
                                       cn[0] if cn else "-"))
    return t


def smtp_done(buf):
    return bool(SMTP_END.search(buf))


def pop3_done(multi):
    def done(buf):
        if not buf.endswith(b"\n"):
            return False
        if buf.startswith(b"+OK") and multi:
            return bool(re.search(rb"\n\.\r?\n", buf))
        return buf.startswith((b"+", b"-ERR"))
    return done


def imap_done(tag):
    pat = re.compile(rb"(^|\n)(" + re.escape(tag) + rb" |\+ |\+\r)[^\n]*\n")
    return lambda buf: bool(pat.search(buf))


def reply_done(proto, tag=b"*"):
    """Whether a whole reply of PROTO came (IMAP: tagged TAG, or a "+")."""
    if proto == "smtp":
        return smtp_done
    if proto == "pop3":
        return pop3_done(False)
    return imap_done(tag)


def connect(port, timeout=10.0):
    """A Chat with 127.0.0.1:PORT, for the scripts that drive one."""
    a = types.SimpleNamespace(timeout=timeout, echo=False, linger=None)
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(None)
    return Chat(sock, a)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--source")
    p.add_argument("--expect-greeting", action="store_true")
    p.add_argument("--lockstep", choices=["smtp", "pop3", "imap"])
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--linger", type=float)
    p.add_argument("--echo", action="store_true")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--cafile")
    p.add_argument("--servername")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--alpn")
    p.add_argument("--tls-info")
    a = p.parse_args()
    try:
        sock = socket.create_connection(
            (a.host, a.port), timeout=a.timeout,
            source_address=(a.source, 0) if a.source else None)
    except OSError as e:
        sys.stderr.write("chat.py: connect %s:%d: %s\n" % (a.host, a.port, e))
        return 2
    if a.tls:
        try:
            sock = tls_wrap(sock, a)
        except (OSError, ssl.SSLError) as e:
            sys.stderr.write("chat.py: TLS handshake: %s\n" % e)
            return 4
    sock.settimeout(None)
    c = Chat(sock, a)
    rc = 0
    greet = reply_done(a.lockstep or "smtp")
    pending_greeting = a.expect_greeting   # awaited after the @first lines
    in_data = False
    nowait = False
    lines = sys.stdin.buffer.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for raw in lines:
        if rc:
            break
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if line.startswith(b"@first "):
            c.send(line[7:].decode("unicode_escape").encode("latin-1"))
            continue
        if pending_greeting:
            pending_greeting = False
            if not c.wait(greet, "greeting", 0):
                rc = 3
                break
        if line.startswith(b"@"):
            cmd, _, arg = line.partition(b" ")
            if cmd == b"@wait":
                rx = re.compile(arg, re.M)
                if not c.wait(lambda b: rx.search(b), arg.decode()):
                    rc = 3
            elif cmd == b"@raw":
                c.send(arg.decode("unicode_escape").encode("latin-1"))
            elif cmd == b"@sleep":
                time.sleep(float(arg))
            elif cmd == b"@shut":
                # under TLS too: Python can send no close_notify and
                # read on, so it is TCP's half-close alone, through a dup
                d = socket.socket(fileno=os.dup(sock.fileno()))
                d.shutdown(socket.SHUT_WR)
                d.close()
            elif cmd == b"@nowait":
                nowait = True
            elif cmd == b"@starttls":
                try:
                    sock.settimeout(a.timeout)
                    sock = c.sock = tls_wrap(sock, a)
                    sock.settimeout(None)
                except (OSError, ssl.SSLError) as e:
                    sys.stderr.write("chat.py: TLS handshake: %s\n" % e)
                    rc = 4
            else:
                sys.stderr.write("chat.py: unknown directive %r\n" % line)
                return 2
            continue
        try:
            c.send(line + b"\r\n")
        except OSError as e:
            sys.stderr.write("chat.py: send: %s\n" % e)
            break
        if nowait or not a.lockstep:
            nowait = False
            continue
        if a.lockstep == "smtp":
            if in_data:
                if line != b".":
                    continue
                in_data = False
            ok = c.wait(smtp_done, "reply to %r" % line)
            if ok and line.upper() == b"DATA" and c.all[c.mark:].startswith(b"354"):
                in_data = True
        elif a.lockstep == "pop3":
            w = line.split()
            multi = bool(w) and w[0].upper().decode() in POP3_MULTI and (
                len(w) == 1 or w[0].upper() in (b"RETR", b"TOP", b"CAPA"))
            ok = c.wait(pop3_done(multi), "reply to %r" % line)
        else:
            tag = line.split(b" ", 1)[0] or b"*"
            ok = c.wait(imap_done(tag), "reply to %r" % line)
        if not ok:
            rc = 3
    if rc == 0 and pending_greeting and not c.wait(greet, "greeting", 0):
        rc = 3
    if rc == 0:
        if a.linger is not None:
            while c.pump(a.linger):
                pass
        else:
            deadline = time.monotonic() + a.timeout
            while not c.eof and time.monotonic() < deadline:
                c.pump(deadline - time.monotonic())
            if not c.eof:
                sys.stderr.write("chat.py: no EOF within %ss\n" % a.timeout)
                rc = 3
    sys.stdout.buffer.write(bytes(c.all))
    sys.stdout.buffer.flush()
    sock.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
