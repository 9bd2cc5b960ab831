#!/usr/bin/env bats
# SMTP through the real binary under tcpserver, byte for byte, against the
# fake backend (tests/lib/fake_smtp.py) that records what it is sent.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

# backend ARGS...: the fake SMTP backend on $BE
backend() { start_fake_smtp "$BE" "$@"; }

# mp ARGS...: mailproxy for SMTP on $MPPORT, towards the fake backend
mp() {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@"
}

# q CMD...: CMD without its stderr, so that $output holds the bytes received
q() { "$@" 2>/dev/null; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
mplog() { tcpserver_log "$MPPORT"; }
untouched() { ! grep -q connect "$T/fake-$BE.log"; }
# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==

@test "greeting names server_name; HELO answers with it" {
	backend; mp
	run q smtp_chat "$MPPORT" <<<$'HELO client.example\nQUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n250 mx.test\r\n221 2.0.0 Bye\r' ]
	untouched
}

@test "server_name defaults to the host name" {
	backend
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE"
	run q smtp_chat "$MPPORT" <<<'QUIT'
	[[ "$output" == "220 $(hostname) ESMTP ready"* ]]
}

@test "EHLO lists smtp_capabilities (quoted items keep spaces) and the AUTH line" {
	backend; mp --proxy-smtp-auth=on --smtp-capabilities='"SIZE 1000" 8BITMIME'
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nQUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n221 2.0.0 Bye\r' ]
}

@test "smtp_auth decides the AUTH line" {
	backend; mp --proxy-smtp-auth=on --smtp-auth=login
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nQUIT'
	[[ "$output" == *$'250-mx.test\r\n250 AUTH LOGIN\r\n'* ]]
}

@test "fixed backend without proxy_smtp_auth: AUTH not offered, refused, backend untouched" {
	backend; mp --smtp-capabilities=8BITMIME
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 8BITMIME\r\n502 5.7.4 Authentication not available\r\n221 2.0.0 Bye\r' ]
	untouched
	mplog | grep -q 'proxy-smtp-auth=on'
}

@test "AUTH PLAIN with initial response: the backend checks it, XCLIENT carries no LOGIN" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 '* ]]
	[ "$(transcript)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nEHLO client.example\r\nAUTH PLAIN '"$PLAIN"$'\r\nQUIT\r' ]
}

@test "AUTH PLAIN without initial response" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN\n'"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'\r\n334 \r\n235 2.0.0 OK\r\n'* ]]
	transcript | grep -q "^AUTH PLAIN $PLAIN"
}

@test "AUTH LOGIN, prompted and with the user name up front" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH LOGIN\nYWxpY2U=\nc2VjcmV0\nQUIT'
	[[ "$output" == *$'334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.0.0 OK\r\n'* ]]
	transcript | grep -q "^AUTH PLAIN $PLAIN"
	stop_launchers || :; rm -f "$T/fake-$BE.transcript"
	BE=$(free_port); MPPORT=$(free_port); backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH LOGIN YWxpY2U=\nc2VjcmV0\nQUIT'
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n334 UGFzc3dvcmQ6\r\n235 2.0.0 OK\r\n'* ]]
	transcript | grep -q "^AUTH PLAIN $PLAIN"
}

@test "* cancels AUTH; bad base64 and unknown mechanisms are refused; the session goes on" {
	backend; mp --proxy-smtp-auth=on --max-errors=10
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN\n*\nAUTH LOGIN\nYWxpY2U=\n*\nAUTH PLAIN !!!!\nAUTH CRAM-MD5\nAUTH\nNOOP\nQUIT'
	[[ "$output" == *$'334 \r\n501 5.7.0 Authentication cancelled\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n501 5.7.0 Authentication cancelled\r\n501 5.5.2 Cannot decode response\r\n504 5.5.4 Unrecognized authentication type\r\n501 5.5.4 Invalid argument\r\n250 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	untouched
}

@test "RSET, NOOP, QUIT; unknown commands; HELO needs one argument" {
	backend; mp
	run q smtp_chat "$MPPORT" <<<$'RSET\nNOOP\nXYZZY\nHELO\nVRFY root\nQUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n250 2.0.0 OK\r\n250 2.0.0 OK\r\n500 5.5.1 Invalid command\r\n501 5.5.4 Invalid argument\r\n500 5.5.1 Invalid command\r\n221 2.0.0 Bye\r' ]
}

@test "STARTTLS is not offered yet and is refused" {
	backend; mp
	run q smtp_chat "$MPPORT" <<<$'STARTTLS\nQUIT'
	[[ "$output" == *$'500 5.5.1 Invalid command\r\n221'* ]]
}

@test "max_errors invalid commands close the connection" {
	backend; mp --max-errors=3
	run q smtp_chat "$MPPORT" <<<$'BAD1\nBAD2\nBAD3\nNOOP'
	[ "$output" = $'220 mx.test ESMTP ready\r\n500 5.5.1 Invalid command\r\n500 5.5.1 Invalid command\r\n500 5.5.1 Invalid command\r' ]
	mplog | grep -q 'outcome="too many invalid commands"'
}

@test "a hundred bad commands: closed after max_errors (default 5), backend untouched" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting < <(for i in $(seq 100); do echo "@raw BAD $i\r\n"; done)
	[ "$(grep -c '^500 ' <<<"$output")" -eq 5 ]
	untouched
}

