#!/usr/bin/env bats
# mailproxy against nginx 1.22's mail proxy (tests/lib/nginx.bash), side
# by side: the same fake auth_http service (tests/lib/fake_auth_http.py,
# one per test, asked by both) and the same fake backends
# (tests/lib/fake_{smtp,pop3,imap}.py) behind both, configured alike
# (server_name mx.test, the same auth methods, proxy_pass_error_message
# on, xclient on, auth_http_timeout 5s).  Each test plays the same client
# script against nginx, then against mailproxy, and compares what the
# client got, what the auth service was asked and what the backend got.
#
# Where mailproxy differs on purpose, the test says so at the spot and
# checks each side's own bytes instead:
#  - the APOP/CRAM-MD5 salt (<pid.time@mx.test> in nginx, <random.time@
#    mx.test> in mailproxy) differs by nature, and so do the digests made
#    from it: both are normalised to <SALT> and <DIGEST>;
#  - IMAP LOGIN at the backend: nginx sends the user and the password as
#    synchronising literals (one round trip each), mailproxy as quoted
#    strings when they allow it;
#  - a service answer without Auth-Status: nginx takes it as OK, mailproxy
#    fails closed (a temporary failure);
#  - a service answer without an HTTP status line: nginx reads its headers
#    all the same, mailproxy fails closed;
#  - SMTP AUTH CRAM-MD5 accepted without Auth-Pass: nginx goes on (XCLIENT
#    needs no password), mailproxy fails: it holds only the digest, which
#    no backend login could use (and POP3/IMAP fail in nginx too).
#
# mailproxy's request carries, after all of nginx's headers, headers of its
# own (Client-Port, Server-Addr, Server-Port, Auth-SSL-Server-Name): the
# requests compared are mailproxy's without them, which must all come last
# (requests fails otherwise), so nginx's part is byte-identical; the whole
# request is kept in $T/mp.req.full.

load lib/common
load lib/nginx

setup_file() {
	local p
	T=$BATS_FILE_TMPDIR
	export F=$BATS_FILE_TMPDIR
	# cr's password holds a CR: the service can not send it back as
	# Auth-Pass, so it leaves it out
	printf 'alice:secret\nbob:p a%%s\351x\ncr:x\ry\n' >"$F/users"
	BE_SMTP=$(free_port) BE_POP3=$(free_port) BE_IMAP=$(free_port)
	export BE_SMTP BE_POP3 BE_IMAP
	start_fake_smtp "$BE_SMTP" --multi
	for p in pop3:$BE_POP3 imap:$BE_IMAP; do
		spawn "fake-${p#*:}" "$PYTHON" "$TESTLIB/fake_${p%%:*}.py" "${p#*:}" \
			"$F/fake-${p#*:}.transcript" --ready "$F/fake-${p#*:}.ready" --multi
	done
	wait_for_file "$F/fake-$BE_POP3.ready" && wait_for_file "$F/fake-$BE_IMAP.ready" || return 1

	# nginx: the three servers of nginx.bash, and one more for smtp_auth none
	AUTH_PORT=$(free_port) NGINX_NONE_PORT=$(free_port)
	export AUTH_PORT NGINX_NONE_PORT NGINX_DIR=$F/nginx
	NGINX_MAIL_EXTRA="server { listen 127.0.0.1:$NGINX_NONE_PORT; protocol smtp; smtp_auth none; xclient on; }" \
		nginx_start || return 1
	if [[ -z ${NGINX_SKIP:-} ]]; then
		wait_port "$NGINX_NONE_PORT" || return 1
	fi
	export NGINX_SKIP NGINX_PID

	# mailproxy, configured as nginx.bash configures nginx
	local common=(--auth-http="http://127.0.0.1:$AUTH_PORT/auth" --auth-http-timeout=5s
		--server-name=mx.test --proxy-pass-error-message=on --xclient=on)
	MP_SMTP=$(free_port) MP_NONE=$(free_port) MP_POP3=$(free_port) MP_IMAP=$(free_port)
	export MP_SMTP MP_NONE MP_POP3 MP_IMAP
	launch_tcpserver "$MP_SMTP" --protocol=smtp "${common[@]}" --smtp-auth='login plain cram-md5' &&
		launch_tcpserver "$MP_NONE" --protocol=smtp "${common[@]}" --smtp-auth=none &&
		launch_tcpserver "$MP_POP3" --protocol=pop3 "${common[@]}" --pop3-auth='plain apop cram-md5' &&
		launch_tcpserver "$MP_IMAP" --protocol=imap "${common[@]}" --imap-auth='login plain cram-md5'
}

