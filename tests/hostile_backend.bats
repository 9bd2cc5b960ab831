#!/usr/bin/env bats
# The far side misbehaves (issue 17 item 2): backends that close in every
# state of the handshake, that send too much or never stop, that never
# answer or never read; auth_http services that answer huge, malformed or
# slow; DNS servers that answer names no host may have and replies no
# resolver should take.  The real binary runs under tcpserver, through
# tests/lib/peak_rss.py, so that every row also asserts how the process
# ended (no signal, its exit status), how long it lived and its peak RSS.
#
# What other files already cover, and is not repeated here:
#   tests/deadlines.bats  a backend that stops reading (or floods) during
#                         the SMTP relay; a slow SMTP greeting against
#                         --login-timeout
#   tests/auth_http.bats  garbage, no status line, Auth-Port +N and 0,
#                         Auth-Server no host name or not resolving, no
#                         Auth-Status, 10 KB of headers, close without an
#                         answer, nothing listening, a service that sleeps
#                         past --auth-http-timeout (the fault helper)
#   tests/resolver.bats   SERVFAIL, REFUSED, no answer, truncated (TC) and
#                         asked again over TCP, CNAME followed, names with
#                         CR LF, "=", "_", a dot in a label, NUL inside a
#                         label, 8-bit, too long as text, numeric
# The fakes are tests/lib/fake_{smtp,pop3,imap}.py (--close, --close-on,
# --flood-after, --flood-line, --stall-after, --silent, --greeting-file),
# fake_auth_http.py (--mode raw, --drip) and fake_dns.py (!ptrloop ...).

load lib/common
load lib/certs

# A session's peak RSS stays under this (KiB) in the normal build, whatever
# the far side sends: the buffers are bounded.  The sanitizer build's
# shadow memory and memcheck's state are no measure of that: there the
# bound is not asserted (common.bash's MP_KIND).
RSS_CEIL_KB=16384

setup_file() { certs_make; }

setup() {
	common_setup
	fresh
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

# fresh: stop everything, new ports, no records
fresh() {
	stop_launchers
	BE=$(free_port)
	MPPORT=$(free_port)
	: >"$T/rss"
}

# fake PROTO ARGS...: the fake PROTO backend on $BE, its events in $T/be.log
fake() {
	local proto=$1
	shift
	: >"$T/be.log"
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$proto.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" \
	    --log "$T/be.log" "$@" && wait_for_file "$T/fake-$BE.ready"
}

# mp PROTO ARGS...: mailproxy for PROTO on $MPPORT towards the fake,
# each session under peak_rss.py (its line in $T/rss)
mp() {
	local proto=$1
	shift
	printf '#!/bin/sh\nexec %q %q %q %q "$@"\n' "$PYTHON" \
	    "$TESTLIB/peak_rss.py" "$T/rss" "$(readlink -f "$MP")" >"$T/rss.sh"
	chmod 755 "$T/rss.sh"
	LAUNCH_CMD=$T/rss.sh launch_tcpserver "$MPPORT" --protocol="$proto" \
	    --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --proxy-ssl-trusted-certificate="$CERTS_CA" "$@"
}

q() { "$@" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log" 2>/dev/null; }
# the base64 of "\0alice\0secret", and of "\0alice\0s\351cret" (8-bit: the
# backend's LOGIN carries it as a literal)
PLAIN=AGFsaWNlAHNlY3JldA==
PLAIN8=AGFsaWNlAHPpY3JldA==

TEMP_SMTP=$'451 4.3.2 Internal server error\r'
TEMP_POP3=$'-ERR internal server error\r'
TEMP_IMAP=$'* BAD internal server error\r'

# login KIND: a client that logs in the KIND way, up to the backend's
# dialogue; $output holds what it got.  KIND: smtp (EHLO, AUTH PLAIN),
# smtpnone (HELO, MAIL, RCPT: --smtp-auth=none), pop3 (USER, PASS), imap
# (LOGIN), imapauth (AUTHENTICATE PLAIN), imap8 (the same, 8-bit password)
login() {
	case $1 in
	smtp) run q smtp_chat "$MPPORT" --timeout 20 <<<$'EHLO c\nAUTH PLAIN '"$PLAIN" ;;
	smtpnone) run q smtp_chat "$MPPORT" --timeout 20 <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>' ;;
	pop3) run q pop3_chat "$MPPORT" --timeout 20 <<<$'USER alice\nPASS secret' ;;
	imap) run q imap_chat "$MPPORT" --timeout 20 <<<'a LOGIN alice secret' ;;
	imapauth) run q imap_chat "$MPPORT" --timeout 20 <<<"a AUTHENTICATE PLAIN $PLAIN" ;;
	imap8) run q imap_chat "$MPPORT" --timeout 20 <<<"a AUTHENTICATE PLAIN $PLAIN8" ;;
	esac
}

