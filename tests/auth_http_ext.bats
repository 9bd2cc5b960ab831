#!/usr/bin/env bats
# auth_http beyond nginx, through the real binary under tcpserver: what the
# auth service (tests/lib/fake_auth_http.py) may answer that nginx does not
# know (a host name in Auth-Server, the per-session Auth-Proxy-Protocol,
# Auth-XCLIENT, Auth-Proxy-SMTP-Auth, Angie's Auth-Error-SASL) and where
# the service may sit (unix:/path, https://).  Each test starts its own
# service, backends and mailproxy; the fake SMTP backend's event log shows
# the PROXY header it got, its transcript the rest.

load lib/common
load lib/nginx
load lib/certs

setup() {
	common_setup
	printf 'alice:secret\n' >"$T/users"
	BE=$(free_port)
	AUTH_PORT=$(free_port)
	export AUTH_REQUESTS=$T/auth.requests
}

# the sanitizer build reports on stderr, which is the launcher's log
teardown() {
	auth_stop
	san_teardown "$T"/tcpserver-*.log
}

# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==
EHLO=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n'
TEMP_SMTP=$'451 4.3.2 Internal server error\r'

# svc ARGS...: (re)start the auth service on $AUTH_PORT for alice, naming
# the fake SMTP backend $BE, with ARGS
svc() {
	auth_stop
	auth_start --users "$T/users" --backend "127.0.0.1:$BE" "$@"
}

# be ARGS...: the fake SMTP backend on $BE (--multi), with ARGS
be() {
	rm -f "$T/fake-$BE.ready"
	start_fake_smtp "$BE" --multi --log "$T/be.log" "$@"
}

# mp ARGS...: mailproxy for SMTP under tcpserver on $MPPORT, asking the
# service at $URL (default http://127.0.0.1:$AUTH_PORT/auth)
mp() {
	MPPORT=$(free_port)
	launch_tcpserver "$MPPORT" --protocol=smtp --server-name=mx.test \
		--auth-http="${URL:-http://127.0.0.1:$AUTH_PORT/auth}" "$@" || return 1
	MP_PID=$SPAWNED_PID
}

# mp_stop: stop that mailproxy's tcpserver (the fakes go on)
mp_stop() { stop_pid "$MP_PID"; }

# login: AUTH PLAIN as alice through $MPPORT; $output holds the replies
q() { "$@" 2>/dev/null; }
login() {
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
}

# mplog: mailproxy's log (the launcher's); outcome: its last outcome
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
outcome() {
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome=' >/dev/null &&
		grep -oE 'outcome="([^"\\]|\\.)*"' "$T/tcpserver-$MPPORT.log" | tail -n 1
}
untouched() { ! grep -q connect "$T/be.log" 2>/dev/null; }

@test "Auth-Server: localhost, a host name: resolved as --backend's, the login goes on, the log names it" {
	be
	svc --server localhost
	mp
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	wait_log "$T/tcpserver-$MPPORT.log" "backend=localhost:$BE "
	grep -q connect "$T/be.log"
	[[ $(cat "$T/fake-$BE.transcript") == *$'XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]\r\n'* ]]
}

