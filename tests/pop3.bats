#!/usr/bin/env bats
# POP3 through the real binary under tcpserver, byte for byte, against the
# fake backend (tests/lib/fake_pop3.py) that records what it is sent; then
# end to end against a real Dovecot (tests/lib/mailservers.bash).

load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

# backend ARGS...: the fake POP3 backend on $BE
backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" "$@" &&
	    wait_for_file "$T/fake-$BE.ready"
}

# mp ARGS...: mailproxy for POP3 on $MPPORT, towards the fake backend
mp() {
	launch_tcpserver "$MPPORT" --protocol=pop3 --backend="127.0.0.1:$BE" "$@"
}

# again: stop everything and start over on fresh ports (several sessions
# in one test, each against its own backend)
again() {
	stop_launchers || :
	BE=$(free_port)
	MPPORT=$(free_port)
}

# q CMD...: CMD without its stderr, so that $output holds the bytes received
q() { "$@" 2>/dev/null; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
mplog() { tcpserver_log "$MPPORT"; }
untouched() { ! grep -q connect "$T/fake-$BE.log"; }
b64() { printf "$1" | base64 -w0; }

G=$'+OK POP3 ready\r\n'
CAPA=$'+OK Capability list follows\r\n'
# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==

@test "greeting, NOOP and QUIT; the backend is untouched" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<$'NOOP\nnoop\nQUIT'
	[ "$output" = "$G"$'+OK\r\n+OK\r\n+OK\r' ]
	untouched
	mplog | grep -q 'outcome="client quit before logging in"'
}

@test "CAPA lists pop3_capabilities, then the SASL line, as nginx" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<$'CAPA\nQUIT'
	[ "$output" = "$G$CAPA"$'TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n+OK\r' ]
	untouched
}

@test "CAPA: quoted items keep their spaces; an empty list leaves the SASL line" {
	backend; mp --pop3-capabilities='"EXPIRE NEVER" PIPELINING UIDL'
	run q pop3_chat "$MPPORT" <<<$'CAPA\nQUIT'
	[ "$output" = "$G$CAPA"$'EXPIRE NEVER\r\nPIPELINING\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n+OK\r' ]
	again; backend; mp --pop3-capabilities=
	run q pop3_chat "$MPPORT" <<<$'CAPA\nQUIT'
	[ "$output" = "$G$CAPA"$'SASL PLAIN LOGIN\r\n.\r\n+OK\r' ]
}

@test "AUTH without a mechanism lists them, as nginx" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<$'AUTH\nQUIT'
	[ "$output" = "$G"$'+OK methods supported:\r\nPLAIN\r\nLOGIN\r\n.\r\n+OK\r' ]
}

@test "apop and cram-md5 without an auth service: no timestamp, not offered, refused with the reason" {
	backend; mp --pop3-auth='plain apop cram-md5' --max-errors=10
	run q pop3_chat "$MPPORT" <<<$'CAPA\nAUTH\nAPOP alice c4c9334bac560ecc979e58001b3e22fb\nAUTH CRAM-MD5\nQUIT'
	[ "$output" = "$G$CAPA"$'TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n+OK methods supported:\r\nPLAIN\r\nLOGIN\r\n.\r\n-ERR APOP not available: needs an auth service\r\n-ERR CRAM-MD5 not available: needs an auth service\r\n+OK\r' ]
	untouched
	mplog | grep -q 'APOP refused: it needs an auth service'
}

@test "APOP and CRAM-MD5 outside pop3_auth: invalid command, unrecognized type" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<$'APOP alice c4c9334bac560ecc979e58001b3e22fb\nAUTH CRAM-MD5\nQUIT'
	[ "$output" = "$G"$'-ERR invalid command\r\n-ERR unrecognized authentication type\r\n+OK\r' ]
}

