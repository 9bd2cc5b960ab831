#!/usr/bin/env python3
"""fake_smtp.py - a scriptable fake SMTP backend for mailproxy's tests.

Listens on 127.0.0.1:PORT, appends every byte it receives, verbatim, to a
transcript file (flushed after each read), and answers like a sane ESMTP
server unless told otherwise:

  greeting  220 fake.example.test ESMTP fake_smtp
  EHLO      250-fake.example.test / PIPELINING / SIZE / 8BITMIME /
            XCLIENT NAME ADDR LOGIN (nginx's three: --reply EHLO=... for
            more) /
            AUTH PLAIN LOGIN / 250 ENHANCEDSTATUSCODES
  XCLIENT   220 (back to the greeting state, as Postfix does); bytes
            already sent after it are logged "pipelined after XCLIENT"
  HELO MAIL RCPT RSET NOOP -> 250;  VRFY -> 252
  AUTH PLAIN <b64> -> 235; AUTH PLAIN -> 334 then 235; AUTH LOGIN -> 334 x2, 235
  DATA      354, then 250 after the lone "."  (key EOM overrides that 250)
  QUIT      221 and close;  anything else -> 500

Usage:
  fake_smtp.py PORT TRANSCRIPT [options]
    --multi                 accept connections until killed (default: one)
    --ready FILE            create FILE once listening (tests wait for it)
    --reply VERB=TEXT       override the reply to VERB (repeatable; repeating
                            a VERB queues replies: 1st use, 2nd use, ..., the
                            last one sticks).  TEXT lines are split on a
                            literal "\\n"; CRLF is added.  VERB AUTH is the
                            final reply of an AUTH exchange, EOM the reply
                            after the message's final ".".
    --greeting TEXT         the greeting line(s)
    --greeting-file FILE    the greeting's lines from FILE
    --proxy                 expect a PROXY v1 line or v2 header first; it is
                            recorded (as all bytes are) and also logged
    --delay-greeting SECS   sleep before the greeting
    --delay-replies SECS    sleep before each reply after the greeting
    --close                 close each connection right after accept
    --close-on STATE        close unanswered: GREETING (after the greeting),
                            TLS (after the STARTTLS go-ahead, before the
                            handshake), or VERB (as that
                            command arrives)
    --silent                read and record, never answer
    --log FILE              event log (connect/close/proxy), default stderr
    --hold SECS             at the end of a connection (QUIT, the peer's
                            EOF), stay open and idle SECS before closing
    --stall-after VERB      after the reply to VERB (DATA: to its 354),
                            never read again, but send a line every 0.2 s
    --flood-after VERB      after the reply to VERB (GREETING: after the
                            greeting), never read again, and send lines
                            for ever (--flood-line TEXT: which)
    --tls --starttls --cert --key --sni-cert --client-ca
    --require-client-cert --tls-min --tls-max
                            TLS, off by default: see fakeserver.py.  With
                            --starttls the default EHLO reply lists
                            250-STARTTLS (before its last line) until TLS is
                            on; STARTTLS answers 220 and upgrades, and the
                            client must EHLO again.  Without it STARTTLS is
                            an unknown command (500), as before.

Stdlib only.
"""

import time

import fakeserver
from fakeserver import Connection

DEFAULT_EHLO = [
    "250-fake.example.test",
    "250-PIPELINING",
    "250-SIZE 10240000",
    "250-8BITMIME",
    "250-XCLIENT NAME ADDR LOGIN",
    "250-AUTH PLAIN LOGIN",
    "250 ENHANCEDSTATUSCODES",
]
DEFAULTS = {
    "HELO": ["250 fake.example.test"],
    "XCLIENT": ["220 fake.example.test ESMTP fake_smtp"],
    "MAIL": ["250 2.1.0 Ok"],
    "RCPT": ["250 2.1.5 Ok"],
    "RSET": ["250 2.0.0 Ok"],
    "NOOP": ["250 2.0.0 Ok"],
    "VRFY": ["252 2.0.0 Cannot VRFY"],
    "DATA": ["354 End data with <CR><LF>.<CR><LF>"],
    "EOM": ["250 2.0.0 Ok: queued as FAKE"],
    "AUTH": ["235 2.7.0 Authentication successful"],
    "QUIT": ["221 2.0.0 Bye"],
    "UNKNOWN": ["500 5.5.2 Error: command not recognized"],
}






