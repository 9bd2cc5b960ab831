#!/usr/bin/env bats
# TLS towards the backend (issue 15 item 4): --proxy-ssl (implicit, after
# the PROXY header) and --proxy-starttls in the three protocols against the
# fake backends' TLS (tests/lib/fakeserver.py), verification by name and
# by IP address with or without SNI, the failures that must keep the
# credentials from the backend, a client certificate; then a real Dovecot
# and Postfix behind mailproxy with verified TLS.

bats_require_minimum_version 1.5.0
load lib/common
load lib/mailservers

setup_file() { certs_make; mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

# fake PROTO ARGS...: the fake PROTO backend on $BE
fake() {
	local proto=$1
	shift
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$proto.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" \
	    --log "$T/fake-$BE.log" "$@" && wait_for_file "$T/fake-$BE.ready"
}

# tls_fake PROTO [CERT [ARGS...]]: the fake with implicit TLS and CERT
# (default: the EC mx.test one, names mx.test, localhost and 127.0.0.1)
tls_fake() {
	local proto=$1 crt=${2:-ec}
	shift 2 || shift
	case $crt in
	ec) set -- --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY" "$@" ;;
	*) eval "set -- --cert \"\$CERTS_${crt}_CRT\" --key \"\$CERTS_${crt}_KEY\" \"\$@\"" ;;
	esac
	fake "$proto" --tls "$@"
}

# mp PROTO ARGS...: mailproxy for PROTO on $MPPORT towards $BACKEND (or
# the fake on 127.0.0.1:$BE), trusting the test CA
mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" \
	    --backend="${BACKEND:-127.0.0.1:$BE}" --server-name=mx.test \
	    --proxy-smtp-auth=on --proxy-ssl-trusted-certificate="$CERTS_CA" "$@"
}

# again: stop everything and start over on fresh ports
again() {
	stop_launchers || :
	BE=$(free_port)
	MPPORT=$(free_port)
	unset BACKEND
}

q() { "$@" 2>/dev/null; }
# (a PROXY v2 header holds NULs: not for $(...))
transcript() { tr -d '\0' <"$T/fake-$BE.transcript" 2>/dev/null; }
fakelog() { cat "$T/fake-$BE.log" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
# mplog_wait ERE: wait for it in the log, which is written as the session
# ends, after the client may have seen the connection close.
mplog_wait() { wait_log "$T/tcpserver-$MPPORT.log" "$1"; }
PLAIN=AGFsaWNlAHNlY3JldA==

# login PROTO: a login through mailproxy, then one command relayed and
# answered, and the end; the client's side of the dialogue in $output
login() {
	case $1 in
	pop3) run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT\nQUIT' ;;
	imap) run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb SELECT INBOX\nc LOGOUT' ;;
	smtp) run q smtp_chat "$MPPORT" <<<$'EHLO client.test\nAUTH PLAIN '"$PLAIN"$'\nMAIL FROM:<a@client.test>\nQUIT' ;;
	esac
}

# logged_in PROTO: the login of `login` arrived, and the relay went both ways
logged_in() {
	case $1 in
	pop3)
		[[ $output == *$'+OK Logged in.\r\n+OK 1 '* ]]
		[[ $(transcript) == *$'USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r'* ]] ;;
	imap)
		[[ $output == *$'a OK '*'Logged in'*'* 1 EXISTS'*$'b OK '* ]]
		[[ $(transcript) == *$'a LOGIN "alice" "secret"\r\nb SELECT INBOX\r\n'* ]] ;;
	smtp)
		[[ $output == *$'235 2.0.0 OK\r\n250 '* ]]
		[[ $(transcript) == *"AUTH PLAIN $PLAIN"$'\r\nMAIL FROM:<a@client.test>\r\nQUIT\r'* ]] ;;
	esac
}

# no_credentials: the backend saw no login of any kind
no_credentials() {
	if transcript | grep -qaE 'USER|PASS|LOGIN|AUTH|alice|secret|AGFsaWNl'; then
		echo "the backend got credentials:" >&2
		transcript | cat -A >&2
		return 1
	fi
}

# tempfail PROTO: the client got the protocol's temporary failure
tempfail() {
	case $1 in
	pop3) [[ $output == *$'-ERR internal server error\r'* ]] ;;
	imap) [[ $output == *$'* BAD internal server error\r'* ]] ;;
	smtp) [[ $output == *$'\r\n451 4.3.2 Internal server error\r'* ]] ;;
	esac
}