@test "pop3_auth without plain: USER and AUTH PLAIN/LOGIN neither offered nor taken" {
	backend; mp --pop3-auth=apop --max-errors=10
	run q pop3_chat "$MPPORT" <<<$'CAPA\nAUTH\nUSER alice\nAUTH PLAIN '"$PLAIN"$'\nAUTH LOGIN\nQUIT'
	[ "$output" = "$G$CAPA"$'TOP\r\nUIDL\r\n.\r\n+OK methods supported:\r\n.\r\n-ERR invalid command\r\n-ERR unrecognized authentication type\r\n-ERR unrecognized authentication type\r\n+OK\r' ]
	untouched
}

@test "USER/PASS: the backend gets exactly USER and PASS, its +OK reaches the client, the relay starts" {
	backend --reply 'PASS=+OK Logged in, 1 message.'
	mp
	run q pop3_chat "$MPPORT" <<<$'CAPA\nUSER alice\nCAPA\nNOOP\nPASS secret\nSTAT\nQUIT'
	c="$CAPA"$'TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n'
	[ "$output" = "$G$c"$'+OK\r\n'"$c"$'+OK\r\n+OK Logged in, 1 message.\r\n+OK 1 117\r\n+OK Bye\r' ]
	[ "$(transcript)" = $'USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r' ]
}

@test "USER and PASS keep spaces, quotes, backslashes and 8-bit bytes" {
	backend; mp
	run q pop3_chat "$MPPORT" <<'EOF'
@raw USER b ob"\\x\xe9\r\n
@wait ^\+OK
@raw PASS  p a"s\\s\xe9 \r\n
@wait Logged in
QUIT
EOF
	[ "$output" = "$G"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	printf 'USER b ob"\\x\351\r\nPASS  p a"s\\s\351 \r\nQUIT\r\n' >"$T/want"
	cmp "$T/want" "$T/fake-$BE.transcript"
}

@test "AUTH PLAIN with an initial response, and after the + prompt" {
	backend --multi; mp
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$output" = "$G"$'+OK Logged in.\r\n+OK Bye\r' ]
	run q pop3_chat "$MPPORT" <<<$'auth plain\n'"$PLAIN"$'\nQUIT'
	[ "$output" = "$G"$'+ \r\n+OK Logged in.\r\n+OK Bye\r' ]
	[ "$(transcript)" = $'USER alice\r\nPASS secret\r\nQUIT\r\nUSER alice\r\nPASS secret\r\nQUIT\r' ]
}

@test "AUTH LOGIN, prompted and with the user name up front" {
	backend --multi; mp
	run q pop3_chat "$MPPORT" <<<$'AUTH LOGIN\nYWxpY2U=\nc2VjcmV0\nQUIT'
	[ "$output" = "$G"$'+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n+OK Logged in.\r\n+OK Bye\r' ]
	run q pop3_chat "$MPPORT" <<<$'AUTH LOGIN YWxpY2U=\nc2VjcmV0\nQUIT'
	[ "$output" = "$G"$'+ UGFzc3dvcmQ6\r\n+OK Logged in.\r\n+OK Bye\r' ]
	[ "$(transcript)" = $'USER alice\r\nPASS secret\r\nQUIT\r\nUSER alice\r\nPASS secret\r\nQUIT\r' ]
}

@test "AUTH PLAIN credentials with spaces, quotes and 8-bit bytes survive to the backend" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<"AUTH PLAIN $(b64 '\0b ob"\351\0p a"s\\s ')"$'\nQUIT'
	[ "$output" = "$G"$'+OK Logged in.\r\n+OK Bye\r' ]
	printf 'USER b ob"\351\r\nPASS p a"s\\s \r\nQUIT\r\n' >"$T/want"
	cmp "$T/want" "$T/fake-$BE.transcript"
}

