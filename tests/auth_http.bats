#!/usr/bin/env bats
# auth_http through the real binary under tcpserver: the request the fake
# auth service (tests/lib/fake_auth_http.py) records, byte for byte, as
# nginx 1.22 sends it (see tests/nginx_harness.bats), what each answer of
# the service does to the client, and what the fake backends
# (tests/lib/fake_{smtp,pop3,imap}.py) receive.  The fake servers and one
# tcpserver per protocol start once per file; each test empties the
# records and says, in a control file read at each connection, how
# mailproxy runs (see mp).

load lib/common

# One auth service per behaviour, all naming the same fake backends.
SERVICES="ok any rename fail code wait1 wait0 wait30 waitstatus badserver badname badport garbage nostatus bigheaders close slow
	okrefused refusedok nostatusline plusport"

# service_args NAME: set $a to the fake_auth_http.py arguments of NAME
service_args() {
	local u=(--users "$F/users")
	case $1 in
	ok) a=("${u[@]}") ;;
	any) a=() ;;			# no users: anyone may log in
	rename) a=("${u[@]}" --rename-user carol --escape-pass) ;;
	fail) a=(--mode fail) ;;
	code) a=(--mode fail --error-code "535 5.7.8") ;;
	wait1) a=("${u[@]}" --wait 1) ;;
	wait0) a=("${u[@]}" --wait 0) ;;
	wait30) a=("${u[@]}" --wait 30) ;;
	waitstatus) a=("${u[@]}" --mode wait-status) ;;
	badserver | badname) a=("${u[@]}" --mode "$1") ;;
	badport) a=("${u[@]}" --backend-smtp 127.0.0.1:0 --backend-pop3 127.0.0.1:0
		--backend-imap 127.0.0.1:0) ;;	# Auth-Port: 0
	slow) a=("${u[@]}" --mode slow --slow-secs 5) ;;
	nostatusline) a=("${u[@]}" --no-status-line) ;;
	plusport) a=("${u[@]}" --port-prefix +) ;;	# Auth-Port: +PORT
	okrefused | refusedok) a=("${u[@]}" --mode "$1") ;;	# OK and a refusal
	*) a=(--mode "$1") ;;		# garbage nostatus bigheaders close
	esac
}

setup_file() {
	local name a p port
	T=$BATS_FILE_TMPDIR
	export F=$BATS_FILE_TMPDIR
	# bob's password has a space, a '%' and an 8-bit byte; cr's a CR,
	# which the service can not send back as Auth-Pass (it leaves it out)
	printf 'alice:secret\nbob:p a%%s\351x\ncr:x\ry\n' >"$F/users"
	BE_SMTP=$(free_port) BE_POP3=$(free_port) BE_IMAP=$(free_port)
	export BE_SMTP BE_POP3 BE_IMAP
	start_fake_smtp "$BE_SMTP" --multi
	for p in pop3:$BE_POP3 imap:$BE_IMAP; do
		spawn "fake-${p#*:}" "$PYTHON" "$TESTLIB/fake_${p%%:*}.py" "${p#*:}" \
			"$F/fake-${p#*:}.transcript" --ready "$F/fake-${p#*:}.ready" --multi
	done
	for name in $SERVICES; do
		port=$(free_port)
		export "AP_$name=$port"
		service_args "$name"
		spawn "auth-$name" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$port" \
			--requests "$F/auth-$name.requests" --ready "$F/auth-$name.ready" \
			--log "$F/auth-$name.log" --backend-smtp "127.0.0.1:$BE_SMTP" \
			--backend-pop3 "127.0.0.1:$BE_POP3" --backend-imap "127.0.0.1:$BE_IMAP" "${a[@]}"
	done
	wait_for_file "$F/fake-$BE_POP3.ready" && wait_for_file "$F/fake-$BE_IMAP.ready" || return 1
	for name in $SERVICES; do
		wait_for_file "$F/auth-$name.ready" || return 1
	done
	# nothing listens here
	AP_none=$(free_port)
	export AP_none
	# mailproxy under tcpserver, one per protocol, through $F/mp.sh
	mp_wrapper >"$F/mp.sh"
	chmod 755 "$F/mp.sh"
	for p in smtp pop3 imap; do
		port=$(free_port)
		export "PORT_$p=$port"
		LAUNCH_CMD=$F/mp.sh launch_tcpserver "$port" "$F/ctl-$p" || return 1
	done
}

# mp_wrapper: the script tcpserver runs for each connection, with a control
# file as its argument: the first line is the log (mailproxy's stderr,
# then "exit STATUS"), the other lines are mailproxy's arguments.
mp_wrapper() {
	cat <<EOF
#!/bin/bash
{ read -r log; mapfile -t args; } <"\$1"
echo start >>"\$log"
$(printf '%q' "$MP") "\${args[@]}" 2>>"\$log"
rc=\$?
echo "exit \$rc" >>"\$log"
exit \$rc
EOF
}

teardown_file() {
	T=$BATS_FILE_TMPDIR stop_launchers
}

setup() {
	common_setup
	local f
	for f in "$F"/auth-*.requests "$F"/auth-*.log "$F"/fake-*.transcript "$F"/fake-*.log; do
		: >"$f"
	done
	rm -f "$T/sasl.salts" "$T/sasl.times"
}

# the sanitizer build reports on stderr, which is the log
teardown() { san_teardown "$T/mp.log"; }