@test "Auth-Proxy-Protocol: v1 and v2 send that PROXY header to the backend, whatever --proxy-protocol says" {
	be --proxy
	for v in v1 v2; do
		svc --header "Auth-Proxy-Protocol: $v"
		mp
		login
		[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
		mp_stop
	done
	# the PROXY header each time, then the dialogue
	grep -q "proxy v1 b'PROXY TCP4 127.0.0.1 127.0.0.1 [0-9]* [0-9]*" "$T/be.log"
	grep -q 'proxy v2 0d0a0d0a000d0a515549540a21' "$T/be.log"
	! grep -q 'proxy missing' "$T/be.log" || false
}

@test "Auth-Proxy-Protocol: off sends none where --proxy-protocol=v2 would; without it the option holds" {
	be
	svc --header "Auth-Proxy-Protocol: off"
	mp --proxy-protocol=v2
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	# the backend's first bytes are mailproxy's EHLO: no PROXY header
	[[ $(cat "$T/fake-$BE.transcript") == $'EHLO mx.test\r\n'* ]]
	# the control: the same without the header, and v2 is sent
	stop_launchers
	be --proxy
	svc
	mp --proxy-protocol=v2
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	grep -q 'proxy v2 0d0a0d0a000d0a515549540a21' "$T/be.log"
}

# be_saw HEADER ARGS...: $saw, the transcript of the backend after a login
# whose OK carried HEADER, mailproxy run with ARGS
be_saw() {
	local h=$1
	shift
	: >"$T/fake-$BE.transcript"
	svc --header "$h"
	mp "$@"
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ] || { echo "$output"; return 1; }
	mp_stop
	saw=$(cat "$T/fake-$BE.transcript")
}

@test "Auth-XCLIENT and Auth-Proxy-SMTP-Auth change what the backend gets, whatever the options say" {
	be
	# XCLIENT off where --xclient=on would send it, on where off would not
	be_saw "Auth-XCLIENT: off" --xclient=on
	[ "$saw" = $'EHLO mx.test\r\nQUIT\r' ]
	be_saw "Auth-XCLIENT: on" --xclient=off
	[[ $saw == *$'XCLIENT '*'LOGIN=alice'* ]]
	# the backend login: LOGIN, PLAIN, or none, in place of the option's
	be_saw "Auth-Proxy-SMTP-Auth: login" --xclient=off --proxy-smtp-auth=off
	[[ $saw == *$'AUTH LOGIN\r\n'"$(printf alice | base64)"$'\r\n'"$(printf secret | base64)"$'\r\n'* ]]
	be_saw "Auth-Proxy-SMTP-Auth: plain" --xclient=off --proxy-smtp-auth=off
	[[ $saw == *$'AUTH PLAIN '"$PLAIN"$'\r\n'* ]]
	be_saw "Auth-Proxy-SMTP-Auth: off" --xclient=off --proxy-smtp-auth=on
	[[ $saw != *AUTH* ]]
	# the control: the option alone
	be_saw "X-Nothing: 1" --xclient=off --proxy-smtp-auth=on
	[[ $saw == *$'AUTH PLAIN '"$PLAIN"$'\r\n'* ]]
}

