#!/usr/bin/env bats
# TLS end to end (issue 15, item 7): real clients (openssl s_client, swaks,
# curl) through mailproxy to the real Postfix and Dovecot of
# mailservers.bash, over STARTTLS and implicit TLS in all three protocols,
# with the client's certificate checks on (CERTS_CA, the name mx.test);
# Dovecot's secured-only instance trusting the SSL TLV of PROXY v2; and
# verified TLS towards the backend, alone and with TLS on both sides.  The
# fakes and the byte-for-byte checks are in tls.bats and backend_tls.bats.
# Some tests set MPPORT anew for a second listener, as meant:
# shellcheck disable=SC2030,SC2031

load lib/common
load lib/mailservers
load lib/tls_e2e

SEED_SUBJECT='Subject: seeded for tls_e2e'

setup_file() {
	certs_make
	mail_servers_start || return
	[[ -z $MAIL_SERVERS_SKIP ]] || return 0
	# one message in alice's INBOX, for POP3 RETR and IMAP FETCH; mail
	# submitted by the tests goes to bob, so alice's INBOX stays as it is
	local u g d
	u=$(id -u mail) g=$(id -g mail)
	for d in "$ALICE_MAILDIR" "$ALICE_MAILDIR"/{cur,new,tmp}; do
		install -d -o "$u" -g "$g" -m 700 "$d"
	done
	printf '%s\r\n' 'From: carol@example.test' 'To: alice@example.test' \
	    "$SEED_SUBJECT" '' 'Hello Alice, over TLS.' |
	    install -o "$u" -g "$g" -m 600 /dev/stdin "$ALICE_MAILDIR/new/1000000000.seed.mx:2,"
}
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	mail_servers_require
	MPPORT=$(free_port)
	: >"$T/s_client.err"
	SMTP_BE=(--backend="127.0.0.1:$POSTFIX_PORT" --proxy-smtp-auth=on)
	IMAP_BE=(--proxy-protocol=on --backend="127.0.0.1:$DOVECOT_IMAP_HAPROXY_PORT")
	POP3_BE=(--proxy-protocol=on --backend="127.0.0.1:$DOVECOT_POP3_HAPROXY_PORT")
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

# mp PROTO ARGS...: mailproxy on $MPPORT under tcpserver, with mx.test's
# certificate (CERTS_RSA_*, signed by CERTS_CA).
mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" --server-name=mx.test \
	    --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY" "$@"
}

# mplog: mailproxy's log (one line per session).
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
# mplog_wait ERE: wait for it in the log, which is written as the session
# ends, after the client may have seen the connection close.
mplog_wait() { wait_log "$T/tcpserver-$MPPORT.log" "$1"; }

# the backends of the client-side tests: Postfix with AUTH behind XCLIENT,
# Dovecot behind PROXY v1 (so it logs the client's address)
# (set in setup: SMTP_BE, IMAP_BE, POP3_BE)

# curl_tls ARGS... URL: curl that trusts only CERTS_CA and reaches
# mx.test:$MPPORT at 127.0.0.1, so that the name verifies.
curl_tls() {
	curl -sS --max-time 20 --cacert "$CERTS_CA" \
	    --resolve "mx.test:$MPPORT:127.0.0.1" -u alice:secret "$@"
}

# swaks_bob ARGS...: swaks, alice/secret AUTH PLAIN, a message to bob tagged
# $TAG (set here), through mailproxy on $MPPORT from 127.0.0.5.
swaks_bob() {
	TAG=tls-e2e-$RANDOM$RANDOM
	timeout 30 swaks --server 127.0.0.1 --port "$MPPORT" --local-interface 127.0.0.5 \
	    --from alice@example.test --to bob@example.test --auth PLAIN \
	    --auth-user alice --auth-password secret --header "Subject: $TAG" \
	    --body "Hello Bob, over TLS through mailproxy." "$@"
}

# delivered: the message tagged $TAG is in bob's Maildir, and Postfix
# logged alice's AUTH for the session from 127.0.0.5 (after MARK).
delivered() {
	maildir_find "$BOB_MAILDIR" "Subject: $TAG" >/dev/null
	wait_log_since "$POSTFIX_LOG" "$MARK" 'client=unknown\[127\.0\.0\.5\], sasl_method=PLAIN, sasl_username=alice'
}

# ---- openssl s_client -starttls, to the real servers --------------------