# mp PROTO SERVICE ARGS...: from now on $MPPORT runs mailproxy for PROTO
# asking the auth service SERVICE (no --backend: the service names it)
mp() {
	local proto=$1 port=AP_$2
	shift 2
	mp_args "$proto" --protocol="$proto" --auth-http="http://127.0.0.1:${!port}/auth" \
		--server-name=mx.test "$@"
}

# mp_args PROTO ARGS...: from now on $MPPORT (PROTO's tcpserver) runs
# mailproxy with ARGS
mp_args() {
	local proto=$1 port=PORT_$1
	shift
	MPPORT=${!port}
	printf '%s\n' "$T/mp.log" "$@" >"$F/ctl-$proto.tmp"
	mv "$F/ctl-$proto.tmp" "$F/ctl-$proto"
}

# q CMD...: CMD without its stderr, so that $output holds the bytes received
q() { "$@" 2>/dev/null; }
# shellcheck disable=SC2059 # b64 FORMAT: printf escapes (\0 \351 %%) wanted
b64() { printf "$1" | base64 -w0; }
transcript() { cat "$F/fake-$1.transcript" 2>/dev/null; }
untouched() { ! grep -q connect "$F/fake-$1.log"; }
# mplog: the log of every mailproxy of this test
mplog() { cat "$T/mp.log"; }
last_outcome() { grep 'outcome=' "$T/mp.log" | tail -n 1; }
count() { grep -c '^=====$' "$F/auth-$1.requests"; }
# took N: how long (ms) the reply to the Nth line of the last sasl_chat took
took() { sed -n "${1}p" "$T/sasl.times" | cut -d' ' -f1; }

# req SERVICE [N]: request N (1-based; 0, the default: the last) that
# SERVICE recorded, byte for byte
req() {
	"$PYTHON" - "$F/auth-$1.requests" "${2:-0}" <<'PY'
import sys
reqs = [r for r in open(sys.argv[1], "rb").read().split(b"=====\n") if r]
n = int(sys.argv[2])
if not reqs or n > len(reqs):
    sys.exit("req: no request %d (have %d)" % (n, len(reqs)))
sys.stdout.buffer.write(reqs[n - 1] if n > 0 else reqs[-1])
PY
}