# temp KIND: true when $output ends with KIND's temporary failure, and
# nothing after it
temp() {
	local want
	case $1 in
	smtp*) want=$TEMP_SMTP ;;
	pop3*) want=$TEMP_POP3 ;;
	imap*) want=$TEMP_IMAP ;;
	esac
	[[ $output == *$'\n'"$want" ]] || { echo "client got: $(cat -A <<<"$output" | tail -c 600)"; return 1; }
}

# ended EXIT MAX_MS: the one session ended with exit status EXIT (no
# signal) within MAX_MS of its start, its peak RSS under RSS_CEIL_KB
ended() {
	local line ms kb
	wait_log "$T/rss" ' (exit|signal)=' $((${2} / 1000 + 5)) || return 1
	line=$(tail -n 1 "$T/rss")
	echo "session: $line"
	[[ $line == *" exit=$1" ]] || { echo "want exit=$1"; return 1; }
	ms=${line#* ms=} ms=${ms%% *}
	kb=${line#* hwm_kb=} kb=${kb%% *}
	((ms <= $2 + SLOW_MS)) || { echo "lived ${ms} ms, over $2 + $SLOW_MS"; return 1; }
	[[ $MP_KIND != normal ]] || ((kb < RSS_CEIL_KB)) || { echo "peak RSS ${kb} KiB, over $RSS_CEIL_KB"; return 1; }
}

# outcome RESULT ERE: the session's log line says result=RESULT and an
# outcome matching ERE
outcome() {
	wait_log "$T/tcpserver-$MPPORT.log" "result=$1 outcome=\"$2" 5
}

# row PROTO|KIND|FAKE ARGS|MP ARGS|OUTCOME ERE: one row of a table: the fake
# with FAKE ARGS, mailproxy with MP ARGS, the KIND login; the client gets
# its temporary failure, the session exits 75 within 3 s (the fault is at
# once), result=backend-error with an outcome matching ERE
row() {
	local proto kind fargs margs why fa ma
	IFS='|' read -r proto kind fargs margs why <<<"$1"
	echo "# row: $1"
	eval "fa=($fargs)"
	eval "ma=($margs)"
	fresh
	fake "$proto" "${fa[@]}"
	mp "$proto" "${ma[@]}"
	login "$kind"
	temp "$kind"
	ended 75 "${MAX_MS:-3000}"
	outcome backend-error "$why"
}

# rows: row for each line of stdin (blank lines and # comments skipped)
rows() {
	local l
	while IFS= read -r l; do
		[[ -z $l || $l == '#'* ]] && continue
		row "$l"
	done
}

STLS_ARGS='--starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"'

# --- The backend closes in every state of the handshake -------------------

@test "SMTP: a backend that closes in each handshake state: 451 4.3.2, exit 75, backend-error" {
	rows <<-EOF
	smtp|smtp|--close|--proxy-smtp-auth=on|backend [^ ]+ closed the connection
	smtp|smtp|--close-on GREETING|--proxy-smtp-auth=on|backend [^ ]+ closed the connection
	smtp|smtp|--close-on EHLO|--proxy-smtp-auth=on|backend [^ ]+ closed the connection
	smtp|smtp|--close-on XCLIENT|--proxy-smtp-auth=on|backend [^ ]+ closed the connection
	smtp|smtp|--close-on EHLO#2|--proxy-smtp-auth=on|backend [^ ]+ closed the connection
	smtp|smtp|--close-on AUTH|--proxy-smtp-auth=on|backend [^ ]+ closed the connection
	smtp|smtp|--reply 'EHLO=250-fake\n250 AUTH LOGIN' --close-on AUTH|--proxy-smtp-auth=on --xclient=off|backend [^ ]+ closed the connection
	smtp|smtpnone|--close-on MAIL|--smtp-auth=none|backend [^ ]+ closed the connection
	smtp|smtpnone|--close-on RCPT|--smtp-auth=none|backend [^ ]+ closed the connection
	smtp|smtp|$STLS_ARGS --close-on EHLO|--proxy-smtp-auth=on --proxy-starttls=on|backend [^ ]+ closed the connection
	smtp|smtp|$STLS_ARGS --close-on STARTTLS|--proxy-smtp-auth=on --proxy-starttls=on|backend [^ ]+ closed the connection
	smtp|smtp|$STLS_ARGS --close-on TLS|--proxy-smtp-auth=on --proxy-starttls=on|backend [^ ]+: TLS handshake: the peer closed the connection
	smtp|smtp|$STLS_ARGS --close-on EHLO#2|--proxy-smtp-auth=on --proxy-starttls=on|backend [^ ]+ closed the connection
	EOF
}

@test "POP3: a backend that closes in each handshake state: -ERR, exit 75, backend-error" {
	rows <<-EOF
	pop3|pop3|--close||backend [^ ]+ closed the connection before the greeting
	pop3|pop3|--close-on GREETING||backend [^ ]+ closed the connection before the USER
	pop3|pop3|--close-on USER||backend [^ ]+ closed the connection before the USER
	pop3|pop3|--close-on PASS||backend [^ ]+ closed the connection before the PASS
	pop3|pop3|--close-on CAPA|--proxy-pop3-xclient=on|backend [^ ]+ closed the connection before the CAPA
	pop3|pop3|--greeting '+OK [XCLIENT] ready' --close-on XCLIENT|--proxy-pop3-xclient=on|backend [^ ]+ closed the connection before the XCLIENT
	pop3|pop3|$STLS_ARGS --close-on STLS|--proxy-starttls=on|backend [^ ]+ closed the connection before the STLS
	pop3|pop3|$STLS_ARGS --close-on TLS|--proxy-starttls=on|backend [^ ]+: TLS handshake: the peer closed the connection
	pop3|pop3|$STLS_ARGS --close-on USER|--proxy-starttls=on|backend [^ ]+ closed the connection before the USER
	EOF
}

@test "IMAP: a backend that closes in each handshake state: * BAD, exit 75, backend-error" {
	rows <<-EOF
	imap|imap|--close||backend [^ ]+ closed the connection \(the greeting\)
	imap|imap|--close-on GREETING||backend [^ ]+ closed the connection \(LOGIN\)
	imap|imap|--close-on ID|--proxy-imap-id=on|backend [^ ]+ closed the connection \(ID\)
	imap|imap|--close-on LOGIN||backend [^ ]+ closed the connection \(LOGIN\)
	imap|imapauth|--close-on LOGIN||backend [^ ]+ closed the connection \(LOGIN\)
	imap|imap8|--close-on LITERAL||backend [^ ]+ closed the connection \(LOGIN after a literal\)
	imap|imap|$STLS_ARGS --close-on STARTTLS|--proxy-starttls=on|backend [^ ]+ closed the connection \(STARTTLS\)
	imap|imap|$STLS_ARGS --close-on TLS|--proxy-starttls=on|backend [^ ]+: TLS handshake: the peer closed the connection
	imap|imap|$STLS_ARGS --close-on LOGIN|--proxy-starttls=on|backend [^ ]+ closed the connection \(LOGIN\)
	EOF
}

# --- The backend sends too much, or never stops, or nothing ---------------

# greetings PROTO: $T/one (a 1 MB greeting on one line) and $T/many (1 MB
# of greeting in 13000 lines: SMTP's multi-line 220-, IMAP's and POP3's
# lines after their one greeting line) for PROTO
greetings() {
	"$PYTHON" - "$1" "$T" <<-'PY'
	import sys
	proto, d = sys.argv[1], sys.argv[2]
	first, more = {"smtp": ("220 ", "220-"), "pop3": ("+OK ", "+OK "),
	               "imap": ("* OK ", "* OK ")}[proto]
	open(d + "/one", "w").write(first + "x" * (1 << 20) + "\n")
	lines = [more + "x" * 76] * 13000
	if proto == "smtp":
	    lines.append("220 the end")
	else:
	    lines.insert(0, first + "ready")
	open(d + "/many", "w").write("\n".join(lines) + "\n")
	PY
}

@test "a 1 MB greeting, on one line and on 13000: the temporary failure, memory bounded" {
	for p in smtp pop3 imap; do
		greetings "$p"
		case $p in
		smtp) long='sent a line longer than proxy_buffer'
		      many='sent a reply of over 100 lines' ;;
		pop3) long='sent a greeting reply longer than proxy_buffer'
		      many='sent lines it was not asked for, before USER' ;;
		imap) long='sent a line longer than proxy_buffer \(the greeting\)'
		      many='sent over 100 untagged responses \(LOGIN\)' ;;
		esac
		rows <<-EOF
		$p|$p|--greeting-file "$T/one"|--proxy-smtp-auth=on|backend [^ ]+ $long
		$p|$p|--greeting-file "$T/many"|--proxy-smtp-auth=on|backend [^ ]+ $many
		EOF
	done
}

