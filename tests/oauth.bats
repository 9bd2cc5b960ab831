#!/usr/bin/env bats
# XOAUTH2 and OAUTHBEARER (RFC 7628, Google's XOAUTH2) through the real
# binary under tcpserver, in all three protocols: the fake auth service
# (tests/lib/fake_auth_http.py) takes a token that ends with the user's
# password and answers with that password as Auth-Pass, which the fake
# backends then see; a refused token may come with Auth-Error-SASL, which
# the client gets as a challenge, as freenginx's mail_oauth.t has it.

load lib/common

# the base64 of the JSON error a token's refusal carries (RFC 7628 3.2.2)
SASLERR=eyJzY2hlbWVzIjoiQmVhcmVyIiwic3RhdHVzIjoiNDAwIn0=

setup_file() {
	local name port a
	export F=$BATS_FILE_TMPDIR
	T=$F
	printf 'alice@example.com:secret\ntest=,@example.com:secret\n' >"$F/users"
	BE_SMTP=$(free_port) BE_POP3=$(free_port) BE_IMAP=$(free_port)
	export BE_SMTP BE_POP3 BE_IMAP
	for p in smtp:$BE_SMTP pop3:$BE_POP3 imap:$BE_IMAP; do
		spawn "fake-${p#*:}" "$PYTHON" "$TESTLIB/fake_${p%%:*}.py" "${p#*:}" \
			"$F/fake-${p#*:}.transcript" --ready "$F/fake-${p#*:}.ready" --multi \
			--log "$F/fake-${p#*:}.log"
	done
	for name in ok sasl nowait; do
		case $name in
		ok) a=() ;;
		sasl) a=(--wait 1 --sasl-error "$SASLERR") ;;
		nowait) a=(--sasl-error "$SASLERR") ;;
		esac
		port=$(free_port)
		export "AP_$name=$port"
		spawn "auth-$name" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$port" \
			--requests "$F/auth-$name.requests" --ready "$F/auth-$name.ready" \
			--log "$F/auth-$name.log" --users "$F/users" \
			--backend-smtp "127.0.0.1:$BE_SMTP" --backend-pop3 "127.0.0.1:$BE_POP3" \
			--backend-imap "127.0.0.1:$BE_IMAP" "${a[@]}"
	done
	for name in fake-$BE_SMTP fake-$BE_POP3 fake-$BE_IMAP auth-ok auth-sasl auth-nowait; do
		wait_for_file "$F/$name.ready" || return 1
	done
}

teardown_file() { T=$BATS_FILE_TMPDIR stop_launchers; }