@test "* cancels AUTH at every prompt; bad base64 and unknown mechanisms are refused; the session goes on" {
	backend; mp --max-errors=10
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN\n*\nAUTH LOGIN\n*\nAUTH LOGIN\nYWxpY2U=\n*\nAUTH PLAIN !!!!\nAUTH LOGIN\nYWxpY2U\nAUTH XYZZY\nNOOP\nQUIT'
	[ "$output" = "$G"$'+ \r\n-ERR authentication cancelled\r\n+ VXNlcm5hbWU6\r\n-ERR authentication cancelled\r\n+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n-ERR authentication cancelled\r\n-ERR cannot decode response\r\n+ VXNlcm5hbWU6\r\n-ERR cannot decode response\r\n-ERR unrecognized authentication type\r\n+OK\r\n+OK\r' ]
	untouched
}

@test "a CR or LF inside decoded credentials is refused: no command is smuggled to the backend" {
	backend; mp --max-errors=10
	run q pop3_chat "$MPPORT" <<<"AUTH PLAIN $(b64 '\0alice\0secret\r\nDELE 1')"$'\n'"AUTH LOGIN $(b64 'alice\nDELE 1')"$'\nc2VjcmV0\nQUIT'
	[ "$output" = "$G"$'-ERR invalid argument\r\n+ UGFzc3dvcmQ6\r\n-ERR invalid argument\r\n+OK\r' ]
	untouched
}

@test "NUL bytes and control characters are refused, in commands and in base64" {
	backend; mp --max-errors=10
	run q pop3_chat "$MPPORT" <<'EOF'
@raw USER al\x00ice\r\n
@wait ^-ERR
@raw USER al\x1bice\r\n
@wait ^-ERR
AUTH PLAIN
@raw AGFsaWNl\x00AHNlY3JldA==\r\n
@wait ^-ERR
QUIT
EOF
	[ "$output" = "$G"$'-ERR invalid command\r\n-ERR invalid command\r\n+ \r\n-ERR cannot decode response\r\n+OK\r' ]
	untouched
}

@test "command order: PASS needs USER, USER once, a refused command forgets USER" {
	backend; mp --max-errors=20
	run q pop3_chat "$MPPORT" <<<$'PASS secret\nUSER\nUSER alice\nUSER bob\nPASS secret\nUSER alice\nXYZZY\nPASS secret\nUSER alice\nAUTH PLAIN '"$PLAIN"$'\nPASS secret\nQUIT'
	[ "$output" = "$G"$'-ERR invalid command\r\n-ERR invalid argument\r\n+OK\r\n-ERR invalid command\r\n-ERR invalid command\r\n+OK\r\n-ERR invalid command\r\n-ERR invalid command\r\n+OK\r\n-ERR invalid command\r\n-ERR invalid command\r\n+OK\r' ]
	untouched
}

@test "STLS is not offered yet and is refused" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<$'STLS\nQUIT'
	[ "$output" = "$G"$'-ERR invalid command\r\n+OK\r' ]
}

@test "max_errors invalid commands close the connection" {
	backend; mp --max-errors=3
	run q pop3_chat "$MPPORT" <<<$'BAD1\nBAD2\nBAD3\nNOOP'
	[ "$output" = "$G"$'-ERR invalid command\r\n-ERR invalid command\r\n-ERR invalid command\r' ]
	mplog | grep -q 'outcome="too many invalid commands"'
}

@test "a hundred bad commands: closed after max_errors (default 5), backend untouched" {
	backend; mp
	run q pop3_chat "$MPPORT" < <(for i in $(seq 100); do echo "@raw BAD $i\r\n"; done)
	[ "$(grep -c '^-ERR invalid command' <<<"$output")" -eq 5 ]
	untouched
}

@test "a command longer than the POP3 line limit (2048): -ERR and closed, backend untouched" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<"@raw USER $(printf 'x%.0s' $(seq 2043))\\r\\nQUIT\\r\\n"
	[ "$output" = "$G"$'-ERR line too long\r' ]
	untouched
	mplog | grep -q 'outcome="client sent a line longer than the POP3 line limit (2048)"'
}

@test "a command of 2048 bytes with its CRLF is taken: the limit is RFC 2449's 255 and more" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<"@raw NOOP $(printf 'x%.0s' $(seq 2041))\\r\\nQUIT\\r\\n"
	[ "$output" = "$G"$'+OK\r\n+OK\r' ]
}