@test "a reply that never ends (250-..., * OK ..., CAPA lines): the temporary failure at once, not at login_timeout" {
	rows <<-'EOF'
	smtp|smtp|--flood-after GREETING --flood-line 220-more|--proxy-smtp-auth=on|backend [^ ]+ sent a reply of over 100 lines
	smtp|smtp|--flood-after EHLO --flood-line 250-PIPELINING|--proxy-smtp-auth=on|backend [^ ]+ sent a reply of over 100 lines
	smtp|smtp|--flood-after XCLIENT --flood-line 220-more|--proxy-smtp-auth=on|backend [^ ]+ sent a reply of over 100 lines
	pop3|pop3|--reply CAPA=+OK --flood-after CAPA --flood-line X-CAPABILITY|--proxy-pop3-xclient=on|backend [^ ]+ sent a CAPA answer of over 100 lines
	imap|imap|--flood-after GREETING --flood-line '* OK still here'|--proxy-imap-id=on|backend [^ ]+ sent over 100 untagged responses \(ID\)
	imap|imap|--flood-after GREETING --flood-line '* OK still here'||backend [^ ]+ sent over 100 untagged responses \(LOGIN\)
	EOF
}

@test "a backend that never answers: the temporary failure at --timeout" {
	MAX_MS=4000 rows <<-'EOF'
	smtp|smtp|--silent|--proxy-smtp-auth=on --timeout=2s|backend [^ ]+ timed out
	pop3|pop3|--silent|--timeout=2s|backend [^ ]+ timed out waiting for the greeting reply
	imap|imap|--silent|--timeout=2s|backend [^ ]+ timed out \(the greeting\)
	smtp|smtp|--close-on EHLO --hold 30|--proxy-smtp-auth=on --timeout=2s|backend [^ ]+ timed out
	pop3|pop3|--close-on PASS --hold 30|--timeout=2s|backend [^ ]+ timed out waiting for the PASS reply
	imap|imap|--close-on LOGIN --hold 30|--timeout=2s|backend [^ ]+ timed out \(LOGIN\)
	EOF
}

