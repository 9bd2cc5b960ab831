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
    --greeting-file FILE    the greeting's lines from FILE
    --message FILE          the one message (default: a short one)
    --proxy                 expect a PROXY v1 line or v2 header first; it is
                            recorded (as all bytes are) and also logged
    --delay-greeting SECS   sleep before the greeting
    --close                 close each connection right after accept
    --close-on STATE        close unanswered: GREETING (after the greeting),
                            TLS (after the STARTTLS go-ahead, before the
                            handshake), or VERB (as that
                            command arrives)
    --silent                read and record, never answer
    --stall-after VERB      after the reply to VERB, never read again, but
                            send a line every 0.2 s (as fake_smtp.py's)
    --flood-after VERB      after the reply to VERB (GREETING: after the
                            greeting), never read again, and send lines
                            for ever (--flood-line TEXT: which)
    --log FILE              event log (connect/close/proxy), default stderr
    --hold SECS             at the end of a connection (QUIT, the peer's
                            EOF), stay open and idle SECS before closing
    --tls --starttls --cert --key --sni-cert --client-ca
    --require-client-cert --tls-min --tls-max
                            TLS, off by default: see fakeserver.py.  With
                            --starttls, CAPA answers "+OK Capability list
                            follows / USER / SASL PLAIN LOGIN / STLS / ."
                            (STLS until TLS is on) and STLS answers
                            "+OK Begin TLS negotiation" and upgrades.
                            Without it CAPA and STLS get -ERR, as before.

Stdlib only.
"""

import time

import fakeserver
from fakeserver import Connection

DEFAULT_MESSAGE = (b"From: a@example.test\r\nTo: alice@example.test\r\n"
                   b"Subject: fake\r\n\r\nhello from fake_pop3\r\n"
                   b".a line that starts with a dot\r\n")






def normalize(msg):
    """The message with CRLF line ends, as it travels."""
    return msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def dot_stuff(lines):
    return [b"." + l if l.startswith(b".") else l for l in lines]


class Session(Connection):
    def __init__(self, conn, peer, args, script, transcript, log, message):
        super().__init__(conn, peer, args, script, transcript, log)
        self.message = message

    def send(self, lines):
        self.send_raw("".join(l + "\r\n" for l in lines).encode("latin-1"))

    def send_multi(self, first, lines):
        body = b"".join(l + b"\r\n" for l in dot_stuff(lines))
        self.send_raw(first.encode("latin-1") + b"\r\n" + body + b".\r\n")

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
        self.send(a.greeting.split("\\n") if a.greeting else
                  ["+OK fake_pop3 ready"])
        if self.close_on("GREETING"):
            return
        if a.flood_after == "GREETING":
            self.flood()
            return
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
            if self.close_on(verb):
                break
            if verb == "CAPA" and a.starttls:
                caps = ["+OK Capability list follows", "USER", "SASL PLAIN LOGIN"]
                if self.offer_starttls():
                    caps.append("STLS")
                self.send(self.script.reply("CAPA", caps + ["."]))
            elif verb == "STLS" and self.offer_starttls():
                r = self.script.reply("STLS", ["+OK Begin TLS negotiation"])
                self.send(r)
                if r and r[-1].startswith("+OK") and (
                        self.close_on("TLS") or not self.starttls()):
                    break
            elif verb == "USER":
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
            if verb == a.stall_after:
                self.stall()
                break
            if verb == a.flood_after:
                self.flood()
                break


def main():
    p = fakeserver.parser(__doc__)
    p.add_argument("--message")
    p.add_argument("--stall-after", type=str.upper)
    p.add_argument("--flood-after", type=str.upper)
    p.add_argument("--delay-greeting", type=float, default=0)
    a = p.parse_args()
    message = DEFAULT_MESSAGE
    if a.message:
        with open(a.message, "rb") as f:
            message = f.read()
    message = normalize(message)
    if message and not message.endswith(b"\r\n"):
        message += b"\r\n"
    fakeserver.serve("fake_pop3", p, a, lambda conn, peer, script, transcript, log:
        Session(conn, peer, a, script, transcript, log, message).run())


if __name__ == "__main__":
    main()