# tls_seen SNI: the fake's handshake was made, with that SNI ("-": none)
tls_seen() {
	wait_log "$T/fake-$BE.log" "tls ok version=TLSv1\.[23] cipher=[^ ]+ sni=$1 "
}

@test "--proxy-ssl=on in each protocol: the login arrives over TLS, verified by IP, and the relay works both ways" {
	for p in pop3 imap smtp; do
		tls_fake "$p"; mp "$p" --proxy-ssl=on
		login "$p"
		logged_in "$p"
		tls_seen -
		mplog_wait 'outcome="ok"'
		again
	done
}

@test "--proxy-ssl=on after a PROXY header: the header in plaintext first, then TLS" {
	for v in 1 2; do
		tls_fake pop3 ec --proxy
		mp pop3 --proxy-ssl=on --proxy-protocol="$([[ $v == 1 ]] && echo on || echo v2)"
		login pop3
		logged_in pop3
		wait_log "$T/fake-$BE.log" "proxy v$v "
		tls_seen -
		again
	done
}

@test "--proxy-starttls=on in each protocol: STARTTLS/STLS after the greeting, the login in TLS" {
	for p in pop3 imap smtp; do
		fake "$p" --starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
		mp "$p" --proxy-starttls=on
		login "$p"
		logged_in "$p"
		tls_seen -
		case $p in
		pop3) [[ $(transcript) == $'STLS\r\nUSER alice\r\n'* ]] ;;
		imap) [[ $(transcript) == $'mp1 STARTTLS\r\na LOGIN "alice" "secret"\r\n'* ]] ;;
		# EHLO again in TLS, and XCLIENT only after it
		smtp) [[ $(transcript) == $'EHLO mx.test\r\nSTARTTLS\r\nEHLO mx.test\r\nXCLIENT '* ]] ;;
		esac
		again
	done
}

@test "--proxy-starttls=on: plaintext the backend sends after its STARTTLS reply is dropped" {
	fake pop3 --starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY" \
	    --reply 'STLS=+OK Begin TLS negotiation\n+OK injected in plaintext'
	mp pop3 --proxy-starttls=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$output" = $'+OK POP3 ready\r\n+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	tls_seen -
}

@test "--proxy-starttls=on against a backend that offers none: temporary failure, no credentials, the log says so" {
	for p in pop3 imap smtp; do
		fake "$p"; mp "$p" --proxy-starttls=on
		login "$p"
		tempfail "$p"
		no_credentials
		case $p in
		pop3) mplog_wait 'outcome="backend 127.0.0.1:'"$BE"' refused STLS: .*it offers no TLS' ;;
		imap) mplog_wait 'outcome="backend 127.0.0.1:'"$BE"' answered STARTTLS with a refusal: mp1 BAD.*it offers no TLS' ;;
		smtp) mplog_wait 'outcome="backend 127.0.0.1:'"$BE"' does not offer STARTTLS' ;;
		esac
		again
	done
}

# verify_fails PROTO CERT REASON [MP ARGS...]: the backend with CERT gets no
# credentials, the client the temporary failure, the log REASON
verify_fails() {
	local p=$1 crt=$2 why=$3
	shift 3
	tls_fake "$p" "$crt"; mp "$p" --proxy-ssl=on "$@"
	login "$p"
	tempfail "$p"
	no_credentials
	mplog_wait "outcome=\"backend ${BACKEND:-127.0.0.1:$BE}: TLS certificate: $why\""
	wait_log "$T/fake-$BE.log" 'tls handshake failed'
	! grep -q 'tls ok' <(fakelog) || false
	again
}

@test "verification: a wrong name (by host, by --proxy-ssl-name, by IP) gets no credentials" {
	for p in pop3 imap smtp; do
		BACKEND=localhost:$BE verify_fails "$p" WRONG 'hostname mismatch'
		verify_fails "$p" EC 'hostname mismatch' --proxy-ssl-name=other.test
		verify_fails "$p" WRONG 'IP address mismatch'
	done
}

