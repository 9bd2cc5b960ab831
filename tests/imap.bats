#!/usr/bin/env bats
# IMAP through the real binary under tcpserver, byte for byte, against the
# fake backend (tests/lib/fake_imap.py) that records what it is sent, and
# end to end against a private Dovecot (tests/lib/mailservers.bash).

load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

# Under the sanitizer build a report in mailproxy's log fails the test.
teardown() { san_teardown "$T"/tcpserver-*.log; }

# backend ARGS...: the fake IMAP backend on $BE
backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_imap.py" "$BE" "$T/fake-$BE.transcript" \
		--ready "$T/fake-$BE.ready" "$@" && wait_for_file "$T/fake-$BE.ready"
}

# mp ARGS...: mailproxy for IMAP on $MPPORT, towards the fake backend
mp() {
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE" "$@"
}

# q CMD...: CMD without its stderr, so that $output holds the bytes received
q() { "$@" 2>/dev/null; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
mplog() { tcpserver_log "$MPPORT"; }
fakelog() { cat "$T/fake-$BE.log"; }
untouched() { ! grep -q connect "$T/fake-$BE.log"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==
G=$'* OK IMAP4 ready\r\n'
CAPS='* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN'

# --- the client's side -------------------------------------------------

@test "greeting, CAPABILITY, NOOP, LOGOUT: nginx's replies, backend untouched" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a1 CAPABILITY\na2 noop\na3 LOGOUT'
	[ "$output" = "$G$CAPS"$'\r\na1 OK completed\r\na2 OK completed\r\n* BYE\r\na3 OK completed\r' ]
	untouched
	mplog | grep -q 'outcome="client logged out before logging in"'
}

@test "CAPABILITY: imap_capabilities (quoted items keep spaces), imap_auth, no duplicates" {
	backend; mp --imap-capabilities='IMAP4rev1 "X-A B" SASL-IR' --imap-auth='login plain'
	run q imap_chat "$MPPORT" <<<$'a CAPABILITY\nb LOGOUT'
	[[ "$output" == "$G"$'* CAPABILITY IMAP4rev1 X-A B SASL-IR AUTH=PLAIN AUTH=LOGIN\r\na OK completed\r\n'* ]]
}

@test "CRAM-MD5 in imap_auth without an auth service: not offered, refused with a clear NO" {
	backend; mp --imap-auth='plain cram-md5'
	run q imap_chat "$MPPORT" <<<$'a CAPABILITY\nb AUTHENTICATE CRAM-MD5\nc LOGOUT'
	[[ "$output" == "$G$CAPS"$'\r\na OK completed\r\nb NO CRAM-MD5 needs an authentication service\r\n* BYE\r\n'* ]]
	untouched
	mplog | grep -q 'CRAM-MD5 refused.*--auth-http'
}

@test "ID: * ID NIL, with NIL, a list, and a list holding a literal" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a ID NIL\nb ID ("name" "x" "version" NIL)\nc ID ("name" {3}\n@raw abc)\\r\\n\n@wait ^c \nd ID\ne LOGOUT'
	[ "$output" = "$G"$'* ID NIL\r\na OK completed\r\n* ID NIL\r\nb OK completed\r\n+ OK\r\n* ID NIL\r\nc OK completed\r\nd BAD invalid arguments\r\n* BYE\r\ne OK completed\r' ]
}

@test "STARTTLS is not offered and is refused" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a STARTTLS\nb LOGOUT'
	[ "$output" = "$G"$'a BAD invalid command\r\n* BYE\r\nb OK completed\r' ]
	[[ "$CAPS" != *STARTTLS* ]]
}

@test "unknown commands get a tagged BAD, garbage without a tag an untagged BAD" {
	backend; mp --max-errors=20
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a SELECT INBOX\nb XYZZY 1 2\nc NOOP extra\n@raw + OK\\r\\n(x\\r\\n\\r\\n\n@wait (\\* BAD.*\\n){3}\nd LOGOUT'
	[ "$output" = "$G"$'a BAD invalid command\r\nb BAD invalid command\r\nc BAD invalid arguments\r\n* BAD invalid command\r\n* BAD invalid command\r\n* BAD invalid command\r\n* BYE\r\nd OK completed\r' ]
	untouched
}

@test "tags are IMAP tags: no * + ( { % \" \\\\, at most 64 characters" {
	backend; mp --max-errors=20
	long=$(printf 't%.0s' $(seq 65))
	ok64=$(printf 't%.0s' $(seq 64))
	{ for t in 'a*' '+a' 'a(' 'a{1}' 'a%' 'a"' 'a\\' "$long"; do printf '@raw %s NOOP\\r\\n\n@wait ^\\* BAD\n' "$t"; done
	  echo "$ok64 NOOP"; echo '@raw a]b NOOP\r\n'; echo '@wait ^a]b '; echo 'z LOGOUT'; } >"$T/script"
	run q chat "$MPPORT" --expect-greeting --lockstep imap <"$T/script"
	[ "$(grep -c '^\* BAD invalid command' <<<"$output")" -eq 8 ]
	[[ "$output" == *$'\r\n'"$ok64"$' OK completed\r\na]b OK completed\r\n* BYE\r\nz OK completed\r' ]]
}

@test "max_errors: the last refused command closes with * BYE" {
	backend; mp --max-errors=3
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'@raw a BAD1\\r\\nb BAD2\\r\\n!!\\r\\nc NOOP\\r\\n'
	[ "$output" = "$G"$'a BAD invalid command\r\nb BAD invalid command\r\n!! BAD invalid command\r\n* BYE too many invalid commands\r' ]
	mplog | grep -q 'outcome="too many invalid commands"'
	untouched
}

@test "a hundred bad commands: closed after max_errors (default 5), backend untouched" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap < <(for i in $(seq 100); do echo "@raw t$i BAD $i\r\n"; done)
	[ "$(grep -c ' BAD invalid command' <<<"$output")" -eq 5 ]
	[[ "$output" == *$'t5 BAD invalid command\r\n* BYE too many invalid commands\r' ]]
	untouched
}