# A backend that never reads, during the handshake, is one that never
# answers (our commands fit in any socket buffer): above.  During the
# relay, SMTP's is tests/deadlines.bats'; here POP3's and IMAP's.
@test "a backend that stops reading after the login: cut off at --proxy-timeout while the client uploads" {
	for p in pop3 imap; do
		fresh
		case $p in
		pop3) fake pop3 --stall-after PASS
		      script=$'@wait ^\\+OK\nUSER alice\n@wait ^\\+OK.*\\n\\+OK\nPASS secret\n@wait Logged in\n@upload' ;;
		imap) fake imap --stall-after LOGIN
		      script=$'@wait ^\\* OK\na LOGIN alice secret\n@wait Logged in\n@upload' ;;
		esac
		mp "$p" --proxy-timeout=1s
		run "$PYTHON" "$TESTLIB/hostile.py" "$MPPORT" --for 10 <<<"$script"
		echo "$p: $output"
		[ "$status" -eq 0 ]
		ended 0 4000
		outcome '[a-z-]+' 'proxy_timeout: the backend stopped reading'
	done
}

# --- The auth service answers huge, malformed or slow ---------------------

# answer NAME: $T/answer holds the auth service's answer NAME, an OK
# naming the fake backend on $BE but for what NAME breaks
answer() {
	"$PYTHON" - "$1" "$BE" "$T/answer" <<-'PY'
	import sys
	name, be, out = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
	def ok(status=b"HTTP/1.0 200 OK", server=b"127.0.0.1", port=be, extra=b""):
	    return (status + b"\r\n" + extra + b"Auth-Status: OK\r\nAuth-Server: " +
	            server + b"\r\nAuth-Port: " + port + b"\r\nAuth-Pass: secret\r\n\r\n")
	a = {
	    "headers-1mb": lambda: ok(extra=b"".join(b"X-Filler-%06d: %s\r\n" % (i, b"x" * 80)
	                                             for i in range(11000))),
	    "header-100kb": lambda: ok(extra=b"X-Big: " + b"x" * 102400 + b"\r\n"),
	    "http-2": lambda: ok(status=b"HTTP/2 200 OK"),
	    "http-0.9": lambda: ok(status=b"HTTP/0.9 200 OK"),
	    "http-1.10": lambda: ok(status=b"HTTP/1.10 200 OK"),
	    "http-lower": lambda: ok(status=b"http/1.0 200 OK"),
	    "status-nul": lambda: ok(status=b"HTTP/1.0 200 \0OK"),
	    "name-nul": lambda: ok(extra=b"X-A\0b: c\r\n"),
	    "value-nul": lambda: ok(extra=b"X-Ab: c\0d\r\n"),
	    "status-value-nul": lambda: ok().replace(b"Auth-Status: OK", b"Auth-Status: OK\0"),
	    "no-colon": lambda: ok(extra=b"Auth-Wait 3\r\n"),
	    "no-colon-status": lambda: ok().replace(b"Auth-Status: OK", b"Auth-Status OK"),
	    "bare-cr": lambda: ok(extra=b"X-A: b\rc\r\n"),
	    "port-abc": lambda: ok(port=b"abc"),
	    "port-70000": lambda: ok(port=b"70000"),
	    "port-65536": lambda: ok(port=b"65536"),
	    "port-minus": lambda: ok(port=b"-25"),
	    "port-empty": lambda: ok(port=b""),
	    "port-space": lambda: ok(port=be + b" 1"),
	    "port-long": lambda: ok(port=b"0" * 20 + be),
	    "server-ctl": lambda: ok(server=b"\x01\x02\x7f"),
	    "server-empty": lambda: ok(server=b""),
	    "server-space": lambda: ok(server=b"127.0.0.1 evil"),
	    "server-five": lambda: ok(server=b"1.2.3.4.5"),
	    "server-bracket": lambda: ok(server=b"[::1]"),
	    "server-long": lambda: ok(server=b"a" * 63 + (b"." + b"b" * 63) * 3),
	    "server-8bit": lambda: ok(server=b"caf\xe9.example.test"),
	    "cl-abc": lambda: ok(extra=b"Content-Length: abc\r\n"),
	    "cl-minus": lambda: ok(extra=b"Content-Length: -1\r\n"),
	    "cl-huge": lambda: ok(extra=b"Content-Length: 99999999999999999999\r\n"),
	    "cl-more": lambda: ok(extra=b"Content-Length: 100\r\n"),
	    "ok": lambda: ok(),
	}
	open(out, "wb").write(a[name]())
	PY
}