@test "verification: an untrusted CA, and the system store by default, get no credentials" {
	for p in pop3 imap smtp; do
		verify_fails "$p" UNTRUSTED 'unable to get local issuer certificate'
	done
	# without --proxy-ssl-trusted-certificate: the system's store, which
	# does not know the test CA
	tls_fake pop3
	launch_tcpserver "$MPPORT" --protocol=pop3 --backend="127.0.0.1:$BE" --proxy-ssl=on
	login pop3
	tempfail pop3
	no_credentials
	mplog_wait 'TLS certificate: unable to get local issuer certificate'
}

@test "verification: an expired certificate gets no credentials" {
	for p in pop3 imap smtp; do
		verify_fails "$p" EXPIRED 'certificate has expired'
	done
}

@test "an IP backend is verified against the certificate's IP address, and no SNI is sent" {
	tls_fake imap IP; mp imap --proxy-ssl=on
	login imap
	logged_in imap
	tls_seen -
}

@test "--proxy-ssl-name=mx.test: verified by that name and sent as SNI; a DNS backend sends its own" {
	tls_fake imap ec --sni-cert "other.test=$CERTS_OTHER_CRT,$CERTS_OTHER_KEY"
	mp imap --proxy-ssl=on --proxy-ssl-name=mx.test
	login imap
	logged_in imap
	tls_seen mx.test
	again
	# the name picks the backend's certificate too
	tls_fake imap WRONG --sni-cert "other.test=$CERTS_OTHER_CRT,$CERTS_OTHER_KEY"
	mp imap --proxy-ssl=on --proxy-ssl-name=other.test
	login imap
	logged_in imap
	tls_seen other.test
	again
	tls_fake pop3; BACKEND=localhost:$BE mp pop3 --proxy-ssl=on
	login pop3
	logged_in pop3
	tls_seen localhost
}

@test "--proxy-ssl-verify=off connects to a backend of the wrong name" {
	tls_fake pop3 WRONG; mp pop3 --proxy-ssl=on --proxy-ssl-verify=off
	login pop3
	logged_in pop3
	tls_seen -
}

@test "a client certificate for a backend that asks for one; without it the handshake fails and nothing is sent" {
	tls_fake imap ec --client-ca "$CERTS_CLIENT_CA" --require-client-cert
	mp imap --proxy-ssl=on --proxy-ssl-certificate="$CERTS_ALICE_CRT" \
	    --proxy-ssl-certificate-key="$CERTS_ALICE_KEY"
	login imap
	logged_in imap
	wait_log "$T/fake-$BE.log" 'tls ok .* client_cert=alice '
	again
	tls_fake imap ec --client-ca "$CERTS_CLIENT_CA" --require-client-cert
	mp imap --proxy-ssl=on
	login imap
	tempfail imap
	no_credentials
	wait_log "$T/fake-$BE.log" 'tls handshake failed'
	mplog_wait "outcome=\"backend 127.0.0.1:$BE"
}

@test "--proxy-ssl-protocols and --proxy-ssl-ciphers reach the handshake" {
	tls_fake pop3 ec --tls-max TLSv1.2; mp pop3 --proxy-ssl=on --proxy-ssl-protocols=TLSv1.2 \
	    --proxy-ssl-ciphers=ECDHE-ECDSA-AES128-GCM-SHA256
	login pop3
	logged_in pop3
	wait_log "$T/fake-$BE.log" 'tls ok version=TLSv1\.2 cipher=ECDHE-ECDSA-AES128-GCM-SHA256 '
	again
	tls_fake pop3 ec --tls-max TLSv1.2; mp pop3 --proxy-ssl=on --proxy-ssl-protocols=TLSv1.3
	login pop3
	tempfail pop3
	no_credentials
}

# Real servers: Dovecot's and Postfix's TLS ports (mailservers.bash), by
# IP, verified against CERTS_CA (their certificate is CERTS_RSA_*).

