#!/usr/bin/env python3
r"""fake_dns.py - a scriptable fake DNS server for mailproxy's resolver tests.

Listens on 127.0.0.1:PORT (or [::1] with --host ::1), over UDP and TCP
(a resolver falls back to TCP when an answer is truncated), answers from
a table given on the command line, and appends every query it gets to a
log file, one line each: "udp PTR 1.0.0.127.in-addr.arpa".

Records (positional, repeatable):
  TYPE:OWNER=VALUE[,VALUE...]
    TYPE   PTR, A, AAAA or CNAME
    OWNER  a name, or for PTR an IP address (turned into its in-addr.arpa
           or ip6.arpa name)
    VALUE  an address (A, AAAA), a name (PTR, CNAME), or a mode:
             !nxdomain  answer NXDOMAIN (rcode 3)
             !nodata    answer NOERROR with no record
             !servfail  answer SERVFAIL (rcode 2)
             !refused   answer REFUSED (rcode 5)
             !timeout   never answer
           or (hostile answers, for any TYPE but CNAME) a broken reply:
             !ptrloop   one record whose data is a compression pointer
                        to itself
             !ownerloop one record whose owner name is such a loop
             !ptrout    one record whose data points past the message
             !cut       one good record (x.example.test or 192.0.2.1),
                        the message cut in its data; TC not set
             !tc        no records and TC set, over UDP and TCP alike
    Names take Python escapes (\x20, \r, \n ...): each label's bytes are
    sent as they are, so a test can send a name no host may have; the
    name is split at its dots first, so \x2e is a dot inside a label.
  A name asked for that has a CNAME in the table is answered with the
  CNAME and then what the target has, as a recursive resolver does.  A
  name not in the table at all is NXDOMAIN.

Usage:
  fake_dns.py PORT QUERYLOG [--host H] [--ready FILE] [--truncate] RECORD...
    --truncate   every UDP reply is empty with the TC bit set: the
                 answer comes over TCP only

Stdlib only.
"""
import argparse
import ipaddress
import os
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "CNAME": 5, "PTR": 12, "AAAA": 28}
NAMES = {v: k for k, v in TYPES.items()}
RCODES = {"!nxdomain": 3, "!servfail": 2, "!refused": 5, "!nodata": 0}
BROKEN = ("!ptrloop", "!ownerloop", "!ptrout", "!cut", "!tc")

lock = threading.Lock()


def labels(name):
    """A dotted name; each label's Python escapes decoded after the split."""
    return [l.encode("latin-1").decode("unicode_escape").encode("latin-1")
            for l in name.rstrip(".").split(".") if l]


def key(name):
    return b".".join(l.lower() for l in labels(name))


def reverse_name(owner):
    try:
        return ipaddress.ip_address(owner).reverse_pointer
    except ValueError:
        return owner


def encode_name(lbls):
    out = b""
    for l in lbls:
        out += bytes([len(l)]) + l
    return out + b"\x00"


def parse_table(records):
    table = {}
    for r in records:
        typ, rest = r.split(":", 1)
        owner, values = rest.split("=", 1)
        if typ == "PTR":
            owner = reverse_name(owner)
        table[(TYPES[typ], key(owner))] = values.split(",")
    return table


def read_qname(msg, off):
    lbls = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return lbls, off
        if n & 0xC0:
            raise ValueError("compression in a question")
        lbls.append(msg[off:off + n])
        off += n


def rdata(qtype, value):
    if qtype == TYPES["A"]:
        return ipaddress.IPv4Address(value).packed
    if qtype == TYPES["AAAA"]:
        return ipaddress.IPv6Address(value).packed
    return encode_name(labels(value))


