#!/usr/bin/env bats
# The nginx comparison harness, proved without mailproxy: a private nginx
# 1.22 (tests/lib/nginx.bash) asks the fake auth_http service
# (tests/lib/fake_auth_http.py) and proxies to the fake backends
# (fake_smtp.py, fake_pop3.py, fake_imap.py).  Each test logs in through
# nginx and checks the request the service recorded, byte for byte, and its
# verdict; the fault modes check what nginx tells the client when the auth
# service misbehaves.  These byte strings are what mailproxy must match.

load lib/common
load lib/nginx

setup() {
	common_setup
	printf 'alice:secret\nbob:p a%%s\351x\n' >"$T/users"
	BE_SMTP=$(free_port) BE_POP3=$(free_port) BE_IMAP=$(free_port)
	start_fake_smtp "$BE_SMTP" --multi
	spawn "fake-$BE_POP3" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE_POP3" \
		"$T/fake-$BE_POP3.transcript" --ready "$T/fake-$BE_POP3.ready" --multi
	spawn "fake-$BE_IMAP" "$PYTHON" "$TESTLIB/fake_imap.py" "$BE_IMAP" \
		"$T/fake-$BE_IMAP.transcript" --ready "$T/fake-$BE_IMAP.ready" --multi
	wait_for_file "$T/fake-$BE_POP3.ready"
	wait_for_file "$T/fake-$BE_IMAP.ready"
	unset AUTH_PORT NGINX_DIR
	nginx_start
	nginx_require
	S=$NGINX_SMTP_PORT P=$NGINX_POP3_PORT I=$NGINX_IMAP_PORT
}

teardown() {
	nginx_stop
	common_teardown
}

# auth ARGS...: (re)start the fake auth service with the users file and the
# three backends, plus ARGS.
auth() {
	auth_stop
	auth_start --users "$T/users" --backend-smtp "127.0.0.1:$BE_SMTP" \
		--backend-pop3 "127.0.0.1:$BE_POP3" --backend-imap "127.0.0.1:$BE_IMAP" "$@"
}

# renginx: restart nginx alone (new ports, same AUTH_PORT, a fresh
# $NGINX_DIR) after changing NGINX_* knobs; the auth service keeps running.
renginx() {
	if [[ -n ${NGINX_PID:-} ]]; then stop_pid "$NGINX_PID"; fi
	rm -rf "${NGINX_DIR:?}"
	nginx_start
	nginx_require
	S=$NGINX_SMTP_PORT P=$NGINX_POP3_PORT I=$NGINX_IMAP_PORT
}

q() { "$@" 2>/dev/null; }
# shellcheck disable=SC2059 # b64 FORMAT: printf escapes (\0 \351 %%) wanted
b64() { printf "$1" | base64 -w0; }
transcript() { cat "$T/fake-$1.transcript" 2>/dev/null; }

# req_is N LINE...: request N (0: the last) is exactly the LINEs, each
# ended by CRLF, then the empty line.
req_is() {
	local n=$1 want got
	shift
	want=$(printf '%s\r\n' "$@"; printf '\r\n'; echo x)
	got=$(auth_request "$n"; echo x)
	if [[ $got != "$want" ]]; then
		echo "request $n differs; want:" >&2
		printf '%s' "${want%x}" | cat -A >&2
		echo "got:" >&2
		printf '%s' "${got%x}" | cat -A >&2
		return 1
	fi
}

# verdict N: the auth service's verdict on request N ("OK" or "fail").
verdict() { grep -E "^[0-9.]+ request $1 GET .* -> " "$T/auth.log" | sed 's/.* -> //'; }