@test "a 10 MB line is refused at the edge" {
	backend; mp
	head -c 10485760 /dev/zero | tr '\0' x >"$T/big"
	run "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
s.recv(100)
try:
    s.sendall(open(sys.argv[2], "rb").read())
except OSError:
    pass
print(s.recv(100).decode().strip())' "$MPPORT" "$T/big"
	[ "$output" = "-ERR line too long" ]
	untouched
}

@test "timeout: an idle client gets -ERR and is closed, also after USER" {
	backend; mp --timeout=1s
	start=$SECONDS
	run q pop3_chat "$MPPORT" --timeout 5 </dev/null
	[ "$output" = "$G"$'-ERR timeout, closing connection\r' ]
	run q pop3_chat "$MPPORT" --timeout 5 <<<'USER alice'
	[ "$output" = "$G"$'+OK\r\n-ERR timeout, closing connection\r' ]
	[ $((SECONDS - start)) -le 5 ]
	mplog | grep -q 'outcome="client timed out"'
	untouched
}

@test "proxy_protocol on: the PROXY header with the client's address, then USER and PASS" {
	backend --proxy; mp --proxy-protocol=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$output" = "$G"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	[[ "$(transcript)" =~ ^PROXY\ TCP4\ 127\.0\.0\.1\ 127\.0\.0\.1\ [0-9]+\ $MPPORT$'\r\nUSER alice\r\nPASS secret\r\nQUIT\r'$ ]]
}

@test "proxy_pass_error_message off: a refused PASS gives -ERR internal server error and closes" {
	backend --reply 'PASS=-ERR [AUTH] Authentication failed.'
	mp
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS s3cr3t-pw\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR internal server error\r' ]
	[ "$(transcript)" = $'USER alice\r\nPASS s3cr3t-pw\r' ]
	mplog | grep -qF "refused PASS: -ERR [AUTH] Authentication failed."
	! mplog | grep -q s3cr3t-pw || false
}

@test "proxy_pass_error_message on: the backend's own -ERR line reaches the client" {
	backend --reply 'PASS=-ERR [AUTH] Authentication failed.'
	mp --proxy-pass-error-message=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR [AUTH] Authentication failed.\r' ]
}

@test "backend errors at the greeting and at USER, with and without proxy_pass_error_message" {
	backend --greeting '-ERR [SYS/TEMP] go away'; mp --proxy-pass-error-message=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR [SYS/TEMP] go away\r' ]
	[ -z "$(transcript)" ]
	mplog | grep -qF 'refused greeting: -ERR [SYS/TEMP] go away'
	again; backend --reply 'USER=-ERR no such user'; mp --proxy-pass-error-message=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR no such user\r' ]
	[ "$(transcript)" = $'USER alice\r' ]
	mplog | grep -qF 'refused USER: -ERR no such user'
	again; backend --reply 'USER=-ERR no such user'; mp
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN '"$PLAIN"$'\nSTAT'
	[ "$output" = "$G"$'-ERR internal server error\r' ]
}

@test "a malformed backend reply: the internal error, even with proxy_pass_error_message" {
	backend --greeting '* OK IMAP4rev1 ready'; mp --proxy-pass-error-message=on
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN '"$PLAIN"$'\nSTAT'
	[ "$output" = "$G"$'-ERR internal server error\r' ]
	mplog | grep -qF 'sent a malformed greeting reply: * OK IMAP4rev1 ready'
	again; backend --reply 'PASS=+OKAY fine'; mp --proxy-pass-error-message=on
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN '"$PLAIN"$'\nSTAT'
	[ "$output" = "$G"$'-ERR internal server error\r' ]
	mplog | grep -qF 'sent a malformed PASS reply: +OKAY fine'
}

@test "a backend that closes at once: the internal error and a log line" {
	backend --close; mp
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN '"$PLAIN"$'\nSTAT'
	[ "$output" = "$G"$'-ERR internal server error\r' ]
	mplog | grep -q 'closed the connection before the greeting reply'
}

