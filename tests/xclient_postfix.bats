#!/usr/bin/env bats
# XCLIENT, all of it, and proxy_smtp_auth with LOGIN, against a real
# Postfix (tests/lib/mailservers.bash): swaks from 127.0.0.7 -> mailproxy
# (127.0.0.1) -> Postfix, whose smtpd lists NAME ADDR PROTO HELO
# REVERSE_NAME PORT LOGIN DESTADDR DESTPORT after XCLIENT.  Postfix shows
# what XCLIENT told it in its log (client=name[addr]:port with
# smtpd_client_port_logging: ADDR and PORT) and in the Received header it
# writes (the address; HELO and "with ESMTP"/"with SMTP" there come from
# XCLIENT and from the client's own EHLO/HELO that follows it, so the fake
# backend's byte checks in tests/xclient.bats are what prove HELO= and
# PROTO=; here Postfix shows it takes them).  It has no attribute for a
# session id.  A planted failure (PORT not sent) turns the log tests red.

load lib/common
load lib/mailservers

SRC=127.0.0.7

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	mail_servers_require
	MPPORT=$(free_port)
}
teardown() { san_teardown "$T"/tcpserver-*.log; }

mp() {
	launch_tcpserver "$MPPORT" --protocol=smtp --server-name=mx.test "$@"
}

# send ARGS...: one mail through mailproxy with swaks from $SRC
send() {
	swaks --server 127.0.0.1 --port "$MPPORT" --local-interface "$SRC" \
	    --timeout 20 "$@"
}

# the client's port, as mailproxy logged it
cport() {
	wait_log "$T/tcpserver-$MPPORT.log" "client=$SRC:" >/dev/null
	sed -n "s/.*client=$SRC:\([0-9]*\) .*/\1/p" "$T/tcpserver-$MPPORT.log" | head -n 1
}

@test "postfix: its EHLO lists every attribute we send" {
	run q_ehlo
	[[ $output == *'250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT'* ]]
}
q_ehlo() {
	printf 'EHLO x\r\nQUIT\r\n' | "$PYTHON" "$TESTLIB/chat.py" --expect-greeting \
	    --lockstep smtp "$POSTFIX_PORTLOG_PORT" 2>/dev/null
}

@test "postfix: an MX session (smtp_auth none): the log has the client's address and port, the Received header its HELO and ESMTP" {
	mp --backend="127.0.0.1:$POSTFIX_PORTLOG_PORT" --smtp-auth=none
	local tag=mx-$RANDOM
	run send --helo client.example --from someone@elsewhere.test \
	    --to alice@example.test --header "Subject: $tag"
	[ "$status" -eq 0 ]
	local f p
	p=$(cport)
	f=$(maildir_find "$ALICE_MAILDIR" "Subject: $tag")
	wait_log "$POSTFIX_LOG" "client=unknown\[127\.0\.0\.7\]:$p\$"
	# Received: from client.example (unknown [127.0.0.7]) by mx.example.test
	#     (Postfix) with ESMTP id ...
	tr -d '\r' <"$f" | sed -n '/^Received:/,/^[^ \t]/p' | tr -s ' \t\n' ' ' >"$T/received"
	grep -q "from client.example (unknown \[127\.0\.0\.7\]) by mx\.example\.test (Postfix) with ESMTP id" "$T/received"
}

@test "postfix: HELO instead of EHLO: with SMTP" {
	mp --backend="127.0.0.1:$POSTFIX_PORTLOG_PORT" --smtp-auth=none
	local tag=helo-$RANDOM
	run send --protocol SMTP --helo old.example --from someone@elsewhere.test \
	    --to alice@example.test --header "Subject: $tag"
	[ "$status" -eq 0 ]
	local f
	f=$(maildir_find "$ALICE_MAILDIR" "Subject: $tag")
	tr -d '\r' <"$f" | sed -n '/^Received:/,/^[^ \t]/p' | tr -s ' \t\n' ' ' >"$T/received"
	grep -q "from old.example (unknown \[127\.0\.0\.7\]) by mx\.example\.test (Postfix) with SMTP id" "$T/received"
}

@test "postfix: a hostile HELO ('+', '=', 8-bit) reaches Postfix through xtext, and the mail lands" {
	mp --backend="127.0.0.1:$POSTFIX_PORTLOG_PORT" --smtp-auth=none
	local tag=hostile-$RANDOM
	run send --helo 'a+b=c' --from someone@elsewhere.test \
	    --to alice@example.test --header "Subject: $tag"
	[ "$status" -eq 0 ]
	local f
	f=$(maildir_find "$ALICE_MAILDIR" "Subject: $tag")
	tr -d '\r' <"$f" | grep -q '^Received: from a+b=c (unknown \[127\.0\.0\.7\])'
}

