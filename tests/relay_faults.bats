#!/usr/bin/env bats
# Faults during the relay, through the binary under tcpserver: either side
# resets (an RST), half-closes or stalls in the middle of a transfer of
# several MB, up (SMTP DATA) or down (POP3 RETR, IMAP FETCH), and what
# either side acknowledged arrives byte for byte (sha256 of what was sent
# against what came).  The faulty end is tests/lib/faulty.py, a client or
# a scripted backend.  Not repeated here: relay.bats (whole transfers on
# each engine, the client's half-close after RETR) and deadlines.bats (a
# peer that stops reading for ever, the client's half-close with an idle
# backend, the backend's close after QUIT).

load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	# 4 MB of CRLF lines, none starting with a dot
	"$PYTHON" -c '
import random, sys
random.seed(17)
for i in range(52000):
    sys.stdout.write("x" + "".join(random.choice("abcdefghij :-") for _ in range(76)) + "\r\n")' >"$T/msg"
}

mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@" && LPID=$SPAWNED_PID
}
mplog() { cat "$T/tcpserver-$MPPORT.log" 2>/dev/null; }
result() { wait_log "$T/tcpserver-$MPPORT.log" "result=$1 " "${2:-5}"; }
# fclient ARGS...: run faulty.py as the client; its end line is shown
fclient() {
	run "$PYTHON" "$TESTLIB/faulty.py" client "$@"
	echo "$output"
}

# backend STEPS...: faulty.py as the backend, one connection, what it got
# in $T/be.got, its end line in $T/be.end
backend() {
	spawn "be-$BE" bash -c '"$@" >"'"$T"'/be.end"' _ "$PYTHON" "$TESTLIB/faulty.py" server \
	    "$BE" --ready "$T/be.ready" --out "$T/be.got" "$@" &&
	    wait_for_file "$T/be.ready"
}
pop3_backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" "$@" &&
	    wait_for_file "$T/fake-$BE.ready"
}

# the POP3 backend's side of a login, as mailproxy speaks it
POP3_LOGIN=(send:'+OK ready\r\n' wait:'USER alice\r\n' send:'+OK\r\n'
	wait:'PASS secret\r\n' send:'+OK Logged in.\r\n')
# the client's: log in, RETR 1
POP3_RETR=(wait:'^\+OK' send:'USER alice\r\n' wait:'\+OK.*\n\+OK'
	send:'PASS secret\r\n' wait:'Logged in' send:'RETR 1\r\n')
# an MX client's envelope, then DATA
# (mailproxy answers HELO and MAIL itself: count the 250s)
SMTP_DATA=(wait:'^220 ' send:'HELO c\r\n' wait:'\n250 ' send:'MAIL FROM:<a@b>\r\n'
	wait:'(\n250 .*){2}' send:'RCPT TO:<c@d>\r\n' wait:'(\n250 .*){3}' send:'DATA\r\n'
	wait:'\n354')

# body_after FILE TEXT: FILE's bytes after the first TEXT
body_after() {
	"$PYTHON" - "$1" "$2" <<-'PY'
	import sys
	d = open(sys.argv[1], "rb").read()
	k = sys.argv[2].encode()
	sys.stdout.buffer.write(d[d.index(k) + len(k):])
	PY
}
# no_eom FILE: FILE holds no end of message (CRLF . CRLF)
no_eom() {
	"$PYTHON" -c 'import sys; sys.exit(b"\r\n.\r\n" in open(sys.argv[1], "rb").read())' "$1"
}
# same_sha A B: files A and B have the same sha256
same_sha() {
	local a b
	a=$(sha256sum <"$1") b=$(sha256sum <"$2")
	[[ $a == "$b" ]] || { echo "sha256 differ: $1 $(wc -c <"$1") bytes, $2 $(wc -c <"$2") bytes" >&2; return 1; }
}

# sessions_gone SECS: no session left under the launcher after SECS
sessions_gone() {
	local end=$((SECONDS + $1))
	while pgrep -P "$LPID" >/dev/null; do
		((SECONDS < end)) || { echo "a session still runs after $1s" >&2; return 1; }
		sleep 0.05
	done
}