setup() {
	common_setup
	MPPORT=$(free_port)
	local f
	for f in "$F"/auth-*.requests "$F"/fake-*.transcript "$F"/fake-*.log; do
		: >"$f"
	done
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

# mp PROTO SERVICE ARGS...: mailproxy for PROTO on $MPPORT, asking the
# auth service SERVICE, all three mechanisms enabled
mp() {
	local proto=$1 port=AP_$2
	shift 2
	launch_tcpserver "$MPPORT" --protocol="$proto" --server-name=mx.test \
		--auth-http="http://127.0.0.1:${!port}/auth" \
		"--$proto-auth=plain oauthbearer xoauth2" "$@"
}

q() { "$@" 2>/dev/null; }
# shellcheck disable=SC2059 # b64 FORMAT: printf escapes (\001) wanted
b64() { printf "$1" | base64 -w0; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
transcript() { cat "$F/fake-$1.transcript" 2>/dev/null; }
untouched() { ! grep -q connect "$F/fake-$1.log"; }
# req SERVICE: the last request SERVICE got
req() { "$PYTHON" -c 'import sys; r=[x for x in open(sys.argv[1],"rb").read().split(b"=====\n") if x]; sys.stdout.buffer.write(r[-1] if r else b"")' "$F/auth-$1.requests"; }
nreq() { grep -c '^=====$' "$F/auth-$1.requests"; }

TOKEN=ya29.a0AfH6SM-_~+/secret
BEARER=$(b64 "n,a=alice@example.com,\001auth=Bearer $TOKEN\001\001")
BEARER_ESC=$(b64 "n,a=test=3D=2C@example.com,\001host=mx.test\001port=143\001auth=Bearer $TOKEN\001\001")
BEARER_BAD=$(b64 'n,a=alice@example.com,\001auth=Bearer badtoken\001\001')
XOAUTH=$(b64 "user=alice@example.com\001auth=Bearer $TOKEN\001\001")
XOAUTH_BAD=$(b64 'user=alice@example.com\001auth=Bearer badtoken\001\001')
G_SMTP=$'220 mx.test ESMTP ready\r\n'
G_POP3=$'+OK POP3 ready\r\n'
G_IMAP=$'* OK IMAP4 ready\r\n'

# --- offered only with an auth service ---------------------------------

@test "capabilities list XOAUTH2 and OAUTHBEARER with an auth service, after the others" {
	mp smtp ok
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nQUIT'
	[ "$output" = "$G_SMTP"$'250-mx.test\r\n250 AUTH PLAIN XOAUTH2 OAUTHBEARER\r\n221 2.0.0 Bye\r' ]
	stop_launchers
	mp imap ok
	run q imap_chat "$MPPORT" <<<$'a CAPABILITY\nb LOGOUT'
	[[ "$output" == "$G_IMAP* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER"$'\r\na OK completed\r\n'* ]]
	stop_launchers
	mp pop3 ok
	run q pop3_chat "$MPPORT" <<<$'CAPA\nAUTH\nQUIT'
	[[ "$output" == *$'SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n.\r\n+OK methods supported:\r\nPLAIN\r\nLOGIN\r\nXOAUTH2\r\nOAUTHBEARER\r\n.\r\n'* ]]
}

@test "without an auth service: not offered, AUTH XOAUTH2 refused, nothing sent on" {
	launch_tcpserver "$MPPORT" --protocol=smtp --server-name=mx.test \
		--backend="127.0.0.1:$BE_SMTP" --proxy-smtp-auth=on --smtp-auth="plain xoauth2 oauthbearer"
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2 $XOAUTH
QUIT"
	[ "$output" = "$G_SMTP"$'250-mx.test\r\n250 AUTH PLAIN\r\n504 5.5.4 Unrecognized authentication type\r\n221 2.0.0 Bye\r' ]
	untouched "$BE_SMTP"
	stop_launchers
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE_IMAP" \
		--imap-auth="plain xoauth2 oauthbearer"
	run q imap_chat "$MPPORT" <<<"a CAPABILITY
b AUTHENTICATE OAUTHBEARER $BEARER
c LOGOUT"
	[[ "$output" == "$G_IMAP* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN"$'\r\na OK completed\r\nb NO unsupported authentication mechanism\r\n'* ]]
	untouched "$BE_IMAP"
}

@test "the options take xoauth2 and oauthbearer now" {
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --imap-auth="xoauth2 oauthbearer" --help
	[ "$status" -eq 0 ]
	[[ "$output" != *"not yet"* ]]
	run "$MP" --protocol=smtp --backend=127.0.0.1:1 --smtp-auth="xoauth2" --check
	[ "$status" -eq 0 ]
}

# --- SMTP --------------------------------------------------------------

@test "SMTP: OAUTHBEARER and XOAUTH2, with and without an initial response; Auth-Method, -User, -Pass" {
	mp smtp ok
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH OAUTHBEARER $BEARER
QUIT"
	[[ "$output" == *$'\r\n235 2.0.0 OK\r\n221 '* ]]
	req ok | grep -q $'^Auth-Method: oauthbearer\r$'
	req ok | grep -q $'^Auth-User: alice@example.com\r$'
	req ok | grep -qF "Auth-Pass: $TOKEN"$'\r'
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH OAUTHBEARER
$BEARER
QUIT"
	[[ "$output" == *$'\r\n334 \r\n235 2.0.0 OK\r\n221 '* ]]
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2 $XOAUTH
QUIT"
	[[ "$output" == *$'\r\n235 2.0.0 OK\r\n221 '* ]]
	req ok | grep -q $'^Auth-Method: xoauth2\r$'
	run q smtp_chat "$MPPORT" <<<"EHLO c
auth xoauth2
$XOAUTH
QUIT"
	[[ "$output" == *$'\r\n334 \r\n235 2.0.0 OK\r\n221 '* ]]
	[ "$(nreq ok)" -eq 4 ]
}

@test "SMTP: bad base64, a cancel, wrong formats; each refused, the next attempt works" {
	mp smtp ok --max-errors=10
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2 dXNlcj1!
AUTH OAUTHBEARER
*
AUTH XOAUTH2 $(b64 'user=alice@example.com\001auth=Bearer x y\001\001')
AUTH OAUTHBEARER $(b64 'n,,\001auth=Bearer tok\001\001')
AUTH OAUTHBEARER $(b64 'n,user=alice@example.com,\001auth=Bearer tok\001\001')
AUTH XOAUTH2 $XOAUTH
QUIT"
	[[ "$output" == *$'\r\n501 5.5.2 Cannot decode response\r\n334 \r\n501 5.7.0 Authentication cancelled\r\n535 5.7.8 Authentication credentials invalid\r\n535 5.7.8 Authentication credentials invalid\r\n535 5.7.8 Authentication credentials invalid\r\n235 2.0.0 OK\r\n221 '* ]]
	# only the good one reached the auth service
	[ "$(nreq ok)" -eq 1 ]
}

@test "SMTP: a 6 KiB token, after the challenge and (with a larger smtp_client_buffer) as an initial response" {
	local tok big
	tok=$(head -c 6144 /dev/zero | tr '\0' A)secret
	big=$(b64 "user=alice@example.com\001auth=Bearer $tok\001\001")
	mp smtp ok
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2
$big
QUIT"
	[[ "$output" == *$'\r\n334 \r\n235 2.0.0 OK\r\n221 '* ]]
	req ok | grep -qF "Auth-Pass: $tok"$'\r'
	# the default buffer (a page) does not take it on the command line
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2 $big"
	[[ "$output" == *$'\r\n500 5.5.2 Line too long\r' ]]
	stop_launchers
	mp smtp ok --smtp-client-buffer=16k
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2 $big
QUIT"
	[[ "$output" == *$'\r\n235 2.0.0 OK\r\n221 '* ]]
}

@test "SMTP: the auth service refuses a token, without Auth-Wait: the reply, then close" {
	mp smtp ok
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH XOAUTH2 $XOAUTH_BAD"
	[[ "$output" == *$'\r\n535 5.7.0 Invalid login or password\r' ]]
	untouched "$BE_SMTP"
	mplog | grep -q 'login refused'
}

@test "SMTP: Auth-Error-SASL: 334 with the error after Auth-Wait, AQ== or empty gets 535, garbage 500, then a good token" {
	mp smtp sasl
	local start=$SECONDS
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH OAUTHBEARER $BEARER_BAD
AQ==
AUTH XOAUTH2 $XOAUTH_BAD

AUTH OAUTHBEARER $BEARER_BAD
foo
AUTH OAUTHBEARER $BEARER
QUIT"
	[[ "$output" == *$'\r\n334 '"$SASLERR"$'\r\n535 5.7.0 Invalid login or password\r\n334 '"$SASLERR"$'\r\n535 5.7.0 Invalid login or password\r\n334 '"$SASLERR"$'\r\n500 5.5.1 Invalid command\r\n235 2.0.0 OK\r\n221 '* ]]
	# three refusals, each after Auth-Wait's second
	((SECONDS - start >= 3))
	[ "$(nreq sasl)" -eq 4 ]
}

@test "SMTP: Auth-Error-SASL without Auth-Wait: the challenge, the refusal, then close" {
	mp smtp nowait
	run q smtp_chat "$MPPORT" <<<"EHLO c
AUTH OAUTHBEARER $BEARER_BAD
AQ=="
	[[ "$output" == *$'\r\n334 '"$SASLERR"$'\r\n535 5.7.0 Invalid login or password\r' ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome="auth service refused: Invalid login or password"'
}

# --- IMAP --------------------------------------------------------------

@test "IMAP: OAUTHBEARER with and without SASL-IR, the escaped authzid; the backend's LOGIN gets Auth-Pass" {
	mp imap ok
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE OAUTHBEARER $BEARER
2 LOGOUT"
	[[ "$output" == "$G_IMAP"*$'1 OK '*'2 OK LOGOUT completed'* ]]
	transcript "$BE_IMAP" | grep -qF '1 LOGIN "alice@example.com" "secret"'
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE OAUTHBEARER
@nowait
$BEARER_ESC
2 LOGOUT"
	[[ "$output" == "$G_IMAP"$'+ \r\n1 OK '* ]]
	req ok | grep -q $'^Auth-User: test=,@example.com\r$'
	transcript "$BE_IMAP" | grep -qF '1 LOGIN "test=,@example.com" "secret"'
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE XOAUTH2 $XOAUTH
2 LOGOUT"
	[[ "$output" == "$G_IMAP"$'1 OK '* ]]
	req ok | grep -q $'^Auth-Method: xoauth2\r$'
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE XOAUTH2
@nowait
$XOAUTH
2 LOGOUT"
	[[ "$output" == "$G_IMAP"$'+ \r\n1 OK '* ]]
}

@test "IMAP: bad base64, a cancel, a wrong format; a 6 KiB token after the challenge and as SASL-IR" {
	local tok big
	tok=$(head -c 6144 /dev/zero | tr '\0' B)secret
	big=$(b64 "n,a=alice@example.com,\001auth=Bearer $tok\001\001")
	mp imap ok --imap-client-buffer=16k
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE XOAUTH2 dXNlcj1!
2 AUTHENTICATE OAUTHBEARER
@nowait
*
3 AUTHENTICATE OAUTHBEARER $(b64 'p=tls-unique,a=alice@example.com,\001auth=Bearer t\001\001')
4 AUTHENTICATE OAUTHBEARER
@nowait
$big
5 LOGOUT"
	[[ "$output" == "$G_IMAP"$'1 BAD cannot decode response\r\n+ \r\n2 BAD authentication cancelled\r\n3 NO invalid credentials\r\n+ \r\n4 OK '* ]]
	req ok | grep -qF "Auth-Pass: $tok"$'\r'
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE OAUTHBEARER $big
2 LOGOUT"
	[[ "$output" == "$G_IMAP"$'1 OK '* ]]
}

@test "IMAP: Auth-Error-SASL: '+ error' after Auth-Wait, AQ== or empty gets NO, garbage BAD, then a good token" {
	mp imap sasl
	run q imap_chat "$MPPORT" <<<"1 AUTHENTICATE OAUTHBEARER $BEARER_BAD
@nowait
AQ==
2 AUTHENTICATE XOAUTH2 $XOAUTH_BAD
@nowait

3 AUTHENTICATE OAUTHBEARER $BEARER_BAD
@nowait
foo
4 AUTHENTICATE OAUTHBEARER
@nowait
$BEARER
5 LOGOUT"
	[[ "$output" == "$G_IMAP+ $SASLERR"$'\r\n1 NO Invalid login or password\r\n+ '"$SASLERR"$'\r\n2 NO Invalid login or password\r\n+ '"$SASLERR"$'\r\n3 BAD invalid command\r\n+ \r\n4 OK '* ]]
}

# --- POP3 --------------------------------------------------------------

@test "POP3: OAUTHBEARER and XOAUTH2 with and without an initial response; USER/PASS to the backend" {
	mp pop3 ok
	run q pop3_chat "$MPPORT" <<<"AUTH OAUTHBEARER $BEARER
QUIT"
	[[ "$output" == "$G_POP3+OK"* ]]
	transcript "$BE_POP3" | grep -q $'^USER alice@example.com\r$'
	transcript "$BE_POP3" | grep -q $'^PASS secret\r$'
	run q pop3_chat "$MPPORT" <<<"AUTH OAUTHBEARER
$BEARER_ESC
QUIT"
	[[ "$output" == "$G_POP3"$'+ \r\n+OK'* ]]
	run q pop3_chat "$MPPORT" <<<"AUTH XOAUTH2 $XOAUTH
QUIT"
	[[ "$output" == "$G_POP3+OK"* ]]
	req ok | grep -q $'^Auth-Method: xoauth2\r$'
	run q pop3_chat "$MPPORT" <<<"AUTH XOAUTH2
$XOAUTH
QUIT"
	[[ "$output" == "$G_POP3"$'+ \r\n+OK'* ]]
}

@test "POP3: bad base64, a cancel, a wrong format; a 6 KiB token after the challenge" {
	local tok big
	tok=$(head -c 6144 /dev/zero | tr '\0' C)secret
	big=$(b64 "user=alice@example.com\001auth=Bearer $tok\001\001")
	mp pop3 ok
	run q pop3_chat "$MPPORT" <<<"AUTH XOAUTH2 dXNlcj1!
AUTH OAUTHBEARER
*
AUTH XOAUTH2 $(b64 'user=alice@example.com\001auth=Bearer t')
AUTH XOAUTH2
$big
QUIT"
	[[ "$output" == "$G_POP3"$'-ERR cannot decode response\r\n+ \r\n-ERR authentication cancelled\r\n-ERR invalid credentials\r\n+ \r\n+OK'* ]]
	req ok | grep -qF "Auth-Pass: $tok"$'\r'
}

@test "POP3: Auth-Error-SASL: '+ error' after Auth-Wait, AQ== or empty gets -ERR, garbage -ERR, then a good token" {
	mp pop3 sasl
	run q pop3_chat "$MPPORT" <<<"AUTH OAUTHBEARER $BEARER_BAD
AQ==
AUTH XOAUTH2 $XOAUTH_BAD

AUTH OAUTHBEARER $BEARER_BAD
foo
AUTH OAUTHBEARER $BEARER
QUIT"
	[[ "$output" == "$G_POP3+ $SASLERR"$'\r\n-ERR Invalid login or password\r\n+ '"$SASLERR"$'\r\n-ERR Invalid login or password\r\n+ '"$SASLERR"$'\r\n-ERR invalid command\r\n+OK'* ]]
	transcript "$BE_POP3" | grep -q $'^PASS secret\r$'
}
