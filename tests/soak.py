#!/usr/bin/env python3
"""soak.py - mixed SMTP, POP3 and IMAP sessions through mailproxy at once,
for SOAK_TIME seconds, with faults on both sides, then the books: no
mailproxy process left, no message lost.  Run by tests/soak (make soak),
which starts the real Postfix and Dovecot (tests/lib/mailservers.bash) and
hands their ports over in the environment.

What runs, on loopback only:
  - for each protocol two tcpserver listeners running a private copy of
    ./mailproxy: one straight to the real server ("clean"), one through a
    fault proxy ("faulty backend") that resets or stalls a share of its
    connections in the middle;
  - SOAK_CLIENTS workers (default 6), each running sessions one after the
    other until SOAK_TIME is over, each session a protocol and a fault
    drawn at random (seeded by SOAK_SEED):
      SMTP: a message of 2 KB to 3 MB (dot-stuffed lines too) to
            bob@example.test; faults: reset mid-DATA, vanish mid-DATA
            (close without the final dot), stall 1.5 s mid-DATA then go on,
            half-close right after QUIT
      POP3 RETR / IMAP FETCH of one of alice's seeded messages; faults:
            reset mid-transfer, stop reading 1.5 s then go on, stop
            reading for good (until mailproxy's proxy_timeout cuts it),
            half-close after QUIT/LOGOUT
The books at the end:
  - every message whose DATA got a 250 is in bob's Maildir, its body byte
    for byte (Postfix adds headers; Dovecot stores LF line ends), and every
    stored message is one that was sent whole;
  - every RETR and FETCH that completed got the bytes the store holds;
  - every session without an injected fault, on a clean listener, ended
    as it should;
  - no process of the private mailproxy copy runs once the listeners have
    been idle for the longest timeout;
then a table: sessions by protocol, faults injected, messages acknowledged
and found, leaked processes, mailproxy's log lines by result= word.  The
exit status is 1 when anything leaked, was lost or went wrong.

Environment: SOAK_TIME (180), SOAK_CLIENTS (6), SOAK_SEED (1),
SOAK_DROP=1 (the checker drops one acknowledged message from what it
found in the store: a planted failure that must turn the run red).  From tests/soak: MAILPROXY, SOAK_DIR,
POSTFIX_PORT, DOVECOT_POP3_PORT, DOVECOT_IMAP_PORT, ALICE_MAILDIR,
BOB_MAILDIR, MS_MAIL_USER.  Stdlib only."""
import asyncio
import collections
import hashlib
import os
import pwd
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

E = os.environ
SOAK_TIME = float(E.get("SOAK_TIME", "180"))
CLIENTS = int(E.get("SOAK_CLIENTS", "6"))
SEED = int(E.get("SOAK_SEED", "1"))
DIR = E["SOAK_DIR"]
PROXY_TIMEOUT = 4      # mailproxy's --proxy-timeout and --timeout, seconds
STALL = 1.5            # a stall within the timeout
SEEDED = 8             # alice's messages

rng = random.Random(SEED)
stats = collections.Counter()          # (protocol, what) -> n
faults = collections.Counter()         # fault name -> n
errors = []                            # what went wrong, for the report
acked = {}                             # token -> sha256 of the LF body
sent_whole = {}                        # token -> sha256, every message sent whole
current = {}                           # task -> its client port, for the log
seeded = {}                            # subject -> (crlf bytes, sha256)


def sha(b):
    return hashlib.sha256(b).hexdigest()


_pool = random.Random(0)
LINES = ["".join(_pool.choice("abcdefghijklmnop -:") for _ in range(_pool.randint(1, 90)))
         .encode() for _ in range(4000)]
LINES += [b"." + l for l in LINES[:80]]


def body(n, token):
    """A CRLF message of about n bytes, some lines starting with a dot:
    lines drawn from a pool, so that making 3 MB takes milliseconds and
    never stalls the clients' event loop past mailproxy's timeouts."""
    r = random.Random(token)
    lines = [b"Subject: " + token.encode(), b"Message-ID: <" + token.encode() + b"@soak>", b""]
    size = 0
    while size < n:
        line = r.choice(LINES)
        lines.append(line)
        size += len(line) + 2
    return b"\r\n".join(lines) + b"\r\n"


def stuff(msg):
    return re.sub(rb"(?m)^\.", b"..", msg)


# --- processes ------------------------------------------------------------

procs = []