@test "a silent backend: the internal error after the timeout, never a hang" {
	backend --silent; mp --timeout=1s
	start=$SECONDS
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR internal server error\r' ]
	[ $((SECONDS - start)) -le 4 ]
	mplog | grep -q 'timed out waiting for the greeting reply'
}

@test "backend unreachable: the internal error, exit status 75, a log line" {
	mp --backend=127.0.0.1:1
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR internal server error\r' ]
	mplog | grep -q 'backend=127.0.0.1:1 .*Connection refused'
	run sh -c "printf 'USER a\r\nPASS b\r\n' | '$MP' --protocol=pop3 --backend=127.0.0.1:1"
	[ "$status" -eq 75 ]
}

@test "relay: RETR of a 2 MB message passes intact through a 512-byte proxy_buffer" {
	"$PYTHON" -c '
import random
random.seed(11)
for i in range(30000):
    l = "".join(random.choice("abcdefghij .:-") for _ in range(70))
    print(("." + l) if i % 7 == 0 else l)' >"$T/msg"
	backend --message "$T/msg"; mp --proxy-buffer=512
	run q pop3_chat "$MPPORT" --timeout 30 <<<$'USER alice\nPASS secret\nRETR 1\nQUIT'
	[[ "$output" == *$'\r\n.\r\n+OK Bye\r' ]]
	printf '%s' "$output" | "$PYTHON" -c '
import sys
data = sys.stdin.buffer.read()
head, _, rest = data.partition(b"+OK Logged in.\r\n")
first, _, rest = rest.partition(b"\r\n")
body = rest[:rest.index(b"\r\n.\r\n+OK Bye")]
lines = [l[1:] if l.startswith(b".") else l for l in body.split(b"\r\n")]
sys.stdout.buffer.write(b"\n".join(lines) + b"\n")' >"$T/got"
	cmp "$T/msg" "$T/got"
}

@test "the log: one line with client, user, backend, outcome; never the password" {
	backend --multi; mp
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS s3cr3t-pw\nQUIT'
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome='
	line=$(grep 'outcome=' "$T/tcpserver-$MPPORT.log")
	[[ "$line" =~ mailproxy\[[0-9]+\]:\ session=[A-Za-z0-9]{16}\ pop3\ client=127\.0\.0\.1:[0-9]+\ user=\"alice\"\ backend=127\.0\.0\.1:$BE\ in=[0-9]+\ out=[0-9]+\ time=[0-9]+\.[0-9]{3}s\ result=ok\ outcome=\"ok\" ]]
	p=$(b64 '\0alice\0s3cr3t-pw')
	run q pop3_chat "$MPPORT" <<<"AUTH PLAIN $p"$'\nQUIT'
	run q pop3_chat "$MPPORT" <<<$'AUTH LOGIN YWxpY2U=\n'"$(b64 s3cr3t-pw)"$'\nQUIT'
	wait_count "$T/tcpserver-$MPPORT.log" 'outcome=' 3
	[ "$(grep -c 'user="alice"' "$T/tcpserver-$MPPORT.log")" -eq 3 ]
	! grep -q -e s3cr3t-pw -e "$p" -e "$(b64 s3cr3t-pw)" "$T/tcpserver-$MPPORT.log" || false
}

# Dovecot: a real POP3 server behind mailproxy.  The client connects from
# 127.0.0.5 so that its address differs from mailproxy's own (127.0.0.1).

# dovecot_logins: the pop3-login lines Dovecot wrote since $MARK lines
dovecot_logins() { tail -n "+$((MARK + 1))" "$DOVECOT_LOG" | grep "pop3-login: .*Login: "; }

# alice_message: put one message into alice's Maildir, as a delivery would
alice_message() {
	local d=$ALICE_MAILDIR
	mkdir -p "$d/new" "$d/cur" "$d/tmp"
	printf 'From: bob@example.test\nTo: alice@example.test\nSubject: via mailproxy\n\nhello alice\n' \
	    >"$d/new/1700000000.M1P1.mailproxy-test"
	chown -R "$MS_MAIL_USER:" "$(dirname "$d")"
}

@test "Dovecot: curl logs in through mailproxy, LIST and RETR; Dovecot sees mailproxy's address" {
	mail_servers_require
	alice_message
	MARK=$(wc -l <"$DOVECOT_LOG")
	launch_tcpserver "$MPPORT" --protocol=pop3 --backend="127.0.0.1:$DOVECOT_POP3_PORT"
	run curl -sS --max-time 10 --interface 127.0.0.5 "pop3://alice:secret@127.0.0.1:$MPPORT/"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^1\ [0-9]+ ]]
	run curl -sS --max-time 10 --interface 127.0.0.5 "pop3://alice:secret@127.0.0.1:$MPPORT/1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Subject: via mailproxy"*"hello alice"* ]]
	wait_count "$T/tcpserver-$MPPORT.log" 'pop3 client=127\.0\.0\.5:[0-9]+ user="alice" .*outcome="ok"' 2
	wait_log "$DOVECOT_LOG" 'pop3-login: .*Login: user=<alice>'
	dovecot_logins | grep -q 'user=<alice>, .*rip=127\.0\.0\.1,'
	! dovecot_logins | grep -q 'rip=127\.0\.0\.5' || false
}