# nginx_part: the request on stdin without the headers nginx does not send
# (Client-Port, Server-Addr, Server-Port, Auth-SSL-Server-Name), which
# must all come last, after nginx's and the extra headers; fails if one
# comes earlier.  What nginx's own service sees unchanged.
nginx_part() {
	"$PYTHON" -c '
import re, sys
raw = sys.stdin.buffer.read()
head, sep, rest = raw.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
ours = re.compile(rb"^(Client-Port|Server-Addr|Server-Port|Auth-SSL-Server-Name): ")
while len(lines) > 1 and ours.match(lines[-1]):
    lines.pop()
if any(ours.match(l) for l in lines):
    sys.exit("nginx_part: one of ours before nginx'"'"'s headers end")
sys.stdout.buffer.write(b"\r\n".join(lines) + sep + rest)'
}

# ours SERVICE [N]: the headers of request N past nginx's, one a line,
# without CR
ours() { req "$@" | "$PYTHON" -c '
import sys
head = sys.stdin.buffer.read().split(b"\r\n\r\n")[0].split(b"\r\n")
for l in head:
    if l.split(b":")[0] in (b"Client-Port", b"Server-Addr", b"Server-Port", b"Auth-SSL-Server-Name"):
        sys.stdout.buffer.write(l + b"\n")'; }

# req_is SERVICE N LINE...: request N, up to the headers nginx does not
# send, is exactly the LINEs, each ended by CRLF, then the empty line
req_is() {
	local svc=$1 n=$2 want got
	shift 2
	want=$(printf '%s\r\n' "$@"; printf '\r\n'; echo x)
	got=$(req "$svc" "$n" | nginx_part; echo x)
	if [[ $got != "$want" ]]; then
		echo "request $n of $svc differs; want:" >&2
		printf '%s' "${want%x}" | cat -A >&2
		echo "got:" >&2
		printf '%s' "${got%x}" | cat -A >&2
		return 1
	fi
}

# exit_status: the exit status of this test's last session, once every
# session that started has ended
exit_status() {
	local end=$((SECONDS + WAIT_TIMEOUT))
	until [ "$(grep -c '^start$' "$T/mp.log")" = "$(grep -c '^exit ' "$T/mp.log")" ]; do
		((SECONDS < end)) || { echo "exit_status: a session did not end" >&2; return 1; }
		sleep 0.05
	done
	grep '^exit ' "$T/mp.log" | tail -n 1 | cut -d' ' -f2
}

HEAD=("GET /auth HTTP/1.0" "Host: 127.0.0.1")
SMTP_TAIL=("Auth-Protocol: smtp" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1" "Client-Host: [UNAVAILABLE]")
POP3_TAIL=("Auth-Protocol: pop3" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1")
IMAP_TAIL=("Auth-Protocol: imap" "Auth-Login-Attempt: 1" "Client-IP: 127.0.0.1")
# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==
EHLO=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n'
EHLO_CRAM=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n'
G_POP3=$'+OK POP3 ready\r\n'
G_IMAP=$'* OK IMAP4 ready\r\n'
XCLIENT_ALICE=$'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]\r\n'
TEMP_SMTP=$'451 4.3.2 Internal server error\r'
TEMP_POP3=$'-ERR internal server error\r'
TEMP_IMAP=$'* BAD internal server error\r'


# ---------------------------------------------------------------- requests

@test "SMTP AUTH PLAIN: the request as nginx sends it; the backend gets XCLIENT LOGIN=" {
	mp smtp ok
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	# then ours: the client's port, the address and port it reached
	[[ $(ours ok) =~ ^"Client-Port: "[0-9]+$'\n'"Server-Addr: 127.0.0.1"$'\n'"Server-Port: $MPPORT"$ ]]
	[ "$(count ok)" = 1 ]
	[ "$(transcript "$BE_SMTP")" = "$XCLIENT_ALICE"$'EHLO client.test\r\nQUIT\r' ]
	[ "$(exit_status)" = 0 ]
}

@test "SMTP AUTH LOGIN is sent as Auth-Method: plain, without Auth-Salt" {
	mp smtp ok --smtp-auth='plain login cram-md5'
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH LOGIN
$(b64 alice)
$(b64 secret)
QUIT"
	[ "$output" = "$EHLO_CRAM"$'334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	[ "$(transcript "$BE_SMTP")" = "$XCLIENT_ALICE"$'EHLO client.test\r\nQUIT\r' ]
}

@test "SMTP AUTH CRAM-MD5: 334 base64(<rnd.time@mx.test>), Auth-Salt, the digest as Auth-Pass" {
	mp smtp ok --smtp-auth='plain login cram-md5'
	run q sasl_chat smtp "$MPPORT" <<<"EHLO client.test
AUTH CRAM-MD5
@cram alice secret
QUIT"
	salt=$(last_salt)
	[[ $salt =~ ^\<[0-9]+\.[0-9]+@mx\.test\>$ ]]
	[ "$output" = "$EHLO_CRAM""334 $(printf '%s' "$salt" | base64 -w0)"$'\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: cram-md5" "Auth-User: alice" \
		"Auth-Pass: $(hmac_md5 secret "$salt")" "Auth-Salt: $salt" "${SMTP_TAIL[@]}"
	[ "$(transcript "$BE_SMTP")" = "$XCLIENT_ALICE"$'EHLO client.test\r\nQUIT\r' ]
}

@test "SMTP smtp_auth none: asked at RCPT TO with Auth-Method: none and Auth-SMTP-Helo/-From/-To; the backend gets the envelope" {
	mp smtp ok --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
MAIL FROM:<a@x.test> SIZE=100
RCPT TO:<b@y.test> NOTIFY=NEVER
RCPT TO:<c@y.test>
QUIT"
	[ "$output" = $'220 mx.test ESMTP ready\r\n250 mx.test\r\n250 2.0.0 OK\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n221 2.0.0 Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: none" "Auth-User: " "Auth-Pass: " "${SMTP_TAIL[@]}" \
		"Auth-SMTP-Helo: client.test" "Auth-SMTP-From: MAIL FROM:<a@x.test> SIZE=100" \
		"Auth-SMTP-To: RCPT TO:<b@y.test> NOTIFY=NEVER"
	[ "$(count ok)" = 1 ]
	[ "$(transcript "$BE_SMTP")" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]\r\nEHLO client.test\r\nMAIL FROM:<a@x.test> SIZE=100\r\nRCPT TO:<b@y.test> NOTIFY=NEVER\r\nRCPT TO:<c@y.test>\r\nQUIT\r' ]
}

@test "POP3 USER/PASS: the request (no Client-Host); the backend gets USER and PASS" {
	mp pop3 ok
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$output" = "$G_POP3"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${POP3_TAIL[@]}"
	[ "$(transcript "$BE_POP3")" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
	[ "$(exit_status)" = 0 ]
}

@test "POP3 AUTH PLAIN" {
	mp pop3 ok
	run q pop3_chat "$MPPORT" <<<"AUTH PLAIN $PLAIN
QUIT"
	[ "$output" = "$G_POP3"$'+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${POP3_TAIL[@]}"
	[ "$(transcript "$BE_POP3")" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
}

@test "POP3 APOP: the greeting's timestamp is Auth-Salt; the service's Auth-Pass goes to the backend" {
	mp pop3 ok --pop3-auth='plain apop cram-md5'
	run q sasl_chat pop3 "$MPPORT" <<<$'@apop alice secret\nQUIT'
	salt=$(last_salt)
	[[ $salt =~ ^\<[0-9]+\.[0-9]+@mx\.test\>$ ]]
	[ "$output" = "+OK POP3 ready $salt"$'\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: apop" "Auth-User: alice" \
		"Auth-Pass: $(md5hex "${salt}secret")" "Auth-Salt: $salt" "${POP3_TAIL[@]}"
	[ "$(transcript "$BE_POP3")" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
}

@test "POP3 AUTH CRAM-MD5: the challenge is the greeting's timestamp, which is Auth-Salt" {
	mp pop3 ok --pop3-auth='plain apop cram-md5'
	run q sasl_chat pop3 "$MPPORT" <<<$'AUTH CRAM-MD5\n@cram alice secret\nQUIT'
	salt=$(last_salt)
	[[ $salt =~ ^\<[0-9]+\.[0-9]+@mx\.test\>$ ]]
	[ "$output" = "+OK POP3 ready $salt"$'\r\n'"+ $(printf '%s' "$salt" | base64 -w0)"$'\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: cram-md5" "Auth-User: alice" \
		"Auth-Pass: $(hmac_md5 secret "$salt")" "Auth-Salt: $salt" "${POP3_TAIL[@]}"
	[ "$(transcript "$BE_POP3")" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
}

@test "IMAP LOGIN: the request; the backend gets LOGIN under the client's tag" {
	mp imap ok
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$output" = "$G_IMAP"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${IMAP_TAIL[@]}"
	[ "$(transcript "$BE_IMAP")" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
	[ "$(exit_status)" = 0 ]
}

@test "IMAP AUTHENTICATE PLAIN, with and without an initial response" {
	mp imap ok
	run q imap_chat "$MPPORT" <<<"a AUTHENTICATE PLAIN $PLAIN
b LOGOUT"
	[ "$output" = "$G_IMAP"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
	run q sasl_chat imap "$MPPORT" <<<"c AUTHENTICATE PLAIN
$PLAIN
d LOGOUT"
	[ "$output" = "$G_IMAP"$'+ \r\nc OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nd OK LOGOUT completed\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${IMAP_TAIL[@]}"
	req_is ok 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${IMAP_TAIL[@]}"
	[ "$(transcript "$BE_IMAP")" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r\nc LOGIN "alice" "secret"\r\nd LOGOUT\r' ]
}

@test "IMAP AUTHENTICATE CRAM-MD5: Auth-Salt, the digest; the service's password goes to the backend" {
	mp imap ok --imap-auth='plain cram-md5'
	run q sasl_chat imap "$MPPORT" <<<$'a AUTHENTICATE CRAM-MD5\n@cram alice secret\nb LOGOUT'
	salt=$(last_salt)
	[[ $salt =~ ^\<[0-9]+\.[0-9]+@mx\.test\>$ ]]
	[ "$output" = "$G_IMAP""+ $(printf '%s' "$salt" | base64 -w0)"$'\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: cram-md5" "Auth-User: alice" \
		"Auth-Pass: $(hmac_md5 secret "$salt")" "Auth-Salt: $salt" "${IMAP_TAIL[@]}"
	[ "$(transcript "$BE_IMAP")" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
}

@test "--auth-http-header: one, two (repeated), and from the environment; last before the blank line" {
	mp smtp ok --auth-http-header='X-Auth-Key: s3cr3t'
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	[[ $output == *$'235 2.0.0 OK\r\n'* ]]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}" \
		"X-Auth-Key: s3cr3t"
	mp pop3 ok --auth-http-header='X-Auth-Key: s3cr3t' --auth-http-header='X-Two: a b  c'
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[[ $output == *$'+OK Logged in.\r\n'* ]]
	req_is ok 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${POP3_TAIL[@]}" \
		"X-Auth-Key: s3cr3t" "X-Two: a b  c"
	# the environment of the launcher: a tcpserver of its own
	MPPORT=$(free_port)
	printf '%s\n' "$T/mp.log" --protocol=smtp --auth-http="http://127.0.0.1:$AP_ok/auth" \
		--server-name=mx.test --smtp-auth=none >"$T/ctl"
	MAILPROXY_AUTH_HTTP_HEADER=$'X-Auth-Key: s3cr3t\nX-Two: 2' LAUNCH_CMD=$F/mp.sh \
		launch_tcpserver "$MPPORT" "$T/ctl"
	run q smtp_chat "$MPPORT" <<<$'HELO client.test\nMAIL FROM:<a@x.test>\nRCPT TO:<b@y.test>\nQUIT'
	[[ $output == *$'250 2.1.5 Ok\r\n221 2.0.0 Bye\r' ]]
	req_is ok 3 "${HEAD[@]}" "Auth-Method: none" "Auth-User: " "Auth-Pass: " "${SMTP_TAIL[@]}" \
		"Auth-SMTP-Helo: client.test" "Auth-SMTP-From: MAIL FROM:<a@x.test>" "Auth-SMTP-To: RCPT TO:<b@y.test>" \
		"X-Auth-Key: s3cr3t" "X-Two: 2"
}

@test "--auth-http-header as nginx's NAME VALUE and as NAME: VALUE: NAME: VALUE on the wire; a bad one: exit 64" {
	mp pop3 ok --auth-http-header='X-Type proxy' --auth-http-header='X-Auth-Key "s3 cr3t"' \
		--auth-http-header='X-Colon:v' --auth-http-header=$'X-Tab: a\tb'
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$output" = "$G_POP3"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${POP3_TAIL[@]}" \
		"X-Type: proxy" 'X-Auth-Key: "s3 cr3t"' "X-Colon: v" $'X-Tab: a\tb'
	# the environment: one header a line, either form
	MPPORT=$(free_port)
	printf '%s\n' "$T/mp.log" --protocol=pop3 --auth-http="http://127.0.0.1:$AP_ok/auth" \
		--server-name=mx.test >"$T/ctl"
	MAILPROXY_AUTH_HTTP_HEADER=$'X-Type proxy\nX-Auth-Key: s3cr3t' LAUNCH_CMD=$F/mp.sh \
		launch_tcpserver "$MPPORT" "$T/ctl"
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$output" = "$G_POP3"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${POP3_TAIL[@]}" \
		"X-Type: proxy" "X-Auth-Key: s3cr3t"
	[ "$(count ok)" = 2 ]
	# a name that is no HTTP token, no value, a control byte: refused at start
	for bad in 'X(1): v' 'X-A' 'X-A : v' ' X-A: v' $'X-A: v\r' $'X-A v\nX-B: w' $'X-A: \001'; do
		run "$MP" --protocol=pop3 --auth-http=http://127.0.0.1:1/ --auth-http-header="$bad" </dev/null
		echo "$(printf %q "$bad"): $status $output"
		[ "$status" -eq 64 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == "mailproxy: --auth-http-header: header "* ]]
	done
	run env MAILPROXY_AUTH_HTTP_HEADER=$'X-A: 1\nX(2) 2' "$MP" --protocol=pop3 \
		--auth-http=http://127.0.0.1:1/ </dev/null
	[ "$status" -eq 64 ]
	[ "$output" = 'mailproxy: MAILPROXY_AUTH_HTTP_HEADER: header "X(": the name is not an HTTP token (use NAME: VALUE or NAME VALUE)' ]
}

@test "Auth-User/Auth-Pass: control bytes, space and % are %XX-escaped, DEL and 8-bit bytes are not" {
	mp smtp any
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0u s%%er\0a\tb\001c\177d\377e"f\\g')
QUIT"
	# (the service hands the password back as Auth-Pass as it is, a tab,
	# a ^A and a DEL in it: taken, as nginx takes it)
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is any 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: u%20s%25er" \
		$'Auth-Pass: a%09b%01c\177d\377e"f\\g' "${SMTP_TAIL[@]}"
	# and the service decodes them: bob's password is accepted
	mp pop3 ok
	run q pop3_chat "$MPPORT" <<<$'USER bob\nPASS p a%s\351x\nQUIT'
	[ "$output" = "$G_POP3"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is ok 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: bob" $'Auth-Pass: p%20a%25s\351x' "${POP3_TAIL[@]}"
	[ "$(transcript "$BE_POP3")" = $'USER bob\r\nPASS p a%s\351x\r\nQUIT\r' ]
}

# ---------------------------------------------------------------- answers

@test "OK with Auth-User/Auth-Pass: the backend login uses the service's, verbatim" {
	# the service answers Auth-User: carol and Auth-Pass: p%20a%25s\351x
	# (escaped, which nginx does not decode either)
	mp smtp rename
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0bob\0p a%%s\351x')
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(transcript "$BE_SMTP")" = $'EHLO mx.test\r\nXCLIENT ADDR=127.0.0.1 LOGIN=carol NAME=[UNAVAILABLE]\r\nEHLO client.test\r\nQUIT\r' ]
	mp pop3 rename
	run q pop3_chat "$MPPORT" <<<$'USER bob\nPASS p a%s\351x\nQUIT'
	[ "$output" = "$G_POP3"$'+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	[ "$(transcript "$BE_POP3")" = $'USER carol\r\nPASS p%20a%25s\351x\r\nQUIT\r' ]
	mp imap rename
	run q imap_chat "$MPPORT" <<<$'a LOGIN bob "p a%s\351x"\nb LOGOUT'
	[[ $output == "$G_IMAP"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	grep -q "login user=$(printf carol | od -An -tx1 | tr -d ' \n') pass=$(printf 'p%%20a%%25s\351x' | od -An -tx1 | tr -d ' \n')" \
		"$F/fake-$BE_IMAP.log"
	[ "$(count rename)" = 3 ]
}

@test "with --backend as well, the auth service decides" {
	spare=$(free_port)
	start_fake_smtp "$spare" --multi
	mp smtp ok --backend="127.0.0.1:$spare"
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(transcript "$BE_SMTP")" = "$XCLIENT_ALICE"$'EHLO client.test\r\nQUIT\r' ]
	! grep -q connect "$T/fake-$spare.log" || false
}

@test "SMTP refused without Auth-Wait: 535 5.7.0 <text>, closed, exit 0, 'login refused' logged, backend untouched" {
	mp smtp fail
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	# closed right after the reply: no answer to QUIT
	[ "$output" = "$EHLO"$'535 5.7.0 Invalid login or password\r' ]
	[ "$(exit_status)" = 0 ]
	mplog | grep -Eq 'smtp client=127\.0\.0\.1:[0-9]+ user="alice" login refused: Invalid login or password$'
	mplog | grep -q 'outcome="auth service refused: Invalid login or password"'
	[ "$(count fail)" = 1 ]
	untouched "$BE_SMTP"
}

@test "SMTP refused with Auth-Error-Code: its code instead of 535 5.7.0" {
	mp smtp code
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	[ "$output" = "$EHLO"$'535 5.7.8 Invalid login or password\r' ]
	untouched "$BE_SMTP"
}

@test "POP3 refused: -ERR <text> and close; IMAP refused: <tag> NO <text> and close" {
	mp pop3 fail
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$output" = "$G_POP3"$'+OK\r\n-ERR Invalid login or password\r' ]
	[ "$(exit_status)" = 0 ]
	mplog | grep -Eq 'pop3 client=127\.0\.0\.1:[0-9]+ user="alice" login refused: Invalid login or password$'
	mp imap fail
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$output" = "$G_IMAP"$'a NO Invalid login or password\r' ]
	[ "$(exit_status)" = 0 ]
	mplog | grep -Eq 'imap client=127\.0\.0\.1:[0-9]+ user="alice" login refused: Invalid login or password$'
	# the service's error code is for SMTP only
	mp pop3 code
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret'
	[ "$output" = "$G_POP3"$'+OK\r\n-ERR Invalid login or password\r' ]
	untouched "$BE_POP3"
	untouched "$BE_IMAP"
}

@test "Auth-Wait: 0 is no Auth-Wait (as in nginx): the refusal closes" {
	mp smtp wait0
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
AUTH PLAIN $PLAIN"
	[ "$output" = "$EHLO"$'535 5.7.0 Invalid login or password\r' ]
	[ "$(count wait0)" = 1 ]
	untouched "$BE_SMTP"
}

@test "SMTP refused with Auth-Wait: 1: the reply after 1 s, the session goes on, attempt 2 succeeds" {
	mp smtp wait1
	run q sasl_chat smtp "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
AUTH PLAIN $PLAIN
QUIT"
	[ "$status" -eq 0 ]
	# the refusal waited a second, the rest did not
	cat "$T/sasl.times"
	(($(took 2) >= 950 && $(took 2) < 2000))
	(($(took 3) < 950))
	[ "$output" = "$EHLO"$'535 5.7.0 Invalid login or password\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	req_is wait1 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: wrong" "${SMTP_TAIL[@]}"
	req_is wait1 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" \
		"Auth-Protocol: smtp" "Auth-Login-Attempt: 2" "Client-IP: 127.0.0.1" "Client-Host: [UNAVAILABLE]"
	# the backend saw only the login that was allowed
	[ "$(transcript "$BE_SMTP")" = "$XCLIENT_ALICE"$'EHLO client.test\r\nQUIT\r' ]
	[ "$(grep -c connect "$F/fake-$BE_SMTP.log")" = 1 ]
	mplog | grep -q 'user="alice" login refused: Invalid login or password'
	[ "$(exit_status)" = 0 ]
}

@test "POP3 and IMAP refused with Auth-Wait: 1: the same" {
	mp pop3 wait1
	run q sasl_chat pop3 "$MPPORT" <<<$'USER alice\nPASS wrong\nUSER alice\nPASS secret\nQUIT'
	[ "$status" -eq 0 ]
	(($(took 2) >= 950 && $(took 2) < 2000))
	[ "$output" = "$G_POP3"$'+OK\r\n-ERR Invalid login or password\r\n+OK\r\n+OK Logged in.\r\n+OK Bye\r' ]
	req_is wait1 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" \
		"Auth-Protocol: pop3" "Auth-Login-Attempt: 2" "Client-IP: 127.0.0.1"
	[ "$(transcript "$BE_POP3")" = $'USER alice\r\nPASS secret\r\nQUIT\r' ]
	mp imap wait1
	rm -f "$T/sasl.times"
	run q sasl_chat imap "$MPPORT" <<<$'a LOGIN alice wrong\nb LOGIN alice secret\nc LOGOUT'
	[ "$status" -eq 0 ]
	(($(took 1) >= 950 && $(took 1) < 2000))
	[ "$output" = "$G_IMAP"$'a NO Invalid login or password\r\nb OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nc OK LOGOUT completed\r' ]
	req_is wait1 4 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" \
		"Auth-Protocol: imap" "Auth-Login-Attempt: 2" "Client-IP: 127.0.0.1"
	[ "$(transcript "$BE_IMAP")" = $'b LOGIN "alice" "secret"\r\nc LOGOUT\r' ]
}

@test "Auth-Wait never holds a session past --login-timeout" {
	mp smtp wait30 --login-timeout=2s
	start=$(date +%s%N)
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')"
	ms=$((($(date +%s%N) - start) / 1000000))
	((ms >= 1500 && ms < 6000))
	[ "$output" = "$EHLO"$'535 5.7.0 Invalid login or password\r\n421 4.4.2 Timeout, closing connection\r' ]
	untouched "$BE_SMTP"
}

@test "Auth-Status: WAIT: asked again after Auth-Wait, Auth-Login-Attempt unchanged" {
	mp smtp waitstatus
	run q sasl_chat smtp "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	(($(took 2) >= 950 && $(took 2) < 2000))
	[ "$output" = "$EHLO"$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	[ "$(count waitstatus)" = 2 ]
	req_is waitstatus 1 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	req_is waitstatus 2 "${HEAD[@]}" "Auth-Method: plain" "Auth-User: alice" "Auth-Pass: secret" "${SMTP_TAIL[@]}"
	[ "$(transcript "$BE_SMTP")" = "$XCLIENT_ALICE"$'EHLO client.test\r\nQUIT\r' ]
}

@test "Auth-Status: OK and a refusal, in either order: refused, and no backend is contacted" {
	local svc
	for svc in okrefused refusedok; do
		# the password is wrong; the service says OK (with the backend and
		# the right password) and Invalid login or password
		mp smtp "$svc"
		run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
QUIT"
		echo "$svc smtp: $output" | cat -A
		[ "$output" = "$EHLO"$'535 5.7.0 Invalid login or password\r' ]
		[ "$(exit_status)" = 0 ]
		last_outcome | grep -q 'outcome="auth service refused: Invalid login or password"'
		mp pop3 "$svc"
		run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS wrong\nQUIT'
		echo "$svc pop3: $output" | cat -A
		[ "$output" = "$G_POP3"$'+OK\r\n-ERR Invalid login or password\r' ]
		[ "$(exit_status)" = 0 ]
		mp imap "$svc"
		run q imap_chat "$MPPORT" <<<$'a LOGIN alice wrong\nb LOGOUT'
		echo "$svc imap: $output" | cat -A
		[ "$output" = "$G_IMAP"$'a NO Invalid login or password\r' ]
		[ "$(exit_status)" = 0 ]
		[ "$(count "$svc")" = 3 ]
		[ "$(mplog | grep -c 'user="alice" login refused: Invalid login or password$')" = 3 ]
		: >"$T/mp.log"
	done
	untouched "$BE_SMTP" && untouched "$BE_POP3" && untouched "$BE_IMAP"
}

@test "no HTTP status line, or Auth-Port: +PORT (a sign): temporary failure" {
	fault nostatusline "auth service 127\.0\.0\.1:$AP_nostatusline sent a malformed response: no HTTP/1\.x status line"
	fault plusport 'auth service sent a bad Auth-Port .*\+[0-9]+'
}

# fault SERVICE LOG_ERE: every protocol gets its temporary failure, the
# session closes, exits 75, logs LOG_ERE, and no backend is touched
fault() {
	local svc=$1 why=$2
	mp smtp "$svc"
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
NOOP"
	echo "$svc smtp: $output" | cat -A
	[ "$output" = "$EHLO$TEMP_SMTP" ]
	[ "$(exit_status)" = 75 ]
	last_outcome | grep -Eq "outcome=\"$why"
	mp pop3 "$svc"
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nNOOP'
	echo "$svc pop3: $output" | cat -A
	[ "$output" = "$G_POP3"$'+OK\r\n'"$TEMP_POP3" ]
	[ "$(exit_status)" = 75 ]
	last_outcome | grep -Eq "outcome=\"$why"
	mp imap "$svc"
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb NOOP'
	echo "$svc imap: $output" | cat -A
	[ "$output" = "$G_IMAP$TEMP_IMAP" ]
	[ "$(exit_status)" = 75 ]
	last_outcome | grep -Eq "outcome=\"$why"
	untouched "$BE_SMTP" && untouched "$BE_POP3" && untouched "$BE_IMAP"
}

@test "a bad Auth-Server (no host name; a name that does not resolve) or Auth-Port: temporary failure" {
	fault badname 'auth service sent a bad Auth-Server .*mail_server\.example\.test.*it must be an IP address or a host name'
	fault badserver "backend mail\.example\.test:[0-9]+: "
	fault badport 'auth service sent a bad Auth-Port .*0'
}

@test "garbage, no Auth-Status (nginx would let it through), too big: temporary failure" {
	fault garbage "auth service 127\.0\.0\.1:$AP_garbage sent a malformed response: no HTTP/1\.x status line"
	fault nostatus 'auth service sent no Auth-Status'
	fault bigheaders "auth service 127\.0\.0\.1:$AP_bigheaders sent too much"
}

@test "a service that closes without answering, or is not there: temporary failure" {
	fault close "auth service 127\.0\.0\.1:$AP_close closed the connection without answering"
	fault none "auth service 127\.0\.0\.1:$AP_none: Connection refused"
}

@test "a slow service with --auth-http-timeout=1s: temporary failure within 1-2 s, never a hang" {
	for p in smtp pop3 imap; do
		mp "$p" slow --auth-http-timeout=1s
		rm -f "$T/sasl.times"
		case $p in
		smtp) run q sasl_chat smtp "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN"
			[ "$output" = "$EHLO$TEMP_SMTP" ] ;;
		pop3) run q sasl_chat pop3 "$MPPORT" <<<$'USER alice\nPASS secret'
			[ "$output" = "$G_POP3"$'+OK\r\n'"$TEMP_POP3" ] ;;
		imap) run q sasl_chat imap "$MPPORT" <<<$'a LOGIN alice secret'
			[ "$output" = "$G_IMAP$TEMP_IMAP" ] ;;
		esac
		ms=$(tail -n 1 "$T/sasl.times" | cut -d' ' -f1)
		echo "$p: $ms ms"
		((ms >= 950 && ms < 2000))
		[ "$(exit_status)" = 75 ]
		last_outcome | grep -q "outcome=\"auth service 127.0.0.1:$AP_slow timed out\""
	done
	untouched "$BE_SMTP" && untouched "$BE_POP3" && untouched "$BE_IMAP"
}

@test "APOP and CRAM-MD5 with no Auth-Pass from the service: temporary failure" {
	# cr's password holds a CR: the service accepts the digest but can not
	# send it back as Auth-Pass, so it leaves it out
	mp pop3 ok --pop3-auth='plain apop cram-md5'
	run q sasl_chat pop3 "$MPPORT" <<<$'@apop cr x\\ry\nQUIT'
	[[ $output =~ ^'+OK POP3 ready <'[^$'\r']*$'>\r\n'"$TEMP_POP3"$ ]]
	[ "$(exit_status)" = 75 ]
	last_outcome | grep -q 'outcome="auth service sent no Auth-Pass after apop"'
	grep -q ' -> OK$' "$F/auth-ok.log"
	mp imap ok --imap-auth='plain cram-md5'
	run q sasl_chat imap "$MPPORT" <<<$'a AUTHENTICATE CRAM-MD5\n@cram cr x\\ry'
	[[ $output == "$G_IMAP+ "*$'\r\n'"$TEMP_IMAP" ]]
	[ "$(exit_status)" = 75 ]
	last_outcome | grep -q 'outcome="auth service sent no Auth-Pass after cram-md5"'
	mp smtp ok --smtp-auth='plain cram-md5'
	run q sasl_chat smtp "$MPPORT" <<<$'EHLO client.test\nAUTH CRAM-MD5\n@cram cr x\\ry'
	[[ $output == *$'\r\n334 '*$'\r\n'"$TEMP_SMTP" ]]
	[ "$(exit_status)" = 75 ]
	last_outcome | grep -q 'outcome="auth service sent no Auth-Pass after cram-md5"'
	[ "$(grep -c ' -> OK$' "$F/auth-ok.log")" = 3 ]
	untouched "$BE_SMTP" && untouched "$BE_POP3" && untouched "$BE_IMAP"
}

@test "--auth-http with a bad URL: exit 64; a connected client is told to come back" {
	for u in 'https://h:0/auth' 'https://unix:/x' 'unix:' 'unix:/x:auth' 'ftp://h/' 'http://' 'http://h:/auth' 'http://h:0/' \
		'http://h:65536/' 'http://h:8x/' 'http://[::1/auth' 'http://h/a b'; do
		run "$MP" --protocol=smtp --auth-http="$u" </dev/null
		echo "$u: $status $output"
		[ "$status" -eq 64 ]
		[[ $output == *"--auth-http: bad URL"* ]]
	done
	mp_args smtp --protocol=smtp --auth-http='http://127.0.0.1:0/auth'
	run q smtp_chat "$MPPORT" <<<'QUIT'
	[ "$output" = $'421 4.3.0 Service temporarily unavailable\r' ]
	[ "$(exit_status)" = 64 ]
	mplog | grep -q 'bad URL'
}

@test "credentials never reach mailproxy's log" {
	mp smtp ok --smtp-auth='plain login cram-md5'
	run q sasl_chat smtp "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $PLAIN
QUIT"
	run q sasl_chat smtp "$MPPORT" <<<"EHLO client.test
AUTH CRAM-MD5
@cram alice secret
QUIT"
	digest=$(hmac_md5 secret "$(last_salt)")
	mp pop3 fail
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret'
	mp imap slow --auth-http-timeout=1s
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
	exit_status
	[ "$(mplog | grep -c 'outcome=')" = 4 ]
	[ "$(mplog | grep -c 'user="alice"')" -ge 4 ]
	! mplog | grep -e secret -e "$PLAIN" -e "$digest" -e "$(b64 secret)" || false
}

# ---------------------------------------------------------------- TLS (issue 15)

load lib/certs

# tls_login PORT CRT KEY: IMAP LOGIN over implicit TLS with that client
# certificate (openssl s_client); prints what the client got
tls_login() {
	{
		sleep 0.3
		printf 'a LOGIN alice secret\r\n'
		sleep 1
		printf 'b LOGOUT\r\n'
	} | timeout 10 openssl s_client -connect "127.0.0.1:$1" -quiet \
		-CAfile "$CERTS_CA" -cert "$2" -key "$3" 2>/dev/null || :
}

# big_cert DIR: DIR/big.crt and .key, a client certificate of the client CA
# with 250 names: over 8 KiB once escaped for Auth-SSL-Cert
big_cert() {
	local i san=
	for i in $(seq 250); do san+="DNS:host-$i.a-rather-long-name.example,"; done
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/big.key" -subj /CN=big -out "$1/big.csr" 2>/dev/null &&
		openssl x509 -req -in "$1/big.csr" -CA "$CERTS_CLIENT_CA" \
			-CAkey "$CERTS_CLIENT_CA_KEY" -set_serial 7 -days 2 -out "$1/big.crt" \
			-extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=clientAuth\n' "${san%,}") 2>/dev/null
}

@test "TLS with auth_http_pass_client_cert: Auth-SSL-Cert whole; a certificate over 8 KiB escaped fails closed and the log says why" {
	certs_make
	mp imap ok --ssl=on --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY" \
		--ssl-verify-client=on --ssl-client-certificate="$CERTS_CLIENT_CA" \
		--auth-http-pass-client-cert=on
	run tls_login "$MPPORT" "$CERTS_ALICE_CRT" "$CERTS_ALICE_KEY"
	[[ $output == *$'\na OK '* ]]
	[ "$(count ok)" = 1 ]
	req ok | grep -aq "^Auth-SSL-Cert: $(sed 's/ /%20/g; s/$/%0A/' "$CERTS_ALICE_CRT" | tr -d '\n')"$'\r$'
	req ok | grep -aq $'^Auth-SSL-Verify: SUCCESS\r$'
	big_cert "$T"
	(($(sed 's/ /%20/g; s/$/%0A/' "$T/big.crt" | tr -d '\n' | wc -c) > 8192))
	run tls_login "$MPPORT" "$T/big.crt" "$T/big.key"
	[[ $output == *$'\n* BAD internal server error\r'* ]]
	[ "$(count ok)" = 1 ]
	[ "$(exit_status)" != 0 ]
	last_outcome | grep -q 'client certificate too large for auth_http: [0-9]* bytes escaped, at most 8192'
}