def spawn(argv, log):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(log, "ab"),
                         stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(p)
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ours():
    """Pids of processes running the private copy of mailproxy."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/exe" % d) == MP:
                    found.append(int(d))
            except OSError:
                pass
    return found


# --- the backend fault proxy ----------------------------------------------

async def pump(r, w, state, limit):
    """Copy r to w; state["fault"] may reset or stall once limit bytes passed."""
    moved = 0
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            moved += len(data)
            if state["fault"] and moved >= limit:
                kind = state["fault"]
                state["fault"] = None
                faults[kind] += 1
                if kind == "be-reset":
                    for x in state["writers"]:
                        x.get_extra_info("socket").setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        x.transport.abort()
                    return
                await asyncio.sleep(STALL if kind == "be-stall" else 30)
            w.write(data)
            await w.drain()
        if w.can_write_eof():
            w.write_eof()
    except (OSError, ConnectionError):
        pass


async def fault_conn(cr, cw, backend):
    try:
        br, bw = await asyncio.open_connection("127.0.0.1", backend)
    except OSError:
        cw.close()
        return
    roll = rng.random()
    kind = None
    if roll < 0.10:
        kind = "be-reset"
    elif roll < 0.20:
        kind = "be-stall"
    elif roll < 0.25:
        kind = "be-stall-forever"
    state = {"fault": kind, "writers": [cw, bw]}
    # the fault strikes in the backend's replies (down) or in what goes up,
    # a while into the session: past the login, inside a transfer
    limit = rng.randint(20000, 400000)
    down = asyncio.ensure_future(pump(br, cw, state, limit))
    up = asyncio.ensure_future(pump(cr, bw, state, limit))
    await asyncio.wait([down], timeout=60)
    up.cancel()
    for w in (cw, bw):
        try:
            w.close()
        except (OSError, RuntimeError):
            pass


# --- the clients ----------------------------------------------------------

class Sess:
    def __init__(self, r, w):
        self.r, self.w, self.buf = r, w, bytearray()

    async def until(self, pat, secs=20):
        p = re.compile(pat, re.S)
        end = time.monotonic() + secs
        while True:
            m = p.search(self.buf)
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r" % pat)
            data = await asyncio.wait_for(self.r.read(262144), left)
            if not data:
                raise EOFError("eof before %r" % pat)
            self.buf += data

    async def lines(self, prefix, n, secs=20):
        """Until n complete lines start with prefix."""
        pat = re.compile(rb"(?m)^" + prefix + rb"[^\n]*\n")
        end = time.monotonic() + secs
        while len(pat.findall(self.buf)) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("not %d lines %r" % (n, prefix))
            data = await asyncio.wait_for(self.r.read(262144), left)
            if not data:
                raise EOFError("eof before %d lines %r" % (n, prefix))
            self.buf += data

    async def send(self, b):
        self.w.write(b)
        await asyncio.wait_for(self.w.drain(), 20)

    async def eof(self, secs):
        end = time.monotonic() + secs
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no eof")
            data = await asyncio.wait_for(self.r.read(262144), left)
            if not data:
                return
            self.buf += data

    def reset(self):
        s = self.w.get_extra_info("socket")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.w.transport.abort()


async def connect(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setblocking(False)
    await asyncio.get_running_loop().sock_connect(s, ("127.0.0.1", port))
    r, w = await asyncio.open_connection(sock=s, limit=1 << 20)
    sess = Sess(r, w)
    current[asyncio.current_task()] = s.getsockname()[1]
    return sess


async def smtp(port, fault, n):
    token = "soak-%d-%d" % (SEED, n)
    msg = body(rng.choice([2000, 20000, 200000, 1000000, 3000000]), token)
    wire = stuff(msg)
    s = await connect(port)
    await s.until(rb"^220 [^\n]*\n")
    await s.send(b"HELO soak\r\n")
    await s.until(rb"\n250 [^\n]*\n")
    await s.send(b"MAIL FROM:<alice@example.test>\r\n")
    await s.lines(rb"250 ", 2)
    await s.send(b"RCPT TO:<bob@example.test>\r\n")
    await s.lines(rb"250 ", 3)
    await s.send(b"DATA\r\n")
    await s.until(rb"\n354 [^\n]*\n")
    cut = rng.randint(1, len(wire) - 1)
    if fault == "cl-reset":
        await s.send(wire[:cut])
        s.reset()
        return "faulted"
    if fault == "cl-vanish":
        await s.send(wire[:cut])
        s.w.close()
        return "faulted"
    if fault == "cl-stall":
        await s.send(wire[:cut])
        await asyncio.sleep(STALL)
        wire = wire[cut:]
    await s.send(wire + b".\r\nQUIT\r\n")
    sent_whole[token] = sha(msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1])
    if fault == "cl-shut":
        s.w.write_eof()
    await s.lines(rb"250 ", 4, 60)
    # the 4th 250 is the answer to the message: it is acknowledged
    acked[token] = sent_whole[token]
    await s.until(rb"\n221 ", 20)
    await s.eof(10)
    s.w.close()
    return "ok"


def seeded_check(got):
    subj = re.search(rb"Subject: (seed-\d+)", got)
    if not subj or seeded.get(subj.group(1).decode(), (None, None))[1] != sha(got):
        return False
    return True


async def pop3(port, fault, n):
    k = rng.randint(1, SEEDED)
    s = await connect(port, 16384 if fault in ("cl-stall", "cl-stall-forever") else None)
    await s.until(rb"^\+OK[^\n]*\n")
    await s.send(b"USER alice\r\n")
    await s.until(rb"\n\+OK[^\n]*\n")
    await s.send(b"PASS secret\r\n")
    await s.lines(rb"\+OK", 3)
    start = len(s.buf)
    await s.send(b"RETR %d\r\n" % k)
    if fault == "cl-reset":
        await asyncio.sleep(rng.random() * 0.05)
        s.reset()
        return "faulted"
    if fault in ("cl-stall", "cl-stall-forever"):
        await s.until(rb"\+OK[^\n]*\n.{1000}", 20)
        if fault == "cl-stall-forever":
            # mailproxy must give up on this reader within proxy_timeout
            await asyncio.sleep(PROXY_TIMEOUT + 3)
            try:
                await s.eof(PROXY_TIMEOUT + 10)
            except (ConnectionError, OSError):
                pass
            s.w.close()
            return "faulted"
        await asyncio.sleep(STALL)
    await s.until(rb"\r\n\.\r\n", 60)
    resp = bytes(s.buf[start:])
    hdr = resp.index(b"\r\n") + 2
    end = resp.index(b"\r\n.\r\n", hdr - 2) + 2
    got = re.sub(rb"(?m)^\.\.", b".", resp[hdr:end])
    if not seeded_check(got):
        errors.append("pop3: RETR %d returned %d bytes unlike the store" % (k, len(got)))
        stats[("pop3", "mismatch")] += 1
    else:
        stats[("pop3", "verified")] += 1
    await s.send(b"QUIT\r\n")
    if fault == "cl-shut":
        s.w.write_eof()
    await s.until(rb"\r\n\.\r\n.*\+OK", 20)
    await s.eof(10)
    s.w.close()
    return "ok"


async def imap(port, fault, n):
    k = rng.randint(1, SEEDED)
    s = await connect(port, 16384 if fault in ("cl-stall", "cl-stall-forever") else None)
    await s.until(rb"^\* OK[^\n]*\n")
    await s.send(b"a LOGIN alice secret\r\n")
    await s.until(rb"\na OK[^\n]*\n")
    await s.send(b"b EXAMINE INBOX\r\n")
    await s.until(rb"\nb OK[^\n]*\n")
    start = len(s.buf)
    await s.send(b"c FETCH %d BODY.PEEK[]\r\n" % k)
    if fault == "cl-reset":
        await asyncio.sleep(rng.random() * 0.05)
        s.reset()
        return "faulted"
    if fault in ("cl-stall", "cl-stall-forever"):
        await s.until(rb"\{\d+\}\r\n.{1000}", 20)
        if fault == "cl-stall-forever":
            await asyncio.sleep(PROXY_TIMEOUT + 3)
            try:
                await s.eof(PROXY_TIMEOUT + 10)
            except (ConnectionError, OSError):
                pass
            s.w.close()
            return "faulted"
        await asyncio.sleep(STALL)
    await s.until(rb"\nc OK[^\n]*\n", 60)
    resp = bytes(s.buf[start:])
    m = re.search(rb"\{(\d+)\}\r\n", resp)
    got = resp[m.end():m.end() + int(m.group(1))] if m else b""
    if not seeded_check(got):
        errors.append("imap: FETCH %d returned %d bytes unlike the store" % (k, len(got)))
        stats[("imap", "mismatch")] += 1
    else:
        stats[("imap", "verified")] += 1
    await s.send(b"d LOGOUT\r\n")
    if fault == "cl-shut":
        s.w.write_eof()
    await s.until(rb"\nd OK", 20)
    await s.eof(10)
    s.w.close()
    return "ok"


RUN = {"smtp": smtp, "pop3": pop3, "imap": imap}
CLIENT_FAULTS = {
    "smtp": ["cl-reset", "cl-vanish", "cl-stall", "cl-shut"],
    "pop3": ["cl-reset", "cl-stall", "cl-stall-forever", "cl-shut"],
    "imap": ["cl-reset", "cl-stall", "cl-stall-forever", "cl-shut"],
}


async def worker(w, ports, deadline):
    n = 0
    while time.monotonic() < deadline:
        n += 1
        proto = rng.choice(["smtp", "smtp", "pop3", "imap"])
        fault = rng.choice(CLIENT_FAULTS[proto]) if rng.random() < 0.3 else None
        faulty_be = rng.random() < 0.25
        port = ports[proto]["faulty" if faulty_be else "clean"]
        stats[(proto, "sessions")] += 1
        if fault:
            faults[fault] += 1
        try:
            how = await RUN[proto](port, fault, w * 100000 + n)
        except Exception as e:  # noqa: BLE001 - every way a session breaks is counted
            how = "broke"
            if not fault and not faulty_be:
                errors.append("%s session %d-%d (client=127.0.0.1:%s), no fault injected: %s: %s"
                              % (proto, w, n, current.get(asyncio.current_task()),
                                 type(e).__name__, e))
                stats[(proto, "failed")] += 1
        stats[(proto, how)] += 1


# --- the store ------------------------------------------------------------

def seed_alice():
    md = E["ALICE_MAILDIR"]
    u = pwd.getpwnam(E.get("MS_MAIL_USER", "mail"))
    for d in ("", "/new", "/cur", "/tmp"):
        os.makedirs(md + d, exist_ok=True)
        os.chown(md + d, u.pw_uid, u.pw_gid)
    sizes = [500, 5000, 50000, 300000, 1000000, 2000000, 3000000, 4000000]
    for i in range(SEEDED):
        subj = "seed-%d" % (i + 1)
        msg = body(sizes[i], subj)
        seeded[subj] = (msg, sha(msg))
        name = "%d.seed%d.soak" % (int(time.time()), i)
        with open(os.path.join(md, "tmp", name), "wb") as f:
            f.write(msg)
        os.chown(os.path.join(md, "tmp", name), u.pw_uid, u.pw_gid)
        os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))


def store():
    """token -> sha256 of the stored body, for bob's messages."""
    md, found = E["BOB_MAILDIR"], {}
    for d in ("new", "cur"):
        try:
            names = os.listdir(os.path.join(md, d))
        except OSError:
            continue
        for name in names:
            try:
                data = open(os.path.join(md, d, name), "rb").read()
            except OSError:
                continue
            head, _, rest = data.partition(b"\n\n")
            m = re.search(rb"(?m)^Subject: (soak-\d+-\d+)$", head)
            if m:
                found[m.group(1).decode()] = sha(rest)
    return found