@test "openssl s_client -starttls smtp: AUTH PLAIN as alice, a message to bob delivered by Postfix" {
	mp smtp --starttls=on "${SMTP_BE[@]}"
	MARK=$(log_lines "$POSTFIX_LOG")
	TAG=tls-e2e-openssl-$RANDOM$RANDOM
	run s_chat smtp -connect "127.0.0.1:$MPPORT" -starttls smtp <<EOF
EHLO client.test
AUTH PLAIN $(printf '\0alice\0secret' | base64)
MAIL FROM:<alice@example.test>
RCPT TO:<bob@example.test>
DATA
Subject: $TAG

Hello Bob, from openssl s_client.
.
QUIT
EOF
	echo "$output"; cat "$T/s_client.err"
	[ "$status" -eq 0 ]
	[[ $output == *$'250 AUTH PLAIN LOGIN\n235 2.0.0 OK\n'* ]]
	[[ $output == *$'\n250 2.0.0 Ok: queued as '* ]]
	[[ $output == *$'\n221 '* ]]
	maildir_find "$BOB_MAILDIR" "Subject: $TAG"
	wait_log_since "$POSTFIX_LOG" "$MARK" 'sasl_method=PLAIN, sasl_username=alice'
	mplog_wait 'tls=TLSv1\.3/'
}

@test "openssl s_client -starttls pop3: USER/PASS as alice, LIST and RETR the message from Dovecot" {
	mp pop3 --starttls=on "${POP3_BE[@]}"
	MARK=$(log_lines "$DOVECOT_LOG")
	run s_chat pop3 -connect "127.0.0.1:$MPPORT" -starttls pop3 <<'EOF'
USER alice
PASS secret
LIST
RETR 1
QUIT
EOF
	echo "$output"; cat "$T/s_client.err"
	[ "$status" -eq 0 ]
	[[ $output == *$'+OK Logged in.\n+OK 1 messages'* ]]
	[[ $output == *"$SEED_SUBJECT"* && $output == *'Hello Alice, over TLS.'* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" 'pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1'
	mplog_wait 'tls=TLSv1\.3/'
}

@test "openssl s_client -starttls imap: LOGIN as alice, LIST and FETCH from Dovecot" {
	mp imap --starttls=on "${IMAP_BE[@]}"
	MARK=$(log_lines "$DOVECOT_LOG")
	run s_chat imap -connect "127.0.0.1:$MPPORT" -starttls imap <<'EOF'
a LOGIN alice secret
b LIST "" *
c SELECT INBOX
d FETCH 1 BODY.PEEK[]
e LOGOUT
EOF
	echo "$output"; cat "$T/s_client.err"
	[ "$status" -eq 0 ]
	grep -q '^a OK .*Logged in' <<<"$output"
	[[ $output == *'* LIST ('*') "." INBOX'* && $output == *$'\nb OK '* ]]
	[[ $output == *"$SEED_SUBJECT"* && $output == *$'\nd OK '* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" 'imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1'
	mplog_wait 'tls=TLSv1\.3/'
}

@test "openssl s_client -verify_hostname other.test refuses mailproxy's certificate: LOGIN is never sent" {
	mp imap --ssl=on "${IMAP_BE[@]}"
	run s_chat imap -connect "127.0.0.1:$MPPORT" -verify_hostname other.test <<<'a LOGIN alice secret'
	[ "$status" -ne 0 ]
	grep -q 'verify error:num=62:hostname mismatch' "$T/s_client.err"
	[[ $output != *'a OK'* ]]
}

# ---- swaks: STARTTLS and implicit TLS, to the real Postfix ----------------

@test "swaks --tls (STARTTLS): AUTH PLAIN as alice, delivered to bob, Postfix logs alice's session" {
	mp smtp --starttls=on "${SMTP_BE[@]}"
	MARK=$(log_lines "$POSTFIX_LOG")
	run swaks_bob --tls --tls-verify --tls-ca-path "$CERTS_CA" --tls-sni mx.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *$' -> STARTTLS\n<-  220 '*'=== TLS started with cipher TLSv1.3'* ]]
	[[ $output == *'~> AUTH PLAIN'* && $output == *'<~  235 '* ]]
	delivered
	mplog_wait 'tls=TLSv1\.3/'
}

@test "swaks --tlsc (implicit TLS, --ssl=on): AUTH PLAIN as alice, delivered to bob, Postfix logs alice's session" {
	mp smtp --ssl=on "${SMTP_BE[@]}"
	MARK=$(log_lines "$POSTFIX_LOG")
	run swaks_bob --tlsc --tls-verify --tls-ca-path "$CERTS_CA" --tls-sni mx.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'<~  220 mx.test ESMTP'* ]]
	[[ $output == *'~> AUTH PLAIN'* && $output == *'<~  235 '* ]]
	delivered
	mplog_wait 'tls=TLSv1\.3/'
}