teardown_file() {
	nginx_stop
	T=$BATS_FILE_TMPDIR stop_launchers
}

setup() {
	common_setup
	nginx_require
	export AUTH_REQUESTS=$T/auth.requests
	local f
	for f in "$F"/fake-*.transcript "$F"/fake-*.log; do
		: >"$f"
	done
}

# the sanitizer build reports on stderr, which is the launcher's log
teardown() {
	auth_stop
	san_teardown "$F"/tcpserver-*.log
}

# auth ARGS...: the fake auth service for this test (both sides ask it):
# the users, the three backends, and ARGS
auth() {
	auth_start --users "$F/users" --backend-smtp "127.0.0.1:$BE_SMTP" \
		--backend-pop3 "127.0.0.1:$BE_POP3" --backend-imap "127.0.0.1:$BE_IMAP" "$@"
}

# shellcheck disable=SC2059 # b64 FORMAT: printf escapes (\0 \351 %%) wanted
b64() { printf "$1" | base64 -w0; }


# requests FROM [ours]: the auth requests FROM (1-based) on, each followed
# by a line "=====", with what differs by nature normalised: the salt, the
# digests made from it (Auth-Pass after apop/cram-md5); with "ours",
# mailproxy's own headers are cut from the end of each (and one anywhere
# else fails)
requests() {
	"$PYTHON" - "$AUTH_REQUESTS" "$1" "${2:-}" <<'PY'
import re, sys
reqs = [r for r in open(sys.argv[1], "rb").read().split(b"=====\n") if r]
ours = re.compile(rb"^(Client-Port|Server-Addr|Server-Port|Auth-SSL-Server-Name): ")
def cut(r):
    head, sep, rest = r.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    while len(lines) > 1 and ours.match(lines[-1]):
        lines.pop()
    if any(ours.match(l) for l in lines):
        sys.exit("requests: a header of mailproxy's before nginx's end")
    return b"\r\n".join(lines) + sep + rest
for r in reqs[int(sys.argv[2]) - 1:]:
    if sys.argv[3] == "ours":
        r = cut(r)
    if re.search(rb"^Auth-Method: (apop|cram-md5)\r$", r, re.M):
        r = re.sub(rb"^Auth-Pass: [0-9a-f]{32}\r$", b"Auth-Pass: <DIGEST>\r", r, flags=re.M)
    r = re.sub(rb"<[0-9]+\.[0-9]+@mx\.test>", b"<SALT>", r)
    sys.stdout.buffer.write(r + b"=====\n")
PY
}

# side NAME PROTO PORT [sasl]: play $T/script (chat.py in lockstep, or
# sasl_chat) against PORT; leaves what the client got in $T/NAME.out, the
# auth requests in $T/NAME.req, what the backend got in $T/NAME.be and
# the backend's event log in $T/NAME.belog
side() {
	local name=$1 proto=$2 port=$3 be n
	be=BE_${proto^^}
	be=${!be}
	n=$(($(auth_count) + 1))
	: >"$F/fake-$be.transcript"
	: >"$F/fake-$be.log"
	if [[ ${4:-} == sasl ]]; then
		sasl_chat "$proto" "$port" <"$T/script" >"$T/$name.out" 2>/dev/null || :
	else
		chat "$port" --expect-greeting --lockstep "$proto" <"$T/script" >"$T/$name.out" 2>/dev/null || :
	fi
	requests "$n" >"$T/$name.req.full"
	requests "$n" "${name/#mp/ours}" >"$T/$name.req"
	cp "$F/fake-$be.transcript" "$T/$name.be"
	cp "$F/fake-$be.log" "$T/$name.belog"
}