@test "postfix: submission with proxy_smtp_auth to an smtpd that offers AUTH LOGIN only: LOGIN, and the mail lands" {
	printf 'EHLO x\r\nQUIT\r\n' | "$PYTHON" "$TESTLIB/chat.py" --expect-greeting \
	    --lockstep smtp "$POSTFIX_LOGIN_PORT" >"$T/ehlo" 2>/dev/null
	grep -q $'^250-AUTH LOGIN\r$' "$T/ehlo"
	mp --backend="127.0.0.1:$POSTFIX_LOGIN_PORT" --proxy-smtp-auth=on
	local tag=login-only-$RANDOM
	run send --helo client.example --from alice@example.test --to bob@example.test \
	    --auth PLAIN --auth-user alice --auth-password secret --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" "client=unknown\[127\.0\.0\.7\]:$(cport), sasl_method=LOGIN, sasl_username=alice"
}

@test "postfix: a password with spaces and quotes through AUTH LOGIN" {
	mp --backend="127.0.0.1:$POSTFIX_LOGIN_PORT" --proxy-smtp-auth=on
	local tag=login-bob-$RANDOM
	run send --helo client.example --from bob@example.test --to alice@example.test \
	    --auth LOGIN --auth-user bob --auth-password 'p a"s\s' --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$ALICE_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" "sasl_method=LOGIN, sasl_username=bob"
}

@test "postfix: the same client to an smtpd that offers PLAIN: PLAIN, as before" {
	mp --backend="127.0.0.1:$POSTFIX_PORTLOG_PORT" --proxy-smtp-auth=on
	local tag=plain-$RANDOM
	run send --helo client.example --from alice@example.test --to bob@example.test \
	    --auth LOGIN --auth-user alice --auth-password secret --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" "client=unknown\[127\.0\.0\.7\]:$(cport), sasl_method=PLAIN, sasl_username=alice"
}

@test "postfix: a wrong password through AUTH LOGIN: Postfix's 535 with proxy_pass_error_message" {
	mp --backend="127.0.0.1:$POSTFIX_LOGIN_PORT" --proxy-smtp-auth=on --proxy-pass-error-message=on
	run send --helo client.example --from alice@example.test --to bob@example.test \
	    --auth PLAIN --auth-user alice --auth-password wrong
	[ "$status" -ne 0 ]
	[[ $output == *"<** 535 5.7.8 Error: authentication failed"* ]]
}

@test "postfix: XCLIENT's reply is its 220 greeting, and the session starts over" {
	printf 'EHLO x\r\nXCLIENT ADDR=192.0.2.9 PORT=4711 PROTO=ESMTP HELO=h.example\r\nEHLO y\r\nQUIT\r\n' |
	    "$PYTHON" "$TESTLIB/chat.py" --expect-greeting --lockstep smtp \
	    "$POSTFIX_PORTLOG_PORT" >"$T/out" 2>/dev/null
	grep -qx $'220 mx.example.test ESMTP Postfix\r' <(sed -n '/^250 /,$p' "$T/out" | sed -n 2p)
}

@test "postfix: over 512 bytes, XCLIENT in two commands, ADDR, LOGIN and NAME last: Postfix takes both, logs the login" {
	local user helo AP TP tag=split-$RANDOM
	user=$(printf 'u%.0s' $(seq 250))
	helo=$(printf 'h%.0s' $(seq 240)).example
	read -r -d '' AP TP < <(free_port 2) || :
	# a recorder between mailproxy and Postfix keeps what went
	spawn "tee-$TP" "$PYTHON" "$TESTLIB/tee_tcp.py" "$TP" "127.0.0.1:$POSTFIX_PORTLOG_PORT" \
	    "$T/tee" && wait_port "$TP"
	spawn "auth-$AP" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" \
	    --requests "$T/auth.requests" --backend "127.0.0.1:$TP" && wait_port "$AP"
	mp --auth-http="http://127.0.0.1:$AP/auth"
	run send --helo "$helo" --from alice@example.test --to alice@example.test \
	    --auth PLAIN --auth-user "$user" --auth-password pw --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$ALICE_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" "client=unknown\[127\.0\.0\.7\]:$(cport), sasl_method=XCLIENT, sasl_username=$user\$"
	# two commands within 512, ADDR, LOGIN and NAME in the second (Postfix
	# forgets a LOGIN that a later XCLIENT does not repeat), each sent
	# after the 220 of the one before (Postfix logs improper pipelining)
	tr -d '\r' <"$T/tee" | grep '^XCLIENT' >"$T/xclient"
	[ "$(wc -l <"$T/xclient")" -eq 2 ]
	[ -z "$(awk 'length($0) > 510' "$T/xclient")" ]
	[[ $(sed -n 1p "$T/xclient") == "XCLIENT PORT="*" HELO=$helo "* ]]
	[ "$(sed -n 2p "$T/xclient")" = "XCLIENT ADDR=127.0.0.7 LOGIN=$user NAME=[UNAVAILABLE]" ]
	[ -z "$(grep 'improper command pipelining after XCLIENT' "$POSTFIX_LOG")" ]
}
