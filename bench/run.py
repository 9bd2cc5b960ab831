#!/usr/bin/env python3
"""bench/run.py - the driver of `make bench` and `make bench-smoke`.

On loopback only, every wait bounded, in one invocation:
  contenders  mailproxy (./mailproxy) under systemd-socket-activate --accept
              and under a private openbsd-inetd (and tcpserver, if asked);
              bench/relay0 (connect + copy, libc only: the floor of a
              per-connection design) under the same launchers; mailproxy
              asking an auth_http service (as nginx must); a private nginx
              mail proxy (nginx-light + libnginx-mod-mail, its own config in
              a temp dir, `daemon off`); and a direct connection to the
              backend.  All in front of bench/backend (SMTP, POP3, IMAP and
              auth_http; a thread per connection).
  a. sessions bench/load: whole SMTP sessions (EHLO MAIL RCPT DATA 1 KiB
              QUIT), POP3 (USER PASS QUIT) and IMAP (LOGIN LOGOUT) login
              sessions at each concurrency for a bounded time: sessions/s
              and latency percentiles (connect to the server's EOF)
  b. bulk     one session each: SMTP DATA up, POP3 RETR and IMAP FETCH down
              of BENCH_BYTES at each proxy_buffer (the default page, 64k),
              for every --relay-engine mailproxy lists; MB/s = 10^6 bytes/s
  c. memory   peak RSS of one session (wait4's ru_maxrss, from bench/maxrss
              between the launcher and the program), and the RSS and PSS
              of all processes at 64 held-open sessions; nginx: a fresh
              instance, master + workers
  t. TLS      bench/tlsload (C, libssl; built by this script): TLSv1.3
              handshakes to IMAPS, each connect, handshake, greeting,
              close, at each concurrency, against mailproxy --ssl=on under
              each launcher and nginx's `listen ... ssl`, the same ECDSA
              P-256 certificate (made here by openssl req), no tickets;
              handshakes/s, and the server's CPU time a handshake
  d. instructions  callgrind, pipeline mode (stdin/stdout), the session's
              commands pipelined from a file against bench/backend; the
              IMAP session in TLS too (bench/tlspipe.py), and where its
              instructions go; and with the journal (JOURNAL_STREAM naming
              its stderr, tests/lib/fake_journal.py's socket where
              journald's would be), against the same session without it;
              and what the seccomp filter costs (CPU time: callgrind sees
              no kernel work), against obj/bench/mailproxy-nofilter
Then the tables (ratios against the minimal relay under the same launcher
and against nginx, and the targets of issue 14), bench/results.md and
bench/results.png (gnuplot).  --smoke: tiny sizes and durations, results in
the temp dir, no assertion on speed; any run fails only when a contender
could not serve a session at all (then the exit status is 1).

Knobs (environment): BENCH_SECS (per point, default 3), BENCH_CONC
("1 16 64"), BENCH_BYTES (1073741824), BENCH_LAUNCHERS ("systemd inetd";
add tcpserver), BENCH_BUFFERS ("default 64k"), BENCH_BULK_RUNS (best of,
default 3), BENCH_OUT (bench/), BENCH_KEEP=1 keeps the temp dir,
BENCH_LIMIT (seconds for the whole run: 1500, smoke 300).
Stdlib only.
"""
import datetime
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
MAILPROXY = os.environ.get("MAILPROXY", os.path.join(ROOT, "mailproxy"))
NGINX = "/usr/sbin/nginx"
NGINX_MAIL = "/usr/lib/nginx/modules/ngx_mail_module.so"
PROTOS = ("smtp", "pop3", "imap")
TLS_PROTO = "imap"      # the TLS handshakes' protocol (IMAPS)
PAGE = os.sysconf("SC_PAGESIZE")
BIN = os.environ.get("BENCH_BIN", os.path.join(ROOT, "obj", "bench"))


def prog(name):
    return os.path.join(BIN, name)