# amp PROTO ARGS...: mailproxy for PROTO asking the auth service on $AP
amp() {
	local proto=$1
	shift
	printf '#!/bin/sh\nexec %q %q %q %q "$@"\n' "$PYTHON" \
	    "$TESTLIB/peak_rss.py" "$T/rss" "$(readlink -f "$MP")" >"$T/rss.sh"
	chmod 755 "$T/rss.sh"
	LAUNCH_CMD=$T/rss.sh launch_tcpserver "$MPPORT" --protocol="$proto" \
	    --auth-http="http://127.0.0.1:$AP/auth" --server-name=mx.test "$@"
}

# arow PROTO|ANSWER|OUTCOME ERE|SERVICE ARGS|MP ARGS: the auth service
# answers ANSWER (see answer) with SERVICE ARGS; the PROTO client gets
# its temporary failure, the session exits 75, result=auth-error with
# an outcome matching ERE, and the backend is never contacted
arow() {
	local proto name why sargs margs sa ma
	IFS='|' read -r proto name why sargs margs <<<"$1"
	echo "# row: $1"
	eval "sa=($sargs)"
	eval "ma=($margs)"
	fresh
	AP=$(free_port)
	answer "$name"
	fake "$proto"
	spawn "auth-$AP" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" \
	    --requests "$T/auth.requests" --ready "$T/auth.ready" --log "$T/auth.log" \
	    --mode raw --raw "$T/answer" "${sa[@]}"
	wait_for_file "$T/auth.ready"
	rm -f "$T/auth.ready"
	amp "$proto" "${ma[@]}"
	login "$proto"
	temp "$proto"
	ended 75 "${MAX_MS:-3000}"
	outcome auth-error "$why"
	grep -q 'request 1 ' "$T/auth.log"
	! grep -q connect "$T/be.log" || { echo "the backend was contacted"; false; }
}