@test "NUL bytes and control characters in a command are invalid" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep smtp <<<$'@raw HELO a\\x00b\\r\\n\n@wait ^5\nQUIT'
	[[ "$output" == *$'500 5.5.1 Invalid command\r\n221 2.0.0 Bye'* ]]
}

@test "a line longer than smtp_client_buffer: 500 5.5.2 and closed, backend untouched" {
	backend; mp --smtp-client-buffer=64
	run q chat "$MPPORT" --expect-greeting <<<"@raw EHLO $(printf 'x%.0s' $(seq 100))\\r\\n"
	[ "$output" = $'220 mx.test ESMTP ready\r\n500 5.5.2 Line too long\r' ]
	untouched
	mplog | grep -q 'smtp_client_buffer'
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
	[ "$output" = "500 5.5.2 Line too long" ]
	untouched
}

@test "timeout: an idle client gets 421 4.4.2 and is closed" {
	backend; mp --timeout=1s
	start=$SECONDS
	run q chat "$MPPORT" --expect-greeting --timeout 5 </dev/null
	[ "$output" = $'220 mx.test ESMTP ready\r\n421 4.4.2 Timeout, closing connection\r' ]
	[ $((SECONDS - start)) -le 3 ]
	mplog | grep -q 'outcome="client timed out"'
}

@test "smtp_greeting_delay: a client that talks first is refused" {
	backend; mp --smtp-greeting-delay=2s
	run q chat "$MPPORT" <<<$'@raw EHLO early\\r\\n'
	[ "$output" = $'503 5.5.0 Improper use of SMTP command pipelining\r' ]
	untouched
}

@test "smtp_greeting_delay: a patient client gets the greeting after the delay" {
	backend; mp --smtp-greeting-delay=1s
	start=$SECONDS
	run q smtp_chat "$MPPORT" <<<'QUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n221 2.0.0 Bye\r' ]
	[ $((SECONDS - start)) -ge 1 ]
}

@test "MAIL without AUTH needs authentication" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nMAIL FROM:<a@example.test>\nRCPT TO:<b@example.test>\nQUIT'
	[[ "$output" == *$'530 5.7.1 Authentication required\r\n503 5.5.1 Bad sequence of commands\r\n221'* ]]
	untouched
}

@test "smtp_auth none: MAIL FROM and RCPT TO are replayed, the backend's RCPT reply reaches the client" {
	backend --reply 'RCPT=251 2.1.5 forwarded'
	mp --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nMAIL FROM:<a@example.test> SIZE=10\nRCPT TO:<b@example.test>\nDATA\nSubject: t\n\nhello\n.\nQUIT'
	[[ "$output" == *$'250 2.0.0 OK\r\n251 2.1.5 forwarded\r\n354 '* ]]
	[ "$(transcript)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nEHLO client.example\r\nMAIL FROM:<a@example.test> SIZE=10\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r' ]
}

@test "smtp_auth none: a second MAIL is a bad sequence, RSET starts over" {
	backend; mp --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'HELO c\nMAIL FROM:<a@x>\nMAIL FROM:<b@x>\nRSET\nMAIL FROM:<c@x>\nRCPT TO:<d@x>\nQUIT'
	[[ "$output" == *$'250 2.0.0 OK\r\n503 5.5.1 Bad sequence of commands\r\n250 2.0.0 OK\r\n250 2.0.0 OK\r\n250 '* ]]
	transcript | grep -q '^MAIL FROM:<c@x>'
	! transcript | grep -q '<a@x>' || false
}

@test "xclient off: EHLO with server_name when the client said EHLO, no XCLIENT" {
	backend; mp --xclient=off --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$(transcript)" = $'EHLO mx.test\r\nAUTH PLAIN '"$PLAIN"$'\r\nQUIT\r' ]
}

@test "xclient off: HELO with server_name when the client said HELO" {
	backend; mp --xclient=off --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'HELO client.example\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nQUIT'
	[ "$(transcript)" = $'HELO mx.test\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nQUIT\r' ]
}

@test "xclient on, the client never said HELO: no client EHLO is replayed" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'AUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$(transcript)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nAUTH PLAIN '"$PLAIN"$'\r\nQUIT\r' ]
}

