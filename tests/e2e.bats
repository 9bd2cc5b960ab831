#!/usr/bin/env bats
# The whole path, as an operator runs it: a mail submitted through
# mailproxy's SMTP to a real Postfix, delivered to a real Dovecot, read back
# through mailproxy's IMAP and POP3.  The client is 127.0.0.5; the servers
# must see that address, not mailproxy's own.

load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	mail_servers_require
	read -r -d '' SMTP IMAP POP3 < <(free_port 3) || :
	launch_tcpserver "$SMTP" --protocol=smtp --server-name=mx.test \
	    --backend="127.0.0.1:$POSTFIX_PORT" --proxy-smtp-auth=on
	launch_tcpserver "$IMAP" --protocol=imap --proxy-protocol=on \
	    --backend="127.0.0.1:$DOVECOT_IMAP_HAPROXY_PORT"
	launch_tcpserver "$POP3" --protocol=pop3 --proxy-protocol=on \
	    --backend="127.0.0.1:$DOVECOT_POP3_HAPROXY_PORT"
}

BOBPASS='p a"s\s'

@test "sent through mailproxy's SMTP, read back through its IMAP and POP3 from Dovecot" {
	tag=e2e-$RANDOM
	run swaks --server 127.0.0.1 --port "$SMTP" --local-interface 127.0.0.5 \
	    --from alice@example.test --to bob@example.test --auth PLAIN \
	    --auth-user alice --auth-password secret --header "Subject: $tag" \
	    --body "Hello Bob, this went through mailproxy three times."
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" 'client=unknown\[127\.0\.0\.5\], sasl_method=PLAIN, sasl_username=alice'

	run curl -sS --max-time 20 --interface 127.0.0.5 --login-options AUTH=PLAIN \
	    -u "bob:$BOBPASS" "imap://127.0.0.1:$IMAP/INBOX;UID=1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Subject: $tag"* ]]
	[[ "$output" == *"this went through mailproxy three times"* ]]
	wait_log "$DOVECOT_LOG" 'imap-login: Info: Login: user=<bob>.*rip=127\.0\.0\.5'

	run curl -sS --max-time 20 --interface 127.0.0.5 -u "bob:$BOBPASS" \
	    "pop3://127.0.0.1:$POP3/1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Subject: $tag"* ]]
	[[ "$output" == *"this went through mailproxy three times"* ]]
	wait_log "$DOVECOT_LOG" 'pop3-login: Info: Login: user=<bob>.*rip=127\.0\.0\.5'

	# one log line per session, none with a password
	! grep -q -e secret -e 'a"s' "$T"/tcpserver-*.log || false
	[ "$(grep -c 'outcome="ok"' "$T/tcpserver-$SMTP.log")" -eq 1 ]
}
