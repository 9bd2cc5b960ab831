#!/usr/bin/env bats
# XCLIENT, all of it (issue 16 item 3), and proxy_smtp_auth with LOGIN
# (item 7): byte for byte against the fake backend (tests/lib/fake_smtp.py),
# whose EHLO lists what each test says.  The client connects from
# 127.0.0.7, so its address differs from mailproxy's own (127.0.0.1).
# Real Postfix: tests/xclient_postfix.bats.

load lib/common

SRC=127.0.0.7
ALL='NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT REVERSE_NAME'

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}
teardown() { san_teardown "$T"/tcpserver-*.log "$T"/mp6.log; }

# backend XCLIENT_ATTRS [ARGS...]: the fake on $BE, its EHLO listing them
backend() {
	local attrs=$1
	shift
	start_fake_smtp "$BE" --reply "EHLO=250-fake.test\n250-XCLIENT $attrs\n250 AUTH PLAIN LOGIN" "$@"
}

mp() {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@"
}

q() { "$@" 2>/dev/null; }
transcript() { tr -d '\r' <"$T/fake-$BE.transcript"; }
xclient() { transcript | grep '^XCLIENT'; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
PLAIN=AGFsaWNlAHNlY3JldA==

# the client's port, as mailproxy logged it (client=127.0.0.7:PORT)
cport() {
	wait_log "$T/tcpserver-$MPPORT.log" "client=$SRC:" >/dev/null
	sed -n "s/.*client=$SRC:\([0-9]*\) .*/\1/p" "$T/tcpserver-$MPPORT.log" | head -n 1
}

# mx_session HELO-VERB HELO: an smtp_auth none session from $SRC
mx_session() {
	q smtp_chat "$MPPORT" --source "$SRC" <<-EOF
		$1 $2
		MAIL FROM:<a@example.test>
		RCPT TO:<b@example.test>
		QUIT
	EOF
}

@test "xclient: a backend that lists every attribute gets them all, from the client's ends and its EHLO" {
	backend "$ALL"; mp --smtp-auth=none
	run mx_session EHLO client.example
	[[ $output == *'250 2.1.5 Ok'* ]]
	local p
	p=$(cport)
	[ -n "$p" ]
	[ -z "$(grep pipelined "$T/fake-$BE.log")" ]
	[ "$(xclient)" = "XCLIENT ADDR=$SRC NAME=[UNAVAILABLE] PORT=$p PROTO=ESMTP HELO=client.example REVERSE_NAME=[UNAVAILABLE] DESTADDR=127.0.0.1 DESTPORT=$MPPORT" ]
	# then the client's own EHLO: XCLIENT's 220 put the backend back at its greeting
	[ "$(transcript)" = "EHLO mx.test
$(xclient)
EHLO client.example
MAIL FROM:<a@example.test>
RCPT TO:<b@example.test>
QUIT" ]
}

@test "xclient: HELO gives PROTO=SMTP" {
	backend "$ALL"; mp --smtp-auth=none
	run mx_session HELO client.example
	xclient | grep -q ' PROTO=SMTP HELO=client.example '
	transcript | grep -qx 'HELO client.example'
}

@test "xclient: only what the backend lists, in our order, whatever its order" {
	backend 'DESTPORT HELO ADDR'; mp --smtp-auth=none
	run mx_session EHLO client.example
	[ "$(xclient)" = "XCLIENT ADDR=$SRC HELO=client.example DESTPORT=$MPPORT" ]
}

@test "xclient: a backend that lists ADDR, LOGIN and NAME gets exactly what nginx sends" {
	backend 'NAME ADDR LOGIN'; mp --smtp-auth=none
	run mx_session EHLO client.example
	[ "$(xclient)" = "XCLIENT ADDR=$SRC NAME=[UNAVAILABLE]" ]
}

@test "xclient: a backend that lists no attribute gets ADDR and NAME, as today" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 XCLIENT'
	mp --smtp-auth=none
	run mx_session EHLO client.example
	[ "$(xclient)" = "XCLIENT ADDR=$SRC NAME=[UNAVAILABLE]" ]
}

# (a HELO with a space or a control byte is refused by the client side:
# their xtext is in tests/unit, xclient_attrs)
@test "xclient: hostile HELO values are xtext: '+', '=', 8-bit" {
	backend "$ALL"; mp --smtp-auth=none
	# smtp_chat sends latin-1: the bytes as they are
	run mx_session EHLO $'a+b=c\xe9d'
	xclient | grep -q ' HELO=a+2Bb+3Dc+E9d '
	# the client's own EHLO goes on as it came
	transcript | grep -q $'^EHLO a+b=c\xe9d$'
}

@test "xclient: a HELO too long once encoded is [UNAVAILABLE], the session goes on" {
	backend "$ALL"; mp --smtp-auth=none
	local h
	h=$(printf '+%.0s' $(seq 100))
	run mx_session EHLO "$h"
	[[ $output == *'250 2.1.5 Ok'* ]]
	xclient | grep -q ' HELO=\[UNAVAILABLE\] '
}

# LOGIN= needs a login we vouch for: an auth service's
auth_service() {
	AP=$(free_port)
	spawn "auth-$AP" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" \
	    --requests "$T/auth.requests" --backend "127.0.0.1:$BE" && wait_port "$AP"
}

@test "xclient: over 512 bytes, split; every command within 512, ADDR, LOGIN and NAME in the last; one at a time" {
	backend "$ALL"; auth_service
	mp --auth-http="http://127.0.0.1:$AP/auth"
	local user helo
	user=$(printf 'u%.0s' $(seq 200))
	helo=$(printf 'h%.0s' $(seq 200))
	run q smtp_chat "$MPPORT" --source "$SRC" <<-EOF
		EHLO $helo
		AUTH PLAIN $(printf '\0%s\0pw' "$user" | base64 -w0)
		QUIT
	EOF
	[[ $output == *'235 2.0.0 OK'* ]]
	[ "$(xclient | wc -l)" -eq 2 ]
	xclient | sed -n 1p | grep -q "^XCLIENT PORT=[0-9]* PROTO=ESMTP HELO=$helo REVERSE_NAME=\[UNAVAILABLE\] DESTADDR=127.0.0.1 DESTPORT=$MPPORT\$"
	xclient | sed -n 2p | grep -q "^XCLIENT ADDR=$SRC LOGIN=$user NAME=\[UNAVAILABLE\]\$"
	awk '/^XCLIENT/ { if (length($0) > 512) exit 1 }' "$T/fake-$BE.transcript"
	# each XCLIENT sent once the one before was answered, EHLO after both
	[ -z "$(grep pipelined "$T/fake-$BE.log")" ]
	[ "$(transcript | sed -n 4p)" = "EHLO $helo" ]
}

@test "xclient: a login and a name too long for one command together: NAME=[UNAVAILABLE], a log line" {
	backend "NAME ADDR LOGIN"; auth_service
	# a 253-byte name that resolves back to the client, from 127.0.0.1
	local DNS l63 name user
	DNS=$(free_port)
	l63=$(printf 'a%.0s' {1..63})
	name=$l63.$l63.$l63.$(printf 'b%.0s' {1..61})
	spawn "dns-$DNS" "$PYTHON" "$TESTLIB/fake_dns.py" "$DNS" "$T/dns.queries" \
	    --ready "$T/dns.ready" PTR:127.0.0.1="$name" A:"$name"=127.0.0.1 &&
	    wait_for_file "$T/dns.ready"
	mp --auth-http="http://127.0.0.1:$AP/auth" --resolver="127.0.0.1:$DNS"
	user=$(printf 'u%.0s' $(seq 250))
	run q smtp_chat "$MPPORT" <<-EOF
		EHLO c
		AUTH PLAIN $(printf '\0%s\0pw' "$user" | base64 -w0)
		QUIT
	EOF
	[[ $output == *'235 2.0.0 OK'* ]]
	[ "$(xclient)" = "XCLIENT ADDR=127.0.0.1 LOGIN=$user NAME=[UNAVAILABLE]" ]
	wait_log "$T/tcpserver-$MPPORT.log" 'the client.s name and login do not fit in one command: NAME=\[UNAVAILABLE\] sent'
	# a shorter login: the name goes
	stop_launchers
	MPPORT=$(free_port) BE=$(free_port)
	backend "NAME ADDR LOGIN"; auth_service
	spawn "dns-$DNS" "$PYTHON" "$TESTLIB/fake_dns.py" "$DNS" "$T/dns.queries" \
	    --ready "$T/dns2.ready" PTR:127.0.0.1="$name" A:"$name"=127.0.0.1 &&
	    wait_for_file "$T/dns2.ready"
	mp --auth-http="http://127.0.0.1:$AP/auth" --resolver="127.0.0.1:$DNS"
	run q smtp_chat "$MPPORT" <<-EOF
		EHLO c
		AUTH PLAIN $(printf '\0alice\0pw' | base64 -w0)
		QUIT
	EOF
	[ "$(xclient)" = "XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=$name" ]
}

@test "xclient: the 220 of each XCLIENT is not the client's: it gets our 235" {
	backend "$ALL"; mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" --source "$SRC" <<-EOF
		EHLO client.example
		AUTH PLAIN $PLAIN
		QUIT
	EOF
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	# proxy_smtp_auth: the backend checks the password, we vouch for nothing
	[ -z "$(xclient | grep LOGIN=)" ]
}

# proxy_smtp_auth and the backend's AUTH line

@test "proxy_smtp_auth: AUTH PLAIN when the backend lists PLAIN" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 AUTH LOGIN PLAIN'
	mp --proxy-smtp-auth=on --xclient=off
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ $output == *'235 2.0.0 OK'* ]]
	[ "$(transcript)" = "EHLO mx.test
AUTH PLAIN $PLAIN
QUIT" ]
}