@test "dovecot: IMAP and POP3 through --proxy-ssl=on, verified; Dovecot logs a TLS login" {
	mail_servers_require
	BACKEND=127.0.0.1:$DOVECOT_IMAPS_PORT mp imap --proxy-ssl=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb SELECT INBOX\nc LOGOUT'
	[[ $output == *$'a OK '*'Logged in'* && $output == *$'b OK '* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, .*lport=$DOVECOT_IMAPS_PORT, .*TLS"
	again
	BACKEND=127.0.0.1:$DOVECOT_POP3S_PORT mp pop3 --proxy-ssl=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nSTAT\nQUIT'
	[[ $output == *$'+OK Logged in.\r\n+OK '* ]]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, .*lport=$DOVECOT_POP3S_PORT, .*TLS"
}

@test "dovecot: IMAP and POP3 through --proxy-starttls=on; Dovecot logs a TLS login" {
	mail_servers_require
	BACKEND=127.0.0.1:$DOVECOT_IMAP_PORT mp imap --proxy-starttls=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nc LOGOUT'
	[[ $output == *$'a OK '*'Logged in'* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, .*lport=$DOVECOT_IMAP_PORT, .*TLS"
	again
	BACKEND=127.0.0.1:$DOVECOT_POP3_PORT mp pop3 --proxy-starttls=on
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[[ $output == *$'+OK Logged in.'* ]]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, .*lport=$DOVECOT_POP3_PORT, .*TLS"
}

@test "dovecot: a wrong --proxy-ssl-name gets no login at Dovecot" {
	mail_servers_require
	BACKEND=127.0.0.1:$DOVECOT_IMAPS_PORT mp imap --proxy-ssl=on --proxy-ssl-name=wrong.test
	run q imap_chat "$MPPORT" <<<$'a LOGIN bob wrong\nc LOGOUT'
	tempfail imap
	mplog_wait 'TLS certificate: hostname mismatch'
	sleep 0.5
	! grep -q 'user=<bob>' "$DOVECOT_LOG" || false
}

@test "postfix: SMTP through --proxy-starttls=on and --proxy-ssl=on, XCLIENT after TLS" {
	mail_servers_require
	for mode in starttls ssl; do
		if [[ $mode == starttls ]]; then
			BACKEND=127.0.0.1:$POSTFIX_TLS_PORT mp smtp --proxy-starttls=on --smtp-auth=none
		else
			BACKEND=127.0.0.1:$POSTFIX_SMTPS_PORT mp smtp --proxy-ssl=on --smtp-auth=none
		fi
		run q smtp_chat "$MPPORT" <<<$'EHLO client.test\nMAIL FROM:<a@client.test>\nRCPT TO:<alice@example.test>\nQUIT'
		[[ $output == *$'\r\n250 2.1.5 Ok\r'* ]]
		wait_log "$POSTFIX_LOG" 'TLS connection established from .*127\.0\.0\.1'
		again
	done
}

# authd ARGS...: the fake auth service on $AUTHPORT, pointing at the fake
authd() {
	AUTHPORT=$(free_port)
	spawn "auth-$AUTHPORT" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AUTHPORT" \
	    --requests "$T/requests" --backend "127.0.0.1:$BE" \
	    --ready "$T/auth.ready" "$@" && wait_for_file "$T/auth.ready"
}

@test "auth_http switches backend TLS per session: Auth-Proxy-SSL on (with its name), starttls, off" {
	tls_fake imap WRONG --sni-cert "mx.test=$CERTS_EC_CRT,$CERTS_EC_KEY"
	authd --header "Auth-Proxy-SSL: on" --header "Auth-Proxy-SSL-Name: mx.test"
	mp imap --auth-http="http://127.0.0.1:$AUTHPORT/"
	login imap
	logged_in imap
	tls_seen mx.test
	again
	fake imap --starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
	authd --header "Auth-Proxy-SSL: starttls"
	mp imap --auth-http="http://127.0.0.1:$AUTHPORT/"
	login imap
	logged_in imap
	tls_seen -
	again
	# off: this session in plaintext, though the options say TLS
	fake pop3
	authd --header "Auth-Proxy-SSL: off"
	mp pop3 --auth-http="http://127.0.0.1:$AUTHPORT/" --proxy-ssl=on
	login pop3
	logged_in pop3
}

@test "auth_http: an Auth-Proxy-SSL word we do not know fails the login; the backend is never reached" {
	tls_fake imap
	authd --header "Auth-Proxy-SSL: yes"
	mp imap --auth-http="http://127.0.0.1:$AUTHPORT/"
	login imap
	[[ $output == *$'a BAD internal server error\r'* || $output == *'internal server error'* ]] || { echo "$output"; false; }
	no_credentials
	! grep -q 'tls ok' "$T/fake-$BE.log" || false
}