# --- Resets ---------------------------------------------------------------

@test "the client resets in the middle of a 4 MB DATA: the backend's side closes at once, no 250 is given" {
	start_fake_smtp "$BE"; mp smtp --smtp-auth=none --proxy-timeout=30s
	start=$SECONDS
	fclient "$MPPORT" "${SMTP_DATA[@]}" head:"$T/msg":1000000 reset
	[ "$status" -eq 0 ]
	wait_log "$T/fake-$BE.log" 'close' 5
	sessions_gone 3
	[ $((SECONDS - start)) -le 4 ]
	# the backend saw part of the message and never its end
	no_eom "$T/fake-$BE.transcript"
	# the read from the client fails: ECONNRESET
	result relay-error 3
}

@test "the backend resets in the middle of a 4 MB RETR: the client is closed at once, the session ends" {
	printf '+OK 4 MB\r\n' >"$T/resp" && cat "$T/msg" >>"$T/resp"
	backend "${POP3_LOGIN[@]}" wait:'RETR 1\r\n' head:"$T/resp":1000000 reset
	mp pop3 --proxy-timeout=30s
	start=$SECONDS
	fclient "$MPPORT" --out "$T/got" "${POP3_RETR[@]}" eof:10
	[[ "$output" == "ended: "* ]]
	[[ "$output" != *"no eof"* ]]
	sessions_gone 3
	[ $((SECONDS - start)) -le 5 ]
	# whatever came is a prefix of what the backend sent, never more
	body_after "$T/got" $'Logged in.\r\n' >"$T/body"
	[ "$(wc -c <"$T/body")" -le 1000000 ]
	cmp -n "$(wc -c <"$T/body")" "$T/body" "$T/resp"
	result relay-error 3
}

# --- Half-closes ----------------------------------------------------------

@test "the client half-closes right after a 4 MB DATA and QUIT: the 250 and the 221 still reach it, the message is whole" {
	start_fake_smtp "$BE"; mp smtp --smtp-auth=none
	fclient "$MPPORT" --out "$T/got" "${SMTP_DATA[@]}" file:"$T/msg" \
	    send:'.\r\nQUIT\r\n' shut eof:20
	[ "$status" -eq 0 ]
	[[ "$output" == "ended: eof"* ]]
	[[ "$(cat "$T/got")" == *$'\r\n250 2.0.0 Ok'*$'\r\n221 2.0.0 Bye\r' ]]
	body_after "$T/fake-$BE.transcript" $'DATA\r\n' >"$T/up"
	printf '.\r\nQUIT\r\n' >"$T/tail" && cat "$T/msg" "$T/tail" >"$T/sent"
	same_sha "$T/up" "$T/sent"
	result ok
}

@test "the backend half-closes after a 4 MB RETR's last line while the client is slow: the client gets all of it, then EOF, while the backend still holds its socket" {
	printf '+OK 4 MB\r\n' >"$T/resp" && cat "$T/msg" >>"$T/resp" && printf '.\r\n' >>"$T/resp"
	backend "${POP3_LOGIN[@]}" wait:'RETR 1\r\n' file:"$T/resp" shut mark:"$T/be.shut" stall:15
	mp pop3
	start=$SECONDS
	# the client reads nothing until the backend's EOF is in: mailproxy
	# holds the message's tail when it sees the EOF, and must still pass it on
	fclient "$MPPORT" --rcvbuf 16384 --out "$T/got" "${POP3_RETR[@]}" \
	    wait:'Logged in.*\n.{50000}' stall:2 eof:10
	[ "$status" -eq 0 ]
	[[ "$output" == "ended: eof"* ]]
	[ $((SECONDS - start)) -le 8 ]
	body_after "$T/got" $'Logged in.\r\n' >"$T/body"
	same_sha "$T/body" "$T/resp"
	result ok
	sessions_gone 2
}

# --- Stalls within the timeout: the transfer completes --------------------