@test "proxy_smtp_auth: AUTH LOGIN, byte for byte, when the backend lists LOGIN only" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 AUTH LOGIN'
	mp --proxy-smtp-auth=on --xclient=off
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(cat "$T/fake-$BE.transcript")" = $'EHLO mx.test\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nQUIT\r' ]
}

@test "proxy_smtp_auth: AUTH LOGIN after XCLIENT, from the EHLO after it" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250-XCLIENT ADDR NAME\n250 AUTH LOGIN'
	mp --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH LOGIN\nYWxpY2U=\nc2VjcmV0\nQUIT'
	[[ $output == *'235 2.0.0 OK'* ]]
	[ "$(transcript)" = "EHLO mx.test
XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]
EHLO c
AUTH LOGIN
YWxpY2U=
c2VjcmV0
QUIT" ]
}

@test "proxy_smtp_auth: no AUTH line at all: PLAIN, as nginx" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 8BITMIME'
	mp --proxy-smtp-auth=on --xclient=off
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	transcript | grep -qx "AUTH PLAIN $PLAIN"
}

@test "proxy_smtp_auth: a backend with neither PLAIN nor LOGIN: 451, a line that says so, no AUTH sent" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 AUTH CRAM-MD5'
	mp --proxy-smtp-auth=on --xclient=off
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ $output == *'451 4.3.2 Internal server error'* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'offers neither AUTH PLAIN nor AUTH LOGIN'
	[ -z "$(transcript | grep '^AUTH')" ]
}