@test "NUL bytes: in a command, in a quoted string and in a literal, refused" {
	backend; mp --max-errors=10
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'@raw a NO\\x00OP\\r\\n\n@wait ^a \n@raw b LOGIN "al\\x00ice" secret\\r\\n\n@wait ^b \nc LOGIN alice {6}\n@raw sec\\x00et\\r\\n\n@wait ^c \n@raw \\x00\\r\\n\n@wait ^\\* BAD\nd LOGOUT'
	[ "$output" = "$G"$'a BAD invalid command\r\nb BAD invalid command\r\n+ OK\r\nc BAD invalid arguments\r\n* BAD invalid command\r\n* BYE\r\nd OK completed\r' ]
	untouched
}

@test "a line longer than imap_client_buffer: * BYE and closed, backend untouched" {
	backend; mp --imap-client-buffer=64
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<"@raw a LOGIN $(printf 'x%.0s' $(seq 100)) y\\r\\n"
	[ "$output" = "$G"$'* BYE line too long\r' ]
	untouched
	mplog | grep -q 'imap_client_buffer (64)'
}

@test "a 10 MB line is refused at the edge" {
	backend; mp
	head -c 10485760 /dev/zero | tr '\0' x >"$T/big"
	run "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
s.recv(100)
try:
    s.sendall(b"a LOGIN " + open(sys.argv[2], "rb").read())
except OSError:
    pass
print(s.recv(100).decode().strip())' "$MPPORT" "$T/big"
	[ "$output" = "* BYE line too long" ]
	untouched
}

@test "a literal larger than imap_client_buffer: tagged BAD, no continuation, not read; the session goes on" {
	backend; mp --imap-client-buffer=1k
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice {2000}\nb LOGIN {99999999999999999999}\nc LOGOUT'
	[ "$output" = "$G"$'a BAD literal too long\r\nb BAD literal too long\r\n* BYE\r\nc OK completed\r' ]
	untouched
}

@test "a literal longer than a login value is refused before it is read" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice {3000}\nc LOGOUT'
	[ "$output" = "$G"$'a BAD literal too long\r\n* BYE\r\nc OK completed\r' ]
	untouched
}

@test "a LITERAL+ literal larger than imap_client_buffer: tagged BAD, * BYE, closed" {
	backend; mp --imap-client-buffer=1k
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<"@raw a LOGIN alice {2000+}\\r\\n$(printf 'x%.0s' $(seq 2000))\\r\\n"
	[ "$output" = "$G"$'a BAD literal too long\r\n* BYE literal too long\r' ]
	untouched
	mplog | grep -q 'outcome="client sent a LITERAL+ literal of 2000 bytes (imap_client_buffer 1024)"'
}

@test "lines and literals together are bounded by imap_client_buffer" {
	backend; mp --imap-client-buffer=256
	x200=$(printf 'x%.0s' $(seq 200)) x60=$(printf 'y%.0s' $(seq 60))
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<"@raw a ID ({200+}\\r\\n$x200 $x60)\\r\\n"$'\n@wait ^a \nb LOGOUT'
	[ "$output" = "$G"$'a BAD command too long\r\n* BYE\r\nb OK completed\r' ]
	untouched
}

@test "an unterminated literal ends with the timeout" {
	backend; mp --timeout=1s
	start=$SECONDS
	run q chat "$MPPORT" --expect-greeting --lockstep imap --timeout 6 <<<$'a LOGIN alice {10}\n@raw sec'
	[ "$output" = "$G"$'+ OK\r\n* BYE timeout, closing connection\r' ]
	[ $((SECONDS - start)) -le 4 ]
	untouched
	mplog | grep -q 'outcome="client timed out"'
}