@test "the client stops reading for 3 s in the middle of a 4 MB RETR (proxy_timeout 10s), then reads on: byte for byte" {
	pop3_backend --message "$T/msg"; mp pop3 --proxy-timeout=10s
	fclient "$MPPORT" --rcvbuf 16384 --timeout 30 --out "$T/got" "${POP3_RETR[@]}" \
	    wait:'Logged in.*\n.{100000}' stall:3 wait:'\r\n\.\r\n' send:'QUIT\r\n' eof:10
	[ "$status" -eq 0 ]
	body_after "$T/got" $'Logged in.\r\n' >"$T/b1"
	body_after "$T/b1" $'octets\r\n' | head -c "$(wc -c <"$T/msg")" >"$T/body"
	same_sha "$T/body" "$T/msg"
	result ok
}

@test "the backend stops writing for 3 s in the middle of a 4 MB RETR, then writes on: byte for byte" {
	printf '+OK 4 MB\r\n' >"$T/resp" && cat "$T/msg" >>"$T/resp" && printf '.\r\n' >>"$T/resp"
	"$PYTHON" -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d[2000000:])' \
	    "$T/resp" "$T/rest"
	backend "${POP3_LOGIN[@]}" wait:'RETR 1\r\n' head:"$T/resp":2000000 stall:3 file:"$T/rest" \
	    wait:'QUIT\r\n' send:'+OK Bye\r\n'
	mp pop3 --proxy-timeout=10s
	fclient "$MPPORT" --out "$T/got" "${POP3_RETR[@]}" wait:'\r\n\.\r\n' \
	    send:'QUIT\r\n' eof:10
	[ "$status" -eq 0 ]
	body_after "$T/got" $'Logged in.\r\n' | head -c "$(wc -c <"$T/resp")" >"$T/body"
	same_sha "$T/body" "$T/resp"
	result ok
}

@test "the backend stops reading for 3 s in the middle of a 4 MB DATA, then reads on: the 250 comes, byte for byte" {
	backend --rcvbuf 16384 --timeout 30 send:'220 be ESMTP\r\n' wait:'^(HELO|EHLO)[^\n]*\n' \
	    send:'250 be\r\n' wait:'MAIL[^\n]*\n' send:'250 2.1.0 Ok\r\n' wait:'RCPT[^\n]*\n' \
	    send:'250 2.1.5 Ok\r\n' wait:'DATA\r\n' send:'354 go\r\n' \
	    wait:'DATA\r\n.{100000}' stall:3 wait:'\r\n\.\r\n' send:'250 2.0.0 queued\r\n' \
	    wait:'QUIT\r\n' send:'221 bye\r\n'
	mp smtp --smtp-auth=none --xclient=off --proxy-timeout=10s
	fclient "$MPPORT" --timeout 30 --out "$T/got" "${SMTP_DATA[@]}" file:"$T/msg" \
	    send:'.\r\n' wait:'250 2.0.0 queued' send:'QUIT\r\n' eof:10
	[ "$status" -eq 0 ]
	body_after "$T/be.got" $'DATA\r\n' | head -c "$(wc -c <"$T/msg")" >"$T/up"
	same_sha "$T/up" "$T/msg"
	result ok
}

# --- Stalls for ever: the timeout ends them -------------------------------

@test "the backend stops writing for good in the middle of a RETR: proxy_timeout closes the client" {
	printf '+OK 4 MB\r\n' >"$T/resp" && cat "$T/msg" >>"$T/resp"
	backend "${POP3_LOGIN[@]}" wait:'RETR 1\r\n' head:"$T/resp":1000000 stall:30
	mp pop3 --proxy-timeout=2s
	start=$SECONDS
	fclient "$MPPORT" --out "$T/got" "${POP3_RETR[@]}" eof:15
	[ "$status" -eq 0 ]
	[ $((SECONDS - start)) -ge 2 ]
	[ $((SECONDS - start)) -le 8 ]
	body_after "$T/got" $'Logged in.\r\n' >"$T/body"
	[ "$(wc -c <"$T/body")" -eq 1000000 ]
	result timeout
	sessions_gone 2
}