# both PROTO NGINX_PORT MP_PORT [sasl]: the script (stdin) against both
both() {
	cat >"$T/script"
	side nginx "$1" "$2" "${4:-}"
	side mp "$1" "$3" "${4:-}"
}

# same WHAT: nginx's and mailproxy's WHAT (out, req, be) are byte-identical
# (shown with cat -A when not); the salts are normalised in "out" too
same() {
	sed -E 's/<[0-9]+\.[0-9]+@mx\.test>/<SALT>/g' "$T/nginx.$1" >"$T/nginx.$1.n"
	sed -E 's/<[0-9]+\.[0-9]+@mx\.test>/<SALT>/g' "$T/mp.$1" >"$T/mp.$1.n"
	same_bytes "$T/nginx.$1.n" "$T/mp.$1.n"
}

# got SIDE WHAT: print SIDE's WHAT
got() { cat "$T/$1.$2"; }

# ---------------------------------------------------------------- SMTP

@test "SMTP EHLO then AUTH PLAIN: the same replies, request and backend dialogue (XCLIENT LOGIN=)" {
	auth
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	same out
	same req
	same be
	[ "$(got mp out)" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(got mp be)" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]\r\nEHLO client.test\r\nQUIT\r' ]
	[ "$(auth_count)" = 2 ]
	# nginx's request as it is; mailproxy's, then its own three
	same_bytes "$T/nginx.req.full" "$T/nginx.req"
	[ "$(head -c -8 "$T/nginx.req")" = "$(head -c "$(($(wc -c <"$T/nginx.req") - 8))" "$T/mp.req.full")" ]
	[[ $(tail -n 5 "$T/mp.req.full") =~ ^"Client-Port: "[0-9]+$'\r\n'"Server-Addr: 127.0.0.1"$'\r\n'"Server-Port: $MP_SMTP"$'\r\n\r\n=====' ]]
}

@test "SMTP AUTH LOGIN and AUTH CRAM-MD5: the same replies and requests (salt and digest aside)" {
	auth
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH LOGIN
$(b64 bob)
$(b64 'p a%%s\351x')
QUIT"
	same out
	same req
	same be
	[ "$(got mp out)" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	grep -q $'^Auth-Pass: p%20a%25s\351x\r$' "$T/mp.req"
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" sasl <<<"EHLO client.test
AUTH CRAM-MD5
@cram alice secret
QUIT"
	# the challenge is base64 of the salt: equal in length, not in bytes
	sed -i -E 's/^334 [A-Za-z0-9+\/=]+\r$/334 <CHALLENGE>\r/' "$T/nginx.out" "$T/mp.out"
	same out
	same req
	same be
	[ "$(got mp out)" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n334 <CHALLENGE>\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	grep -q '^Auth-Method: cram-md5' "$T/mp.req"
	# both digests were right
	[ "$(grep -c 'method=cram-md5 .* -> OK$' "$T/auth.log")" = 2 ]
}

@test "SMTP AUTH PLAIN refused, without and with Auth-Error-Code: the same reply, then both close" {
	auth --mode fail
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	same out
	same req
	[ "$(got mp out)" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n535 5.7.0 Invalid login or password\r' ]
	[ ! -s "$T/mp.be" ]
	[ ! -s "$T/nginx.be" ]
	auth_stop
	auth --mode fail --error-code "535 5.7.8" --status "Go away"
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	same out
	same req
	[[ $(got mp out) == *$'\r\n535 5.7.8 Go away\r' ]]
}

@test "SMTP refused with Auth-Wait: 1, then accepted: the same replies; Auth-Login-Attempt 1 then 2" {
	auth --wait 1
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	same out
	same req
	same be
	[[ $(got mp out) == *$'\r\n535 5.7.0 Invalid login or password\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	grep -q '^Auth-Login-Attempt: 2' "$T/mp.req"
}

@test "SMTP refused with Auth-Wait: 0: both close, as without Auth-Wait" {
	auth --wait 0
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
AUTH PLAIN $(b64 '\0alice\0secret')"
	same out
	same req
	[[ $(got mp out) == *$'\r\n535 5.7.0 Invalid login or password\r' ]]
	[ "$(auth_count)" = 2 ]
}

@test "SMTP smtp_auth none: MAIL and RCPT; the same replies, Auth-SMTP-* request and replayed envelope" {
	auth
	both smtp "$NGINX_NONE_PORT" "$MP_NONE" <<<"EHLO client.test
MAIL FROM:<a@x.test> SIZE=100
RCPT TO:<b@y.test> NOTIFY=NEVER
RCPT TO:<c@y.test>
QUIT"
	same out
	same req
	same be
	grep -q '^Auth-SMTP-From: MAIL FROM:<a@x.test> SIZE=100' "$T/mp.req"
	[[ $(got mp be) == *$'\r\nMAIL FROM:<a@x.test> SIZE=100\r\nRCPT TO:<b@y.test> NOTIFY=NEVER\r\nRCPT TO:<c@y.test>\r\nQUIT\r' ]]
}

# ---------------------------------------------------------------- POP3

@test "POP3 CAPA, USER/PASS: the same replies (salt aside), request and backend dialogue" {
	auth
	both pop3 "$NGINX_POP3_PORT" "$MP_POP3" <<<$'CAPA\nUSER bob\nPASS p a%s\351x\nQUIT'
	same out
	same req
	same be
	[[ $(got mp out) =~ ^'+OK POP3 ready <'[0-9]+\.[0-9]+@mx\.test'>'$'\r\n' ]]
	[ "$(got mp out.n)" = $'+OK POP3 ready <SALT>\r\n+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN CRAM-MD5\r\n.\r\n+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	[ "$(got mp be)" = $'USER bob\r\nPASS p a%s\351x\r\nQUIT\r' ]
}

@test "POP3 USER/PASS refused: the same -ERR, then both close" {
	auth --mode fail
	both pop3 "$NGINX_POP3_PORT" "$MP_POP3" <<<$'USER alice\nPASS secret\nQUIT'
	same out
	same req
	[[ $(got mp out) == *$'\r\n+OK\r\n-ERR Invalid login or password\r' ]]
	[ ! -s "$T/mp.be" ] && [ ! -s "$T/nginx.be" ]
}

@test "POP3 APOP, the digest from each side's own greeting: the same replies and requests (salt aside)" {
	auth
	both pop3 "$NGINX_POP3_PORT" "$MP_POP3" sasl <<<$'@apop alice secret\nQUIT'
	same out
	same req
	same be
	[ "$(got mp be)" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
	[ "$(grep -c 'method=apop .* -> OK$' "$T/auth.log")" = 2 ]
}

@test "POP3 AUTH LOGIN with a salt in the greeting: the same replies, request (no Auth-Salt) and backend dialogue" {
	auth
	both pop3 "$NGINX_POP3_PORT" "$MP_POP3" <<<"AUTH LOGIN
$(b64 alice)
$(b64 secret)
QUIT"
	same out
	same req
	same be
	[ "$(grep -c '^Auth-Salt' "$T/mp.req")" = 0 ]
	[ "$(got mp be)" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
}

# ---------------------------------------------------------------- IMAP

@test "IMAP CAPABILITY, LOGIN: the same replies, CAPABILITY too, and request; the backend gets the same login, differently quoted" {
	auth
	both imap "$NGINX_IMAP_PORT" "$MP_IMAP" <<<$'a CAPABILITY\nb LOGIN alice secret\nc LOGOUT'
	# imap_capabilities as configured, then the AUTH= methods, as nginx
	[ "$(sed -n 2p "$T/mp.out")" = $'* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5\r' ]
	same out
	same req
	# nginx sends literals (waiting for "+" after each), mailproxy quoted
	# strings: the backend parses the same login
	[ "$(got nginx be)" = $'b LOGIN {5}\r\nalice {6}\r\nsecret\r\nc LOGOUT\r' ]
	[ "$(got mp be)" = $'b LOGIN "alice" "secret"\r\nc LOGOUT\r' ]
	[ "$(grep -o 'login user=.*' "$T/nginx.belog")" = "$(grep -o 'login user=.*' "$T/mp.belog")" ]
	grep -q "login user=$(printf alice | od -An -tx1 | tr -d ' \n') pass=$(printf secret | od -An -tx1 | tr -d ' \n')" "$T/mp.belog"
}

@test "IMAP refused with Auth-Wait: 1, then accepted as another user: the same replies, requests and login" {
	auth --wait 1 --rename-user bob
	both imap "$NGINX_IMAP_PORT" "$MP_IMAP" <<<$'a LOGIN alice wrong\nb LOGIN alice secret\nc LOGOUT'
	same out
	same req
	[ "$(got mp out)" = $'* OK IMAP4 ready\r\na NO Invalid login or password\r\nb OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nc OK LOGOUT completed\r' ]
	grep -q '^Auth-Login-Attempt: 2' "$T/mp.req"
	# Auth-User: bob from the service; literals (nginx) or quoted (mailproxy)
	[ "$(got mp be)" = $'b LOGIN "bob" "secret"\r\nc LOGOUT\r' ]
	[ "$(grep -o 'login user=.*' "$T/nginx.belog")" = "$(grep -o 'login user=.*' "$T/mp.belog")" ]
}

@test "IMAP LOGIN refused: the same tagged NO, then both close" {
	auth --mode fail
	both imap "$NGINX_IMAP_PORT" "$MP_IMAP" <<<$'a LOGIN alice secret\nb LOGOUT'
	same out
	same req
	[ "$(got mp out)" = $'* OK IMAP4 ready\r\na NO Invalid login or password\r' ]
	[ ! -s "$T/mp.be" ] && [ ! -s "$T/nginx.be" ]
}

# ---------------------------------------------------------------- the service misbehaves

@test "garbage, a close without an answer, a name as Auth-Server: the same internal errors" {
	# (mailproxy takes a host name in Auth-Server, nginx does not: this one
	# resolves to nothing, so mailproxy fails at the backend, nginx at once)
	for m in garbage close badserver; do
		auth --mode "$m"
		both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')"
		same out
		[[ $(got mp out) == *$'\r\n451 4.3.2 Internal server error\r' ]]
		both pop3 "$NGINX_POP3_PORT" "$MP_POP3" <<<$'USER alice\nPASS secret'
		same out
		[[ $(got mp out) == *$'\r\n-ERR internal server error\r' ]]
		both imap "$NGINX_IMAP_PORT" "$MP_IMAP" <<<$'a LOGIN alice secret'
		same out
		[ "$(got mp out)" = $'* OK IMAP4 ready\r\n* BAD internal server error\r' ]
		auth_stop
	done
}

@test "no Auth-Status: nginx lets the login through, mailproxy fails closed (a difference)" {
	auth --mode nostatus
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	same req
	[[ $(got nginx out) == *$'\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	[[ $(got mp out) == *$'\r\n451 4.3.2 Internal server error\r' ]]
	[ -s "$T/nginx.be" ] && [ ! -s "$T/mp.be" ]
}

@test "SMTP CRAM-MD5 accepted without Auth-Pass: nginx goes on, mailproxy fails (a difference)" {
	auth
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" sasl <<<$'EHLO client.test\nAUTH CRAM-MD5\n@cram cr x\\ry\nQUIT'
	same req
	# the service took both digests, and left Auth-Pass out of its answers
	[ "$(grep -c 'method=cram-md5 .* -> OK$' "$T/auth.log")" = 2 ]
	[[ $(got nginx out) == *$'\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	[[ $(got mp out) == *$'\r\n451 4.3.2 Internal server error\r' ]]
	[[ $(got nginx be) == *$'XCLIENT ADDR=127.0.0.1 LOGIN=cr NAME=[UNAVAILABLE]\r\n'* ]]
	[ ! -s "$T/mp.be" ]
}

@test "Auth-Status OK and a refusal, in either order: both refuse, with the same reply, no backend" {
	for m in okrefused refusedok; do
		auth --mode "$m"
		both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
QUIT"
		same out
		[[ $(got mp out) == *$'\r\n535 5.7.0 Invalid login or password\r' ]]
		both pop3 "$NGINX_POP3_PORT" "$MP_POP3" <<<$'USER alice\nPASS wrong\nQUIT'
		same out
		[[ $(got mp out) == *$'\r\n-ERR Invalid login or password\r' ]]
		both imap "$NGINX_IMAP_PORT" "$MP_IMAP" <<<$'a LOGIN alice wrong\nb LOGOUT'
		same out
		[ "$(got mp out)" = $'* OK IMAP4 ready\r\na NO Invalid login or password\r' ]
		[ ! -s "$T/mp.be" ]
		[ ! -s "$T/nginx.be" ]
		auth_stop
	done
}

@test "Auth-Port: +PORT: the same internal error" {
	auth --port-prefix +
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')"
	same out
	[[ $(got mp out) == *$'\r\n451 4.3.2 Internal server error\r' ]]
	[ ! -s "$T/mp.be" ]
	[ ! -s "$T/nginx.be" ]
}

@test "no HTTP status line: nginx reads the headers anyway, mailproxy fails closed (a difference)" {
	auth --no-status-line
	both smtp "$NGINX_SMTP_PORT" "$MP_SMTP" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0secret')
QUIT"
	same req
	[[ $(got nginx out) == *$'\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	[[ $(got mp out) == *$'\r\n451 4.3.2 Internal server error\r' ]]
	[ -s "$T/nginx.be" ]
	[ ! -s "$T/mp.be" ]
}

# ---------------------------------------------------------------- TLS (issue 15)
#
# The client's TLS facts in the auth request (Auth-SSL-*): nginx and
# mailproxy with implicit TLS (IMAP), the same server certificate, the same
# client CA, and the client openssl s_client.  Four servers a side:
#   off      ssl_verify_client off: Auth-SSL, -Protocol, -Cipher only
#   optional ssl_verify_client optional: -Verify, and with a certificate
#            -Subject/-Issuer/-Serial/-Fingerprint; AUTHENTICATE EXTERNAL
#   cert     optional and auth_http_pass_client_cert on: -Cert too
#   noca     optional_no_ca: a certificate of an unknown CA gets through,
#            Auth-SSL-Verify says FAILED:reason

load lib/certs

# tls_conf: nginx's configuration for the four servers (ports in $T/tls.ports)
tls_conf() {
	local -a p
	mapfile -t p <"$T/tls.ports"
	cat <<CONF
load_module $NGINX_MAIL_MODULE;
daemon off;
master_process on;
worker_processes 1;
pid $T/nginx-tls/nginx.pid;
lock_file $T/nginx-tls/nginx.lock;
error_log $T/nginx-tls/error.log info;
events { worker_connections 256; }
mail {
    server_name mx.test;
    auth_http 127.0.0.1:$AUTH_PORT/auth;
    auth_http_timeout 5s;
    proxy_pass_error_message on;
    imap_auth login plain cram-md5;
    ssl_certificate $CERTS_RSA_CRT;
    ssl_certificate_key $CERTS_RSA_KEY;
    ssl_client_certificate $CERTS_CLIENT_CA;
    # nginx 1.23.4 and mailproxy by default; 1.22 still allows TLSv1 and
    # TLSv1.1 and leaves TLSv1.3 out
    ssl_protocols TLSv1.2 TLSv1.3;
    server { listen 127.0.0.1:${p[0]} ssl; protocol imap; }
    server { listen 127.0.0.1:${p[1]} ssl; protocol imap; ssl_verify_client optional;
             imap_auth login plain cram-md5 external; }
    server { listen 127.0.0.1:${p[2]} ssl; protocol imap; ssl_verify_client optional;
             auth_http_pass_client_cert on; }
    server { listen 127.0.0.1:${p[3]} ssl; protocol imap; ssl_verify_client optional_no_ca; }
}
CONF
}

# tls_start: certificates, the auth service, this test's nginx on four
# ports (NGX_OFF ...) and mailproxy alike on four more (MP_OFF ...)
# shellcheck disable=SC2153 # NGINX_BIN is lib/nginx.bash's
tls_start() {
	local common p
	certs_make || return 1
	auth
	free_port 4 >"$T/tls.ports" || return 1
	mkdir -p "$T/nginx-tls"
	tls_conf >"$T/nginx-tls/nginx.conf"
	"$NGINX_BIN" -t -q -p "$T/nginx-tls" -c "$T/nginx-tls/nginx.conf" \
		-e "$T/nginx-tls/error.log" || return 1
	spawn nginx-tls "$NGINX_BIN" -p "$T/nginx-tls" -c "$T/nginx-tls/nginx.conf" \
		-e "$T/nginx-tls/error.log" || return 1
	{ read -r NGX_OFF; read -r NGX_OPT; read -r NGX_CERT; read -r NGX_NOCA; } <"$T/tls.ports"
	for p in "$NGX_OFF" "$NGX_OPT" "$NGX_CERT" "$NGX_NOCA"; do
		wait_port "$p" 5 || return 1
	done
	common=(--protocol=imap --auth-http="http://127.0.0.1:$AUTH_PORT/auth"
		--auth-http-timeout=5s --server-name=mx.test --proxy-pass-error-message=on
		--imap-auth='login plain cram-md5' --ssl=on
		--ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY"
		--ssl-client-certificate="$CERTS_CLIENT_CA")
	{ read -r MP_OFF; read -r MP_OPT; read -r MP_CERT; read -r MP_NOCA; } < <(free_port 4)
	launch_tcpserver "$MP_OFF" "${common[@]}" &&
		launch_tcpserver "$MP_OPT" "${common[@]}" --ssl-verify-client=optional \
			--imap-auth='login plain cram-md5 external' &&
		launch_tcpserver "$MP_CERT" "${common[@]}" --ssl-verify-client=optional \
			--auth-http-pass-client-cert=on &&
		launch_tcpserver "$MP_NOCA" "${common[@]}" --ssl-verify-client=optional_no_ca
}

# tls_side NAME PORT [CRT KEY]: IMAP LOGIN (or the command $TLS_LOGIN)
# over implicit TLS with openssl s_client (with that client certificate,
# and $TLS_CLIENT_OPTS); what the client got in $T/NAME.out, the auth
# request in $T/NAME.req
tls_side() {
	local name=$1 port=$2 n cert=() opts
	n=$(($(auth_count) + 1))
	[[ -z ${3:-} ]] || cert=(-cert "$3" -key "$4")
	read -ra opts <<<"${TLS_CLIENT_OPTS:-}"
	{
		sleep 0.3
		printf '%s\r\n' "${TLS_LOGIN:-a LOGIN alice secret}"
		wait_auth_count "$n" 5 || :
		sleep 0.3
		printf 'b LOGOUT\r\n'
	} | timeout 10 openssl s_client -connect "127.0.0.1:$port" -quiet \
		-CAfile "$CERTS_CA" "${cert[@]}" "${opts[@]}" >"$T/$name.out" 2>"$T/$name.tls" || :
	requests "$n" >"$T/$name.req.full"
	requests "$n" "${name/#mp/ours}" >"$T/$name.req"
}

# tls_both NGINX_PORT MP_PORT [CRT KEY]: the same login against both; the
# same auth request, byte for byte, and both logged in
tls_both() {
	tls_side nginx "$1" "${@:3}"
	tls_side mp "$2" "${@:3}"
	same req
	grep -q '^a OK' "$T/nginx.out"
	grep -q '^a OK' "$T/mp.out"
	# this test's launchers log here, not in $F (see teardown)
	! grep -E 'Sanitizer|runtime error' "$T"/tcpserver-*.log || false
}

# tls_header NAME: that header's value in mailproxy's request (fails if absent)
tls_header() {
	grep -a -m1 "^$1: " "$T/mp.req" | tr -d '\r' | sed "s/^$1: //"
}

@test "TLS, ssl_verify_client off: the same Auth-SSL, -Protocol, -Cipher, and no certificate facts" {
	tls_start
	tls_both "$NGX_OFF" "$MP_OFF" "$CERTS_ALICE_CRT" "$CERTS_ALICE_KEY"
	[ "$(tls_header Auth-SSL)" = on ]
	[ "$(tls_header Auth-SSL-Protocol)" = TLSv1.3 ]
	[ -n "$(tls_header Auth-SSL-Cipher)" ]
	! grep -q '^Auth-SSL-Verify' "$T/mp.req" || false
	# the TLS lines come last (no extra headers here)
	[ "$(grep -a '^Auth-' "$T/mp.req" | tail -n 3 | cut -d: -f1 | tr '\n' ' ')" = 'Auth-SSL Auth-SSL-Protocol Auth-SSL-Cipher ' ]
	# TLSv1.2: OpenSSL's other naming of ciphers
	TLS_CLIENT_OPTS=-tls1_2 tls_both "$NGX_OFF" "$MP_OFF"
	[ "$(tls_header Auth-SSL-Protocol)" = TLSv1.2 ]
	[[ $(tls_header Auth-SSL-Cipher) == ECDHE-* ]]
	# the name the client asked for (SNI): nginx sends nothing of it,
	# mailproxy Auth-SSL-Server-Name last, after Client-Port and Server-*
	TLS_CLIENT_OPTS='-servername mx.test' tls_both "$NGX_OFF" "$MP_OFF"
	! grep -q 'Server-Name' "$T/nginx.req.full" || false
	[ "$(grep -a -A1 '^Server-Port: ' "$T/mp.req.full" | tr -d '\r')" = $'Server-Port: '"$MP_OFF"$'\nAuth-SSL-Server-Name: mx.test' ]
}

@test "TLS, ssl_verify_client optional: Verify NONE without a certificate; with alice's: SUCCESS, Subject, Issuer, Serial, Fingerprint" {
	tls_start
	tls_both "$NGX_OPT" "$MP_OPT"
	[ "$(tls_header Auth-SSL-Verify)" = NONE ]
	! grep -q '^Auth-SSL-Subject' "$T/mp.req" || false
	tls_both "$NGX_OPT" "$MP_OPT" "$CERTS_ALICE_CRT" "$CERTS_ALICE_KEY"
	[ "$(tls_header Auth-SSL-Verify)" = SUCCESS ]
	[[ $(tls_header Auth-SSL-Subject) == *CN=alice* ]]
	[[ $(tls_header Auth-SSL-Issuer) == *'CN=mailproxy test client CA'* ]]
	[ "$(tls_header Auth-SSL-Serial)" = "$(openssl x509 -in "$CERTS_ALICE_CRT" -noout -serial | sed 's/^serial=//')" ]
	[ "$(tls_header Auth-SSL-Fingerprint)" = "$(openssl x509 -in "$CERTS_ALICE_CRT" -noout -fingerprint -sha1 | sed 's/^.*=//; s/://g' | tr A-F a-f)" ]
	! grep -q '^Auth-SSL-Cert' "$T/mp.req" || false
}

@test "TLS, auth_http_pass_client_cert on: the same Auth-SSL-Cert, the PEM escaped as Auth-User is" {
	tls_start
	tls_both "$NGX_CERT" "$MP_CERT" "$CERTS_ALICE_CRT" "$CERTS_ALICE_KEY"
	[ "$(tls_header Auth-SSL-Cert)" = "$(sed 's/ /%20/g' "$CERTS_ALICE_CRT" | sed 's/$/%0A/' | tr -d '\n')" ]
	# without a certificate, no Auth-SSL-Cert line at all
	tls_both "$NGX_CERT" "$MP_CERT"
	! grep -q '^Auth-SSL-Cert' "$T/mp.req" || false
}

@test "TLS, ssl_verify_client optional_no_ca: a certificate of an unknown CA: the same FAILED:reason" {
	tls_start
	tls_both "$NGX_NOCA" "$MP_NOCA" "$CERTS_EVE_CRT" "$CERTS_EVE_KEY"
	[[ $(tls_header Auth-SSL-Verify) == FAILED:* ]]
	[[ $(tls_header Auth-SSL-Subject) == *CN=eve* ]]
}

@test "TLS, AUTHENTICATE EXTERNAL with alice's certificate: the same request (Auth-Method: external, an empty Auth-Pass)" {
	tls_start
	TLS_LOGIN="a AUTHENTICATE EXTERNAL $(b64 alice)" \
		tls_both "$NGX_OPT" "$MP_OPT" "$CERTS_ALICE_CRT" "$CERTS_ALICE_KEY"
	[ "$(tls_header Auth-Method)" = external ]
	[ "$(tls_header Auth-User)" = alice ]
	grep -q $'^Auth-Pass: \r$' "$T/mp.req"
	[ "$(tls_header Auth-SSL-Verify)" = SUCCESS ]
}