# ---- curl: STARTTLS and implicit TLS, to the real Dovecot -----------------

@test "curl --ssl-reqd pop3:// and imap:// (STARTTLS): the messages and INBOX through Dovecot" {
	mp pop3 --starttls=on "${POP3_BE[@]}"
	run curl_tls --ssl-reqd "pop3://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output =~ ^1\ [0-9]+$'\r'?$ ]]
	run curl_tls --ssl-reqd "pop3://mx.test:$MPPORT/1"
	[ "$status" -eq 0 ]
	[[ $output == *"$SEED_SUBJECT"* ]]
	mplog_wait 'tls=TLSv1\.3/'
	stop_launchers
	MPPORT=$(free_port)
	mp imap --starttls=on "${IMAP_BE[@]}"
	run curl_tls --ssl-reqd "imap://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'* LIST ('*') "." INBOX'* ]]
	run curl_tls --ssl-reqd "imap://mx.test:$MPPORT/INBOX;UID=1"
	[ "$status" -eq 0 ]
	[[ $output == *"$SEED_SUBJECT"* ]]
	mplog_wait 'tls=TLSv1\.3/'
}

@test "curl pop3s:// and imaps:// (implicit TLS, --ssl=on): the messages and INBOX through Dovecot" {
	mp pop3 --ssl=on "${POP3_BE[@]}"
	run curl_tls "pop3s://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output =~ ^1\ [0-9]+$'\r'?$ ]]
	mplog_wait 'tls=TLSv1\.3/'
	stop_launchers
	MPPORT=$(free_port)
	mp imap --ssl=on "${IMAP_BE[@]}"
	run curl_tls "imaps://mx.test:$MPPORT/INBOX;UID=1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$SEED_SUBJECT"* ]]
	wait_log "$DOVECOT_LOG" 'imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1'
	mplog_wait 'tls=TLSv1\.3/'
}

@test "curl refuses mailproxy's certificate when the name does not match (127.0.0.1 is in it, other.test is not)" {
	mp imap --ssl=on "${IMAP_BE[@]}"
	run curl -sS --max-time 20 --cacert "$CERTS_CA" --resolve "other.test:$MPPORT:127.0.0.1" \
	    -u alice:secret "imaps://other.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 60 ]
}

# ---- --starttls=only: plaintext clients are refused ----------------------

@test "--starttls=only: swaks without --tls gets no AUTH and 530 5.7.0 for MAIL; with --tls it is delivered" {
	mp smtp --starttls=only "${SMTP_BE[@]}"
	MARK=$(log_lines "$POSTFIX_LOG")
	run swaks_bob
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *'Host did not advertise authentication'* ]]
	[[ $output != *'~> AUTH'* ]]
	run swaks_bob --auth-optional
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *'<** 530 5.7.0 Must issue a STARTTLS command first'* ]]
	# and the AUTH command itself, as a client that sends it anyway
	run smtp_chat "$MPPORT" <<<$'EHLO client.test\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT'
	[[ $output == *$'\r\n530 5.7.0 Must issue a STARTTLS command first\r\n'* ]]
	none_since "$POSTFIX_LOG" "$MARK" 'sasl_username=alice'
	run swaks_bob --tls --tls-verify --tls-ca-path "$CERTS_CA"
	[ "$status" -eq 0 ]
	delivered
}

@test "--starttls=only: curl imap:// without TLS is refused LOGIN; with --ssl-reqd it lists INBOX" {
	mp imap --starttls=only "${IMAP_BE[@]}"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls -v "imap://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 67 ]
	[[ $output != *'* LIST'* ]]
	# curl sees LOGINDISABLED and does not send LOGIN; sent anyway, it is refused
	[[ $output == *'LOGINDISABLED'* ]]
	run imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[[ $output == *$'\r\na NO '* && $output != *'a OK'* ]]
	sleep 0.3
	none_since "$DOVECOT_LOG" "$MARK" 'Login: user=<alice>'
	run curl_tls --ssl-reqd "imap://mx.test:$MPPORT/"
	[ "$status" -eq 0 ]
	[[ $output == *'* LIST ('*') "." INBOX'* ]]
}