@test "Dovecot: a password with spaces, quotes and a backslash logs in; a wrong one is Dovecot's -ERR" {
	mail_servers_require
	launch_tcpserver "$MPPORT" --protocol=pop3 --backend="127.0.0.1:$DOVECOT_POP3_PORT" \
	    --proxy-pass-error-message=on
	run q pop3_chat "$MPPORT" <<<$'USER bob\nPASS p a"s\\s\nSTAT\nQUIT'
	[[ "$output" == "$G"$'+OK\r\n+OK Logged in.\r\n+OK 0 0\r\n+OK Logging out'* ]]
	run q pop3_chat "$MPPORT" <<<$'USER bob\nPASS wrong\nSTAT'
	[ "$output" = "$G"$'+OK\r\n-ERR [AUTH] Authentication failed.\r' ]
}

@test "Dovecot behind --proxy-protocol=on logs the real client address" {
	mail_servers_require
	MARK=$(wc -l <"$DOVECOT_LOG")
	launch_tcpserver "$MPPORT" --protocol=pop3 \
	    --backend="127.0.0.1:$DOVECOT_POP3_HAPROXY_PORT" --proxy-protocol=on
	run curl -sS --max-time 10 --interface 127.0.0.5 "pop3://alice:secret@127.0.0.1:$MPPORT/"
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" 'pop3-login: .*Login: user=<alice>, .*rip=127\.0\.0\.5,'
	dovecot_logins | grep -q "user=<alice>, .*rip=127\.0\.0\.5, .*lport=$MPPORT,"
}

@test "AUTH PLAIN =: an empty initial response is no base64 error" {
	backend; mp
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN =\nQUIT'
	[ "$output" = "$G"$'-ERR invalid credentials\r\n+OK\r' ]
	untouched
}

@test "a SASL response may exceed the POP3 line limit up to the SASL limit (16 KiB)" {
	backend; mp
	long=$(head -c 7500 /dev/zero | base64 -w0)
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN\n@nowait\n'"$long"$'\n@wait ^-ERR\nQUIT'
	[ "$output" = "$G"$'+ \r\n-ERR invalid credentials\r\n+OK\r' ]
}

@test "a SASL response over the SASL limit: -ERR and closed" {
	backend; mp
	long=$(head -c 12300 /dev/zero | base64 -w0)
	run q pop3_chat "$MPPORT" <<<$'AUTH PLAIN\n@nowait\n'"$long"
	[ "$output" = "$G"$'+ \r\n-ERR line too long\r' ]
	mplog | grep -q 'outcome="client sent a line longer than the SASL line limit (16384)"'
}