arows() {
	local l
	while IFS= read -r l; do
		[[ -z $l || $l == '#'* ]] && continue
		arow "$l"
	done
}

@test "auth_http: huge answers (1 MB of headers, one header of 100 KB): the temporary failure, no backend, memory bounded" {
	arows <<-'EOF'
	smtp|headers-1mb|auth service [^ ]+ sent too much
	pop3|headers-1mb|auth service [^ ]+ sent too much
	imap|header-100kb|auth service [^ ]+ sent too much
	smtp|header-100kb|auth service [^ ]+ sent too much
	EOF
}

@test "auth_http: malformed answers (status line, NUL, no colon, bare CR): the temporary failure, no backend, the log says what" {
	arows <<-'EOF'
	smtp|http-2|auth service [^ ]+ sent a malformed response: no HTTP/1\.x status line
	pop3|http-0.9|auth service [^ ]+ sent a malformed response: no HTTP/1\.x status line
	imap|http-1.10|auth service [^ ]+ sent a malformed response: no HTTP/1\.x status line
	smtp|http-lower|auth service [^ ]+ sent a malformed response: no HTTP/1\.x status line
	pop3|status-nul|auth service [^ ]+ sent a malformed response: no HTTP/1\.x status line
	imap|name-nul|auth service [^ ]+ sent a malformed response: no header: 
	smtp|value-nul|auth service [^ ]+ sent a malformed response: no header: 
	pop3|status-value-nul|auth service [^ ]+ sent a malformed response: no header: 
	imap|no-colon|auth service [^ ]+ sent a malformed response: no header: 
	smtp|no-colon-status|auth service [^ ]+ sent a malformed response: no header: 
	pop3|bare-cr|auth service [^ ]+ sent a malformed response: no header: 
	EOF
}

