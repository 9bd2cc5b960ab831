#!/usr/bin/env bats
# max_commands (Angie, freenginx): every line the client sends before its
# login is handed on counts, SASL responses too; one past the limit gets
# the protocol's reply and the close.  Through the real binary under
# tcpserver, against the fake backends.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

# backend PROTO: the fake backend of PROTO on $BE
backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$1.py" "$BE" "$T/fake-$BE.transcript" \
		--ready "$T/fake-$BE.ready" --log "$T/fake-$BE.log" && wait_for_file "$T/fake-$BE.ready"
}

# mp PROTO ARGS...: mailproxy for PROTO on $MPPORT, towards the fake backend
mp() {
	local proto=$1
	shift
	backend "$proto" && launch_tcpserver "$MPPORT" --protocol="$proto" \
		--server-name=mx.test --backend="127.0.0.1:$BE" "$@"
}

q() { "$@" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
untouched() { ! grep -q connect "$T/fake-$BE.log"; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
# times N LINE: LINE N times, each ended by CRLF, escaped for chat.py's @raw
times() { local i; for ((i = 0; i < $1; i++)); do printf '%s\\r\\n' "$2"; done; }
# count TEXT: lines of $output that are TEXT
count() { grep -cxF -- "$1"$'\r' <<<"$output" || :; }
# toomany N: the session's log line says max_commands N ended it, a client error
toomany() { wait_log "$T/tcpserver-$MPPORT.log" "result=client-error outcome=\"too many commands \\(max_commands $1\\)\""; }

@test "the option is supported now, 0 to 1000000" {
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --max-commands=5 --check
	[ "$status" -eq 0 ]
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --max-commands=1000001 --check
	[ "$status" -eq 64 ]
	run "$MP" --help
	[[ "$output" == *"--max-commands=N"*"(default: 1000)"* ]]
}

@test "IMAP: 1000 pipelined NOOPs fit the default, 1001 do not: * BYE and the close" {
	mp imap
	run q imap_chat "$MPPORT" <<<"@raw $(times 1000 'a NOOP')
@wait (a OK completed\r\n){1000}
@shut"
	[ "$(count 'a OK completed')" -eq 1000 ]
	[[ "$output" != *BYE* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome="client closed the connection"'
	run q imap_chat "$MPPORT" <<<"@raw $(times 1001 'a NOOP')"
	[ "$(count 'a OK completed')" -eq 1000 ]
	[[ "$output" == *$'a OK completed\r\n* BYE too many commands\r' ]]
	toomany 1000
	untouched
}

@test "SMTP: 1000 pipelined NOOPs fit, 1001 do not: 421 and the close" {
	mp smtp --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<"@raw $(times 1000 'NOOP')
@wait (250 2.0.0 OK\r\n){1000}
@shut"
	[ "$(count '250 2.0.0 OK')" -eq 1000 ]
	run q smtp_chat "$MPPORT" <<<"@raw $(times 1001 'NOOP')"
	[ "$(count '250 2.0.0 OK')" -eq 1000 ]
	[[ "$output" == *$'250 2.0.0 OK\r\n421 4.7.0 Too many commands, closing connection\r' ]]
	toomany 1000
	untouched
}

@test "POP3: 1000 pipelined NOOPs fit, 1001 do not: -ERR and the close" {
	mp pop3
	run q pop3_chat "$MPPORT" <<<"@raw $(times 1000 'NOOP')
@wait (\+OK\r\n){1000}
@shut"
	[ "$(count '+OK')" -eq 1000 ]
	run q pop3_chat "$MPPORT" <<<"@raw $(times 1001 'NOOP')"
	[ "$(count '+OK')" -eq 1000 ]
	[[ "$output" == *$'+OK\r\n-ERR too many commands\r' ]]
	toomany 1000
	untouched
}

@test "IMAP, a small value: the login is the last command allowed; one more and the backend is never asked" {
	mp imap --max-commands=3
	run q imap_chat "$MPPORT" <<<$'a NOOP\nb CAPABILITY\nc LOGIN alice secret\nd LOGOUT'
	[[ "$output" == *$'c OK '* ]]
	transcript | grep -q $'^c LOGIN "alice" "secret"\r$'
	stop_launchers
	: >"$T/fake-$BE.log"
	mp imap --max-commands=3
	run q imap_chat "$MPPORT" <<<$'a NOOP\nb NOOP\nc NOOP\nd LOGIN alice secret'
	[[ "$output" == *$'c OK completed\r\n* BYE too many commands\r' ]]
	untouched
}

@test "SASL response lines count: AUTHENTICATE and its response are two" {
	mp imap --max-commands=2
	run q imap_chat "$MPPORT" <<<$'a AUTHENTICATE PLAIN\n@nowait\nAGFsaWNlAHNlY3JldA==\nb LOGOUT'
	[[ "$output" == *$'+ \r\na OK '* ]]
	stop_launchers
	: >"$T/fake-$BE.log"
	mp imap --max-commands=2
	run q imap_chat "$MPPORT" <<<$'a NOOP\nb AUTHENTICATE PLAIN\nAGFsaWNlAHNlY3JldA=='
	[[ "$output" == *$'+ \r\n* BYE too many commands\r' ]]
	untouched
	toomany 2
}

@test "SMTP, a small value: EHLO, MAIL, RCPT are three; POP3: USER and PASS are two" {
	mp smtp --smtp-auth=none --max-commands=3
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nQUIT'
	transcript | grep -q '^RCPT TO:<c@d>'
	stop_launchers
	: >"$T/fake-$BE.log"
	mp smtp --smtp-auth=none --max-commands=3
	run q smtp_chat "$MPPORT" <<<$'EHLO c\nRSET\nMAIL FROM:<a@b>\nRCPT TO:<c@d>'
	[[ "$output" == *$'250 2.0.0 OK\r\n421 4.7.0 Too many commands, closing connection\r' ]]
	untouched
	stop_launchers
	mp pop3 --max-commands=2
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	transcript | grep -q $'^PASS secret\r$'
	stop_launchers
	: >"$T/fake-$BE.log"
	mp pop3 --max-commands=2
	run q pop3_chat "$MPPORT" <<<$'CAPA\nUSER alice\nPASS secret'
	[[ "$output" == *$'+OK\r\n-ERR too many commands\r' ]]
	untouched
}