def answer(table, msg):
    """The reply to one query, or None to stay silent."""
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    lbls, off = read_qname(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    name = b".".join(l.lower() for l in lbls)
    rrs, rcode, owner = [], 0, encode_name(lbls)
    for _ in range(8):
        if qtype != TYPES["CNAME"] and (TYPES["CNAME"], name) in table:
            target = table[(TYPES["CNAME"], name)][0]
            rrs.append((owner, TYPES["CNAME"], rdata(TYPES["CNAME"], target)))
            owner, name = encode_name(labels(target)), key(target)
            continue
        break
    values = table.get((qtype, name))
    if values is None:
        if not rrs:
            rcode = 3
    elif values[0] == "!timeout":
        return None, name, qtype
    elif values[0] in RCODES:
        rcode = RCODES[values[0]]
    elif values[0] in BROKEN:
        return broken(values[0], qid, flags, question, owner, qtype), name, qtype
    else:
        rrs += [(owner, qtype, rdata(qtype, v)) for v in values]
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode,
                      1, len(rrs), 0, 0)
    body = b"".join(o + struct.pack("!HHIH", t, 1, 60, len(d)) + d
                    for o, t, d in rrs)
    return hdr + question + body, name, qtype


def broken(mode, qid, flags, question, owner, qtype):
    """A reply that breaks the rules the way mode says (see the doc)."""
    tc = 0x0200 if mode == "!tc" else 0
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | tc,
                      1, 0 if tc else 1, 0, 0)
    if tc:
        return hdr + question
    start = len(hdr) + len(question)
    if mode == "!ownerloop":
        owner = struct.pack("!H", 0xC000 | start)
    if mode == "!ptrloop":
        data = struct.pack("!H", 0xC000 | (start + len(owner) + 10))
    elif mode == "!ptrout":
        data = struct.pack("!H", 0xC000 | 0x3FF0)
    else:
        data = rdata(qtype, "192.0.2.1" if qtype == TYPES["A"] else
                     "x.example.test")
    msg = hdr + question + owner + struct.pack("!HHIH", qtype, 1, 60,
                                               len(data)) + data
    return msg[:-3] if mode == "!cut" else msg


def record(log, proto, name, qtype):
    with lock:
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (proto, NAMES.get(qtype, qtype),
                                    name.decode("latin-1")))


def truncated(reply):
    """The header and question of a reply, TC set, no records."""
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
    _, off = read_qname(reply, 12)
    return struct.pack("!HHHHHH", qid, flags | 0x0200, qd, 0, 0, 0) + \
        reply[12:off + 4]


def serve_udp(sock, table, log, truncate):
    while True:
        msg, peer = sock.recvfrom(65535)
        try:
            reply, name, qtype = answer(table, msg)
        except (ValueError, IndexError, struct.error):
            continue
        record(log, "udp", name, qtype)
        if reply is not None:
            sock.sendto(truncated(reply) if truncate else reply, peer)


def recv_exactly(conn, n):
    buf = b""
    while len(buf) < n:
        got = conn.recv(n - len(buf))
        if not got:
            return None
        buf += got
    return buf


def serve_tcp_conn(conn, table, log):
    with conn:
        while True:
            hdr = recv_exactly(conn, 2)
            if hdr is None:
                return
            msg = recv_exactly(conn, struct.unpack("!H", hdr)[0])
            if msg is None:
                return
            try:
                reply, name, qtype = answer(table, msg)
            except (ValueError, IndexError, struct.error):
                return
            record(log, "tcp", name, qtype)
            if reply is not None:
                conn.sendall(struct.pack("!H", len(reply)) + reply)


def serve_tcp(sock, table, log):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn, table, log),
                         daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("querylog")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ready")
    p.add_argument("--truncate", action="store_true")
    p.add_argument("records", nargs="*")
    a = p.parse_intermixed_args()
    table = parse_table(a.records)
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.bind((a.host, a.port))
    tcp = socket.socket(fam, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((a.host, a.port))
    tcp.listen(16)
    open(a.querylog, "a").close()
    threading.Thread(target=serve_tcp, args=(tcp, table, a.querylog),
                     daemon=True).start()
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    serve_udp(udp, table, a.querylog, a.truncate)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
