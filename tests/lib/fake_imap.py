#!/usr/bin/env python3
"""fake_imap.py - a scriptable fake IMAP backend for mailproxy's tests.

Listens on 127.0.0.1:PORT, appends every byte it receives, verbatim, to a
transcript file (flushed after each read), and answers like a small IMAP4rev1
server unless told otherwise:

  greeting    * OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] fake_imap ready
  literal     a line ending in {n} gets "+ Ready for literal data", then n
              bytes are read; {n+} (LITERAL+) gets nothing
  CAPABILITY  * CAPABILITY IMAP4rev1 LITERAL+ IDLE / <tag> OK CAPABILITY completed
  LOGIN       <tag> OK [CAPABILITY IMAP4rev1 IDLE] Logged in
  ID          * ID ("name" "fake_imap") / <tag> OK ID completed
  SELECT      * 1 EXISTS / * FLAGS (\\Seen) / <tag> OK [READ-WRITE] SELECT completed
  FETCH       * 1 FETCH (BODY[] {N} + the --message file + ")" / <tag> OK FETCH completed
  NOOP        <tag> OK NOOP completed
  LOGOUT      * BYE fake_imap logging out / <tag> OK LOGOUT completed, and close
  anything else: <tag> BAD unknown command

Every LOGIN's decoded arguments are logged as "login user=HEX pass=HEX"
(hex of the bytes the server parsed: quoted strings unescaped, literals as
they came), so tests can check that odd credentials survive.

Usage:
  fake_imap.py PORT TRANSCRIPT [options]
    --multi                 accept connections until killed (default: one)
    --ready FILE            create FILE once listening (tests wait for it)
    --reply VERB=TEXT       override the reply to VERB (repeatable; repeating
                            a VERB queues replies: 1st use, 2nd use, ..., the
                            last one sticks).  TEXT lines are split on a
                            literal "\\n"; lines starting with "* " or "+" go
                            out as they are, every other line gets "<tag> "
                            in front.  "@none": no reply at all (the client
                            hangs); "@close": close the connection; a line
                            "@raw TEXT": TEXT as it is.  VERB LITERAL is the
                            answer to a literal's {n} (default "+ Ready for
                            literal data"; a tagged answer abandons the
                            command).
    --greeting TEXT         the greeting line(s), sent as they are
    --greeting-file FILE    the greeting's lines from FILE
    --message FILE          the message FETCH returns (default: a short one)
    --proxy                 expect a PROXY v1 line or v2 header first; it is
                            recorded (as all bytes are) and also logged
    --close                 close each connection right after accept
    --close-on STATE        close unanswered: GREETING (after the greeting),
                            TLS (after the STARTTLS go-ahead, before the
                            handshake), LITERAL (after a literal's go-ahead),
                            or VERB (as that command arrives)
    --silent                read and record, never answer
    --stall-after VERB      after the reply to VERB, never read again, but
                            send a line every 0.2 s (as fake_smtp.py's)
    --flood-after VERB      after the reply to VERB (GREETING: after the
                            greeting), never read again, and send lines
                            for ever (--flood-line TEXT: which)
    --log FILE              event log (connect/close/proxy/login), default stderr
    --tls --starttls --cert --key --sni-cert --client-ca
    --require-client-cert --tls-min --tls-max
                            TLS, off by default: see fakeserver.py.  With
                            --starttls the default greeting and CAPABILITY
                            list STARTTLS until TLS is on, and STARTTLS
                            answers "<tag> OK Begin TLS negotiation now" and
                            upgrades.  Without it STARTTLS gets BAD, as before.

Stdlib only.
"""
import re

import fakeserver
from fakeserver import Connection


DEFAULT_GREETING = "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] fake_imap ready"
DEFAULTS = {
    "CAPABILITY": ["* CAPABILITY IMAP4rev1 LITERAL+ IDLE", "OK CAPABILITY completed"],
    "LOGIN": ["OK [CAPABILITY IMAP4rev1 IDLE] Logged in"],
    "ID": ['* ID ("name" "fake_imap")', "OK ID completed"],
    "SELECT": ["* 1 EXISTS", "* FLAGS (\\Seen)", "OK [READ-WRITE] SELECT completed"],
    "EXAMINE": ["* 1 EXISTS", "OK [READ-ONLY] EXAMINE completed"],
    "NOOP": ["OK NOOP completed"],
    "LOGOUT": ["* BYE fake_imap logging out", "OK LOGOUT completed"],
    "LITERAL": ["+ Ready for literal data"],
    "UNKNOWN": ["BAD unknown command"],
}
LITERAL = re.compile(rb"\{(\d+)(\+?)\}$")