@test "auth_http: a bad Auth-Port or Auth-Server: the temporary failure, no backend, the log names it" {
	arows <<-'EOF'
	smtp|port-abc|auth service sent a bad Auth-Port .x22abc.x22
	pop3|port-70000|auth service sent a bad Auth-Port .x2270000.x22
	imap|port-65536|auth service sent a bad Auth-Port .x2265536.x22
	smtp|port-minus|auth service sent a bad Auth-Port .x22-25.x22
	pop3|port-empty|auth service said OK without Auth-Server and Auth-Port
	imap|port-space|auth service sent a bad Auth-Port .x22[0-9]+ 1.x22
	smtp|port-long|auth service [^ ]+ sent a malformed response: a bad value of Auth-Port
	pop3|server-ctl|auth service [^ ]+ sent a malformed response: a bad value of Auth-Server
	imap|server-empty|auth service said OK without Auth-Server and Auth-Port
	smtp|server-space|auth service sent a bad Auth-Server .x22127\.0\.0\.1 evil.x22: it must be an IP address or a host name
	pop3|server-five|auth service sent a bad Auth-Server .x221\.2\.3\.4\.5.x22: it must be an IP address or a host name
	imap|server-bracket|auth service sent a bad Auth-Server .x22\[::1\].x22: it must be an IP address or a host name
	smtp|server-long|auth service sent a bad Auth-Server .x22a{63}\.b{63}\.b{63}\.
	pop3|server-8bit|auth service sent a bad Auth-Server .x22caf.xe9\.example\.test.x22: it must be an IP address or a host name
	EOF
}

@test "auth_http: an answer that trickles a byte a second: the temporary failure at --auth-http-timeout" {
	MAX_MS=4000 arows <<-'EOF'
	smtp|ok|auth service [^ ]+ timed out|--drip 1|--auth-http-timeout=2s
	pop3|ok|auth service [^ ]+ timed out|--drip 1|--auth-http-timeout=2s
	imap|ok|auth service [^ ]+ timed out|--drip 1|--auth-http-timeout=2s
	EOF
}

# nginx reads no body from the auth service and so ignores Content-Length;
# so does mailproxy: the answer ends at its blank line, whatever the
# header says.  A bad one is no fault: the login goes on.
@test "auth_http: a bad Content-Length (abc, -1, 20 digits, more than sent) is ignored, as nginx does: the login goes on" {
	for name in cl-abc cl-minus cl-huge cl-more; do
		echo "# $name"
		fresh
		AP=$(free_port)
		answer "$name"
		fake pop3
		spawn "auth-$AP" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" \
		    --requests "$T/auth.requests" --ready "$T/auth.ready" \
		    --log "$T/auth.log" --mode raw --raw "$T/answer"
		wait_for_file "$T/auth.ready"
		rm -f "$T/auth.ready"
		amp pop3
		run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
		[[ $output == *$'+OK Logged in.\r\n+OK Bye\r' ]]
		ended 0 3000
		outcome ok ok
		grep -q '^PASS secret' "$T/fake-$BE.transcript"
	done
}

# --- The DNS answers names no host has, and replies no resolver takes -----

# drow WANT LOG RECORD...: fake_dns.py answers from RECORD...; a client
# from 127.0.0.1 logs in over SMTP (XCLIENT on, --resolver the fake): the
# login goes on, the backend's XCLIENT says NAME=WANT, mailproxy's log has
# a line matching the ERE LOG ("-": no resolver line at all), the session
# exits 0 after QUIT within resolver_timeout, its peak RSS bounded
drow() {
	local want=$1 why=$2 dns
	shift 2
	echo "# row: NAME=$want ($why) from $*"
	fresh
	dns=$(free_port)
	: >"$T/dns.queries"
	spawn "dns-$dns" "$PYTHON" "$TESTLIB/fake_dns.py" "$dns" "$T/dns.queries" \
	    --ready "$T/dns.ready" "$@"
	wait_for_file "$T/dns.ready"
	rm -f "$T/dns.ready"
	fake smtp
	mp smtp --proxy-smtp-auth=on --resolver="127.0.0.1:$dns" --resolver-timeout=2s
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ $output == *$'235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]] || { echo "client got: $output"; false; }
	ended 0 4000
	outcome ok ok
	grep -a '^XCLIENT' "$T/fake-$BE.transcript" | tr -d '\r'
	[ "$(grep -a '^XCLIENT' "$T/fake-$BE.transcript" | tr -d '\r')" = "XCLIENT ADDR=127.0.0.1 NAME=$want" ]
	if [ "$why" = - ]; then
		! mplog | grep -a 'resolver ' || false
	else
		mplog | grep -aqE "resolver 127\.0\.0\.1:$dns: $why"
	fi
}