@test "XCLIENT sends only the attributes the backend lists" {
	backend --reply 'EHLO=250-fake.test\n250-XCLIENT ADDR\n250 AUTH PLAIN'
	mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	transcript | grep -qx $'XCLIENT ADDR=127.0.0.1\r'
}

@test "xclient on: XCLIENT goes also to a backend whose EHLO lists none, and its 220 lets the session go on" {
	backend --reply 'EHLO=250 hello'
	mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 '* ]]
	[ "$(transcript)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nEHLO c\r\nAUTH PLAIN '"$PLAIN"$'\r\nQUIT\r' ]
}

@test "xclient on, smtp_auth none: XCLIENT to a backend that lists none, then the client's HELO and envelope" {
	backend --reply 'EHLO=250 hello'
	mp --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'HELO c\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nQUIT'
	[[ "$output" == *$'250 2.0.0 OK\r\n250 2.1.5 Ok\r\n221 '* ]]
	[ "$(transcript)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nHELO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nQUIT\r' ]
}

@test "a backend that refuses XCLIENT: 451, and a log line that names smtpd_authorized_xclient_hosts" {
	backend --reply 'EHLO=250 hello' --reply 'XCLIENT=550 5.7.0 Error: insufficient authorization'
	mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n451 4.3.2 Internal server error\r' ]]
	[ "$(transcript)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r' ]
	mplog | grep -q 'refused XCLIENT: 550 5.7.0 Error: insufficient authorization (list us in its smtpd_authorized_xclient_hosts, or set --xclient=off)'
}

@test "a backend that refuses XCLIENT, proxy_pass_error_message on: the client gets the backend's reply" {
	backend --reply 'EHLO=250 hello' --reply 'XCLIENT=550 5.7.0 Error: insufficient authorization'
	mp --proxy-smtp-auth=on --proxy-pass-error-message=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n550 5.7.0 Error: insufficient authorization\r' ]]
}

@test "proxy_protocol on: the PROXY v1 header with the client's real address comes first" {
	backend --proxy; mp --proxy-protocol=on --proxy-smtp-auth=on
	run q chat "$MPPORT" --host 127.0.0.1 --expect-greeting --lockstep smtp <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	grep -qE "^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $MPPORT"$'\r$' <(transcript)
	[ "$(transcript | head -c 6)" = "PROXY " ]
}

@test "proxy_protocol on, client address unknown (pipeline): PROXY UNKNOWN" {
	backend --proxy
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    "$MP" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-protocol=on --proxy-smtp-auth=on --server-name=mx.test
	[ "$(transcript | head -n 2)" = $'PROXY UNKNOWN\r\nEHLO mx.test\r' ]
	transcript | grep -qx $'XCLIENT ADDR=\\[UNAVAILABLE\\] NAME=\\[UNAVAILABLE\\]\r'
}

@test "pipeline: --client-addr gives the client's address to XCLIENT and PROXY" {
	backend --proxy
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    "$MP" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-protocol=on \
	    --proxy-smtp-auth=on --server-name=mx.test --client-addr='[2001:db8::7]:4711'
	[ "$(transcript | head -n 1)" = $'PROXY TCP6 2001:db8::7 :: 4711 0\r' ]
	transcript | grep -qx $'XCLIENT ADDR=IPV6:2001:db8::7 NAME=\\[UNAVAILABLE\\]\r'
}

@test "an IPv6 client: XCLIENT ADDR=IPV6:... and PROXY TCP6" {
	backend --proxy
	spawn mp6 systemd-socket-activate --accept -l "[::1]:$MPPORT" "$MP" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --proxy-protocol=on --proxy-smtp-auth=on --server-name=mx.test
	wait_port "$MPPORT"
	run q chat "$MPPORT" --host ::1 --expect-greeting --lockstep smtp <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	grep -qE "^PROXY TCP6 ::1 ::1 [0-9]+ $MPPORT"$'\r$' <(transcript)
	transcript | grep -qx $'XCLIENT ADDR=IPV6:::1 NAME=\\[UNAVAILABLE\\]\r'
}

@test "proxy_pass_error_message off: a backend refusal gives 451 4.3.2 and closes" {
	backend --reply 'AUTH=535 5.7.8 Authentication credentials invalid'
	mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nNOOP'
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n451 4.3.2 Internal server error\r' ]]
	mplog | grep -q 'refused AUTH: 535 5.7.8'
}

@test "proxy_pass_error_message on: the backend's own reply reaches the client" {
	backend --reply 'AUTH=535 5.7.8 Authentication credentials invalid'
	mp --proxy-smtp-auth=on --proxy-pass-error-message=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nNOOP'
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n535 5.7.8 Authentication credentials invalid\r' ]]
}

@test "backend errors at every step of the handshake" {
	for step in 'XCLIENT=550 5.7.0 not you' 'EHLO=554 5.3.0 no' 'MAIL=451 4.3.0 later'; do
		stop_launchers || :
		BE=$(free_port); MPPORT=$(free_port)
		backend --reply "$step"; mp --smtp-auth=none --proxy-pass-error-message=on
		run q smtp_chat "$MPPORT" <<<$'EHLO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nNOOP'
		[[ "$output" == *$'250 2.0.0 OK\r\n'"${step#*=}"$'\r' ]]
	done
	stop_launchers || :
	BE=$(free_port); MPPORT=$(free_port)
	backend --greeting '554 5.3.2 go away'; mp --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nNOOP'
	[[ "$output" == *$'250 2.0.0 OK\r\n451 4.3.2 Internal server error\r' ]]
}

@test "backend unreachable: 451, exit status 75, a log line" {
	mp --smtp-auth=none --backend=127.0.0.1:1
	run q smtp_chat "$MPPORT" <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nNOOP'
	[[ "$output" == *$'250 2.0.0 OK\r\n451 4.3.2 Internal server error\r' ]]
	mplog | grep -q 'backend=127.0.0.1:1 .*Connection refused'
	run sh -c "printf 'HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\n' | '$MP' --protocol=smtp --backend=127.0.0.1:1 --smtp-auth=none"
	[ "$status" -eq 75 ]
}

@test "a silent backend: 451 after the timeout, never a hang" {
	backend --silent; mp --smtp-auth=none --timeout=1s
	start=$SECONDS
	run q smtp_chat "$MPPORT" <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nNOOP'
	[[ "$output" == *$'250 2.0.0 OK\r\n451 4.3.2 Internal server error\r' ]]
	[ $((SECONDS - start)) -le 4 ]
	mplog | grep -q 'timed out'
}

@test "relay: a 2 MB message passes intact through a 512-byte proxy_buffer" {
	backend; mp --proxy-smtp-auth=on --proxy-buffer=512
	"$PYTHON" -c '
import random
random.seed(7)
for i in range(30000):
    print("".join(random.choice("abcdefghij .:-") for _ in range(70)))' >"$T/body"
	{ echo "EHLO c"; echo "AUTH PLAIN $PLAIN"; echo "MAIL FROM:<a@x>"; echo "RCPT TO:<b@x>"; echo DATA
	  cat "$T/body"; echo .; echo QUIT; } >"$T/script"
	run q smtp_chat "$MPPORT" --timeout 30 <"$T/script"
	[[ "$output" == *$'250 2.0.0 Ok: queued'* ]]
	transcript | sed -n '/^DATA\r$/,/^\.\r$/p' | sed '1d;$d' | tr -d '\r' >"$T/got"
	cmp "$T/body" "$T/got"
}

@test "relay: the backend's close is passed on, the session ends" {
	backend; mp --proxy-smtp-auth=on
	start=$SECONDS
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	[ $((SECONDS - start)) -le 3 ]
}

@test "relay: the client's half-close is passed on and the other way is drained" {
	backend; mp --proxy-smtp-auth=on
	run q chat "$MPPORT" --expect-greeting --lockstep smtp <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\n@raw NOOP\\r\\nQUIT\\r\\n\n@shut'
	[[ "$output" == *$'235 2.0.0 OK\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r' ]]
}

@test "proxy_timeout: an idle relay is closed" {
	backend; mp --proxy-smtp-auth=on --proxy-timeout=1s
	start=$SECONDS
	run q chat "$MPPORT" --expect-greeting --lockstep smtp --timeout 6 <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"
	[[ "$output" == *$'235 2.0.0 OK\r' ]]
	[ $((SECONDS - start)) -le 4 ]
	mplog | grep -q 'outcome="proxy_timeout"'
}

@test "the log: one line with client, user, backend, bytes, time, outcome; never the password" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH LOGIN\nYWxpY2U=\nc2VjcmV0\nQUIT'
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome='
	line=$(grep 'outcome=' "$T/tcpserver-$MPPORT.log")
	[[ "$line" =~ mailproxy\[[0-9]+\]:\ session=[A-Za-z0-9]{16}\ smtp\ client=127\.0\.0\.1:[0-9]+\ user=\"alice\"\ backend=127\.0\.0\.1:$BE\ in=[0-9]+\ out=[0-9]+\ time=[0-9]+\.[0-9]{3}s\ result=ok\ outcome=\"ok\" ]]
	! grep -q -e secret -e c2VjcmV0 -e "$PLAIN" "$T/tcpserver-$MPPORT.log" || false
}

@test "the log makes a hostile user name printable" {
	backend; mp --proxy-smtp-auth=on
	# user "a\"b\x1b[31m" : quote and an escape sequence
	u=$(printf 'a"b\033[31m' | base64)
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH LOGIN '"$u"$'\nc2VjcmV0\nQUIT'
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome='
	grep -qF 'user="a\x22b\x1b[31m"' "$T/tcpserver-$MPPORT.log"
}

@test "AUTH PLAIN =: RFC 4954's empty initial response is no base64 error" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN =\nQUIT'
	[[ "$output" == *$'250 AUTH PLAIN LOGIN\r\n535 5.7.8 Authentication credentials invalid\r\n221 '* ]]
	untouched
}

@test "a SASL response longer than smtp_client_buffer, within the SASL limit (16 KiB), is read" {
	backend; mp --proxy-smtp-auth=on
	long=$(head -c 7500 /dev/zero | base64 -w0)
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN\n'"$long"$'\nQUIT'
	[[ "$output" == *$'\r\n334 \r\n535 5.7.8 Authentication credentials invalid\r\n221 '* ]]
}

@test "a SASL response over the SASL limit: 500 and closed" {
	backend; mp --proxy-smtp-auth=on
	long=$(head -c 12300 /dev/zero | base64 -w0)
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN\n'"$long"
	[[ "$output" == *$'\r\n334 \r\n500 5.5.2 Line too long\r' ]]
	mplog | grep -q 'outcome="client sent a line longer than the SASL line limit (16384)"'
}

@test "a command line is still bounded by smtp_client_buffer" {
	backend; mp --proxy-smtp-auth=on --smtp-client-buffer=1k
	run q smtp_chat "$MPPORT" <<<"EHLO $(printf 'x%.0s' $(seq 1100))"
	[[ "$output" == *$'\r\n500 5.5.2 Line too long\r' ]]
	mplog | grep -q 'outcome="client sent a line longer than smtp_client_buffer (1024)"'
}

@test "AUTH LOGIN cancelled after the user name, then PLAIN: the first attempt left nothing" {
	backend; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH LOGIN\nYm9i\n*\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n501 5.7.0 Authentication cancelled\r\n235 2.0.0 OK\r\n'* ]]
	transcript | grep -q "^AUTH PLAIN $PLAIN"
}

@test "proxy_smtp_auth on, but only CRAM-MD5 and no auth service: no hint to set what is set" {
	backend; mp --proxy-smtp-auth=on --smtp-auth=cram-md5
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'502 5.7.4 Authentication not available\r\n221 '* ]]
	mplog | grep -q 'CRAM-MD5 needs an auth service'
	! grep -q 'proxy-smtp-auth=on' "$T/tcpserver-$MPPORT.log" || false
}