def human_size(n):
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k and n % k == 0:
            return "%d %s" % (n // k, unit)
    return "%d bytes" % n


def say(*a):
    print("bench:", *a, flush=True)


class Failure(Exception):
    pass


class Bench:
    def __init__(self, smoke):
        self.smoke = smoke
        self.default_engine = None      # --relay-engine's default, from --help
        env = os.environ.get
        self.secs = float(env("BENCH_SECS", "0.3" if smoke else "3"))
        self.conc = [int(c) for c in env("BENCH_CONC", "1 16 64").split()]
        self.bytes = int(env("BENCH_BYTES", str(4 << 20 if smoke else 1 << 30)))
        self.launchers = env("BENCH_LAUNCHERS", "systemd inetd").split()
        self.buffers = env("BENCH_BUFFERS", "default 64k").split()
        self.bulk_runs = int(env("BENCH_BULK_RUNS", "1" if smoke else "3"))
        self.tmp = tempfile.mkdtemp(prefix="mailproxy-bench.")
        self.out = env("BENCH_OUT", self.tmp if smoke else BENCH)
        self.procs = []
        self.ports_used = set()
        self.problems = []
        self.notes = []
        self.rates = {}     # (contender, proto, conc) -> dict
        self.bulk = {}      # (contender, buffer, mode) -> MB/s
        self.mem = {}       # contender -> dict
        self.insns = {}     # label -> count
        self.engines = self.relay_engines()
        self.tls = {}       # (contender, conc) -> dict (tlsload's, cpu_ms)
        self.tls_cost = {}  # part of a TLS session -> instructions
        self.tls_contenders = []
        self.tls_addr = {}  # contender -> port
        self.tls_cpu_of = {}    # contender -> () -> server CPU seconds
        self.cert = self.key = None

    # --- processes -------------------------------------------------------

    def spawn(self, name, argv, stdin=subprocess.DEVNULL, stdout=None):
        log = open(os.path.join(self.tmp, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=stdin, stdout=stdout or log,
                             stderr=log, start_new_session=True, cwd=self.tmp)
        p.name = name
        self.procs.append(p)
        return p

    def stop(self, p):
        """TERM p's process group (the launcher and its sessions), KILL
        what is left after 3 s."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(3)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)

    # --- ports -----------------------------------------------------------

    def free_port(self):
        for _ in range(100):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            if port not in self.ports_used:
                self.ports_used.add(port)
                return port
        raise Failure("no free port")

    @staticmethod
    def listening(port):
        pat = re.compile(r"^\s*\d+: [0-9A-F]+:%04X [0-9A-F]+:[0-9A-F]+ 0A " % port)
        for f in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(f) as fh:
                    if any(pat.match(line) for line in fh):
                        return True
            except OSError:
                pass
        return False

    def wait_port(self, port, p, secs=10):
        end = time.time() + secs
        while not self.listening(port):
            if p.poll() is not None or time.time() > end:
                raise Failure("%s does not listen on %d (see %s/%s.log)"
                              % (p.name, port, self.tmp, p.name))
            time.sleep(0.02)

    # --- the backend -----------------------------------------------------

    def start_backend(self):
        ready = os.path.join(self.tmp, "backend.ready")
        p = self.spawn("backend", [prog("backend"), "-b", str(self.bytes),
                                   "-r", ready])
        end = time.time() + 10
        while not os.path.exists(ready):
            if p.poll() is not None or time.time() > end:
                raise Failure("the backend did not start")
            time.sleep(0.02)
        self.be = {}
        with open(ready) as f:
            for line in f:
                k, v = line.split()
                self.be[k] = int(v)

    # --- contenders ------------------------------------------------------

    def mailproxy_args(self, proto, buf="default", engine=None, auth=False,
                       tls=False):
        a = [MAILPROXY, "--protocol=" + proto, "--server-name=mx.bench"]
        if tls:
            a += ["--ssl=on", "--ssl-certificate=" + self.cert,
                  "--ssl-certificate-key=" + self.key,
                  "--ssl-protocols=TLSv1.3", "--ssl-session-tickets=off"]
        if auth:
            a.append("--auth-http=http://127.0.0.1:%d/auth" % self.be["auth"])
        else:
            a.append("--backend=127.0.0.1:%d" % self.be[proto])
        if proto == "smtp":
            a.append("--smtp-auth=none")
        if buf != "default":
            a.append("--proxy-buffer=" + buf)
        if engine:
            a.append("--relay-engine=" + engine)
        return a

    def relay0_args(self, proto, buf="default"):
        a = [prog("relay0"), "127.0.0.1:%d" % self.be[proto]]
        if buf != "default":
            a.append(str(size_bytes(buf)))
        return a

    def relay_engines(self):
        """The engines mailproxy's --help lists for --relay-engine (hook:
        without the option, the one engine it has, unnamed)."""
        try:
            h = subprocess.run([MAILPROXY, "--help"], capture_output=True,
                               text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return [None]
        m = re.search(r"--relay-engine=(\S+).*\(default: (\w+)\)", h)
        if not m:
            return [None]
        self.default_engine = m.group(2)
        return [e for e in m.group(1).split("|")]

    def launch(self, launcher, name, argv):
        """Starts argv per connection on a fresh port; returns the port."""
        port = self.free_port()
        if launcher == "systemd":
            p = self.spawn(name, ["systemd-socket-activate", "--accept", "-l",
                                  "127.0.0.1:%d" % port,
                                  "--fdname=connection"] + argv)
        elif launcher == "tcpserver":
            p = self.spawn(name, ["tcpserver", "-q", "-R", "-H", "-l",
                                  "localhost", "-c", "4096", "-b", "1024",
                                  "127.0.0.1", str(port)] + argv)
        else:
            raise Failure("unknown launcher " + launcher)
        self.wait_port(port, p)
        return port

    def start_inetd(self, services):
        """One private openbsd-inetd for services [(name, argv)], each on a
        port of its own, start limit raised for the run (nowait.N, -R N);
        in a private mount namespace so that its pid file is ours."""
        conf = os.path.join(self.tmp, "inetd.conf")
        ports = {}
        with open(conf, "w") as f:
            for name, argv in services:
                ports[name] = self.free_port()
                f.write("127.0.0.1:%d stream tcp4 nowait.10000000 root %s %s\n"
                        % (ports[name], argv[0],
                           " ".join([os.path.basename(argv[0])] + argv[1:])))
        run = os.path.join(self.tmp, "inetd-run")
        os.makedirs(run, exist_ok=True)
        inetd = ["/usr/sbin/inetd", "-i", "-E", "-R", "10000000", conf]
        if subprocess.run(["unshare", "-m", "true"], capture_output=True,
                          timeout=10).returncode == 0:
            inetd = ["unshare", "-m", "sh", "-c",
                     'mount --bind "$0" /run && exec "$@"', run] + inetd
        p = self.spawn("inetd", inetd)
        self.inetd_proc = p
        for port in ports.values():
            self.wait_port(port, p)
        return ports

    def nginx_conf(self, d, ports, tls_port=None):
        servers = []
        for (proto, buf), port in sorted(ports.items()):
            if proto == "tls":
                continue
            extra = {"smtp": "smtp_auth none; xclient on;",
                     "pop3": "pop3_auth plain;",
                     "imap": "imap_auth plain;"}[proto]
            if buf != "default":
                extra += " proxy_buffer %s;" % buf
            servers.append("    server { listen 127.0.0.1:%d; protocol %s; %s }"
                           % (port, proto, extra))
        if tls_port:
            # the same certificate, key, protocol and version as mailproxy's;
            # no tickets on either side (a full handshake each time, and
            # nginx's tickets, written ahead of the greeting, hold it for
            # the client's delayed ACK)
            servers.append("    server { listen 127.0.0.1:%d ssl; protocol %s; "
                           "%s_auth plain; ssl_certificate %s; "
                           "ssl_certificate_key %s; ssl_protocols TLSv1.3; "
                           "ssl_session_tickets off; }"
                           % (tls_port, TLS_PROTO, TLS_PROTO, self.cert, self.key))
        return """# private benchmark instance (bench/run.py)
load_module %s;
daemon off;
master_process on;
worker_processes auto;
worker_rlimit_nofile 8192;
pid %s/nginx.pid;
lock_file %s/nginx.lock;
error_log %s/error.log error;
events { worker_connections 4096; }
mail {
    server_name mx.bench;
    auth_http 127.0.0.1:%d/auth;
    proxy_pass_error_message on;
%s
}
""" % (NGINX_MAIL, d, d, d, self.be["auth"], "\n".join(servers))

    def start_nginx(self, name, bufs, tls=False):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        ports = {(proto, buf): self.free_port() for proto in PROTOS
                 for buf in bufs}
        conf = os.path.join(d, "nginx.conf")
        tls_port = self.free_port() if tls and self.cert else None
        if tls_port:
            ports[("tls", "default")] = tls_port
        with open(conf, "w") as f:
            f.write(self.nginx_conf(d, ports, tls_port))
        argv = [NGINX, "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")]
        t = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True,
                           timeout=30)
        if t.returncode != 0:
            raise Failure("nginx -t: " + (t.stderr or t.stdout).strip())
        p = self.spawn(name, argv)
        for port in ports.values():
            self.wait_port(port, p)
        return p, ports

    def start_contenders(self):
        """self.addr[(contender, proto, buf)] = port, and the lists of
        contenders for sessions and for bulk."""
        self.addr = {}
        self.session_contenders = ["direct", "nginx"]
        self.bulk_contenders = ["direct", "nginx"]
        for proto in PROTOS:
            for buf in self.buffers:
                self.addr[("direct", proto, buf)] = self.be[proto]
        self.make_cert()
        self.nginx, ports = self.start_nginx("nginx", self.buffers, tls=True)
        for (proto, buf), port in ports.items():
            if proto == "tls":
                self.tls_contenders.append("nginx")
                self.tls_addr["nginx"] = port
                nginx = self.nginx
                self.tls_cpu_of["nginx"] = lambda: sum(
                    self.cpu(x) for x in [nginx.pid] + self.children(nginx.pid))
                continue
            self.addr[("nginx", proto, buf)] = port
        # TLS: mailproxy --ssl=on under every launcher
        tls_inetd = None
        if self.cert and os.access(prog("tlsload"), os.X_OK):
            for launcher in self.launchers:
                c = "mailproxy %s" % launcher
                self.tls_contenders.insert(len(self.tls_contenders) - 1, c)
                argv = self.mailproxy_args(TLS_PROTO, tls=True)
                if launcher == "inetd":
                    tls_inetd = (("tls", c), argv)
                else:
                    self.tls_addr[c] = self.launch(launcher, "tls-%s" % launcher,
                                                   argv)
                    lp = self.procs[-1]
                    self.tls_cpu_of[c] = lambda lp=lp: self.cpu(lp.pid, True)
        elif self.cert:
            self.problems.append("no %s: TLS not measured" % prog("tlsload"))

        inetd = []
        for launcher in self.launchers:
            for what in ("mailproxy", "relay0"):
                c = "%s %s" % (what, launcher)
                self.session_contenders.append(c)
                for proto in PROTOS:
                    argv = (self.mailproxy_args(proto) if what == "mailproxy"
                            else self.relay0_args(proto))
                    if launcher == "inetd":
                        inetd.append(((c, proto, "default"), argv))
                    else:
                        self.addr[(c, proto, "default")] = self.launch(
                            launcher, "%s-%s-%s" % (what, launcher, proto), argv)
            if launcher == self.launchers[0]:
                c = "mailproxy+auth_http %s" % launcher
                self.session_contenders.insert(
                    self.session_contenders.index("mailproxy " + launcher) + 1, c)
                for proto in PROTOS:
                    argv = self.mailproxy_args(proto, auth=True)
                    if launcher == "inetd":
                        inetd.append(((c, proto, "default"), argv))
                    else:
                        self.addr[(c, proto, "default")] = self.launch(
                            launcher, "mpauth-%s-%s" % (launcher, proto), argv)
        # bulk: under the first launcher, every engine, every buffer
        bl = self.launchers[0]
        for engine in self.engines:
            c = "mailproxy %s" % bl if engine is None else \
                "mailproxy %s %s" % (engine, bl)
            self.bulk_contenders.append(c)
            for proto in PROTOS:
                for buf in self.buffers:
                    argv = self.mailproxy_args(proto, buf, engine)
                    key = (c, proto, buf)
                    if bl == "inetd":
                        inetd.append((key, argv))
                    else:
                        self.addr[key] = self.launch(
                            bl, "bulk-mp-%s-%s-%s" % (engine, proto, buf), argv)
        c = "relay0 %s" % bl
        self.bulk_contenders.append(c)
        for proto in PROTOS:
            for buf in self.buffers:
                key = (c, proto, buf)
                if key in self.addr:
                    continue
                argv = self.relay0_args(proto, buf)
                if bl == "inetd":
                    inetd.append((key, argv))
                else:
                    self.addr[key] = self.launch(bl, "bulk-relay0-%s-%s"
                                                 % (proto, buf), argv)
        if tls_inetd:
            inetd.append(tls_inetd)
        if inetd:
            names = {}
            services = []
            for i, (key, argv) in enumerate(inetd):
                names["s%d" % i] = key
                services.append(("s%d" % i, argv))
            for n, port in self.start_inetd(services).items():
                if names[n][0] == "tls":
                    c = names[n][1]
                    self.tls_addr[c] = port
                    ip = self.inetd_proc
                    self.tls_cpu_of[c] = lambda: self.cpu(ip.pid, True)
                    continue
                self.addr[names[n]] = port

    # --- TLS ---------------------------------------------------------------

    def make_cert(self):
        """An ECDSA P-256 certificate and key for mailproxy and nginx."""
        crt, key = (os.path.join(self.tmp, f) for f in ("tls.crt", "tls.key"))
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-keyout", key, "-out", crt, "-days", "30",
                            "-subj", "/CN=mx.bench"], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            self.problems.append("openssl req: %s (TLS not measured)"
                                 % r.stderr.strip()[:200])
            return
        self.cert, self.key = crt, key

    TICK = os.sysconf("SC_CLK_TCK")

    def cpu(self, pid, children=False):
        """A process's user+system seconds, and with children those of its
        children it has waited for (a launcher's sessions)."""
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        n = int(fields[11]) + int(fields[12])
        if children:
            n += int(fields[13]) + int(fields[14])
        return n / self.TICK

    def run_tls(self):
        """TLS handshakes: bench/tlsload at each concurrency against each
        contender (--smoke: the lowest and the highest), and the server's
        CPU time over the same seconds."""
        self.tls_conc = sorted({min(self.conc), max(self.conc)}) \
            if self.smoke else self.conc
        for conc in self.tls_conc:
            for c in self.tls_contenders:
                port = self.tls_addr.get(c)
                if port is None:
                    continue
                cpu0 = self.tls_cpu_of[c]()
                r = self.load(["-a", str(port), "-c", str(conc), "-t",
                               str(self.secs)], self.secs + 60, prog("tlsload"))
                time.sleep(0.3)     # the last sessions reaped
                r["server_cpu"] = self.tls_cpu_of[c]() - cpu0
                self.tls[(c, conc)] = r
                if r.get("sessions", 0) == 0:
                    self.problems.append("%s: no TLS handshake at concurrency "
                                         "%d: %s" % (c, conc, r["stderr"][:300]))
                    continue
                if r.get("errors", 0) > 0:
                    self.notes.append("%s TLS c=%d: %d failed handshakes (%s)"
                                      % (c, conc, r["errors"],
                                         r["stderr"].splitlines()[0][:120]
                                         if r["stderr"] else ""))
                say("%-26s tls  c=%-3d %8.1f handshakes/s  p99 %7.2f ms  server "
                    "%.2f ms CPU, client %.2f ms CPU a handshake  %s"
                    % (c, conc, r["rate"], r.get("p99", 0),
                       1000 * r["server_cpu"] / r["sessions"],
                       1000 * r.get("cpu", 0) / r["sessions"],
                       r.get("facts", "")))
                time.sleep(0.1)

    # --- the load --------------------------------------------------------

    def load(self, args, timeout, program=None):
        r = subprocess.run([program or prog("load")] + args, capture_output=True,
                           text=True, timeout=timeout)
        out = {}
        facts = []
        for word in r.stdout.split():
            if "=" in word:
                k, v = word.split("=", 1)
                try:
                    out[k] = float(v)
                except ValueError:
                    facts.append(word)
        out["facts"] = " ".join(facts)
        out["rc"] = r.returncode
        out["stderr"] = r.stderr.strip()
        return out

    def run_sessions(self):
        for proto in PROTOS:
            for conc in self.conc:
                for c in self.session_contenders:
                    port = self.addr[(c, proto, "default")]
                    r = self.load(["-m", proto, "-a", str(port), "-c", str(conc),
                                   "-t", str(self.secs)], self.secs + 60)
                    self.rates[(c, proto, conc)] = r
                    if r.get("sessions", 0) == 0:
                        self.problems.append("%s: no %s session at concurrency "
                                             "%d: %s" % (c, proto, conc,
                                                         r["stderr"][:300]))
                    elif r.get("errors", 0) > 0:
                        self.notes.append("%s %s c=%d: %d failed sessions (%s)"
                                          % (c, proto, conc, r["errors"],
                                             r["stderr"].splitlines()[0][:120]
                                             if r["stderr"] else ""))
                    say("%-26s %s c=%-3d %8.1f sessions/s  p99 %7.2f ms%s"
                        % (c, proto, conc, r.get("rate", 0), r.get("p99", 0),
                           "  errors %d" % r["errors"] if r.get("errors") else ""))
                    time.sleep(0.1)

    def delayed_ack_notes(self):
        """A session that waits ~40 ms on its own at concurrency 1, where
        the direct connection does not, shows a reply written in pieces
        on a socket without TCP_NODELAY: Nagle holds the second piece
        until the client's delayed ACK (40 ms on Linux)."""
        n = min(self.conc)
        for p in PROTOS:
            d = self.rates.get(("direct", p, n), {}).get("p50", 0)
            for c in self.session_contenders:
                v = self.rates.get((c, p, n), {}).get("p50", 0)
                if v >= 35 and d and d < 5:
                    self.notes.append(
                        "%s, %s at c=%d: p50 %.1f ms where the direct "
                        "connection takes %.2f ms: the signature of Linux's "
                        "40 ms delayed ACK against Nagle's algorithm (a reply "
                        "written in two pieces to a socket without "
                        "TCP_NODELAY)" % (c, p.upper(), n, v, d))

    def run_bulk(self):
        """Each transfer BENCH_BULK_RUNS times, the contenders in turn (so
        that a burst of other load on the machine hits them alike), the
        best kept."""
        modes = (("smtp", "smtp-up"), ("pop3", "pop3-down"), ("imap", "imap-down"))
        for buf in self.buffers:
            for proto, mode in modes:
                best = {}
                for _ in range(self.bulk_runs):
                    for c in self.bulk_contenders:
                        if best.get(c, 0) is None:
                            continue
                        port = self.addr[(c, proto, buf)]
                        r = self.load(["-m", mode, "-a", str(port), "-b",
                                       str(self.bytes)], 300)
                        if r["rc"] != 0 or "mbps" not in r:
                            self.problems.append("%s: %s at %s failed: %s"
                                                 % (c, mode, buf, r["stderr"][:300]))
                            best[c] = None
                            continue
                        best[c] = max(best.get(c, 0), r["mbps"])
                for c in self.bulk_contenders:
                    self.bulk[(c, buf, mode)] = best.get(c)
                    say("%-26s %-9s %-7s %9s MB/s" % (c, mode, buf,
                        "%.1f" % best[c] if best.get(c) else "failed"))

    # --- memory ----------------------------------------------------------

    @staticmethod
    def proc_mem(pid):
        """(VmRSS, VmHWM, Pss) in KiB."""
        rss = hwm = pss = 0
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm = int(line.split()[1])
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss = int(line.split()[1])
        except OSError:
            pass
        return rss, hwm, pss

    @staticmethod
    def children(pid):
        kids = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                kids.setdefault(int(fields[1]), []).append(int(d))
        out, todo = [], list(kids.get(pid, []))
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, []))
        return out

    def hold(self, c, proto, port, pids_of):
        """64 held-open sessions: (count, RSS, PSS) of pids_of()."""
        n = 64
        p = subprocess.Popen([prog("load"), "-m", "hold-" + proto, "-a",
                              str(port), "-c", str(n)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            line = p.stdout.readline()
            time.sleep(0.3)
            pids = pids_of()
            mems = [self.proc_mem(x) for x in pids]
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Failure("%s: hold-%s did not end" % (c, proto))
        if line.strip() != "held %d" % n:
            self.problems.append("%s: %s, not %d held %s sessions: %s"
                                 % (c, line.strip(), n, proto, err.strip()[:200]))
        return (len(pids), sum(m[0] for m in mems), sum(m[2] for m in mems))

    def run_memory(self):
        """Peak RSS of one session per protocol, and 64 held sessions."""
        bl = "systemd" if "systemd" in self.launchers else self.launchers[0]
        if bl == "inetd":
            bl = "systemd"
        for what in ("mailproxy", "relay0"):
            c = "%s %s" % (what, bl)
            m = self.mem.setdefault(c, {})
            for proto in PROTOS:
                f = os.path.join(self.tmp, "maxrss-%s-%s" % (what, proto))
                argv = (self.mailproxy_args(proto) if what == "mailproxy"
                        else self.relay0_args(proto))
                port = self.launch(bl, "mem-%s-%s" % (what, proto),
                                   [prog("maxrss"), f] + argv)
                launcher = self.procs[-1]
                r = self.load(["-m", proto, "-a", str(port), "-n", "1"], 30)
                end = time.time() + 5
                while not (os.path.exists(f) and open(f).read().endswith("\n")):
                    if time.time() > end:
                        break
                    time.sleep(0.02)
                try:
                    m["peak " + proto] = int(open(f).read().split()[0])
                except (OSError, IndexError, ValueError):
                    self.problems.append("%s: no peak RSS for a %s session (%s)"
                                         % (c, proto, r["stderr"][:200]))
                self.stop(launcher)
            for proto in ("smtp", "imap"):
                port = self.launch(bl, "hold-%s-%s" % (what, proto),
                                   (self.mailproxy_args(proto) if what == "mailproxy"
                                    else self.relay0_args(proto)))
                launcher = self.procs[-1]
                m["hold " + proto] = self.hold(
                    c, proto, port, lambda: self.children(launcher.pid))
                self.stop(launcher)
        # the floor: an empty dynamically linked program, through the same
        # wrapper
        f = os.path.join(self.tmp, "maxrss-empty")
        subprocess.run([prog("maxrss"), f, prog("empty")], timeout=30)
        try:
            self.empty_rss = int(open(f).read().split()[0])
        except (OSError, IndexError, ValueError):
            self.empty_rss = None
        # nginx: a fresh instance, so that nothing of the runs before counts
        p, ports = self.start_nginx("nginx-mem", ["default"])
        m = self.mem.setdefault("nginx", {})
        time.sleep(0.2)

        def nginx_pids():
            return [p.pid] + self.children(p.pid)

        before = {x: self.proc_mem(x) for x in nginx_pids()}
        m["idle"] = sum(v[0] for v in before.values())
        for proto in PROTOS:
            r = self.load(["-m", proto, "-a", str(ports[(proto, "default")]),
                           "-n", "1"], 30)
            if r.get("sessions", 0) == 0:
                self.problems.append("nginx: no %s session for memory: %s"
                                     % (proto, r["stderr"][:200]))
            workers = [self.proc_mem(x) for x in self.children(p.pid)]
            m["peak " + proto] = max((w[1] for w in workers), default=0)
        m["master"] = self.proc_mem(p.pid)[0]
        for proto in ("smtp", "imap"):
            m["hold " + proto] = self.hold("nginx", proto,
                                           ports[(proto, "default")], nginx_pids)
        self.stop(p)
        for c, v in self.mem.items():
            say("%-26s %s" % (c, " ".join("%s=%s" % kv for kv in sorted(v.items()))))

    # --- instructions ----------------------------------------------------

    SCRIPTS = {
        "smtp": (b"EHLO client.bench\r\nMAIL FROM:<a@client.bench>\r\n"
                 b"RCPT TO:<b@backend.bench>\r\nDATA\r\n"
                 + b"".join(b"%s\r\n" % (bytes([97 + i % 26]) * 62)
                            for i in range(16)) + b".\r\nQUIT\r\n", b"221 "),
        "pop3": (b"USER u\r\nPASS p\r\nQUIT\r\n", b"+OK Bye"),
        "imap": (b"a LOGIN u p\r\nz LOGOUT\r\n", b"z OK"),
    }

    def callgrind(self, label, argv, stdin=None, expect=None):
        out = os.path.join(self.tmp, "cg-%s.out" % re.sub(r"\W+", "-", label))
        r = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out] + argv,
                           input=stdin, capture_output=True, timeout=120,
                           cwd=self.tmp)
        m = re.search(rb"Collected : (\d+)", r.stderr)
        if not m or (expect is not None and expect not in r.stdout):
            self.problems.append("callgrind %s: %s" % (
                label, (r.stdout[-200:] + r.stderr[-300:]).decode("utf-8", "replace")))
            return
        self.insns[label] = int(m.group(1))
        say("%-40s %12s instructions" % (label, "{:,}".format(self.insns[label])))

    def run_instructions(self):
        if shutil.which("valgrind") is None:
            self.problems.append("no valgrind: instructions not measured")
            return
        for proto in PROTOS:
            script, expect = self.SCRIPTS[proto]
            self.callgrind("mailproxy " + proto, self.mailproxy_args(proto),
                           script, expect)
            self.callgrind("relay0 " + proto, self.relay0_args(proto),
                           script, expect)
        # the filter's part that runs in the program (built, no_new_privs;
        # under valgrind it is not installed): the SMTP row against the
        # same objects built without it
        script, expect = self.SCRIPTS["smtp"]
        self.callgrind(self.NOFILTER_LABEL, [prog("mailproxy-nofilter")] +
                       self.mailproxy_args("smtp")[1:], script, expect)
        self.callgrind("empty program, dynamic", [prog("empty")])
        self.callgrind("empty program, static", [prog("empty-static")])
        if self.cert:
            self.callgrind_tls()
        self.callgrind_journal()
        self.seccomp_cost()

    NOFILTER_LABEL = "mailproxy smtp, without the filter (SANDBOX_OFF)"

    def seccomp_cost(self):
        """What the seccomp filter costs a session.  Callgrind cannot say:
        under valgrind the filter is not installed (sandbox.c), and it is
        the kernel that runs it, on every system call, where callgrind
        counts nothing.  So CPU time (user + system, the children's
        rusage): the SMTP session of the table, pipelined, N times with
        ./mailproxy and N times with obj/bench/mailproxy-nofilter (the same
        objects, sandbox.c built with SANDBOX_OFF), in alternating rounds,
        the best round of each."""
        nofilter = prog("mailproxy-nofilter")
        if not os.access(nofilter, os.X_OK):
            self.problems.append("no %s: the filter's cost not measured"
                                 % nofilter)
            return
        script, expect = self.SCRIPTS["smtp"]
        n, rounds = (20, 2) if self.smoke else (300, 5)
        best = {}
        for _ in range(rounds):
            for label, binary in (("with", MAILPROXY), ("without", nofilter)):
                argv = [binary] + self.mailproxy_args("smtp")[1:]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                for _ in range(n):
                    r = subprocess.run(argv, input=script, capture_output=True,
                                       timeout=30)
                    if expect not in r.stdout:
                        self.problems.append("seccomp cost %s: %s" % (
                            label, r.stderr[-300:].decode("utf-8", "replace")))
                        return
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                us = ((after.ru_utime - before.ru_utime) +
                      (after.ru_stime - before.ru_stime)) * 1e6 / n
                best[label] = min(best.get(label, us), us)
        self.seccomp_us = best
        say("%-40s %9.1f us with, %9.1f us without the filter" % (
            "seccomp filter, CPU per SMTP session", best["with"],
            best["without"]))

    JOURNAL_LABEL = "mailproxy %s, journal (sd_journal_send)" % TLS_PROTO
    JOURNAL_DIR = "/run/systemd/journal"

    def callgrind_journal(self):
        """The plaintext IMAP session of the table once more, its stderr
        the journal's stream: JOURNAL_STREAM names the file stderr is, and
        libsystemd sends the session line to tests/lib/fake_journal.py's
        socket, which a mount namespace puts at /run/systemd/journal (as
        tests/journal.bats does; a live journald is never touched).  The
        difference is what the journal costs a session: loading libsystemd
        and the libraries it needs, and sd_journal_send."""
        label = self.JOURNAL_LABEL
        if subprocess.run(["unshare", "-m", "true"], capture_output=True,
                          timeout=10).returncode != 0:
            self.notes.append("journal not measured: no mount namespace "
                              "(unshare -m needs root)")
            return
        made = not os.path.isdir(self.JOURNAL_DIR)
        try:
            if made:
                os.makedirs(self.JOURNAL_DIR)
            self.journal_session(label)
        except (OSError, subprocess.TimeoutExpired, Failure) as x:
            self.problems.append("callgrind %s: %s" % (label, x))
        finally:
            if made:
                try:
                    os.rmdir(self.JOURNAL_DIR)
                except OSError:
                    pass

    def journal_session(self, label):
        jdir = os.path.join(self.tmp, "journal")
        os.makedirs(jdir, exist_ok=True)
        entries = os.path.join(jdir, "entries")
        ready = os.path.join(jdir, "ready")
        reader = self.spawn("journal", [sys.executable, os.path.join(
            ROOT, "tests", "lib", "fake_journal.py"), os.path.join(
            jdir, "socket"), entries, "--ready", ready])
        end = time.time() + 10
        while not os.path.exists(ready):
            if reader.poll() is not None or time.time() > end:
                raise Failure("tests/lib/fake_journal.py did not start")
            time.sleep(0.02)
        out = os.path.join(self.tmp, "cg-journal.out")
        errf = os.path.join(self.tmp, "cg-journal.log")
        script, expect = self.SCRIPTS[TLS_PROTO]
        with open(errf, "wb") as e:
            st = os.fstat(e.fileno())
            env = dict(os.environ,
                       JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
            r = subprocess.run(
                ["unshare", "-m", "sh", "-c",
                 'mount --bind "$0" %s && exec "$@"' % self.JOURNAL_DIR, jdir,
                 "valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
                + self.mailproxy_args(TLS_PROTO), input=script,
                stdout=subprocess.PIPE, stderr=e, env=env, timeout=120,
                cwd=self.tmp)
        log = open(errf, "rb").read()
        m = re.search(rb"Collected : (\d+)", log)
        # the entry came, and stderr had no session line
        end = time.time() + 5
        while b"MAILPROXY_RESULT" not in open(entries, "rb").read():
            if time.time() > end:
                raise Failure("no journal entry (see %s)" % errf)
            time.sleep(0.05)
        self.stop(reader)
        if not m or expect not in r.stdout or b" result=" in log:
            raise Failure((r.stdout[-200:] + log[-300:]).decode("utf-8",
                                                                 "replace"))
        self.insns[label] = int(m.group(1))
        plain = self.insns.get("mailproxy " + TLS_PROTO)
        say("%-40s %12s instructions (%s the session without it)" % (
            label, "{:,}".format(self.insns[label]),
            ratio(self.insns[label], plain)))

    # what a TLS session's instructions go to (callgrind_annotate, inclusive)
    TLS_PARTS = (
        ("dl_load", "loading libcrypto and libssl (dlopen: mapping, "
         "relocation, constructors)"),
        ("OPENSSL_init_ssl", "OPENSSL_init_ssl (no openssl.cnf)"),
        ("SSL_CTX_new", "SSL_CTX_new (OpenSSL 3's providers: every "
         "algorithm fetched)"),
        ("PEM_read_bio_X509_AUX", "the certificate read (PEM, decoded)"),
        ("PEM_read_bio_PrivateKey", "the key read (PEM, OpenSSL 3's "
         "decoders)"),
        ("tls_server_ready", "the rest of the context: options, ciphers, "
         "the key checked"),
        ("tls_handshake", "the handshake (SSL_accept: X25519, the ECDSA "
         "signature, Finished)"),
    )

    def callgrind_tls(self):
        """The IMAP session of the table above in TLS (--ssl=on, TLSv1.3,
        the bench's certificate), handshake included: bench/tlspipe.py
        carries the records over the pipeline's stdin/stdout; and where
        the instructions go."""
        sys.path.insert(0, BENCH)
        import tlspipe
        label = "mailproxy %s, TLS (--ssl=on)" % TLS_PROTO
        out = os.path.join(self.tmp, "cg-tls.out")
        err = os.path.join(self.tmp, "cg-tls.log")
        script, expect = self.SCRIPTS[TLS_PROTO]
        try:
            with open(err, "wb") as e:
                sess = tlspipe.Session(
                    ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
                    + self.mailproxy_args(TLS_PROTO, tls=True), stderr=e,
                    cwd=self.tmp)
                got = sess.reply()
                sess.send(script)
                got += sess.rest()
                sess.close()
        except (OSError, ConnectionError, subprocess.TimeoutExpired) as x:
            self.problems.append("callgrind %s: %s" % (label, x))
            return
        log = open(err, "rb").read()
        m = re.search(rb"Collected : (\d+)", log)
        if not m or expect not in got:
            self.problems.append("callgrind %s: %s" % (label, (got[-200:] + log[-300:])
                                                       .decode("utf-8", "replace")))
            return
        self.insns[label] = int(m.group(1))
        say("%-40s %12s instructions" % (label, "{:,}".format(self.insns[label])))
        if shutil.which("callgrind_annotate") is None:
            return
        r = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                            "--threshold=100", out], capture_output=True,
                           text=True, timeout=120)
        for line in r.stdout.splitlines():
            m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(\w+)(?:'\d+)? \[", line)
            if m and m.group(2) in dict(self.TLS_PARTS) and \
                    m.group(2) not in self.tls_cost:
                self.tls_cost[m.group(2)] = int(m.group(1).replace(",", ""))
        for f, _ in self.TLS_PARTS:
            if f in self.tls_cost:
                say("  %-38s %12s" % (f, "{:,}".format(self.tls_cost[f])))

    # --- results ---------------------------------------------------------

    def machine(self):
        def first(argv):
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                return (r.stdout + r.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "?"
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
        head = first(["git", "-C", ROOT, "log", "-1", "--format=%h"])
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
        return [
            ("date", datetime.datetime.now(datetime.timezone.utc)
             .strftime("%Y-%m-%d %H:%M UTC")),
            ("CPUs (nproc)", "%d x %s" % (os.cpu_count(), cpu)),
            ("memory", "%d MiB" % mem),
            ("kernel", platform.release()),
            ("load average at start", self.loadavg),
            ("page size (default proxy_buffer)", "%d" % PAGE),
            ("mailproxy", "%s (commit %s%s)" % (first([MAILPROXY, "--version"]), head,
                                        ", with uncommitted changes" if dirty else "")),
            ("nginx", first([NGINX, "-v"])),
            ("gcc", first(["gcc", "--version"])),
            ("valgrind", first(["valgrind", "--version"])),
            ("settings", "%gs a point, concurrency %s, bulk %s, best of %d, "
             "launchers %s" % (self.secs, "/".join(map(str, self.conc)),
                               human_size(self.bytes), self.bulk_runs,
                               ", ".join(self.launchers))),
        ]

    def relay_of(self, c):
        """The minimal relay under c's launcher, or None."""
        if c.startswith("mailproxy"):
            return "relay0 " + c.split()[-1]
        return None

    def tables(self):
        md = []
        cols = [(p, c) for p in PROTOS for c in self.conc]
        head = "| contender | " + " | ".join("%s c=%d" % pc for pc in cols) + " |"
        sep = "|---|" + "---:|" * len(cols)

        def rate(c, p, n):
            return self.rates.get((c, p, n), {}).get("rate", 0)

        md.append("### Session rate, sessions/s\n")
        md += [head, sep]
        for c in self.session_contenders:
            md.append("| %s | " % c + " | ".join(
                "%.0f" % rate(c, p, n) for p, n in cols) + " |")
        md.append("\n### Session rate against the minimal relay under the same "
                  "launcher, and against nginx\n")
        md += [head, sep]
        for c in self.session_contenders:
            rel = self.relay_of(c)
            if rel is None:
                continue
            md.append("| %s / %s | " % (c, rel) + " | ".join(
                ratio(rate(c, p, n), rate(rel, p, n)) for p, n in cols) + " |")
        for c in self.session_contenders:
            if c == "nginx":
                continue
            md.append("| %s / nginx | " % c + " | ".join(
                ratio(rate(c, p, n), rate("nginx", p, n)) for p, n in cols) + " |")
        md.append("\n### Latency, ms: p50 / p90 / p99 (failed sessions)\n")
        lh = "| protocol | contender | " + " | ".join("c=%d" % n for n in self.conc) + " |"
        md += [lh, "|---|---|" + "---:|" * len(self.conc)]
        for p in PROTOS:
            for c in self.session_contenders:
                cells = []
                for n in self.conc:
                    r = self.rates.get((c, p, n), {})
                    cell = "%.2f / %.2f / %.2f" % (r.get("p50", 0), r.get("p90", 0),
                                                   r.get("p99", 0))
                    if r.get("errors"):
                        cell += " (%d)" % r["errors"]
                    cells.append(cell)
                md.append("| %s | %s | " % (p, c) + " | ".join(cells) + " |")

        md.append("\n### Bulk relay, MB/s (10^6 bytes/s), %s through one session; "
                  "x nginx at the same proxy_buffer\n" % human_size(self.bytes))
        bcols = [(b, m) for b in self.buffers
                 for m in ("smtp-up", "pop3-down", "imap-down")]
        md.append("| contender | " + " | ".join(
            "%s %s" % (bufname(b), m) for b, m in bcols) + " |")
        md.append("|---|" + "---:|" * len(bcols))
        for c in self.bulk_contenders:
            cells = []
            for b, m in bcols:
                v = self.bulk.get((c, b, m))
                n = self.bulk.get(("nginx", b, m))
                cells.append("failed" if not v else "%.0f" % v if c == "nginx"
                             else "%.0f (%s)" % (v, ratio(v, n)))
            md.append("| %s | " % c + " | ".join(cells) + " |")
        rel = [c for c in self.bulk_contenders if c.startswith("relay0")]
        if rel:
            md.append("\nThe same against %s, at the same buffer size:\n" % rel[0])
            md.append("| contender | " + " | ".join(
                "%s %s" % (bufname(b), m) for b, m in bcols) + " |")
            md.append("|---|" + "---:|" * len(bcols))
            for c in self.bulk_contenders:
                if c == rel[0]:
                    continue
                md.append("| %s / %s | " % (c, rel[0]) + " | ".join(
                    ratio(self.bulk.get((c, b, m)), self.bulk.get((rel[0], b, m)))
                    for b, m in bcols) + " |")

        if self.tls:
            md.append("\n### TLS handshakes (%s, TLSv1.3, ECDSA P-256): "
                      "handshakes/s; p50 / p99 ms; server and client CPU ms a "
                      "handshake\n" % TLS_PROTO.upper())
            md.append("| contender | " + " | ".join(
                "c=%d %s" % (n, w) for n in self.tls_conc
                for w in ("rate", "p50 / p99", "server / client CPU"))
                + " |")
            md.append("|---|" + "---:|" * (3 * len(self.tls_conc)))
            for c in self.tls_contenders:
                cells = []
                for n in self.tls_conc:
                    r = self.tls.get((c, n), {})
                    k = r.get("sessions") or 0
                    cells += ["%.0f" % r.get("rate", 0),
                              "%.2f / %.2f" % (r.get("p50", 0), r.get("p99", 0)),
                              "%.2f / %.2f" % (1000 * r.get("server_cpu", 0) / k,
                                               1000 * r.get("cpu", 0) / k)
                              if k else "-"]
                md.append("| %s | " % c + " | ".join(cells) + " |")
            for c in self.tls_contenders:
                if c == "nginx":
                    continue
                md.append("| %s / nginx | " % c + " | ".join(
                    x for n in self.tls_conc for x in (
                        ratio(self.tls.get((c, n), {}).get("rate"),
                              self.tls.get(("nginx", n), {}).get("rate")),
                        "", ratio(self.tls_ms(c, n), self.tls_ms("nginx", n))))
                    + " |")
            facts = {r.get("facts") for r in self.tls.values() if r.get("facts")}
            if facts:
                md.append("\nNegotiated: %s." % "; ".join(sorted(facts)))
            busy = max(((1000 * r.get("cpu", 0) / r["sessions"], r.get("cpu", 0)
                         / self.secs, c, n) for (c, n), r in self.tls.items()
                        if r.get("sessions")), default=None, key=lambda x: x[1])
            if busy:
                md.append("\nThe client (bench/tlsload, C, libssl) took %.2f ms "
                          "of CPU a handshake; at its busiest (%s, c=%d) %.2f of "
                          "the %d CPUs." % (busy[0], busy[2], busy[3], busy[1],
                                            os.cpu_count()))

        md.append("\n### Memory, KiB\n")
        md.append("Peak RSS of one session (mailproxy, relay0: ru_maxrss of the "
                  "session's process; nginx: VmHWM of its busiest worker, "
                  "which serves every session), and all processes' RSS and PSS "
                  "at 64 held-open sessions (after login; nginx: master and "
                  "workers; the others: one process a session, the launcher "
                  "left out).\n")
        md.append("| contender | peak smtp | peak pop3 | peak imap | "
                  "64 smtp: procs, RSS, PSS | 64 imap: procs, RSS, PSS |")
        md.append("|---|---:|---:|---:|---:|---:|")
        for c, m in self.mem.items():
            def held(k):
                v = m.get(k)
                return "%d, %s, %s" % (v[0], "{:,}".format(v[1]), "{:,}".format(v[2])) \
                    if v else "-"
            md.append("| %s | %s | %s | %s | %s | %s |" % (
                c, *["{:,}".format(m["peak " + p]) if m.get("peak " + p) else "-"
                     for p in PROTOS], held("hold smtp"), held("hold imap")))
        if getattr(self, "empty_rss", None):
            md.append("\nThe floor: an empty dynamically linked program peaks "
                      "at %s KiB." % "{:,}".format(self.empty_rss))
        if "nginx" in self.mem:
            md.append("\nnginx before any session: %s KiB RSS in all (master %s)."
                      % ("{:,}".format(self.mem["nginx"].get("idle", 0)),
                         "{:,}".format(self.mem["nginx"].get("master", 0))))

        md.append("\n### Instructions per session (callgrind, pipeline mode, "
                  "the commands pipelined against bench/backend)\n")
        md.append("| program | instructions | x relay0 | x empty program |")
        md.append("|---|---:|---:|---:|")
        floor = self.insns.get("empty program, dynamic")
        for label, n in self.insns.items():
            rel = self.insns.get("relay0 " + label.split()[1].rstrip(","))
            md.append("| %s | %s | %s | %s |" % (
                label, "{:,}".format(n),
                ratio(n, rel) if label.startswith("mailproxy") else "",
                ratio(n, floor) if floor else ""))
        if getattr(self, "seccomp_us", None):
            w, wo = self.seccomp_us["with"], self.seccomp_us["without"]
            nf = self.insns.get(self.NOFILTER_LABEL)
            sm = self.insns.get("mailproxy smtp")
            md.append("\nWhat the seccomp filter costs a session (sandbox.c). "
                      "In the program, building it and no_new_privs: %s "
                      "instructions (the table's SMTP row less the one "
                      "without it; under valgrind the filter is not "
                      "installed). In the kernel, installing it and running "
                      "it on every system call, which callgrind cannot "
                      "count: CPU time, user + system, best round:\n"
                      % ("{:,}".format(sm - nf) if sm and nf else "-"))
            md.append("| SMTP session, pipelined | CPU per session | "
                      "x without the filter |")
            md.append("|---|---:|---:|")
            md.append("| obj/bench/mailproxy-nofilter (SANDBOX_OFF) | "
                      "%.1f us | 1.00x |" % wo)
            md.append("| ./mailproxy: no_new_privs and the filter, on every "
                      "system call | %.1f us | %s |" % (w, ratio(w, wo)))
        tls = self.insns.get("mailproxy %s, TLS (--ssl=on)" % TLS_PROTO)
        plain = self.insns.get("mailproxy " + TLS_PROTO)
        journal = self.insns.get(self.JOURNAL_LABEL)
        if journal and plain:
            md.append("\nWhat the journal costs a session (the %s session "
                      "above, in the same run):\n" % TLS_PROTO.upper())
            md.append("| session | instructions | x without the journal |")
            md.append("|---|---:|---:|")
            md.append("| stderr a pipe, no JOURNAL_STREAM (the line on "
                      "stderr) | %s | 1.00x |" % "{:,}".format(plain))
            md.append("| JOURNAL_STREAM naming stderr, the journal's socket "
                      "bound: libsystemd loaded, sd_journal_send | %s | %s |"
                      % ("{:,}".format(journal), ratio(journal, plain)))
            md.append("| the journal's cost | %s | |"
                      % "{:,}".format(journal - plain))
        if tls and self.tls_cost:
            md.append("\nWhere the TLS session's instructions go (callgrind, "
                      "inclusive):\n")
            md.append("| part | instructions | share |")
            md.append("|---|---:|---:|")
            cost = dict(self.tls_cost)
            parts = []
            for f, what in self.TLS_PARTS:
                if f not in cost:
                    continue
                v = cost[f]
                if f == "tls_server_ready":     # what is not counted above
                    v -= sum(cost.get(g, 0) for g, _ in self.TLS_PARTS[:5])
                parts.append((what, v))
            if plain:
                parts.append(("the same session in plaintext", plain))
                parts.append(("the rest (TLS reads and writes, the facts for "
                              "the log line, close_notify)",
                              tls - plain - sum(v for _, v in parts[:-1])))
            for what, v in parts:
                md.append("| %s | %s | %.0f%% |" % (what, "{:,}".format(v),
                                                     100.0 * v / tls))
            md.append("| the whole TLS session | %s | 100%% |" % "{:,}".format(tls))
        return md

    def tls_ms(self, c, n):
        r = self.tls.get((c, n), {})
        return 1000 * r["server_cpu"] / r["sessions"] \
            if r.get("sessions") and r.get("server_cpu") else None

    def summary(self):
        """The issue's table: mailproxy, the minimal relay and nginx side
        by side, the ratios, and the target each row is judged by."""
        t = ["| figure | mailproxy | relay0 | nginx | mailproxy / relay0 | "
             "mailproxy / nginx | target |", "|---|---:|---:|---:|---:|---:|---|"]

        def verdict(goal, a, b, n):
            if not a or not (n if goal == "nginx" else b):
                return "-"
            if goal == "nginx":
                k = a / n
                return "met" if k >= 1.5 else \
                    "missed: %.2fx of 1.5x nginx" % k
            k = a / b
            if goal == "fewer":
                return "met" if k <= 1.0 else \
                    "missed: %.2fx relay0's" % k
            return "met" if k >= 1.0 else "missed by %.0f%%" % ((1 - k) * 100)

        def row(what, a, b, n, goal=None):
            cell = lambda v: "{:,.0f}".format(v) if v else "-"
            t.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                what, cell(a), cell(b), cell(n), ratio(a, b), ratio(a, n),
                verdict(goal, a, b, n) if goal else ""))
        row("instructions per SMTP session (callgrind)",
            self.insns.get("mailproxy smtp"), self.insns.get("relay0 smtp"),
            None, "fewer")
        mid = sorted(self.conc)[len(self.conc) // 2]
        for launcher in self.launchers:
            for p in PROTOS:
                g = lambda c: self.rates.get((c, p, mid), {}).get("rate")
                row("%s sessions/s, c=%d, %s" % (p.upper(), mid, launcher),
                    g("mailproxy " + launcher), g("relay0 " + launcher),
                    g("nginx"), "more")
        for launcher in self.launchers:
            g = lambda c: self.tls.get((c, mid), {}).get("rate")
            row("TLS handshakes/s (%s, TLSv1.3, ECDSA P-256), c=%d, %s"
                % (TLS_PROTO.upper(), mid, launcher),
                g("mailproxy " + launcher), None, g("nginx"))
        g = lambda c: self.tls_ms(c, mid)
        t.append("| server CPU per TLS handshake, ms, c=%d, %s | %s | - | %s | - "
                 "| %s |  |" % (mid, self.launchers[0],
                               "%.2f" % g("mailproxy " + self.launchers[0])
                               if g("mailproxy " + self.launchers[0]) else "-",
                               "%.2f" % g("nginx") if g("nginx") else "-",
                               ratio(g("mailproxy " + self.launchers[0]), g("nginx"))))
        bulk_mp = [c for c in self.bulk_contenders if c.startswith("mailproxy")]
        mp = ([c for c in bulk_mp if " %s " % self.default_engine in c]
              or bulk_mp[:1] or [None])[0]
        r0 = ([c for c in self.bulk_contenders if c.startswith("relay0")]
              or [None])[0]
        names = {"smtp-up": "SMTP DATA up", "pop3-down": "POP3 RETR down",
                 "imap-down": "IMAP FETCH down"}
        for b in self.buffers:
            for m in ("smtp-up", "pop3-down", "imap-down"):
                row("%s %s, %s, MB/s" % (names[m], human_size(self.bytes),
                                         bufname(b)),
                    self.bulk.get((mp, b, m)), self.bulk.get((r0, b, m)),
                    self.bulk.get(("nginx", b, m)), "nginx")
        mem = lambda c, k: self.mem.get(c, {}).get(k)
        for p in PROTOS:
            row("peak RSS of one %s session, KiB (nginx: its worker)" % p.upper(),
                mem("mailproxy systemd", "peak " + p),
                mem("relay0 systemd", "peak " + p), mem("nginx", "peak " + p),
                "fewer")
        h = lambda c, i: (mem(c, "hold imap") or (0, 0, 0))[i]
        row("RSS of 64 held IMAP sessions, KiB", h("mailproxy systemd", 1),
            h("relay0 systemd", 1), h("nginx", 1))
        row("PSS of 64 held IMAP sessions, KiB", h("mailproxy systemd", 2),
            h("relay0 systemd", 2), h("nginx", 2))
        return t

    def targets(self):
        """Issue 14's targets as ratios of this run: met, or by how much not."""
        t = ["| target | measured | verdict |", "|---|---|---|"]
        mp, r0 = self.insns.get("mailproxy smtp"), self.insns.get("relay0 smtp")
        floor = self.insns.get("empty program, dynamic")
        if mp and r0:
            t.append("| instructions per SMTP session <= relay0's (dynamic) | "
                     "%s vs %s (floor, an empty program: %s) | %s |" % (
                         "{:,}".format(mp), "{:,}".format(r0),
                         "{:,}".format(floor or 0),
                         "met" if mp <= r0 else "missed by %s (%.2fx)" % (
                             "{:,}".format(mp - r0), mp / r0)))
        for c in self.session_contenders:
            rel = self.relay_of(c)
            if rel is None or "+auth" in c:
                continue
            for p in PROTOS:
                rs = [(n, self.rates.get((c, p, n), {}).get("rate", 0),
                       self.rates.get((rel, p, n), {}).get("rate", 0))
                      for n in self.conc]
                rs = [x for x in rs if x[2] > 0]
                if not rs:
                    continue
                worst = min(rs, key=lambda x: x[1] / x[2])
                k = worst[1] / worst[2]
                t.append("| %s session rate >= 1.0x %s | %s | %s |" % (
                    p.upper(), rel, ", ".join("c=%d %.2fx" % (n, a / b)
                                              for n, a, b in rs),
                    "met" if k >= 1.0 else "missed by %.0f%% (c=%d: %.2fx)"
                    % ((1 - k) * 100, worst[0], k)))
        bulk_mp = [c for c in self.bulk_contenders if c.startswith("mailproxy")]
        shipped = ([c for c in bulk_mp if " %s " % self.default_engine in c]
                   or bulk_mp[:1])
        for c in shipped:
            for b in self.buffers:
                for m in ("smtp-up", "pop3-down", "imap-down"):
                    v, n = self.bulk.get((c, b, m)), self.bulk.get(("nginx", b, m))
                    if not v or not n:
                        continue
                    best = max((self.bulk.get((e, b, m)) or 0, e) for e in bulk_mp)
                    k = v / n
                    t.append("| bulk %s at %s >= 1.5x nginx (%s) | %.0f vs %.0f MB/s "
                             "(best engine: %s, %.2fx) | %s |" % (
                                 m, bufname(b), c, v, n, best[1].split()[1]
                                 if len(best[1].split()) > 2 else best[1],
                                 best[0] / n,
                                 "met (%.2fx)" % k if k >= 1.5 else
                                 "missed: %.2fx, %.0f%% short of 1.5x"
                                 % (k, (1 - k / 1.5) * 100)))
        for p in PROTOS:
            a = self.mem.get("mailproxy systemd", {}).get("peak " + p)
            b = self.mem.get("relay0 systemd", {}).get("peak " + p)
            if a and b:
                t.append("| peak RSS of one %s session <= relay0's | %s vs %s KiB "
                         "(floor, an empty program: %s) | %s |"
                         % (p.upper(), "{:,}".format(a), "{:,}".format(b),
                            "{:,}".format(getattr(self, "empty_rss", 0) or 0),
                            "met" if a <= b else "missed by %s KiB (%.2fx)"
                            % ("{:,}".format(a - b), a / b)))
        return t

    def plot(self, png):
        """Session rate and p99 latency against concurrency, a panel per
        protocol, a line per contender."""
        if shutil.which("gnuplot") is None:
            self.problems.append("no gnuplot: no picture")
            return False
        dat = os.path.join(self.tmp, "rates.dat")
        with open(dat, "w") as f:
            for c in self.session_contenders:
                f.write("# %s\n" % c)
                for n in self.conc:
                    f.write("%d" % n)
                    for p in PROTOS:
                        r = self.rates.get((c, p, n), {})
                        f.write(" %.1f %.3f" % (r.get("rate", 0), r.get("p99", 0)))
                    f.write("\n")
                f.write("\n\n")
        g = ["set terminal pngcairo size 1500,960 font 'sans,10' noenhanced",
             "set output '%s'" % png,
             "set multiplot title 'mailproxy bench, %s: %d CPUs, loopback, "
             "%gs a point'" % (datetime.date.today().isoformat(),
                               os.cpu_count(), self.secs),
             "set logscale xy", "set xtics (%s)" % ", ".join(map(str, self.conc)),
             "set xrange [%g:%g]" % (min(self.conc) / 1.3, max(self.conc) * 1.3),
             "set grid", "set xlabel 'concurrent sessions'", "unset key"]
        colors = ["#555555", "#009e73", "#0072b2", "#56b4e9", "#e69f00",
                  "#cc79a7", "#d55e00", "#000080", "#8b4513"]
        style = ["linecolor rgb '%s' pointtype %d" % (colors[k % len(colors)],
                                                      k + 1)
                 for k in range(len(self.session_contenders))]
        lines = ["'%s' index %d using 1:($%%d>0?$%%d:1/0) with linespoints "
                 "lw 2 %s title '%s'" % (dat, k, style[k], c)
                 for k, c in enumerate(self.session_contenders)]
        for row, (col, what, ylab) in enumerate(((2, "sessions/s", "sessions/s"),
                                                  (3, "p99 latency", "ms"))):
            for i, p in enumerate(PROTOS):
                g += ["set origin %g,%g" % (i / 3, 0.53 - 0.42 * row),
                      "set size %g,0.42" % (1 / 3),
                      "set title '%s %s'" % (p.upper(), what),
                      "set ylabel '%s'" % ylab,
                      "plot " + ", ".join(x % (2 * i + col, 2 * i + col)
                                          for x in lines)]
        # the key, once, across the bottom
        g += ["set origin 0,0", "set size 1,0.1", "unset title", "unset xlabel",
              "unset ylabel", "unset logscale", "unset grid", "unset border",
              "unset tics", "set xrange [0:1]", "set yrange [0:1]",
              "set key center center horizontal maxrows 1 width 2",
              "plot " + ", ".join("NaN with linespoints lw 2 %s title '%s'"
                                  % (style[k], c)
                                  for k, c in enumerate(self.session_contenders)),
              "unset multiplot"]
        r = subprocess.run(["gnuplot"], input="\n".join(g) + "\n", text=True,
                           capture_output=True, timeout=60)
        if r.returncode != 0 or not os.path.exists(png):
            self.problems.append("gnuplot: " + r.stderr.strip()[:300])
            return False
        return True

    def write(self):
        os.makedirs(self.out, exist_ok=True)
        md_path = os.path.join(self.out, "results.md")
        png = os.path.join(self.out, "results.png")
        drawn = self.plot(png)
        tables = self.tables()
        targets = self.targets()
        summary = self.summary()
        doc = ["# mailproxy benchmark results",
               "",
               "Written by `make bench` (bench/run.py)%s; every figure comes "
               "from the one run described here, on loopback, against "
               "bench/backend." % (" --smoke: tiny sizes, not figures"
                                   if self.smoke else ""),
               "",
               "| machine | |", "|---|---|"]
        doc += ["| %s | %s |" % kv for kv in self.machine()]
        doc += ["", "## Summary", ""] + summary
        doc += ["", "## Targets (issue 14)", ""] + targets
        doc += ["", "## Figures", ""] + tables
        if drawn:
            doc += ["", "![session rate and p99 latency against concurrency]"
                    "(results.png)"]
        if self.notes or self.problems:
            doc += ["", "## Notes", ""] + ["- " + n for n in self.problems + self.notes]
        doc += ["", "## What is measured how", "", HOW]
        with open(md_path, "w") as f:
            f.write("\n".join(doc) + "\n")
        print()
        print("\n".join(tables + ["", "## Targets (issue 14)", ""] + targets
                        + ["", "## Summary", ""] + summary))
        print()
        if not self.smoke:
            say("wrote %s%s" % (md_path, " and " + png if drawn else ""))

    def run(self):
        self.loadavg = open("/proc/loadavg").read().split(" ")[:3]
        self.loadavg = " ".join(self.loadavg)
        t0 = time.time()
        try:
            self.start_backend()
            self.start_contenders()
            say("contenders up: %s; bulk engines: %s" % (
                ", ".join(self.session_contenders),
                ", ".join(e or "(no --relay-engine)" for e in self.engines)))
            self.run_sessions()
            self.delayed_ack_notes()
            self.run_bulk()
            self.run_tls()
            self.run_memory()
            self.run_instructions()
        except (Failure, subprocess.TimeoutExpired, OSError) as e:
            self.problems.append("aborted: %s" % e)
        finally:
            signal.alarm(0)
            self.stop_all()
        self.write()
        say("%.0f s in all" % (time.time() - t0))
        for p in self.problems:
            say("FAILED:", p)
        if os.environ.get("BENCH_KEEP") == "1" or self.problems:
            say("logs kept in", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if self.problems else 0


HOW = """- Sessions: bench/load runs each session in lockstep from a thread per
  concurrent session, for the time given, and times it from connect(2) to
  the server's EOF after the last reply; only sessions that ended within
  the time count.  SMTP: EHLO, MAIL, RCPT, DATA of 1 KiB, QUIT
  (`--smtp-auth=none`; nginx `smtp_auth none`, both with XCLIENT to the
  backend).  POP3: USER, PASS, QUIT.  IMAP: LOGIN, LOGOUT.  mailproxy
  names its backend with `--backend` (no auth service: the backend checks
  the password), `mailproxy+auth_http` asks bench/backend's auth_http
  responder first, as nginx always does.  relay0 knows no mail: the client
  speaks to the backend through it.
- Launchers: `systemd-socket-activate --accept` (fd 3), and openbsd-inetd
  `-i` with `nowait.10000000` and `-R 10000000` (its default of 256 starts
  a minute would stop the service for ten minutes), in a private mount
  namespace for its pid file.  Under inetd mailproxy logs to syslog;
  under systemd-socket-activate, to stderr (a file).  nginx runs
  `worker_processes auto`, `error_log ... error`.
- Bulk: one session each, after the login; the time runs from the DATA
  body's first byte to the 250 (SMTP), or from RETR / FETCH to the end of
  the reply (POP3, IMAP).  The body is 64-byte lines.
  `--proxy-buffer` and nginx's `proxy_buffer` are set alike; "default" is
  both programs' default, one page.  Every `--relay-engine` value that
  `mailproxy --help` lists is measured under the first launcher.
- TLS: bench/tlsload, a thread per concurrent connection, each
  connect(2), a TLSv1.3 handshake (SNI mx.bench, no verification of the
  chain, no resumption: every handshake a full one), the IMAP greeting
  read, close_notify, close(2); timed from connect to the greeting.
  mailproxy `--ssl=on --ssl-protocols=TLSv1.3 --ssl-session-tickets=off`
  under each launcher, one process a connection; nginx `listen ... ssl`,
  `ssl_protocols TLSv1.3`, `ssl_session_tickets off` (with tickets, nginx
  writes them and then the greeting, which Nagle holds for the client's
  delayed ACK: 44 ms a handshake at c=1).  The same ECDSA P-256
  certificate, made by `openssl req -x509 -newkey ec` for the run; both
  choose X25519 and TLS_AES_256_GCM_SHA384.  Server CPU: the utime and
  stime of nginx's master and workers, or of the launcher and the
  sessions it reaped (/proc/PID/stat), over the same seconds; client CPU:
  tlsload's getrusage.  The client and the servers share the machine's
  CPUs.
- Memory: bench/maxrss sits between the launcher and the program and
  reports wait4(2)'s ru_maxrss of one whole session; 64 sessions are held
  open after the login while /proc/PID/status (VmRSS) and smaps_rollup
  (Pss) are read for every process.
- Instructions: `valgrind --tool=callgrind` on one process from exec to
  exit, the session's commands pipelined from a file on stdin, stdout to
  a pipe, against bench/backend; the empty programs are `int main(void)
  { return 0; }`, dynamic and `-static`.  The journal row: the IMAP
  session with its stderr a file that `JOURNAL_STREAM` names, in a mount
  namespace whose /run/systemd/journal/socket is tests/lib/fake_journal.py's
  (these machines run no journald), so that the line goes through
  libsystemd's `sd_journal_send`.
- Timings belong here, never in tests; the figures move with the load of
  the machine (see its load average above)."""


def size_bytes(s):
    m = re.fullmatch(r"(\d+)([km]?)", s.lower())
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20}[m.group(2)]


def bufname(b):
    return "%dk (default)" % (PAGE // 1024) if b == "default" else b


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"


def build_tlsload():
    """bench/tlsload, the one bench program linked with libssl, built here
    (into BENCH_BIN, when older than its sources) with the flags of the
    Makefile's other bench programs; False when it cannot be."""
    exe = prog("tlsload")
    srcs = [os.path.join(BENCH, f) for f in ("tlsload.c", "io.c", "io.h")]
    try:
        if os.path.exists(exe) and os.path.getmtime(exe) >= max(
                os.path.getmtime(f) for f in srcs):
            return True
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libssl",
                                "libcrypto"], capture_output=True, text=True,
                               timeout=30)
        if flags.returncode != 0:
            say("no libssl-dev (pkg-config libssl): TLS not measured")
            return False
        os.makedirs(BIN, exist_ok=True)
        argv = [os.environ.get("CC", "cc"), "-O2", "-g", "-std=c11",
                "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-pthread",
                "-o", exe, srcs[0], srcs[1]] + flags.stdout.split()
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        say("tlsload not built: %s" % e)
        return False
    if r.returncode != 0:
        say("tlsload not built: %s" % r.stderr.strip()[:500])
        return False
    return True


def main():
    smoke = "--smoke" in sys.argv[1:]
    for a in sys.argv[1:]:
        if a != "--smoke":
            sys.exit("usage: bench/run.py [--smoke]")
    for p in (MAILPROXY, prog("backend"), prog("load"), prog("relay0"),
              prog("maxrss")):
        if not os.access(p, os.X_OK):
            sys.exit("bench: no %s (make bench builds it)" % p)
    build_tlsload()
    b = Bench(smoke)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))

    def too_long(*a):
        raise Failure("over BENCH_LIMIT (%s s)" % limit)
    limit = int(os.environ.get("BENCH_LIMIT", "300" if smoke else "1500"))
    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(limit)
    try:
        sys.exit(b.run())
    finally:
        b.stop_all()


if __name__ == "__main__":
    main()