@test "DNS: PTR names no host has (NUL, the root, dots only, a label over 63, over 255 bytes): not used, the session goes on" {
	local l63
	l63=$(printf 'a%.0s' {1..63})
	drow '[UNAVAILABLE]' 'PTR of 127.0.0.1 is not a host name: ""' 'PTR:127.0.0.1=\x00'
	drow '[UNAVAILABLE]' 'PTR of 127.0.0.1 is not a host name: ""' 'PTR:127.0.0.1=.'
	drow '[UNAVAILABLE]' 'PTR of 127.0.0.1 is not a host name: "(\\\\\.){2}"' 'PTR:127.0.0.1=\x2e\x2e'
	drow '[UNAVAILABLE]' 'PTR of 127.0.0.1 is not a host name: "(\\\\\.\.){2}' 'PTR:127.0.0.1=\x2e.\x2e.\x2e'
	# a length byte of 64 is no label length (0x40: an extended label type)
	drow '[TEMPUNAVAIL]' 'PTR of 127.0.0.1: malformed reply' \
	    "PTR:127.0.0.1=${l63}b.example.test" "A:${l63}b.example.test=127.0.0.1"
	# 319 bytes: cut at the buffer's 255, still over 253, so still refused
	drow '[UNAVAILABLE]' "PTR of 127.0.0.1 is not a host name: \"($l63\\.){3}$l63\" \\(cut: the name is longer\\)\$" \
	    "PTR:127.0.0.1=$l63.$l63.$l63.$l63.$l63" "A:$l63.$l63.$l63.$l63.$l63=127.0.0.1"
}

@test "DNS: broken replies (compression loops, a pointer out of range, cut short, TC over TCP too, a CNAME loop): not used, the session goes on" {
	drow '[TEMPUNAVAIL]' 'PTR of 127.0.0.1: malformed reply' 'PTR:127.0.0.1=!ptrloop'
	drow '[TEMPUNAVAIL]' 'PTR of 127.0.0.1: malformed reply' 'PTR:127.0.0.1=!ownerloop'
	drow '[TEMPUNAVAIL]' 'PTR of 127.0.0.1: malformed reply' 'PTR:127.0.0.1=!ptrout'
	drow '[TEMPUNAVAIL]' 'PTR of 127.0.0.1: malformed reply' 'PTR:127.0.0.1=!cut'
	# c-ares takes a TC answer over TCP as it is: no record, so no name
	drow '[UNAVAILABLE]' - 'PTR:127.0.0.1=!tc'
	# fake_dns.py follows a loop 8 times: 8 CNAMEs and no PTR
	drow '[UNAVAILABLE]' - CNAME:1.0.0.127.in-addr.arpa=loop.example.test \
	    CNAME:loop.example.test=1.0.0.127.in-addr.arpa
	# an A record of 2 bytes (a pointer) holds no address
	drow '[UNAVAILABLE]' 'mx\.example\.test \(PTR of 127\.0\.0\.1\) does not resolve to that address' \
	    PTR:127.0.0.1=mx.example.test 'A:mx.example.test=!ptrloop'
	drow '[TEMPUNAVAIL]' 'A of mx\.example\.test \(PTR of 127\.0\.0\.1\): malformed reply' \
	    PTR:127.0.0.1=mx.example.test 'A:mx.example.test=!cut'
	drow '[UNAVAILABLE]' 'mx\.example\.test \(PTR of 127\.0\.0\.1\) does not resolve to that address' \
	    PTR:127.0.0.1=mx.example.test 'A:mx.example.test=!tc'
}