# The common request lines.
HEAD=("GET /auth HTTP/1.0" "Host: 127.0.0.1")
SMTP_TAIL=("Auth-Protocol: smtp" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1" "Client-Host: [UNAVAILABLE]")
POP3_TAIL=("Auth-Protocol: pop3" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1")
IMAP_TAIL=("Auth-Protocol: imap" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1")

EHLO=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n'

# ---------------------------------------------------------------- the service alone

# http_get ARGS...: one request to the fake service; ARGS are header lines.
http_get() {
	"$PYTHON" - "$AUTH_PORT" "$@" <<'PY'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
req = b"GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n"
for h in sys.argv[2:]:
    req += os.fsencode(h) + b"\r\n"
s.sendall(req + b"\r\n")
out = b""
while True:
    try:
        d = s.recv(65536)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
PY
}

@test "fake_auth_http alone: plain (%-decoded), apop, cram-md5, none; Auth-Pass always; failure headers" {
	auth --wait 3 --error-code "535 5.7.8" --rename-user carol
	run http_get "Auth-Method: plain" "Auth-User: bob" "Auth-Pass: p%20a%25s"$'\351'x "Auth-Protocol: pop3"
	[ "$output" = $'HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: '"$BE_POP3"$'\r\nAuth-User: carol\r\nAuth-Pass: p a%s\351x\r\n\r' ]
	salt='<123.456@mx.test>'
	run http_get "Auth-Method: apop" "Auth-User: alice" "Auth-Pass: $(md5hex "${salt}secret")" \
		"Auth-Salt: $salt" "Auth-Protocol: pop3"
	[[ $output == *$'Auth-Status: OK\r\n'*$'Auth-Pass: secret\r'* ]]
	run http_get "Auth-Method: cram-md5" "Auth-User: alice" "Auth-Pass: $(hmac_md5 secret "$salt")" \
		"Auth-Salt: $salt" "Auth-Protocol: imap"
	[[ $output == *$'Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: '"$BE_IMAP"$'\r\n'* ]]
	run http_get "Auth-Method: cram-md5" "Auth-User: alice" "Auth-Pass: $(hmac_md5 wrong "$salt")" \
		"Auth-Salt: $salt" "Auth-Protocol: smtp"
	[ "$output" = $'HTTP/1.0 200 OK\r\nAuth-Status: Invalid login or password\r\nAuth-Wait: 3\r\nAuth-Error-Code: 535 5.7.8\r\n\r' ]
	run http_get "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: wrong" "Auth-Protocol: imap"
	[ "$output" = $'HTTP/1.0 200 OK\r\nAuth-Status: Invalid login or password\r\nAuth-Wait: 3\r\n\r' ]
	run http_get "Auth-Method: none" "Auth-User: " "Auth-Pass: " "Auth-Protocol: smtp"
	[[ $output == *$'Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: '"$BE_SMTP"$'\r\n'* ]]
	[ "$(auth_count)" = 6 ]
	auth_request 1 | grep -q $'^Auth-Pass: p%20a%25s\351x\r$'
}

@test "fake_auth_http alone: the fault modes" {
	for m in garbage close nostatus bigheaders wait-status badserver; do
		auth --mode "$m"
		run http_get "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "Auth-Protocol: smtp"
		case $m in
		garbage) [[ $output != HTTP* && ${#output} -gt 0 ]] ;;
		close) [ -z "$output" ] ;;
		nostatus) [[ $output == *Auth-Server:* && $output != *Auth-Status* ]] ;;
		bigheaders)
			((${#output} > 10000))
			[[ $output == *$'Auth-Status: OK\r'* ]] ;;
		wait-status)
			[ "$output" = $'HTTP/1.0 200 OK\r\nAuth-Status: WAIT\r\nAuth-Wait: 1\r\n\r' ]
			run http_get "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "Auth-Protocol: smtp"
			[[ $output == *$'Auth-Status: OK\r'* ]] ;;
		badserver) [[ $output == *$'Auth-Server: mail.example.test\r'* ]] ;;
		esac
	done
}

# ---------------------------------------------------------------- SMTP

@test "nginx SMTP AUTH PLAIN: the request, the verdict, XCLIENT to the backend" {
	auth
	run q smtp_chat "$S" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
	[ "$(transcript "$BE_SMTP")" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]\r\nEHLO client.test\r\nQUIT\r' ]
}

@test "nginx SMTP AUTH LOGIN is sent as Auth-Method: plain, without Auth-Salt" {
	auth
	run q smtp_chat "$S" <<<"EHLO client.test
AUTH LOGIN
$(b64 alice)
$(b64 secret)
QUIT"
	[ "$output" = "$EHLO"$'334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
}

@test "nginx SMTP AUTH CRAM-MD5: 334 base64(<salt>), Auth-Salt without CRLF inside" {
	auth
	run q sasl_chat smtp "$S" <<<"EHLO client.test
AUTH CRAM-MD5
@cram alice secret
QUIT"
	salt=$(last_salt)
	[[ $salt =~ ^\<[0-9]+\.[0-9]+@mx\.test\>$ ]]
	[ "$output" = "$EHLO""334 $(printf '%s' "$salt" | base64 -w0)"$'\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: cram-md5" "Auth-User: alice" \
		"Auth-Pass: $(hmac_md5 secret "$salt")" "Auth-Salt: $salt" "${SMTP_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
}

@test "nginx SMTP: Auth-User/Auth-Pass escape space, % and controls, not DEL or 8-bit" {
	auth
	run q smtp_chat "$S" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0bob\0p a%%s\351x')
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: bob" $'Auth-Pass: p%20a%25s\351x' "${SMTP_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
	auth_stop
	auth_start --backend "127.0.0.1:$BE_SMTP"    # no --users: accepts anyone
	run q smtp_chat "$S" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0u s%%er\0a\tb\001c\177d\377e"f\\g')
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is 0 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: u%20s%25er" \
		$'Auth-Pass: a%09b%01c\177d\377e"f\\g' "${SMTP_TAIL[@]}"
}

@test "nginx SMTP smtp_auth none: asks at the first RCPT TO, with Auth-SMTP-Helo/-From/-To" {
	NGINX_SMTP_AUTH=none renginx
	auth
	run q smtp_chat "$S" <<<"EHLO client.test
MAIL FROM:<a@x.test> SIZE=100
RCPT TO:<b@y.test> NOTIFY=NEVER
RCPT TO:<c@y.test>
QUIT"
	[ "$output" = $'220 mx.test ESMTP ready\r\n250 mx.test\r\n250 2.0.0 OK\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n221 2.0.0 Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: none" "Auth-User: " "Auth-Pass: " "${SMTP_TAIL[@]}" \
		"Auth-SMTP-Helo: client.test" "Auth-SMTP-From: MAIL FROM:<a@x.test> SIZE=100" \
		"Auth-SMTP-To: RCPT TO:<b@y.test> NOTIFY=NEVER"
	[ "$(auth_count)" = 1 ]
	[ "$(verdict 1)" = OK ]
	[ "$(transcript "$BE_SMTP")" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nEHLO client.test\r\nMAIL FROM:<a@x.test> SIZE=100\r\nRCPT TO:<b@y.test> NOTIFY=NEVER\r\nRCPT TO:<c@y.test>\r\nQUIT\r' ]
}

@test "nginx SMTP failure: 535 5.7.0 and close; Auth-Error-Code and Auth-Wait; Auth-Login-Attempt counts" {
	auth
	run q smtp_chat "$S" <<<"EHLO c
AUTH PLAIN $(b64 '\0alice\0wrong')
QUIT"
	# closed right after the reply: no answer to QUIT
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n535 5.7.0 Invalid login or password\r' ]
	[ "$(verdict 1)" = fail ]
	auth --wait 1 --error-code "535 5.7.8"
	start=$SECONDS
	run q smtp_chat "$S" <<<"EHLO c
AUTH PLAIN $(b64 '\0alice\0wrong')
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	[ "$status" -eq 0 ]
	((SECONDS - start >= 1))
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n535 5.7.8 Invalid login or password\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: wrong" "${SMTP_TAIL[@]}"
	req_is 3 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" \
		"Auth-Protocol: smtp" "Auth-Login-Attempt: 2" "Client-IP: 127.0.0.1" "Client-Host: [UNAVAILABLE]"
	[ "$(verdict 3)" = OK ]
}

@test "nginx SMTP with a resolver: Client-Host is the checked name, or [TEMPUNAVAIL]" {
	DNS=$(free_port)
	NGINX_MAIL_EXTRA="resolver 127.0.0.1:$DNS ipv6=off; resolver_timeout 1s;" renginx
	auth
	# nothing answers on $DNS: the greeting waits resolver_timeout
	run q smtp_chat "$S" <<<"QUIT"
	[ "$output" = $'220 mx.test ESMTP ready\r\n221 2.0.0 Bye\r' ]
	run q smtp_chat "$S" <<<"EHLO c
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	[[ $output == *$'235 2.0.0 OK\r'* ]]
	auth_header Client-Host | grep -qx '\[TEMPUNAVAIL\]'
	spawn dns "$PYTHON" "$TESTLIB/fake_dns.py" "$DNS" "$T/dns.queries" --ready "$T/dns.ready" \
		PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	wait_for_file "$T/dns.ready"
	run q smtp_chat "$S" <<<"EHLO c
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	[[ $output == *$'235 2.0.0 OK\r'* ]]
	req_is 0 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" \
		"Auth-Protocol: smtp" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1" "Client-Host: client.example.test"
	grep -q 'XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=client.example.test' "$T/fake-$BE_SMTP.transcript"
}

# ---------------------------------------------------------------- POP3

@test "nginx POP3 USER/PASS: the request (no Client-Host), PASS to the backend verbatim" {
	auth
	run q pop3_chat "$P" <<<$'USER bob\nPASS p a%s\351x\nQUIT'
	[[ $output =~ ^\+OK\ POP3\ ready\ \<[0-9]+\.[0-9]+@mx\.test\>$'\r\n+OK\r\n+OK Logged in.\r\n+OK Bye\r'$ ]]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: bob" $'Auth-Pass: p%20a%25s\351x' "${POP3_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
	[ "$(transcript "$BE_POP3")" = $'USER bob\r\nPASS p a%s\351x\r\nQUIT\r' ]
}

@test "nginx POP3 APOP: Auth-Salt is the greeting's <...>; the service returns the password" {
	auth
	run q sasl_chat pop3 "$P" <<<$'@apop alice secret\nQUIT'
	salt=$(last_salt)
	[ "$output" = "+OK POP3 ready $salt"$'\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: apop" "Auth-User: alice" "Auth-Pass: $(md5hex "${salt}secret")" \
		"Auth-Salt: $salt" "${POP3_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
	[ "$(transcript "$BE_POP3")" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
}

@test "nginx POP3 AUTH PLAIN" {
	auth
	run q pop3_chat "$P" <<<"AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	[[ $output == *$'\r\n+OK Logged in.\r\n+OK Bye\r' ]]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${POP3_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
}

@test "nginx POP3 AUTH CRAM-MD5: the challenge is the greeting's salt" {
	auth
	run q sasl_chat pop3 "$P" <<<$'AUTH CRAM-MD5\n@cram alice secret\nQUIT'
	salt=$(last_salt)
	[ "$output" = "+OK POP3 ready $salt"$'\r\n'"+ $(printf '%s' "$salt" | base64 -w0)"$'\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: cram-md5" "Auth-User: alice" \
		"Auth-Pass: $(hmac_md5 secret "$salt")" "Auth-Salt: $salt" "${POP3_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
}

@test "nginx POP3 failure: -ERR <status>, close without Auth-Wait; with it a retry counts" {
	auth
	run q pop3_chat "$P" <<<$'USER alice\nPASS wrong\nQUIT'
	[[ $output == *$'\r\n+OK\r\n-ERR Invalid login or password\r' ]]
	auth --wait 1 --error-code "535 5.7.8"      # not used for POP3
	run q pop3_chat "$P" <<<$'USER alice\nPASS wrong\nUSER alice\nPASS secret\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *$'\r\n+OK\r\n-ERR Invalid login or password\r\n+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]]
	req_is 0 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "Auth-Protocol: pop3" "Auth-Login-Attempt: 2" "Client-IP: 127.0.0.1"
}

# ---------------------------------------------------------------- IMAP

@test "nginx IMAP LOGIN: the request; the backend gets literals" {
	auth
	run q imap_chat "$I" <<<$'a LOGIN bob "p a%s\351x"\nb LOGOUT'
	[ "$output" = $'* OK IMAP4 ready\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: bob" $'Auth-Pass: p%20a%25s\351x' "${IMAP_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
	[ "$(transcript "$BE_IMAP")" = $'a LOGIN {3}\r\nbob {7}\r\np a%s\351x\r\nb LOGOUT\r' ]
}

@test "nginx IMAP AUTHENTICATE PLAIN, with and without an initial response" {
	auth
	run q imap_chat "$I" <<<"a AUTHENTICATE PLAIN $(b64 '\0alice\0secret')
b LOGOUT"
	[[ $output == $'* OK IMAP4 ready\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	req_is 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${IMAP_TAIL[@]}"
	run q sasl_chat imap "$I" <<<"a AUTHENTICATE PLAIN
$(b64 '\0alice\0secret')
b LOGOUT"
	[[ $output == $'* OK IMAP4 ready\r\n+ \r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	req_is 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${IMAP_TAIL[@]}"
	[ "$(verdict 1)" = OK ] && [ "$(verdict 2)" = OK ]
}

@test "nginx IMAP AUTHENTICATE CRAM-MD5" {
	auth
	run q sasl_chat imap "$I" <<<$'a AUTHENTICATE CRAM-MD5\n@cram alice secret\nb LOGOUT'
	salt=$(last_salt)
	[[ $salt =~ ^\<[0-9]+\.[0-9]+@mx\.test\>$ ]]
	[[ $output == $'* OK IMAP4 ready\r\n'"+ $(printf '%s' "$salt" | base64 -w0)"$'\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	req_is 1 "${HEAD[@]}" "Auth-Method: cram-md5" "Auth-User: alice" \
		"Auth-Pass: $(hmac_md5 secret "$salt")" "Auth-Salt: $salt" "${IMAP_TAIL[@]}"
	[ "$(verdict 1)" = OK ]
	[ "$(transcript "$BE_IMAP")" = $'a LOGIN {5}\r\nalice {6}\r\nsecret\r\nb LOGOUT\r' ]
}

@test "nginx IMAP failure: <tag> NO <status>; with Auth-Wait the reply waits and the session goes on" {
	auth
	run q imap_chat "$I" <<<$'a LOGIN alice wrong\nb LOGOUT'
	[ "$output" = $'* OK IMAP4 ready\r\na NO Invalid login or password\r' ]
	auth --wait 1 --rename-user bob
	start=$SECONDS
	run q imap_chat "$I" <<<$'a LOGIN alice wrong\nb LOGIN alice secret\nc LOGOUT'
	((SECONDS - start >= 1))
	[ "$output" = $'* OK IMAP4 ready\r\na NO Invalid login or password\r\nb OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nc OK LOGOUT completed\r' ]
	req_is 0 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "Auth-Protocol: imap" "Auth-Login-Attempt: 2" "Client-IP: 127.0.0.1"
	# Auth-User: bob in the answer: nginx logs in to the backend as bob
	[ "$(transcript "$BE_IMAP")" = $'b LOGIN {3}\r\nbob {6}\r\nsecret\r\nc LOGOUT\r' ]
}

# ---------------------------------------------------------------- auth service faults

# fault_replies: one login per protocol; sets SM, PO, IM to what each got.
fault_replies() {
	SM=$(q smtp_chat "$S" --timeout 5 <<<"EHLO c
AUTH PLAIN $(b64 '\0alice\0secret')
NOOP") || :
	PO=$(q pop3_chat "$P" --timeout 5 <<<$'USER alice\nPASS secret\nNOOP') || :
	IM=$(q imap_chat "$I" --timeout 5 <<<$'a LOGIN alice secret\nb NOOP') || :
}
FAULT_SMTP=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n451 4.3.2 Internal server error\r'
FAULT_IMAP=$'* OK IMAP4 ready\r\n* BAD internal server error\r'

@test "auth service faults: timeout, garbage, close, badserver, bigheaders -> internal error and close" {
	NGINX_AUTH_TIMEOUT=1s renginx
	for m in slow garbage close badserver bigheaders; do
		auth --mode "$m" --slow-secs 5
		fault_replies
		echo "mode $m: $SM | $PO | $IM" | cat -A
		[ "$SM" = "$FAULT_SMTP" ]
		[[ $PO == *$'\r\n+OK\r\n-ERR internal server error\r' ]]
		[ "$IM" = "$FAULT_IMAP" ]
	done
	[ "$(auth_count)" = 15 ]
	grep -q 'auth http server 127.0.0.1:[0-9]* timed out' "$NGINX_ERROR_LOG"
	grep -q 'sent invalid header in response' "$NGINX_ERROR_LOG"
	grep -q 'sent invalid server address:"mail.example.test"' "$NGINX_ERROR_LOG"
}

@test "auth service quirks: no Auth-Status counts as OK; Auth-Status: WAIT asks again after Auth-Wait" {
	auth --mode nostatus
	fault_replies
	[[ $SM == *$'\r\n235 2.0.0 OK\r\n250 2.0.0 Ok\r' ]]
	[[ $PO == *$'\r\n+OK Logged in.\r\n+OK\r' ]]
	[[ $IM == *$'\r\nb OK NOOP completed\r' ]]
	auth --mode wait-status
	start=$SECONDS
	run q smtp_chat "$S" <<<"EHLO c
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	((SECONDS - start >= 1))
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	# the same request twice: Auth-Login-Attempt does not move
	[ "$(auth_count)" = 5 ]
	req_is 4 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	req_is 5 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
}
