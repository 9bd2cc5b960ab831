#!/usr/bin/env python3
"""s6_launch.py - s6-tcpserver (+ s6-tlsd) for the tests, where Debian 12
has no s6-networking.

Listens on HOST:PORT and, for each connection, runs CMD ARGS... the way
s6-tcpserver + s6-tlsd would: CMD's fd 0 and 1 are NOT the client's socket
but pipes (default) or one end of a UNIX socketpair (--socketpair), and a
relay thread copies bytes between them and the client.  The environment
says who the client is, as s6-tcpserverd writes it:

  PROTO=TCP TCPREMOTEIP TCPREMOTEPORT TCPLOCALIP TCPLOCALPORT

With --tls CERT KEY the client's TLS is ended here first, as s6-tlsd does,
and what the handshake agreed is added, as s6-tlsd names it:

  SSL_PROTOCOL (TLSv1.3) SSL_CIPHER (TLS_AES_256_GCM_SHA384)
  SSL_TLS_SNI_SERVERNAME (only when the client sent SNI)

Then --env NAME=VALUE (repeatable) sets or overrides any variable; VALUE
is read with Python escapes (\\r \\n \\x1b ...) and passed as those bytes,
so the tests can plant hostile values; --unset NAME removes one.

Usage:
  s6_launch.py PORT [--host H] [--socketpair] [--tls CERT KEY]
               [--env NAME=VALUE]... [--unset NAME]... [--ready FILE]
               -- CMD ARGS...

CMD's stderr is ours (the log).  Stdlib only.
"""
import argparse
import os
import socket
import ssl
import subprocess
import sys
import threading


def unescape(s):
    return s.encode("latin-1", "backslashreplace").decode(
        "unicode_escape").encode("latin-1")


def copy(src_read, dst_write, done):
    """Copy until EOF, then close the writing side."""
    try:
        while True:
            b = src_read(65536)
            if not b:
                break
            dst_write(b)
    except (OSError, ValueError, ssl.SSLError):
        pass
    finally:
        done()


def environment(a, conn, tls, sni):
    env = dict(os.environb)
    rip, rport = conn.getpeername()[:2]
    lip, lport = conn.getsockname()[:2]
    env.update({b"PROTO": b"TCP", b"TCPREMOTEIP": rip.encode(),
                b"TCPREMOTEPORT": str(rport).encode(),
                b"TCPLOCALIP": lip.encode(),
                b"TCPLOCALPORT": str(lport).encode()})
    if tls is not None:
        env[b"SSL_PROTOCOL"] = tls.version().encode()
        env[b"SSL_CIPHER"] = tls.cipher()[0].encode()
        if sni:
            env[b"SSL_TLS_SNI_SERVERNAME"] = sni.encode()
    for kv in a.env:
        k, _, v = kv.partition("=")
        env[k.encode()] = unescape(v)
    for k in a.unset:
        env.pop(k.encode(), None)
    return env


def serve(a, ctx, raw):
    sni = []
    sock = raw
    try:
        if ctx is not None:
            raw.settimeout(10)
            sock = ctx.wrap_socket(raw, server_side=True)
            sock.settimeout(None)
            sni = getattr(sock, "_sni", [])
        env = environment(a, sock, sock if ctx else None,
                          sni[0] if sni else None)
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("s6_launch.py: %s\n" % e)
        sock.close()
        return
    if a.socketpair:
        ours, theirs = socket.socketpair()
        p = subprocess.Popen(a.cmd, stdin=theirs, stdout=theirs, env=env)
        theirs.close()
        to_child, from_child = ours.sendall, ours.recv
        def close_to():
            try:
                ours.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    else:
        p = subprocess.Popen(a.cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env, bufsize=0)
        def to_child(b):
            p.stdin.write(b)
        from_child = p.stdout.read
        close_to = p.stdin.close

    def close_client():
        # s6-tlsd's default (-s): EOF as a TCP half-close, no close_notify
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=copy, args=(sock.recv, to_child, close_to),
                         daemon=True)
    t.start()
    copy(from_child, sock.sendall, close_client)
    p.wait()
    t.join(1)
    sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--socketpair", action="store_true")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--unset", action="append", default=[])
    p.add_argument("--ready")
    p.add_argument("cmd", nargs="+")
    a = p.parse_args()
    ctx = None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*a.tls)

        def on_sni(s, name, _ctx):
            s._sni = [name] if name else []
        ctx.sni_callback = on_sni
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(64)
    if a.ready:
        open(a.ready, "w").close()
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(a, ctx, conn),
                         daemon=True).start()


if __name__ == "__main__":
    main()