@test "timeout: an idle client gets * BYE and is closed" {
	backend; mp --timeout=1s
	start=$SECONDS
	run q chat "$MPPORT" --expect-greeting --lockstep imap --timeout 5 </dev/null
	[ "$output" = "$G"$'* BYE timeout, closing connection\r' ]
	[ $((SECONDS - start)) -le 3 ]
}

@test "LOGIN arguments: empty user, too many, a list, bad quoting are refused" {
	backend; mp --max-errors=10
	run q imap_chat "$MPPORT" <<<$'a LOGIN "" secret\nb LOGIN alice\nc LOGIN a b c\nd LOGIN (a) b\ne LOGIN "a\\x" b\nf LOGIN "a b\ng LOGIN a"b c\nh LOGOUT'
	[ "$output" = "$G"$'a BAD invalid arguments\r\nb BAD invalid arguments\r\nc BAD invalid arguments\r\nd BAD invalid arguments\r\ne BAD invalid arguments\r\nf BAD invalid arguments\r\ng BAD invalid arguments\r\n* BYE\r\nh OK completed\r' ]
	untouched
}

@test "AUTHENTICATE: * cancels, bad base64, unknown and unoffered mechanisms; the session goes on" {
	backend; mp --max-errors=10
	run q imap_chat "$MPPORT" <<<$'a AUTHENTICATE PLAIN\n@nowait\n*\n@wait ^a \nb AUTHENTICATE LOGIN\nc AUTHENTICATE PLAIN !!!!\nd AUTHENTICATE PLAIN\n@nowait\nAGFsaWNl\n@wait ^d \ne AUTHENTICATE GSSAPI\nf AUTHENTICATE\ng AUTHENTICATE PLAIN ("x")\nh LOGOUT'
	[ "$output" = "$G"$'+ \r\na BAD authentication cancelled\r\nb NO unsupported authentication mechanism\r\nc BAD cannot decode response\r\n+ \r\nd NO invalid credentials\r\ne NO unsupported authentication mechanism\r\nf BAD invalid arguments\r\ng BAD invalid arguments\r\n* BYE\r\nh OK completed\r' ]
	untouched
}

@test "AUTHENTICATE LOGIN: * cancels at the user name and at the password" {
	backend; mp --imap-auth=login
	run q imap_chat "$MPPORT" <<<$'a AUTHENTICATE LOGIN\n@nowait\n*\n@wait ^a \nb AUTHENTICATE login YWxpY2U=\n@nowait\n*\n@wait ^b \nc LOGOUT'
	[ "$output" = "$G"$'+ VXNlcm5hbWU6\r\na BAD authentication cancelled\r\n+ UGFzc3dvcmQ6\r\nb BAD authentication cancelled\r\n* BYE\r\nc OK completed\r' ]
	untouched
}

# --- logging in at the backend ------------------------------------------

@test "LOGIN with atoms: the backend gets LOGIN under the client's tag, the client its tagged OK" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'A01 LOGIN alice secret\nA02 LOGOUT'
	[ "$output" = "$G"$'A01 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nA02 OK LOGOUT completed\r' ]
	[ "$(transcript)" = $'A01 LOGIN "alice" "secret"\r\nA02 LOGOUT\r' ]
}