class Session(Connection):
    def send(self, lines):
        self.send_raw("".join(l + "\r\n" for l in lines).encode("latin-1"))

    def run(self):
        a = self.args
        self.log("connect %s:%d" % self.peer)
        if a.close:
            return
        if a.proxy:
            self.read_proxy()
        if not self.implicit_tls():
            return
        if a.delay_greeting:
            time.sleep(a.delay_greeting)
        greeting = a.greeting.split("\\n") if a.greeting else [
            "220 fake.example.test ESMTP fake_smtp"]
        self.send(greeting)
        if self.close_on("GREETING"):
            return
        if a.flood_after == "GREETING":
            self.flood()
            return
        while not self.eof:
            line = self.readline()
            if line is None:
                break
            if a.silent:
                continue
            if a.delay_replies:
                time.sleep(a.delay_replies)
            words = line.split(None, 2)
            verb = words[0].decode("latin-1").upper() if words else ""
            if self.close_on(verb):
                break
            if verb == "EHLO":
                ehlo = DEFAULT_EHLO
                if self.offer_starttls():
                    ehlo = DEFAULT_EHLO[:-1] + ["250-STARTTLS"] + DEFAULT_EHLO[-1:]
                self.send(self.script.reply("EHLO", ehlo))
            elif verb == "STARTTLS" and self.offer_starttls():
                r = self.script.reply("STARTTLS", ["220 2.0.0 Ready to start TLS"])
                self.send(r)
                if r and r[-1].startswith("220") and (
                        self.close_on("TLS") or not self.starttls()):
                    break
            elif verb == "AUTH":
                self.auth(words)
            elif verb == "DATA":
                r = self.script.reply("DATA", DEFAULTS["DATA"])
                self.send(r)
                if verb in (a.stall_after, a.flood_after):
                    pass
                elif r[-1].startswith("354"):
                    self.data()
            elif verb == "QUIT":
                self.send(self.script.reply("QUIT", DEFAULTS["QUIT"]))
                break
            elif verb in DEFAULTS and verb not in ("EOM", "UNKNOWN"):
                # as Postfix, which logs "improper command pipelining after
                # XCLIENT": XCLIENT resets the session, nothing may follow
                # it unanswered
                if verb == "XCLIENT" and self.buf:
                    self.log("pipelined after XCLIENT")
                self.send(self.script.reply(verb, DEFAULTS[verb]))
            else:
                self.send(self.script.reply(verb, DEFAULTS["UNKNOWN"]))
            if verb == a.stall_after:
                self.stall()
                break
            if verb == a.flood_after:
                self.flood()
                break

    def auth(self, words):
        mech = words[1].decode("latin-1").upper() if len(words) > 1 else ""
        if mech == "PLAIN" and len(words) < 3:
            self.send(["334 "])
            if self.readline() is None:
                return
        elif mech == "LOGIN":
            if len(words) < 3:
                self.send(["334 VXNlcm5hbWU6"])
                if self.readline() is None:
                    return
            self.send(["334 UGFzc3dvcmQ6"])
            if self.readline() is None:
                return
        elif mech != "PLAIN":
            self.send(["504 5.5.4 Unsupported authentication mechanism"])
            return
        self.send(self.script.reply("AUTH", DEFAULTS["AUTH"]))

    def data(self):
        while True:
            line = self.readline()
            if line is None:
                return
            if line == b".":
                self.send(self.script.reply("EOM", DEFAULTS["EOM"]))
                return


def main():
    p = fakeserver.parser(__doc__)
    p.add_argument("--delay-greeting", type=float, default=0)
    p.add_argument("--delay-replies", type=float, default=0)
    p.add_argument("--stall-after", type=str.upper)
    p.add_argument("--flood-after", type=str.upper)
    a = p.parse_args()
    fakeserver.serve("fake_smtp", p, a, lambda conn, peer, script, transcript, log:
        Session(conn, peer, a, script, transcript, log).run())


if __name__ == "__main__":
    main()