@test "proxy_smtp_auth: LOGIN refused at the password: the client gets the backend's reply" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 AUTH LOGIN' \
	    --reply 'AUTH=535 5.7.8 Error: authentication failed'
	mp --proxy-smtp-auth=on --xclient=off --proxy-pass-error-message=on
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ $output == *'535 5.7.8 Error: authentication failed'* ]]
	wait_log "$T/tcpserver-$MPPORT.log" "refused AUTH LOGIN's password: 535"
}

@test "proxy_smtp_auth: the base64 of the password is not left in the log" {
	start_fake_smtp "$BE" --reply 'EHLO=250-fake.test\n250 AUTH LOGIN'
	mp --proxy-smtp-auth=on --xclient=off
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	wait_log "$T/tcpserver-$MPPORT.log" 'user="alice"'
	[ -z "$(mplog | grep 'c2VjcmV0\|secret')" ]
}

@test "xclient: an IPv6 client: ADDR and DESTADDR with IPV6:" {
	backend "$ALL"
	spawn mp6 systemd-socket-activate --accept -l "[::1]:$MPPORT" "$MP" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --smtp-auth=none --server-name=mx.test
	wait_port "$MPPORT"
	run q chat "$MPPORT" --host ::1 --expect-greeting --lockstep smtp <<-'EOF'
		EHLO client.example
		MAIL FROM:<a@example.test>
		RCPT TO:<b@example.test>
		QUIT
	EOF
	[[ $(xclient) =~ ^"XCLIENT ADDR=IPV6:::1 NAME=[UNAVAILABLE] PORT="[0-9]+" PROTO=ESMTP HELO=client.example REVERSE_NAME=[UNAVAILABLE] DESTADDR=IPV6:::1 DESTPORT=$MPPORT"$ ]]
}