@test "LOGIN with quoted strings and escapes: quotes, backslashes and spaces survive" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN "al ice" "p a\\"s\\\\s"\nb LOGOUT'
	[[ "$output" == "$G"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN "al ice" "p a\\"s\\\\s"\r\nb LOGOUT\r' ]
	fakelog | grep -q "login user=$(hex 'al ice') pass=$(hex 'p a"s\s')\$"
}

@test "LOGIN with synchronizing literals: + OK, then the bytes" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a LOGIN {5}\n@raw alice {7}\\r\\n\n@wait ^\\+ OK\n@raw p a"s\\\\s\\r\\n\n@wait ^a \nb LOGOUT'
	[[ "$output" == "$G"$'+ OK\r\n+ OK\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN "alice" "p a\\"s\\\\s"\r\nb LOGOUT\r' ]
}

@test "LOGIN with LITERAL+ literals: no continuation" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'@raw a LOGIN {5+}\\r\\nalice {6+}\\r\\nsecret\\r\\n\n@wait ^a \nb LOGOUT'
	[ "$output" = "$G"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
	[ "$(transcript)" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
}

@test "an empty literal is read as empty, not as the next line" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'@raw a LOGIN {5+}\\r\\nalice {0+}\\r\\n\\r\\n\n@wait ^a \nb LOGOUT'
	[ "$(transcript)" = $'a LOGIN "alice" ""\r\nb LOGOUT\r' ]
}

@test "8-bit credentials go to the backend as synchronizing literals, after its +" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a LOGIN j\xfcrgen {5}\n@raw p\\xe4ss!\\r\\n\n@wait ^a \nb LOGOUT'
	[[ "$output" == "$G"$'+ OK\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN {6}\r\nj\xfcrgen {5}\r\np\xe4ss!\r\nb LOGOUT\r' ]
	fakelog | grep -q "login user=$(hex $'j\xfcrgen') pass=$(hex $'p\xe4ss!')\$"
}

@test "a refusal after a literal: the backend's line with proxy_pass_error_message, the step in the log" {
	backend --reply 'LOGIN=NO [AUTHENTICATIONFAILED] Authentication failed.'
	mp --proxy-pass-error-message=on
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a LOGIN alice {5}\n@raw p\\xe4ss!\\r\\n\n@wait ^a '
	[ "$output" = "$G"$'+ OK\r\na NO [AUTHENTICATIONFAILED] Authentication failed.\r' ]
	[ "$(transcript)" = $'a LOGIN "alice" {5}\r\np\xe4ss!\r' ]
	mplog | grep -q 'answered LOGIN after a literal with a refusal: a NO \[AUTHENTICATIONFAILED\]'
}

@test "CR and LF in a password (AUTHENTICATE PLAIN) survive as a literal" {
	backend; mp
	ir=$(printf '\0alice\0pa\r\nss' | base64)
	run q imap_chat "$MPPORT" <<<"a AUTHENTICATE PLAIN $ir"$'\nb LOGOUT'
	[[ "$output" == "$G"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN "alice" {6}\r\npa\r\nss\r\nb LOGOUT\r' ]
	fakelog | grep -q "login user=$(hex alice) pass=$(hex $'pa\r\nss')\$"
}

@test "a backend that refuses the literal: the literal is never sent" {
	backend --reply 'LITERAL=NO literals not accepted'
	mp --proxy-pass-error-message=on
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a LOGIN alice {5}\n@raw p\\xe4ss!\\r\\n\n@wait ^a '
	[ "$output" = "$G"$'+ OK\r\na NO literals not accepted\r' ]
	[ "$(transcript)" = $'a LOGIN "alice" {5}\r' ]
	mplog | grep -q 'answered LOGIN with a refusal: a NO literals not accepted'
}

@test "AUTHENTICATE PLAIN with SASL-IR, and with the response on the next line" {
	backend; mp
	run q imap_chat "$MPPORT" <<<"a AUTHENTICATE PLAIN $PLAIN"$'\nb LOGOUT'
	[[ "$output" == "$G"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
	stop_launchers || :; BE=$(free_port); MPPORT=$(free_port); backend; mp
	run q imap_chat "$MPPORT" <<<$'x AUTHENTICATE plain\n@nowait\n'"$PLAIN"$'\n@wait ^x \ny LOGOUT'
	[[ "$output" == "$G"$'+ \r\nx OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'x LOGIN "alice" "secret"\r\ny LOGOUT\r' ]
}

@test "AUTHENTICATE LOGIN, prompted and with the user name as initial response" {
	backend; mp --imap-auth='plain login'
	run q imap_chat "$MPPORT" <<<$'a AUTHENTICATE LOGIN\nYWxpY2U=\n@nowait\nc2VjcmV0\n@wait ^a \nb LOGOUT'
	[[ "$output" == "$G"$'+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
	stop_launchers || :; BE=$(free_port); MPPORT=$(free_port); backend; mp --imap-auth=login
	run q imap_chat "$MPPORT" <<<$'a AUTHENTICATE LOGIN YWxpY2U=\n@nowait\nc2VjcmV0\n@wait ^a \nb LOGOUT'
	[[ "$output" == "$G"$'+ UGFzc3dvcmQ6\r\na OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	[ "$(transcript)" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
}

@test "imap_auth without plain: AUTHENTICATE PLAIN is refused, LOGIN still works" {
	backend; mp --imap-auth=login
	run q imap_chat "$MPPORT" <<<"a AUTHENTICATE PLAIN $PLAIN"$'\nb LOGIN alice secret\nc LOGOUT'
	[[ "$output" == "$G"$'a NO unsupported authentication mechanism\r\nb OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
}

@test "untagged responses to LOGIN reach the client before its tagged OK; the greeting does not" {
	backend --reply $'LOGIN=* CAPABILITY IMAP4rev1 IDLE X-FAKE\\n* OK [ALERT] hello\\nOK Logged in'
	mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$output" = "$G"$'* CAPABILITY IMAP4rev1 IDLE X-FAKE\r\n* OK [ALERT] hello\r\na OK Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
}

@test "an untagged response to LOGIN that carries a literal reaches the client whole" {
	backend --reply $'LOGIN=* ID ("name" {4}\\n@raw fake)\\nOK Logged in'
	mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$output" = "$G"$'* ID ("name" {4}\r\nfake)\r\na OK Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
}

@test "untagged responses to LOGIN beyond 4 KiB are dropped whole, with a warning" {
	big=$(printf 'x%.0s' $(seq 5000))
	backend --reply "LOGIN=* X-BIG $big\\n* OK [ALERT] small\\nOK Logged in"
	mp --proxy-buffer=16k
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$output" = "$G"$'* OK [ALERT] small\r\na OK Logged in\r\n* BYE fake_imap logging out\r\nb OK LOGOUT completed\r' ]
	mplog | grep -q '5010 bytes of untagged responses to LOGIN dropped'
}

@test "pipelined commands after LOGIN reach the backend after the login" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'@raw a LOGIN alice secret\\r\\nb NOOP\\r\\nc LOGOUT\\r\\n'
	[ "$output" = "$G"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\nb OK NOOP completed\r\n* BYE fake_imap logging out\r\nc OK LOGOUT completed\r' ]
	[ "$(transcript)" = $'a LOGIN "alice" "secret"\r\nb NOOP\r\nc LOGOUT\r' ]
}

@test "proxy_pass_error_message off: a refused LOGIN gives nginx's internal error and closes" {
	backend --reply 'LOGIN=NO [AUTHENTICATIONFAILED] Authentication failed.'
	mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice wrong'
	[ "$output" = "$G"$'* BAD internal server error\r' ]
	mplog | grep -q 'outcome="backend 127.0.0.1:[0-9]* answered LOGIN with a refusal: a NO \[AUTHENTICATIONFAILED\] Authentication failed."'
	! mplog | grep -q wrong || false
}

@test "proxy_pass_error_message on: the backend's own tagged line reaches the client" {
	backend --reply 'LOGIN=NO [AUTHENTICATIONFAILED] Authentication failed.'
	mp --proxy-pass-error-message=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice wrong'
	[ "$output" = "$G"$'a NO [AUTHENTICATIONFAILED] Authentication failed.\r' ]
}

@test "a tagged BAD to LOGIN is a refusal too" {
	backend --reply 'LOGIN=BAD syntax'
	mp --proxy-pass-error-message=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
	[ "$output" = "$G"$'a BAD syntax\r' ]
}

@test "the backend's greeting: BYE and NO are refusals, PREAUTH and garbage are malformed" {
	for g in '* BYE too busy' '* NO go away'; do
		stop_launchers || :; BE=$(free_port); MPPORT=$(free_port)
		backend --greeting "$g"; mp --proxy-pass-error-message=on
		run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
		[ "$output" = "$G$g"$'\r' ]
		[ "$(transcript)" = "" ]
		stop_launchers || :; BE=$(free_port); MPPORT=$(free_port)
		backend --greeting "$g"; mp
		run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
		[ "$output" = "$G"$'* BAD internal server error\r' ]
	done
	for g in '* PREAUTH welcome' 'hello there' '+ OK'; do
		stop_launchers || :; BE=$(free_port); MPPORT=$(free_port)
		backend --greeting "$g"; mp --proxy-pass-error-message=on
		run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
		[ "$output" = "$G"$'* BAD internal server error\r' ]
		mplog | grep -q 'answered the greeting with'
	done
	mplog | grep -q 'answered the greeting with PREAUTH\|answered the greeting with a malformed'
}

@test "a malformed reply to LOGIN: internal error even with proxy_pass_error_message" {
	for r in '@raw garbage' '@raw other OK Logged in' '+ go ahead' '* BYE shutting down'; do
		stop_launchers || :; BE=$(free_port); MPPORT=$(free_port)
		backend --reply "LOGIN=$r"; mp --proxy-pass-error-message=on
		run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
		if [ "$r" = '* BYE shutting down' ]; then
			[ "$output" = "$G"$'* BYE shutting down\r' ]
		else
			[ "$output" = "$G"$'* BAD internal server error\r' ]
			mplog | grep -q 'answered LOGIN with a malformed reply'
		fi
	done
}

@test "a silent backend: internal error after the timeout, never a hang" {
	backend --silent; mp --timeout=1s
	start=$SECONDS
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
	[ "$output" = "$G"$'* BAD internal server error\r' ]
	[ $((SECONDS - start)) -le 4 ]
	mplog | grep -q 'timed out (the greeting)'
}

@test "a backend that never answers LOGIN: internal error after the timeout" {
	backend --reply 'LOGIN=@none'; mp --timeout=1s --proxy-pass-error-message=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
	[ "$output" = "$G"$'* BAD internal server error\r' ]
	mplog | grep -q 'timed out (LOGIN)'
}

@test "a backend that closes: internal error; unreachable: internal error, exit 75" {
	backend --close; mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
	[ "$output" = "$G"$'* BAD internal server error\r' ]
	mplog | grep -q 'closed the connection (the greeting)'
	run sh -c "printf 'a LOGIN alice secret\r\n' | '$MP' --protocol=imap --backend=127.0.0.1:1 2>/dev/null"
	[ "$status" -eq 75 ]
	[ "$output" = "$G"$'* BAD internal server error\r' ]
}

@test "proxy_protocol on: the PROXY v1 header with the client's address comes first" {
	backend --proxy; mp --proxy-protocol=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[[ "$output" == "$G"$'a OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'* ]]
	grep -qE "^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $MPPORT"$'\r$' <(transcript)
	[ "$(transcript | sed 1d)" = $'a LOGIN "alice" "secret"\r\nb LOGOUT\r' ]
	fakelog | grep -q "proxy v1 b'PROXY TCP4 127.0.0.1 127.0.0.1"
}

@test "relay: a 2 MB FETCH passes intact through a 512-byte proxy_buffer" {
	"$PYTHON" -c '
import random, sys
random.seed(11)
with open(sys.argv[1], "wb") as f:
    for i in range(30000):
        f.write(("x" + "".join(random.choice("abcdefghij .:-") for _ in range(69)) + "\r\n").encode())' "$T/msg"
	backend --message "$T/msg"; mp --proxy-buffer=512
	q imap_chat "$MPPORT" --timeout 30 <<<$'a LOGIN alice secret\nb SELECT INBOX\nc FETCH 1 BODY[]\nd LOGOUT' >"$T/out"
	grep -q $'^c OK FETCH completed\r$' "$T/out"
	size=$(stat -c %s "$T/msg")
	"$PYTHON" -c '
import sys
out = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read()
head = b"* 1 FETCH (BODY[] {%d}\r\n" % len(msg)
i = out.index(head) + len(head)
sys.exit(0 if out[i:i + len(msg)] == msg and out[i + len(msg):].startswith(b")\r\nc OK") else 1)' "$T/out" "$T/msg"
	[ "$size" -gt 2000000 ]
}

@test "the log: one line with client, user, backend, outcome; never the password" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice "s3cr\\"t"\nb LOGOUT'
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome='
	line=$(grep 'outcome=' "$T/tcpserver-$MPPORT.log")
	[[ "$line" =~ mailproxy\[[0-9]+\]:\ session=[A-Za-z0-9]{16}\ imap\ client=127\.0\.0\.1:[0-9]+\ user=\"alice\"\ backend=127\.0\.0\.1:$BE\ in=[0-9]+\ out=[0-9]+\ time=[0-9]+\.[0-9]{3}s\ result=ok\ outcome=\"ok\" ]]
	! grep -q 's3cr' "$T/tcpserver-$MPPORT.log" || false
}

@test "the log after AUTHENTICATE: user, never the password or its base64" {
	backend --reply 'LOGIN=NO [AUTHENTICATIONFAILED] Authentication failed.'; mp
	run q imap_chat "$MPPORT" <<<"a AUTHENTICATE PLAIN $PLAIN"
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome='
	grep -q 'user="alice"' "$T/tcpserver-$MPPORT.log"
	! grep -q -e secret -e "$PLAIN" "$T/tcpserver-$MPPORT.log" || false
}

# --- with an auth service -------------------------------------------------

# auth ARGS...: tests/lib/fake_auth_http.py on $AP (users alice/secret), its
# backend the fake IMAP server
auth() {
	AP=$(free_port)
	printf 'alice:secret\n' >"$T/users"
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" --requests "$T/auth.requests" \
		--ready "$T/auth.ready" --users "$T/users" --backend "127.0.0.1:$BE" "$@" &&
		wait_for_file "$T/auth.ready"
}

@test "CRAM-MD5 with an auth service: offered, challenged, the service's password goes to the backend" {
	backend; auth
	launch_tcpserver "$MPPORT" --protocol=imap --auth-http="http://127.0.0.1:$AP/" \
	    --imap-auth='plain cram-md5' --server-name=mx.test
	run q "$PYTHON" - "$MPPORT" <<'EOF'
import base64, hmac, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
out = [f.readline()]
s.sendall(b"a CAPABILITY\r\n")
out += [f.readline(), f.readline()]
s.sendall(b"b AUTHENTICATE CRAM-MD5\r\n")
ch = f.readline()
salt = base64.b64decode(ch[2:].strip())
out.append(b"+ " + salt + b"\r\n")
digest = hmac.new(b"secret", salt, "md5").hexdigest().encode()
s.sendall(base64.b64encode(b"alice " + digest) + b"\r\n")
out.append(f.readline())
sys.stdout.buffer.write(b"".join(out))
EOF
	[[ "$output" =~ ^"$G$CAPS AUTH=CRAM-MD5"$'\r\na OK completed\r\n+ <'[0-9]+\.[0-9]+@mx\.test$'>\r\nb OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r'$ ]]
	[ "$(transcript)" = $'b LOGIN "alice" "secret"\r' ]
	grep -q '^Auth-Method: cram-md5' "$T/auth.requests"
}

@test "a refused attempt with Auth-Wait: the client tries again, greeted once" {
	backend; auth --wait 1
	launch_tcpserver "$MPPORT" --protocol=imap --auth-http="http://127.0.0.1:$AP/"
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice wrong\nb LOGIN alice secret\nc LOGOUT'
	[ "$output" = "$G"$'a NO Invalid login or password\r\nb OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* BYE fake_imap logging out\r\nc OK LOGOUT completed\r' ]
	[ "$(transcript)" = $'b LOGIN "alice" "secret"\r\nc LOGOUT\r' ]
}

# --- a real Dovecot ------------------------------------------------------

# dovecot_mp ARGS...: mailproxy on $MPPORT towards Dovecot's IMAP listener
dovecot_mp() {
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$DOVECOT_IMAP_PORT" "$@"
}

# a message in alice's INBOX, delivered as Dovecot's LDA would leave it
alice_message() {
	local u
	u=$(id -u "$MS_MAIL_USER")
	install -d -o "$u" -g "$u" "$ALICE_MAILDIR" "$ALICE_MAILDIR/new" "$ALICE_MAILDIR/cur" "$ALICE_MAILDIR/tmp"
	ls "$ALICE_MAILDIR"/new/* "$ALICE_MAILDIR"/cur/* >/dev/null 2>&1 && return 0
	printf 'From: bob@example.test\r\nTo: alice@example.test\r\nSubject: through mailproxy\r\n\r\nHello Alice, over IMAP.\r\n' \
		>"$ALICE_MAILDIR/new/1700000000.M1P1.mailproxy-test"
	chown "$u:$u" "$ALICE_MAILDIR/new/1700000000.M1P1.mailproxy-test"
}

@test "Dovecot: curl lists INBOX and fetches a message through mailproxy (AUTHENTICATE PLAIN, SASL-IR)" {
	mail_servers_require
	alice_message
	dovecot_mp
	run curl -sS --max-time 20 "imap://127.0.0.1:$MPPORT/" -u alice:secret
	[ "$status" -eq 0 ]
	[[ "$output" == *'INBOX'* ]]
	run curl -sS --max-time 20 "imap://127.0.0.1:$MPPORT/INBOX;UID=1" -u alice:secret
	[ "$status" -eq 0 ]
	[[ "$output" == *'Subject: through mailproxy'*'Hello Alice, over IMAP.'* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, .*lport=$DOVECOT_IMAP_PORT"
	wait_log "$T/tcpserver-$MPPORT.log" 'user="alice" .*outcome="ok"'
}

@test "Dovecot: bob's password with spaces, a quote and a backslash: AUTHENTICATE PLAIN and LOGIN, LOGIN quoted and literal" {
	mail_servers_require
	dovecot_mp --imap-auth='plain login'
	run curl -sS --max-time 20 "imap://127.0.0.1:$MPPORT/" -u "bob:$MS_PASS_bob"
	[ "$status" -eq 0 ]
	[[ "$output" == *'INBOX'* ]]
	run curl -sS --max-time 20 --login-options 'AUTH=LOGIN' "imap://127.0.0.1:$MPPORT/" -u "bob:$MS_PASS_bob"
	[ "$status" -eq 0 ]
	[[ "$output" == *'INBOX'* ]]
	run q imap_chat "$MPPORT" <<<$'a LOGIN bob {7}\n@raw p a"s\\\\s\\r\\n\n@wait ^a \nb LOGOUT'
	[[ "$output" == "$G"$'+ OK\r\na OK '*$' Logged in\r\n'* ]]
	run q imap_chat "$MPPORT" <<<$'a LOGIN "bob" "p a\\"s\\\\s"\nb LOGOUT'
	[[ "$output" == "$G"$'a OK '*$' Logged in\r\n'* ]]
	[ "$(grep -c 'imap-login: Info: Login: user=<bob>' "$DOVECOT_LOG")" -ge 4 ]
	wait_count "$T/tcpserver-$MPPORT.log" 'outcome="ok"' 4
	[ "$(grep -c 'outcome="ok"' "$T/tcpserver-$MPPORT.log")" -eq 4 ]
}

@test "Dovecot: a wrong password is refused; Dovecot's own line with proxy_pass_error_message" {
	mail_servers_require
	dovecot_mp --proxy-pass-error-message=on
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice wrong'
	[[ "$output" == "$G"$'a NO [AUTHENTICATIONFAILED] Authentication failed.\r' ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'answered LOGIN with a refusal: a NO \[AUTHENTICATIONFAILED\]'
}

@test "Dovecot: with proxy_protocol on, Dovecot logs the real client address" {
	mail_servers_require
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$DOVECOT_IMAP_HAPROXY_PORT" --proxy-protocol=on
	run curl -sS --max-time 20 --interface 127.0.0.5 "imap://127.0.0.1:$MPPORT/" -u alice:secret
	[ "$status" -eq 0 ]
	[[ "$output" == *'INBOX'* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.5, lip=127\.0\.0\.1, rport=[0-9]+, lport=$MPPORT,"
	mplog | grep -q 'client=127\.0\.0\.5:'
}

# A refused command's literal is data, never a command (issue 13, item 3).

@test "a refused command's LITERAL+ data is dropped, never run as commands" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<'@raw a1 FOO {11+}\r\na2 LOGOUT\r\n\r\na3 NOOP\r\na4 LOGOUT\r\n'
	[ "$output" = "$G"$'a1 BAD invalid command\r\na3 OK completed\r\n* BYE\r\na4 OK completed\r' ]
	untouched
}

@test "a refused synchronizing literal gets no continuation" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a0 NOOP {11}\na1 FOO {11}\na2 AUTHENTICATE PLAIN {8}\na3 NOOP\na4 LOGOUT'
	[ "$output" = "$G"$'a0 BAD invalid arguments\r\na1 BAD invalid command\r\na2 BAD invalid arguments\r\na3 OK completed\r\n* BYE\r\na4 OK completed\r' ]
	untouched
}

@test "a pre-login APPEND: its message, with lines that look like commands, is dropped" {
	backend; mp
	msg=$'Subject: x\r\n\r\nb1 LOGOUT\r\nb2 LOGIN alice secret\r\n'
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<"@raw a1 APPEND INBOX (\\\\Seen) {${#msg}+}\\r\\n${msg//$'\r\n'/\\r\\n}\\r\\na2 LOGOUT\\r\\n"
	[ "$output" = "$G"$'a1 BAD invalid command\r\n* BYE\r\na2 OK completed\r' ]
	untouched
}

@test "the literal of a command refused for its syntax, and a chain of them, is dropped" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<'@raw a1 LOGIN a b c {11+}\r\na2 LOGOUT\r\n {9+}\r\na3 NOOP\r\n\r\na4 LOGOUT\r\n'
	[ "$output" = "$G"$'a1 BAD invalid arguments\r\n* BYE\r\na4 OK completed\r' ]
	untouched
}

@test "after a literal refused for a NUL, the rest of the command and its next literal are dropped" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<'@raw a1 LOGIN {5+}\r\na\x00cde {11+}\r\na2 LOGOUT\r\n\r\na3 LOGOUT\r\n'
	[ "$output" = "$G"$'a1 BAD invalid arguments\r\n* BYE\r\na3 OK completed\r' ]
	untouched
}

@test "a refused command's LITERAL+ larger than imap_client_buffer closes the session; the log has its real size" {
	backend; mp --imap-client-buffer=1k
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<'@raw a1 FOO {18446744073709551616+}\r\na2 LOGOUT\r\n'
	[ "$output" = "$G"$'a1 BAD invalid command\r\n* BYE literal too long\r' ]
	untouched
	mplog | grep -q 'outcome="client sent a LITERAL+ literal of 18446744073709551616 bytes (imap_client_buffer 1024)"'
}

@test "CAPABILITY adds no LITERAL+ or SASL-IR, yet clients may use both" {
	backend; mp
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a CAPABILITY\n@raw b LOGIN {5+}\\r\\nalice {6+}\\r\\nsecret\\r\\n'
	[[ "$output" == "$G"$'* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\na OK completed\r\nb OK'* ]]
	[ "$(transcript)" = $'b LOGIN "alice" "secret"\r' ]
}

@test "AUTHENTICATE PLAIN =: an empty initial response is no base64 error" {
	backend; mp
	run q imap_chat "$MPPORT" <<<$'a AUTHENTICATE PLAIN =\nb LOGOUT'
	[ "$output" = "$G"$'a NO invalid credentials\r\n* BYE\r\nb OK completed\r' ]
}

@test "a SASL response line may exceed imap_client_buffer up to the SASL limit (16 KiB)" {
	backend; mp --imap-client-buffer=1k
	long=$(head -c 7500 /dev/zero | base64 -w0)
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a AUTHENTICATE PLAIN\n@nowait\n'"$long"$'\n@wait ^a \nb LOGOUT'
	[ "$output" = "$G"$'+ \r\na NO invalid credentials\r\n* BYE\r\nb OK completed\r' ]
}

@test "a SASL response line over the SASL limit: * BYE and closed" {
	backend; mp
	long=$(head -c 12300 /dev/zero | base64 -w0)
	run q chat "$MPPORT" --expect-greeting --lockstep imap <<<$'a AUTHENTICATE PLAIN\n@nowait\n'"$long"
	[ "$output" = "$G"$'+ \r\n* BYE line too long\r' ]
	mplog | grep -q 'outcome="client sent a line longer than the SASL line limit (16384)"'
}

# strace_replies: the session's writes to the client (fd 1 in a pipeline),
# one line each, as strace prints them
strace_replies() {
	backend
	printf 'a CAPABILITY\r\nb LOGIN alice secret\r\nc LOGOUT\r\n' |
	    strace -qq -s 300 -e trace=write,writev -o "$T/strace" "$MP" \
	    --protocol=imap --backend="127.0.0.1:$BE" >/dev/null 2>&1
	grep -E '^(write|writev)\(1,' "$T/strace"
}

@test "each reply leaves in one write: no Nagle stall between its untagged and tagged lines" {
	run strace_replies
	[ "$(grep -c '"\* CAPABILITY' <<<"$output")" = 1 ]
	grep '"\* CAPABILITY' <<<"$output" | grep -q ' OK completed'
	[ "$(grep -c 'b OK' <<<"$output")" = 1 ]
	grep 'b OK' <<<"$output" | grep -q '"\\r\\n"'
	grep '\* BYE' <<<"$output" | grep -q 'c OK'
}
