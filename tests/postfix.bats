#!/usr/bin/env bats
# SMTP end to end: swaks -> mailproxy -> a real Postfix (private instance on
# loopback, delivering to Dovecot).  The client connects from 127.0.0.5 so
# that its real address differs from mailproxy's own, 127.0.0.1.

load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	mail_servers_require
	MPPORT=$(free_port)
}

# send ARGS...: one mail through mailproxy with swaks from 127.0.0.5
send() {
	swaks --server 127.0.0.1 --port "$MPPORT" --local-interface 127.0.0.5 \
	    --helo client.example --timeout 20 "$@"
}

@test "submission: XCLIENT and AUTH at Postfix; the mail lands, the log has the real address and login" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" \
	    --server-name=mx.test --proxy-smtp-auth=on
	tag=sub-$RANDOM
	run send --from alice@example.test --to bob@example.test --auth PLAIN \
	    --auth-user alice --auth-password secret --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" 'client=unknown\[127\.0\.0\.5\], sasl_method=PLAIN, sasl_username=alice'
	wait_log "$T/tcpserver-$MPPORT.log" 'user="alice" backend=127.0.0.1:'"$POSTFIX_PORT"'.*outcome="ok"'
}

@test "submission with AUTH LOGIN, through systemd-socket-activate" {
	launch_systemd "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" \
	    --server-name=mx.test --proxy-smtp-auth=on
	tag=login-$RANDOM
	run send --from alice@example.test --to alice@example.test --auth LOGIN \
	    --auth-user alice --auth-password secret --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$ALICE_MAILDIR" "Subject: $tag"
}

@test "a wrong password: Postfix's 535 with proxy_pass_error_message on, 451 with it off" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" \
	    --server-name=mx.test --proxy-smtp-auth=on --proxy-pass-error-message=on
	run send --from alice@example.test --to bob@example.test --auth PLAIN \
	    --auth-user alice --auth-password wrong
	[ "$status" -ne 0 ]
	[[ "$output" == *"<** 535 5.7.8 Error: authentication failed"* ]]
	stop_launchers || :
	MPPORT=$(free_port)
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" \
	    --server-name=mx.test --proxy-smtp-auth=on
	run send --from alice@example.test --to bob@example.test --auth PLAIN \
	    --auth-user alice --auth-password wrong
	[[ "$output" == *"<** 451 4.3.2 Internal server error"* ]]
}

@test "MX with smtp_auth none: the envelope is replayed, the mail lands, XCLIENT carries the address" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" \
	    --server-name=mx.test --smtp-auth=none
	tag=mx-$RANDOM
	run send --from someone@elsewhere.test --to alice@example.test --header "Subject: $tag"
	[ "$status" -eq 0 ]
	f=$(maildir_find "$ALICE_MAILDIR" "Subject: $tag")
	grep -q 'from client.example (unknown \[127\.0\.0\.5\])' "$f"
}

@test "Postfix rejects the replayed recipient: its reply reaches the client" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" \
	    --server-name=mx.test --smtp-auth=none
	run send --from someone@elsewhere.test --to 'no body@example.test'
	[ "$status" -ne 0 ]
	[[ "$output" == *"<** 501 5.1.3 Bad recipient address syntax"* ]]
}

@test "the PROXY protocol to Postfix's haproxy listener, xclient off: Postfix sees the real address" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_HAPROXY_PORT" \
	    --server-name=mx.test --xclient=off --proxy-protocol=on --smtp-auth=none
	tag=proxy-$RANDOM
	run send --from someone@elsewhere.test --to alice@example.test --header "Subject: $tag"
	[ "$status" -eq 0 ]
	f=$(maildir_find "$ALICE_MAILDIR" "Subject: $tag")
	grep -q '\[127\.0\.0\.5\]' "$f"
	wait_log "$POSTFIX_LOG" 'connect from unknown\[127\.0\.0\.5\]'
}

# auth_service NAME ARGS...: tests/lib/fake_auth_http.py naming Postfix as
# the backend, on a port of its own: sets $AP
auth_service() {
	local name=$1
	shift
	AP=$(free_port)
	spawn "auth-$name" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" \
	    --requests "$T/auth-$name.requests" --ready "$T/auth-$name.ready" \
	    --log "$T/auth-$name.log" --backend "127.0.0.1:$POSTFIX_PORT" "$@" &&
	    wait_for_file "$T/auth-$name.ready"
}

@test "an auth service that says OK and refuses, in either order: refused, Postfix never contacted" {
	printf 'alice:secret\n' >"$T/users"
	before=$(grep -c 'smtpd\[[0-9]*\]: connect from' "$POSTFIX_LOG") || :
	for mode in okrefused refusedok; do
		# bob's password is wrong, the service says OK and Invalid login
		auth_service "$mode" --mode "$mode" --users "$T/users"
		MPPORT=$(free_port)
		launch_tcpserver "$MPPORT" --protocol=smtp --server-name=mx.test \
		    --auth-http="http://127.0.0.1:$AP/auth"
		run send --from bob@example.test --to alice@example.test --auth PLAIN \
		    --auth-user bob --auth-password wrong --header "Subject: $mode-$RANDOM"
		echo "$mode: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"<** 535 5.7.0 Invalid login or password"* ]]
		grep -q ' OK and ' "$T/auth-$mode.log"
		# the log line comes as the session ends, after swaks has gone
		wait_log "$T/tcpserver-$MPPORT.log" 'outcome="auth service refused: Invalid login or password"'
	done
	# a good login after them: the one connection Postfix sees
	auth_service ok --users "$T/users"
	MPPORT=$(free_port)
	launch_tcpserver "$MPPORT" --protocol=smtp --server-name=mx.test \
	    --auth-http="http://127.0.0.1:$AP/auth"
	tag=after-$RANDOM
	run send --from alice@example.test --to alice@example.test --auth PLAIN \
	    --auth-user alice --auth-password secret --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$ALICE_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" 'client=unknown\[127\.0\.0\.5\], sasl_method=XCLIENT, sasl_username=alice'
	after=$(grep -c 'smtpd\[[0-9]*\]: connect from' "$POSTFIX_LOG")
	[ "$after" -eq $((before + 1)) ]
	! grep 'sasl_username=bob' "$POSTFIX_LOG" || false
}

@test "a Postfix that does not authorize our XCLIENT: it gets XCLIENT all the same, refuses it, 451 and the hint" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$POSTFIX_NOXCLIENT_PORT" \
	    --server-name=mx.test --smtp-auth=none
	run send --from alice@example.test --to bob@example.test
	[ "$status" -ne 0 ]
	[[ "$output" == *"<** 451 4.3.2 Internal server error"* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'refused XCLIENT: 550 5.7.0 .*smtpd_authorized_xclient_hosts'
}