@test "Auth-XCLIENT and Auth-Proxy-SMTP-Auth in their words: taken, the login goes on" {
	be
	for h in "Auth-XCLIENT: on" "Auth-XCLIENT: off" "Auth-Proxy-SMTP-Auth: login" \
		"Auth-Proxy-SMTP-Auth: plain" "Auth-Proxy-SMTP-Auth: off" "Auth-Proxy-Protocol: OFF"; do
		svc --header "$h"
		mp
		login
		echo "$h: $output"
		[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
		mp_stop
	done
}

@test "Auth-Error-SASL with Auth-Status: OK (a service that says yes and no): the internal error, no backend, as Angie" {
	be
	svc --header "Auth-Error-SASL: eyJzdGF0dXMiOiI0MDEifQ=="
	mp
	login
	[ "$output" = "$EHLO$TEMP_SMTP" ]
	[ "$(outcome)" = 'outcome="auth service returned a SASL error (Auth-Error-SASL) with Auth-Status: OK"' ]
	untouched
}

@test "a word we do not know, or Auth-Error-SASL that is no base64: the internal error, no backend, even with a refusal" {
	be
	for h in "Auth-Proxy-Protocol: v3" "Auth-Proxy-Protocol: on" "Auth-XCLIENT: yes" \
		"Auth-Proxy-SMTP-Auth: cram-md5" "Auth-Error-SASL: not*base64" "Auth-Error-SASL: YWJ"; do
		for mode in ok fail; do
			svc --mode "$mode" --header "$h"
			mp
			login
			echo "$h ($mode): $output"
			[ "$output" = "$EHLO$TEMP_SMTP" ]
			[ "$(outcome)" = "outcome=\"auth service 127.0.0.1:$AUTH_PORT sent a malformed response: a bad value of ${h%%:*}\"" ]
			mp_stop
		done
	done
	untouched
	# a refusal with a good one is the refusal, as without it
	svc --mode fail --header "Auth-Error-SASL: eyJzdGF0dXMiOiI0MDEifQ=="
	mp
	login
	[ "$output" = "$EHLO"$'535 5.7.0 Invalid login or password\r' ]
}

@test "unix:/path:/uri: the service on a unix socket, Host: localhost, the URI after the path; http://unix:/path too" {
	be
	svc --unix "$T/auth.sock"
	URL="unix:$T/auth.sock:/mail/auth" mp
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(auth_request 1 | head -n 2)" = $'GET /mail/auth HTTP/1.0\r\nHost: localhost\r' ]
	auth_request 1 | grep -aq $'^Client-IP: 127.0.0.1\r$'
	mp_stop
	URL="http://unix:$T/auth.sock" mp
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(auth_request 2 | head -n 2)" = $'GET / HTTP/1.0\r\nHost: localhost\r' ]
}

@test "unix:/path with nothing listening there: the internal error, the log names the path" {
	be
	URL="unix:$T/none.sock:/auth" mp
	login
	[ "$output" = "$EHLO$TEMP_SMTP" ]
	[ "$(outcome)" = "outcome=\"auth service unix:$T/none.sock: No such file or directory\"" ]
	untouched
}

@test "https://: verified as the backend is (--proxy-ssl-trusted-certificate), SNI for a name, none for an address" {
	certs_make
	be
	svc --tls-cert "$CERTS_RSA_CRT" --tls-key "$CERTS_RSA_KEY"
	URL="https://localhost:$AUTH_PORT/auth" mp --proxy-ssl-trusted-certificate="$CERTS_CA"
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	grep -q 'tls sni=localhost$' "$T/auth.log"
	[ "$(auth_request 1 | head -n 2)" = $'GET /auth HTTP/1.0\r\nHost: localhost\r' ]
	mp_stop
	URL="https://127.0.0.1:$AUTH_PORT/auth" mp --proxy-ssl-trusted-certificate="$CERTS_CA"
	login
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	grep -q 'tls sni=-$' "$T/auth.log"
	[ "$(auth_count)" = 2 ]
}

@test "https:// with a certificate that does not verify: the internal error, nothing sent, the log says why" {
	certs_make
	be
	# crt:trust:why
	for c in "$CERTS_WRONG_CRT:$CERTS_CA:hostname mismatch" \
		"$CERTS_UNTRUSTED_CRT:$CERTS_CA:unable to get local issuer certificate" \
		"$CERTS_EXPIRED_CRT:$CERTS_CA:certificate has expired" \
		"$CERTS_RSA_CRT::unable to get local issuer certificate"; do
		IFS=: read -r crt ca why <<<"$c"
		trust=()
		[[ -z $ca ]] || trust=(--proxy-ssl-trusted-certificate="$ca")
		svc --tls-cert "$crt" --tls-key "${crt%.crt}.key"
		URL="https://localhost:$AUTH_PORT/auth" mp "${trust[@]}"
		login
		echo "$crt: $output"
		[ "$output" = "$EHLO$TEMP_SMTP" ]
		[ "$(outcome)" = "outcome=\"auth service localhost:$AUTH_PORT: TLS certificate: $why\"" ]
		mp_stop
	done
	[ "$(auth_count)" = 0 ]
	untouched
}

@test "https:// to a service that speaks plaintext: the internal error within --auth-http-timeout" {
	be
	svc
	URL="https://127.0.0.1:$AUTH_PORT/auth" mp --auth-http-timeout=2s
	SECONDS=0
	login
	[ "$output" = "$EHLO$TEMP_SMTP" ]
	((SECONDS < 5 + SLOW))
	[[ $(outcome) == "outcome=\"auth service 127.0.0.1:$AUTH_PORT: TLS handshake"* ]]
	untouched
}

# pipeline_login URL LOG: an IMAP login through a pipeline launch (stdin,
# stdout) under LD_DEBUG=files, asking URL; the loader's report in LOG
pipeline_login() {
	printf 'a LOGIN alice secret\r\nb LOGOUT\r\n' |
		env LD_DEBUG=files "$MP" --protocol=imap --server-name=mx.test --auth-http="$1" \
		--proxy-ssl-trusted-certificate="$CERTS_CA" >"$T/pipe.out" 2>"$2"
	grep -q '^a OK' "$T/pipe.out"
}

@test "libssl is loaded for an https:// service only: a plaintext one maps none" {
	certs_make
	IMAP=$(free_port)
	spawn fake-imap "$PYTHON" "$TESTLIB/fake_imap.py" "$IMAP" "$T/imap.transcript" \
		--ready "$T/imap.ready" --multi && wait_for_file "$T/imap.ready"
	auth_start --users "$T/users" --backend "127.0.0.1:$IMAP"
	pipeline_login "http://127.0.0.1:$AUTH_PORT/auth" "$T/ld-plain.log"
	grep -q 'file=libc\.so\.6 \[0\]; *needed by' "$T/ld-plain.log"
	! grep -E 'libssl|libcrypto' "$T/ld-plain.log" || false
	auth_stop
	auth_start --users "$T/users" --backend "127.0.0.1:$IMAP" \
		--tls-cert "$CERTS_RSA_CRT" --tls-key "$CERTS_RSA_KEY"
	pipeline_login "https://localhost:$AUTH_PORT/auth" "$T/ld-tls.log"
	grep -q 'file=libssl\.so\.3 \[0\]; *dynamically loaded by' "$T/ld-tls.log"
}

@test "a PROXY header from the front: nginx's Proxy-Protocol-* after Client-Host, trusted or not; ours the true ends only when trusted" {
	be
	svc
	mp --listen-proxy-protocol=on --set-real-ip-from=127.0.0.1/32
	run q smtp_chat "$MPPORT" <<<"@first PROXY TCP4 198.51.100.7 203.0.113.9 5555 25\\r\\n
EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	auth_request 1 | tr -d '\r' | sed -n '/^Client-IP/,$p' >"$T/tail"
	[ "$(cat "$T/tail")" = "Client-IP: 198.51.100.7
Client-Host: [UNAVAILABLE]
Proxy-Protocol-Addr: 198.51.100.7
Proxy-Protocol-Port: 5555
Proxy-Protocol-Server-Addr: 203.0.113.9
Proxy-Protocol-Server-Port: 25
Client-Port: 5555
Server-Addr: 203.0.113.9
Server-Port: 25" ]
	# not trusted: nginx's four all the same, Client-IP and ours the socket's
	mp_stop
	mp --listen-proxy-protocol=on --set-real-ip-from=192.0.2.0/24
	run q smtp_chat "$MPPORT" <<<"@first PROXY TCP4 198.51.100.7 203.0.113.9 5555 25\\r\\n
EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	auth_request 2 | tr -d '\r' | sed -n '/^Client-IP/,$p' >"$T/tail"
	[[ $(cat "$T/tail") =~ ^"Client-IP: 127.0.0.1
Client-Host: [UNAVAILABLE]
Proxy-Protocol-Addr: 198.51.100.7
Proxy-Protocol-Port: 5555
Proxy-Protocol-Server-Addr: 203.0.113.9
Proxy-Protocol-Server-Port: 25
Client-Port: "[0-9]+"
Server-Addr: 127.0.0.1
Server-Port: $MPPORT"$ ]]
}