# --- main -----------------------------------------------------------------

def main():
    global MP
    os.makedirs(DIR, exist_ok=True)
    # a private copy: its processes are told apart from any other mailproxy
    MP = os.path.join(DIR, "mailproxy-soak")
    shutil.copy(E["MAILPROXY"], MP)
    seed_alice()
    backends = {"smtp": int(E["POSTFIX_PORT"]), "pop3": int(E["DOVECOT_POP3_PORT"]),
                "imap": int(E["DOVECOT_IMAP_PORT"])}
    extra = {"smtp": ["--smtp-auth=none", "--xclient=on"], "pop3": [], "imap": []}
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ports, logs, launchers = {}, [], []
    for proto, be in backends.items():
        fport = free_port()
        loop.run_until_complete(asyncio.start_server(
            lambda r, w, be=be: fault_conn(r, w, be), "127.0.0.1", fport))
        ports[proto] = {}
        for kind, target in (("clean", be), ("faulty", fport)):
            port = free_port()
            log = os.path.join(DIR, "%s-%s.log" % (proto, kind))
            logs.append((proto, log))
            launchers.append(spawn(["tcpserver", "-q", "-R", "-H", "-l", "localhost", "-c", "100",
                                    "127.0.0.1", str(port), MP, "--protocol=" + proto,
                                    "--backend=127.0.0.1:%d" % target, "--server-name=soak.test",
                                    "--timeout=%ds" % PROXY_TIMEOUT,
                                    "--proxy-timeout=%ds" % PROXY_TIMEOUT,
                                    "--half-close-timeout=%ds" % PROXY_TIMEOUT] + extra[proto], log))
            ports[proto][kind] = port
    for proto in ports:
        for port in ports[proto].values():
            wait_port_quiet(port)
    t0 = time.monotonic()
    deadline = t0 + SOAK_TIME
    print("soak: %d clients for %.0f s (seed %d), mailproxy copy %s" % (CLIENTS, SOAK_TIME, SEED, MP),
          flush=True)

    async def everything():
        await asyncio.gather(*(worker(w, ports, deadline) for w in range(CLIENTS)))
    loop.run_until_complete(everything())
    ran = time.monotonic() - t0

    # leaks: once the clients are gone, every session ends within its
    # longest bound (proxy_timeout past a stall, plus slack)
    end = time.monotonic() + 3 * PROXY_TIMEOUT + 10
    while ours() and time.monotonic() < end:
        loop.run_until_complete(asyncio.sleep(0.2))
    leaked = ours()
    for p in leaked:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    for p in launchers:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait()

    # the store: Postfix delivers after its 250, wait for it (bounded)
    end = time.monotonic() + 90
    found = store()
    while any(t not in found for t in acked) and time.monotonic() < end:
        time.sleep(0.5)
        found = store()
    books = dict(acked)
    if E.get("SOAK_DROP") == "1" and found:
        # the planted failure: the checker loses one acknowledged message
        # from what it found in the store, and the run must go red
        found.pop(sorted(t for t in found if t in books)[0], None)
    lost = [t for t in books if found.get(t) != books[t]]
    for t in lost:
        errors.append("lost: %s acknowledged with 250, %s in the store" %
                      (t, "not" if t not in found else "different bytes"))
    strays = [t for t in found if t not in books and found[t] != sent_whole.get(t)]
    for t in strays:
        errors.append("stray: %s in the store, never acknowledged nor sent whole as stored" % t)

    results = collections.Counter()
    for proto, log in logs:
        for line in open(log, "rb"):
            m = re.search(rb" result=(\S+)", line)
            if m:
                results[(proto, m.group(1).decode())] += 1

    # the report
    print("\nsoak: %.0f s, %d clients, seed %d" % (ran, CLIENTS, SEED))
    print("\n| protocol | sessions | ok | faulted | broke | failed (no fault) | transfers verified | mismatched |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in ("smtp", "pop3", "imap"):
        print("| %s | %d | %d | %d | %d | %d | %s | %d |" % (
            p, stats[(p, "sessions")], stats[(p, "ok")], stats[(p, "faulted")], stats[(p, "broke")],
            stats[(p, "failed")], "-" if p == "smtp" else stats[(p, "verified")], stats[(p, "mismatch")]))
    print("\n| fault injected (client: drawn; backend: struck) | count |")
    print("|---|---:|")
    for k in sorted(faults):
        print("| %s | %d |" % (k, faults[k]))
    print("\n| books | count |")
    print("|---|---:|")
    print("| messages acknowledged (250 after DATA) | %d |" % len(acked))
    print("| messages found in the store, byte for byte | %d |" % sum(1 for t in books if found.get(t) == books[t]))
    print("| messages lost | %d |" % len(lost))
    print("| stray messages in the store | %d |" % len(strays))
    print("| leaked mailproxy processes | %d |" % len(leaked))
    print("\n| result= | smtp | pop3 | imap |")
    print("|---|---:|---:|---:|")
    for r in sorted({r for (_, r) in results}):
        print("| %s | %d | %d | %d |" % (r, results[("smtp", r)], results[("pop3", r)], results[("imap", r)]))
    bad = errors + (["%d mailproxy processes leaked" % len(leaked)] if leaked else [])
    for e in bad[:40]:
        print("soak: " + e)
    print("\nnot ok - soak: %d problems" % len(bad) if bad else "\nok - soak")
    return 1 if bad else 0


def wait_port_quiet(port, secs=10):
    """Wait until PORT listens, without connecting (a connection would
    start a session): /proc/net/tcp."""
    hexport = ":%04X " % port
    end = time.monotonic() + secs
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            if any(hexport in l and l.split()[3] == "0A" for l in f):
                return
        time.sleep(0.05)
    sys.exit("soak: nothing listens on %d" % port)


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