def tokens(parts):
    """Arguments of a command: parts alternate text, literal bytes, text..."""
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append(part)
            continue
        text = LITERAL.sub(b"", part) if i + 1 < len(parts) else part
        j = 0
        while j < len(text):
            c = text[j:j + 1]
            if c in (b" ", b"(", b")"):
                j += 1
            elif c == b'"':
                j += 1
                val = bytearray()
                while j < len(text) and text[j:j + 1] != b'"':
                    if text[j:j + 1] == b"\\":
                        j += 1
                    val += text[j:j + 1]
                    j += 1
                j += 1
                out.append(bytes(val))
            else:
                k = j
                while k < len(text) and text[k:k + 1] not in (b" ", b"(", b")"):
                    k += 1
                out.append(text[j:k])
                j = k
    return out


class Session(Connection):
    def __init__(self, conn, peer, args, script, transcript, log):
        super().__init__(conn, peer, args, script, transcript, log)
        self.closing = False

    def send(self, tag, lines):
        """Sends a reply; False if the reply said to stop."""
        out = []
        for l in lines:
            if l == "@none":
                return True
            if l == "@close":
                self.closing = True
                break
            if l.startswith("@raw "):
                out.append(l[5:])
            elif l.startswith("* ") or l.startswith("+"):
                out.append(l)
            else:
                out.append("%s %s" % (tag, l))
        self.send_raw("".join(l + "\r\n" for l in out).encode("latin-1"))
        return not self.closing

    def command(self):
        """One command with its literals: (tag, parts), or None at EOF."""
        line = self.readline()
        if line is None:
            return None
        tag = line.split(b" ", 1)[0].decode("latin-1")
        parts = [line]
        while True:
            m = LITERAL.search(parts[-1])
            if not m:
                return tag, parts
            if not m.group(2):
                r = self.script.reply("LITERAL", DEFAULTS["LITERAL"])
                if not r[0].startswith("+"):
                    self.send(tag, r)
                    return tag, None
                self.send(tag, r)
                if self.close_on("LITERAL"):
                    return None
            data = self.readn(int(m.group(1)))
            line = self.readline() if data is not None else None
            if line is None:
                return None
            parts += [data, line]

    def run(self):
        a = self.args
        self.log("connect %s:%d" % self.peer)
        if a.close:
            return
        if a.proxy:
            self.read_proxy()
        if not self.implicit_tls():
            return
        if a.greeting:
            greeting = a.greeting.split("\\n")
        elif self.offer_starttls():
            greeting = [DEFAULT_GREETING.replace(" SASL-IR ", " SASL-IR STARTTLS ")]
        else:
            greeting = [DEFAULT_GREETING]
        self.send("*", greeting)
        if self.close_on("GREETING"):
            return
        if a.flood_after == "GREETING":
            self.flood()
            return
        while not self.eof and not self.closing:
            cmd = self.command()
            if cmd is None:
                break
            tag, parts = cmd
            if parts is None or a.silent:
                continue
            args = tokens(parts)
            verb = args[1].decode("latin-1").upper() if len(args) > 1 else ""
            if self.close_on(verb):
                break
            if verb == "LOGIN" and len(args) == 4:
                self.log("login user=%s pass=%s" % (args[2].hex(), args[3].hex()))
            if verb == "FETCH":
                self.fetch(tag)
            elif verb == "CAPABILITY" and self.offer_starttls():
                caps = [DEFAULTS["CAPABILITY"][0] + " STARTTLS"] + DEFAULTS["CAPABILITY"][1:]
                self.send(tag, self.script.reply(verb, caps))
            elif verb == "STARTTLS" and self.offer_starttls():
                r = self.script.reply(verb, ["OK Begin TLS negotiation now"])
                self.send(tag, r)
                if r and r[-1].startswith("OK") and (
                        self.close_on("TLS") or not self.starttls()):
                    break
            elif verb in DEFAULTS and verb not in ("LITERAL", "UNKNOWN"):
                if not self.send(tag, self.script.reply(verb, DEFAULTS[verb])):
                    break
                if verb == "LOGOUT":
                    break
            else:
                self.send(tag, self.script.reply(verb, DEFAULTS["UNKNOWN"]))
            if verb == a.stall_after:
                self.stall()
                break
            if verb == a.flood_after:
                self.flood()
                break

    def fetch(self, tag):
        if self.args.message:
            body = open(self.args.message, "rb").read()
        else:
            body = b"Subject: hello\r\n\r\nhello\r\n"
        self.send_raw(b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body + b")\r\n")
        self.send(tag, ["OK FETCH completed"])


def main():
    p = fakeserver.parser(__doc__)
    p.add_argument("--message")
    p.add_argument("--stall-after", type=str.upper)
    p.add_argument("--flood-after", type=str.upper)
    a = p.parse_args()
    fakeserver.serve("fake_imap", p, a, lambda conn, peer, script, transcript, log:
        Session(conn, peer, a, script, transcript, log).run())


if __name__ == "__main__":
    main()