@test "the client stops writing for good in the middle of a DATA: proxy_timeout closes the backend's side" {
	start_fake_smtp "$BE"; mp smtp --smtp-auth=none --proxy-timeout=2s
	start=$SECONDS
	fclient "$MPPORT" "${SMTP_DATA[@]}" head:"$T/msg":1000000 eof:15
	[ "$status" -eq 0 ]
	[ $((SECONDS - start)) -ge 2 ]
	[ $((SECONDS - start)) -le 8 ]
	wait_log "$T/fake-$BE.log" 'close' 3
	result timeout
	no_eom "$T/fake-$BE.transcript"
}

# --- Real servers: Dovecot and Postfix ------------------------------------

@test "Dovecot: a 4 MB IMAP FETCH read with a 3 s stall in the middle arrives byte for byte; a POP3 client's reset mid-RETR ends its session" {
	mail_servers_require
	install -d -o "$MS_MAIL_USER" -g "$MS_MAIL_USER" "$ALICE_MAILDIR" \
	    "$ALICE_MAILDIR"/new "$ALICE_MAILDIR"/cur "$ALICE_MAILDIR"/tmp
	f=$ALICE_MAILDIR/new/$(date +%s).faults.$$
	{ printf 'Subject: faults\r\nMessage-ID: <faults@test>\r\n\r\n'; cat "$T/msg"; } >"$f.tmp"
	cp "$f.tmp" "$T/stored"
	chown "$MS_MAIL_USER:" "$f.tmp" && mv "$f.tmp" "$f"
	size=$(wc -c <"$f")
	BE=$DOVECOT_IMAP_PORT
	mp imap --proxy-timeout=10s
	fclient "$MPPORT" --rcvbuf 16384 --timeout 30 --out "$T/got" wait:'^\* OK' \
	    send:'a LOGIN alice secret\r\n' wait:'a OK' send:'b SELECT INBOX\r\n' wait:'b OK' \
	    send:'c FETCH 1:* BODY.PEEK[]\r\n' wait:'\{'"$size"'\}\r\n.{100000}' stall:3 \
	    wait:'c OK' send:'d LOGOUT\r\n' eof:10
	[ "$status" -eq 0 ]
	body_after "$T/got" "{$size}"$'\r\n' | head -c "$size" >"$T/body"
	same_sha "$T/body" "$T/stored"
	result ok
	stop_launchers
	MPPORT=$(free_port) BE=$DOVECOT_POP3_PORT
	mp pop3 --proxy-timeout=10s
	start=$SECONDS
	fclient "$MPPORT" --rcvbuf 16384 "${POP3_RETR[@]}" wait:'octets.{200000}' reset
	[ "$status" -eq 0 ]
	sessions_gone 3
	[ $((SECONDS - start)) -le 5 ]
	mplog
	result 'relay-error|ok' 3
}

@test "Postfix: a 4 MB DATA whose client half-closes after QUIT gets its 250 and 221; Dovecot stores the body byte for byte" {
	mail_servers_require
	BE=$POSTFIX_PORT
	mp smtp --smtp-auth=none --proxy-timeout=30s
	fclient "$MPPORT" --timeout 30 --out "$T/got" wait:'^220 ' send:'HELO c\r\n' \
	    wait:'\n250 ' send:'MAIL FROM:<a@example.test>\r\n' wait:'(\n250 .*){2}' \
	    send:'RCPT TO:<bob@example.test>\r\n' wait:'(\n250 .*){3}' send:'DATA\r\n' wait:'\n354' \
	    send:'Subject: faults-postfix\r\n\r\n' file:"$T/msg" send:'.\r\nQUIT\r\n' shut eof:30
	[ "$status" -eq 0 ]
	[[ "$(cat "$T/got")" == *$'\r\n250 2.0.0 Ok'*$'\r\n221 2.0.0 Bye\r' ]]
	m=$(maildir_find "$BOB_MAILDIR" 'Subject: faults-postfix' 20)
	# Dovecot's Maildir has LF line ends: compare with the body in LF
	body_after "$m" $'\n\n' >"$T/stored"
	tr -d '\r' <"$T/msg" >"$T/msg.lf"
	same_sha "$T/stored" "$T/msg.lf"
	result ok
}
