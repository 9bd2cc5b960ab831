#!/usr/bin/env python3
"""sasl_chat.py PROTO PORT LOG - chat.py --expect-greeting --lockstep PROTO
(it drives chat.py's Chat class) for scripts that answer a server's salt:

  @apop USER PASS   "APOP USER <hex MD5(<the greeting's salt> PASS)>"
  @cram USER PASS   the answer to the last challenge (334 / "+ "):
                    base64("USER " hex HMAC-MD5(PASS, the challenge))

PASS takes Python escapes (\\r).  Writes every byte received to stdout;
the salts used go to LOG.salts, a line each, and how long each reply
took, in ms, to LOG.times ("MS LINE").  Exits 3 when a reply or the close
did not come.
"""
import base64, hashlib, hmac, os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat
proto, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = chat.connect(port)
done = lambda tag: chat.reply_done(proto, tag)
rc = 0 if c.wait(done(b"*"), "greeting") else 3
greeting, tag = bytes(c.all), b"*"
for line in sys.stdin.buffer.read().split(b"\n"):
    line = line.rstrip(b"\r")
    if rc or not line:
        continue
    if line.startswith((b"@apop ", b"@cram ")):
        _, u, p = line.split(b" ", 2)
        p = p.decode("unicode_escape").encode("latin-1")
        if line.startswith(b"@apop"):
            salt = re.search(rb"<[^>]*>", greeting).group(0)
            line = b"APOP " + u + b" " + hashlib.md5(salt + p).hexdigest().encode()
        else:
            m = re.search(rb"^(?:334|\+) (\S+)\r?$", bytes(c.all[c.mark:]), re.M)
            salt = base64.b64decode(m.group(1))
            line = base64.b64encode(u + b" " + hmac.new(p, salt, hashlib.md5).hexdigest().encode())
        open(log + ".salts", "ab").write(salt + b"\n")
    elif proto == "imap" and b" " in line:
        tag = line.split(b" ", 1)[0]
    start = time.monotonic()
    c.send(line + b"\r\n")
    if not c.wait(done(tag), "reply to %r" % line):
        rc = 3
    open(log + ".times", "a").write(
        "%d %s\n" % ((time.monotonic() - start) * 1000, line.decode("latin-1")))
if rc == 0:
    end = time.monotonic() + c.a.timeout
    while not c.eof and time.monotonic() < end:
        c.pump(end - time.monotonic())
    rc = 0 if c.eof else 3
sys.stdout.buffer.write(bytes(c.all))
sys.exit(rc)
