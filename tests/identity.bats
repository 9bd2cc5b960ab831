#!/usr/bin/env bats
# Issue 16's "done when", end to end: behind a real HAProxy front (PROXY
# v2 into socket-activated mailproxy) and behind a real tcpserver, a real
# Postfix logs the true client address of an SMTP session (XCLIENT), and a
# real Dovecot that trusts mailproxy (login_trusted_networks) logs the true
# client address and mailproxy's session id of IMAP (ID) and POP3
# (XCLIENT) sessions.  The client always comes from 127.0.0.8, so no
# address seen by a backend can be mailproxy's own or the balancer's.

load lib/common
load lib/mailservers
load lib/haproxy

setup_file() { mail_servers_start; mail_servers_start_trusted; }
teardown_file() { mail_servers_stop; }
setup() { common_setup; mail_servers_require; }
teardown() { san_teardown "$T"/systemd-*.log "$T"/tcpserver-*.log; }

# front KIND PORT ARGS...: mailproxy behind KIND: "haproxy" (HAProxy on
# PORT sending PROXY v2 to mailproxy under systemd-socket-activate) or
# "tcpserver" (tcpserver on PORT); its log is then $MPLOG.
front() {
	local kind=$1 port=$2 inner
	shift 2
	if [[ $kind == tcpserver ]]; then
		launch_tcpserver "$port" "$@"
		MPLOG=$T/tcpserver-$port.log
		return
	fi
	inner=$(free_port)
	launch_systemd "$inner" --listen-proxy-protocol=on \
		--set-real-ip-from=127.0.0.1/32 "$@"
	MPLOG=$T/systemd-$inner.log
	haproxy_tcp "$port" send-proxy-v2 "127.0.0.1:$inner"
}

# session_id PROTO: the id of mailproxy's ok session of alice from 127.0.0.8
session_id() {
	wait_log "$MPLOG" "session=[A-Za-z0-9]{16} $1 client=127\\.0\\.0\\.8:[0-9]+ user=\"alice\" .*result=ok" >&2 || return 1
	grep -oE "session=[A-Za-z0-9]{16} $1 client=127\\.0\\.0\\.8:" "$MPLOG" | tail -1 | cut -c9-24
}

# imap_session KIND: Dovecot logs rip= and session= of an IMAP login (ID)
imap_session() {
	local port id
	port=$(free_port)
	front "$1" "$port" --protocol=imap --proxy-imap-id=on \
		--backend="$DOVECOT_TRUSTED_ADDR:$DOVECOT_IMAP_TRUSTED_PORT"
	run curl -sS --max-time 20 --interface 127.0.0.8 -u alice:secret \
		"imap://127.0.0.1:$port/INBOX" -X 'EXAMINE INBOX'
	[ "$status" -eq 0 ]
	[[ "$output" == *EXISTS* ]]
	id=$(session_id imap)
	[ ${#id} -eq 16 ]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=[A-Z]+, rip=127\\.0\\.0\\.8, .*session=<$id>"
}

# pop3_session KIND: the same for POP3 (XCLIENT ADDR PORT SESSION)
pop3_session() {
	local port id
	port=$(free_port)
	front "$1" "$port" --protocol=pop3 --proxy-pop3-xclient=on \
		--backend="$DOVECOT_TRUSTED_ADDR:$DOVECOT_POP3_TRUSTED_PORT"
	run curl -sS --max-time 20 --interface 127.0.0.8 -u alice:secret \
		"pop3://127.0.0.1:$port/" -l
	[ "$status" -eq 0 ]
	id=$(session_id pop3)
	[ ${#id} -eq 16 ]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, method=[A-Z]+, rip=127\\.0\\.0\\.8, .*session=<$id>"
}

# smtp_session KIND: Postfix logs the client of a submission (XCLIENT)
smtp_session() {
	local port tag
	port=$(free_port)
	front "$1" "$port" --protocol=smtp --server-name=mx.test \
		--backend="127.0.0.1:$POSTFIX_PORT" --proxy-smtp-auth=on
	tag=identity-$1-$RANDOM
	run swaks --server 127.0.0.1 --port "$port" --local-interface 127.0.0.8 \
		--from alice@example.test --to bob@example.test --auth PLAIN \
		--auth-user alice --auth-password secret --header "Subject: $tag"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	session_id smtp >/dev/null
	wait_log "$POSTFIX_LOG" 'client=[^ ]*\[127\.0\.0\.8\], sasl_method=PLAIN, sasl_username=alice'
}

@test "behind HAProxy (PROXY v2): Dovecot logs the true client and our session id of an IMAP session" { imap_session haproxy; }
@test "behind HAProxy (PROXY v2): Dovecot logs the true client and our session id of a POP3 session" { pop3_session haproxy; }
@test "behind HAProxy (PROXY v2): Postfix logs the true client of an SMTP session" { smtp_session haproxy; }
@test "behind tcpserver: Dovecot logs the true client and our session id of an IMAP session" { imap_session tcpserver; }
@test "behind tcpserver: Dovecot logs the true client and our session id of a POP3 session" { pop3_session tcpserver; }
@test "behind tcpserver: Postfix logs the true client of an SMTP session" { smtp_session tcpserver; }