# ---- Dovecot that takes secured logins only, trusting the SSL TLV --------
# DOVECOT_SECURE_ADDR (127.0.0.2) trusts PROXY headers from 127.0.0.1 and
# has disable_plaintext_auth = yes: only PP2_CLIENT_SSL lets alice in.

@test "secured-only Dovecot, IMAP: client TLS (--ssl=on) passes the SSL TLV, the login is secured; plaintext is refused" {
	mp imap --ssl=on --proxy-protocol=v2 --backend="$DOVECOT_SECURE_ADDR:$DOVECOT_IMAP_SECURE_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "imaps://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'* LIST ('*') "." INBOX'* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, rport=[0-9]+, lport=$MPPORT, mpid=[0-9]+, secured,"
	stop_launchers
	MPPORT=$(free_port)
	mp imap --proxy-protocol=v2 --backend="$DOVECOT_SECURE_ADDR:$DOVECOT_IMAP_SECURE_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "imap://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output != *'* LIST'* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "imap-login: Info: Login failed: Plaintext authentication disabled: .*rip=127\.0\.0\.1, lip=127\.0\.0\.1, rport=[0-9]+, lport=$MPPORT"
	none_since "$DOVECOT_LOG" "$MARK" "Login: user=<alice>"
}

@test "secured-only Dovecot, POP3: client TLS (openssl, --ssl=on) logs in secured; plaintext (curl) is refused" {
	mp pop3 --ssl=on --proxy-protocol=v2 --backend="$DOVECOT_SECURE_ADDR:$DOVECOT_POP3_SECURE_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run s_chat pop3 -connect "127.0.0.1:$MPPORT" <<<$'USER alice\nPASS secret\nRETR 1\nQUIT'
	echo "$output"; cat "$T/s_client.err"
	[ "$status" -eq 0 ]
	[[ $output == *'+OK Logged in.'* && $output == *"$SEED_SUBJECT"* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, rport=[0-9]+, lport=$MPPORT, mpid=[0-9]+, secured,"
	stop_launchers
	MPPORT=$(free_port)
	mp pop3 --proxy-protocol=v2 --backend="$DOVECOT_SECURE_ADDR:$DOVECOT_POP3_SECURE_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "pop3://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output != 1\ * ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "pop3-login: Info: .*Plaintext authentication disabled"
	none_since "$DOVECOT_LOG" "$MARK" "Login: user=<alice>"
}

# ---- verified TLS to the backend ------------------------------------------

# BE_TLS: verify the backend against CERTS_CA for the name mx.test
BE_TLS=()
be_tls() { BE_TLS=(--proxy-ssl-trusted-certificate="$CERTS_CA" --proxy-ssl-name=mx.test); }

@test "--proxy-ssl=on to Dovecot's IMAPS and POP3S, verified as mx.test: Dovecot logs a TLS login" {
	be_tls
	mp imap --proxy-ssl=on "${BE_TLS[@]}" --backend="127.0.0.1:$DOVECOT_IMAPS_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "imap://mx.test:$MPPORT/INBOX;UID=1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$SEED_SUBJECT"* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "imap-login: Info: Login: user=<alice>, .*lport=$DOVECOT_IMAPS_PORT, mpid=[0-9]+, TLS,"
	mplog_wait 'backend_tls=TLSv1\.3/'
	stop_launchers
	MPPORT=$(free_port)
	mp pop3 --proxy-ssl=on "${BE_TLS[@]}" --backend="127.0.0.1:$DOVECOT_POP3S_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "pop3://mx.test:$MPPORT/1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$SEED_SUBJECT"* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "pop3-login: Info: Login: user=<alice>, .*lport=$DOVECOT_POP3S_PORT, mpid=[0-9]+, TLS,"
	mplog_wait 'backend_tls=TLSv1\.3/'
}

@test "--proxy-ssl=on to Dovecot without a trusted CA (the system store): no login reaches Dovecot" {
	mp imap --proxy-ssl=on --proxy-ssl-name=mx.test --backend="127.0.0.1:$DOVECOT_IMAPS_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "imap://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -ne 0 ]
	mplog_wait 'TLS certificate'
	sleep 0.3
	none_since "$DOVECOT_LOG" "$MARK" "Login: user=<alice>"
}

@test "--proxy-starttls=on to Dovecot's plain IMAP and POP3 ports (POP3 with client STARTTLS too), verified: Dovecot logs a TLS login" {
	be_tls
	mp imap --proxy-starttls=on "${BE_TLS[@]}" --backend="127.0.0.1:$DOVECOT_IMAP_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "imap://mx.test:$MPPORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'* LIST ('*') "." INBOX'* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "imap-login: Info: Login: user=<alice>, .*lport=$DOVECOT_IMAP_PORT, mpid=[0-9]+, TLS,"
	mplog_wait 'backend_tls=TLSv1\.3/'
	stop_launchers
	MPPORT=$(free_port)
	# and STARTTLS on both sides at once
	mp pop3 --starttls=on --proxy-starttls=on "${BE_TLS[@]}" --backend="127.0.0.1:$DOVECOT_POP3_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run s_chat pop3 -connect "127.0.0.1:$MPPORT" -starttls pop3 <<<$'USER alice\nPASS secret\nLIST\nQUIT'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *$'+OK Logged in.\n+OK 1 messages'* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "pop3-login: Info: Login: user=<alice>, .*lport=$DOVECOT_POP3_PORT, mpid=[0-9]+, TLS,"
	mplog_wait 'tls=TLSv1\.3/.* backend_tls=TLSv1\.3/'
}

@test "--proxy-starttls=on to Postfix's STARTTLS port, verified: swaks's message is delivered, Postfix logs TLS and alice" {
	be_tls
	mp smtp --proxy-starttls=on "${BE_TLS[@]}" --backend="127.0.0.1:$POSTFIX_TLS_PORT" --proxy-smtp-auth=on
	MARK=$(log_lines "$POSTFIX_LOG")
	run swaks_bob
	echo "$output"
	[ "$status" -eq 0 ]
	delivered
	wait_log_since "$POSTFIX_LOG" "$MARK" "smtpd\[[0-9]+\]: .*TLS connection established from .*\[127\.0\.0\.1\]: TLSv1\.3"
	mplog_wait 'backend_tls=TLSv1\.3/'
}

# ---- TLS on both sides at once ---------------------------------------------

@test "both sides TLS: --ssl=on and --proxy-ssl=on, IMAPS (curl) and POP3S (openssl) to Dovecot" {
	be_tls
	mp imap --ssl=on --proxy-ssl=on "${BE_TLS[@]}" --backend="127.0.0.1:$DOVECOT_IMAPS_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run curl_tls "imaps://mx.test:$MPPORT/INBOX;UID=1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$SEED_SUBJECT"* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "imap-login: Info: Login: user=<alice>, .*lport=$DOVECOT_IMAPS_PORT, mpid=[0-9]+, TLS,"
	mplog_wait 'tls=TLSv1\.3/.* backend_tls=TLSv1\.3/'
	stop_launchers
	MPPORT=$(free_port)
	mp pop3 --ssl=on --proxy-ssl=on "${BE_TLS[@]}" --backend="127.0.0.1:$DOVECOT_POP3S_PORT"
	MARK=$(log_lines "$DOVECOT_LOG")
	run s_chat pop3 -connect "127.0.0.1:$MPPORT" <<<$'USER alice\nPASS secret\nRETR 1\nQUIT'
	echo "$output"; cat "$T/s_client.err"
	[ "$status" -eq 0 ]
	[[ $output == *'+OK Logged in.'* && $output == *"$SEED_SUBJECT"* ]]
	wait_log_since "$DOVECOT_LOG" "$MARK" "pop3-login: Info: Login: user=<alice>, .*lport=$DOVECOT_POP3S_PORT, mpid=[0-9]+, TLS,"
	mplog_wait 'tls=TLSv1\.3/.* backend_tls=TLSv1\.3/'
}

@test "both sides TLS: swaks --tlsc through --ssl=on and --proxy-ssl=on to Postfix's SMTPS port" {
	be_tls
	mp smtp --ssl=on --proxy-ssl=on "${BE_TLS[@]}" --backend="127.0.0.1:$POSTFIX_SMTPS_PORT" --proxy-smtp-auth=on
	MARK=$(log_lines "$POSTFIX_LOG")
	run swaks_bob --tlsc --tls-verify --tls-ca-path "$CERTS_CA" --tls-sni mx.test
	echo "$output"
	[ "$status" -eq 0 ]
	delivered
	wait_log_since "$POSTFIX_LOG" "$MARK" "smtpd\[[0-9]+\]: .*TLS connection established from .*\[127\.0\.0\.1\]: TLSv1\.3"
	mplog_wait 'tls=TLSv1\.3/.* backend_tls=TLSv1\.3/'
}
