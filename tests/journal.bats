#!/usr/bin/env bats
# The session's log (issue 16, item 9): the session id on every line of a
# session, the result word of the session line, and, when stderr is the
# journal's stream, the session line in the journal with structured
# fields through libsystemd, loaded by such a session only.
#
# These machines run no journald.  libsystemd sends to the datagram socket
# /run/systemd/journal/socket: each session here runs in a mount namespace
# of its own whose /run/systemd/journal is a directory of the test, where
# tests/lib/fake_journal.py reads the entries.  A live journald (on a
# developer's machine) is never touched, and never gets our entries.  The
# launcher is systemd-socket-activate --accept with a wrapper that sets
# JOURNAL_STREAM to its stderr's DEVICE:INODE, as systemd does.

load lib/common
load lib/certs

JDIR=/run/systemd/journal

setup_file() {
	certs_make
	if ! unshare -m true 2>/dev/null; then
		# CI=true: tests/run-bats counts the skips as failures
		export JOURNAL_SKIP="no mount namespaces here (unshare -m): run as root"
		return 0
	fi
	# the mount point; made here (and removed at the end) when missing
	if [[ ! -d $JDIR ]]; then
		mkdir -p "$JDIR"
		touch "$BATS_FILE_TMPDIR/made-jdir"
	fi
}

teardown_file() {
	if [[ -e $BATS_FILE_TMPDIR/made-jdir ]]; then
		rmdir "$JDIR" 2>/dev/null || :
	fi
}

setup() {
	common_setup
	[[ -z ${JOURNAL_SKIP:-} ]] || skip "$JOURNAL_SKIP"
	BE=$(free_port)
	MPPORT=$(free_port)
	mkdir -p "$T/jdir"
	: >"$T/journal.jsonl"
}

teardown() { san_teardown "$T/systemd-$MPPORT.log"; }

q() { "$@" 2>/dev/null; }
b64() { printf "$1" | base64 -w0; }

# start_journal: the fake journald on $T/jdir/socket, entries to
# $T/journal.jsonl, one JSON object a line
start_journal() {
	spawn journal "$PYTHON" "$TESTLIB/fake_journal.py" "$T/jdir/socket" \
	    "$T/journal.jsonl" --ready "$T/journal.ready"
	wait_for_file "$T/journal.ready"
}

# jlaunch MODE ARGS...: mailproxy ARGS on $MPPORT under
# systemd-socket-activate --accept, in a mount namespace whose
# /run/systemd/journal is $T/jdir; the session's stderr is
# $T/systemd-$MPPORT.log.  MODE sets JOURNAL_STREAM: "stderr" (its
# stderr's DEVICE:INODE, as systemd sets it), "inode" and "device" (one
# of the two numbers off by one), "none" (unset).  $JLD=1 adds
# LD_DEBUG=files: the loader names every object it loads in that log.
jlaunch() {
	local mode=$1 envs=() v
	shift
	{
		echo '#!/bin/sh'
		echo 'set -- $(stat -L -c "%d %i" /proc/self/fd/2)'
		case $mode in
		stderr) echo 'export JOURNAL_STREAM=$1:$2' ;;
		inode) echo 'export JOURNAL_STREAM=$1:$(($2 + 1))' ;;
		device) echo 'export JOURNAL_STREAM=$(($1 + 1)):$2' ;;
		none) echo 'unset JOURNAL_STREAM' ;;
		esac
		printf 'exec %q' "$MP"
		printf ' %q' "$@"
		echo
	} >"$T/jwrap.sh"
	chmod 755 "$T/jwrap.sh"
	[[ ${JLD:-} != 1 ]] || envs+=(-E LD_DEBUG=files)
	for v in $LAUNCH_ENV; do envs+=(-E "$v"); done
	spawn "systemd-$MPPORT" unshare -m sh -c \
	    'mount --bind "$0" /run/systemd/journal && exec "$@"' "$T/jdir" \
	    systemd-socket-activate --accept -l "127.0.0.1:$MPPORT" \
	    --fdname=connection "${envs[@]}" "$T/jwrap.sh" && wait_port "$MPPORT"
}

# start_auth ARGS...: the fake auth_http service on $BE, alice:secret its
# one account
start_auth() {
	echo alice:secret >"$T/users"
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$BE" --requests "$T/auth.requests" \
	    --users "$T/users" --ready "$T/auth.ready" "$@" && wait_for_file "$T/auth.ready"
}

# start_pop3 ARGS...: the fake POP3 backend on $BE
start_pop3() {
	rm -f "$T/fake.ready"
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" "$T/fake.transcript" \
	    --multi --ready "$T/fake.ready" "$@" && wait_for_file "$T/fake.ready"
}

# mplog: the sessions' stderr
mplog() { cat "$T/systemd-$MPPORT.log"; }

# jcheck N FIELD=REGEX...: entry N (1-based) of the journal has exactly
# these fields, each value matching its Python regex whole; prints the
# entry and what is wrong otherwise
jcheck() {
	"$PYTHON" - "$T/journal.jsonl" "$@" <<'PY'
import json, re, sys
entries = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
if len(entries) < n:
    sys.exit("only %d journal entries: %r" % (len(entries), entries))
e = entries[n - 1]
want = dict(a.split("=", 1) for a in sys.argv[3:])
bad = ["missing %s" % k for k in want if k not in e]
bad += ["extra %s=%r" % (k, e[k]) for k in e if k not in want]
bad += ["%s=%r does not match %r" % (k, e[k], r) for k, r in want.items()
        if k in e and not re.fullmatch(r, e[k], re.S)]
if bad:
    print(json.dumps(e, indent=1, sort_keys=True))
    sys.exit("\n".join(bad))
PY
}

# jfield N FIELD: the value of FIELD in entry N
jfield() {
	"$PYTHON" -c 'import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]) - 1]
sys.stdout.write(e[sys.argv[3]])' "$T/journal.jsonl" "$1" "$2"
}

# the fields every entry has, whatever the session
ID='[A-Za-z0-9]{16}'
CLIENT='127\.0\.0\.1:[0-9]+'
LAUNCHER=systemd
common_fields() {
	echo "SYSLOG_IDENTIFIER=mailproxy" "SYSLOG_FACILITY=2" "SYSLOG_PID=[0-9]+" \
	    "MAILPROXY_SESSION_ID=$ID" "MAILPROXY_CLIENT=$CLIENT" \
	    "MAILPROXY_BYTES_IN=[0-9]+" "MAILPROXY_BYTES_OUT=[0-9]+" \
	    "MAILPROXY_DURATION_MS=[0-9]+" "MAILPROXY_LAUNCHER=$LAUNCHER"
}

# same_as_message N: the entry's fields say what its MESSAGE says
same_as_message() {
	local m
	m=$(jfield "$1" MESSAGE)
	[[ $m == "session=$(jfield "$1" MAILPROXY_SESSION_ID) $(jfield "$1" MAILPROXY_PROTOCOL) client=$(jfield "$1" MAILPROXY_CLIENT) "* ]] || { echo "MESSAGE: $m"; false; }
	[[ $m == *" in=$(jfield "$1" MAILPROXY_BYTES_IN) out=$(jfield "$1" MAILPROXY_BYTES_OUT) "* ]] || { echo "MESSAGE: $m"; false; }
	[[ $m == *" result=$(jfield "$1" MAILPROXY_RESULT) outcome=\"$(jfield "$1" MAILPROXY_OUTCOME)\""* ]] || { echo "MESSAGE: $m"; false; }
}

# no_session_line: the journal took the session line: stderr has none
no_session_line() {
	if grep 'result=' "$T/systemd-$MPPORT.log"; then return 1; fi
}

@test "an ok session under JOURNAL_STREAM: its line in the journal, every field, PRIORITY 6 (info), nothing on stderr" {
	start_journal
	start_pop3
	jlaunch stderr --protocol=pop3 --backend="127.0.0.1:$BE" --server-name=mx.test
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	[[ $output == *$'+OK Logged in.\r\n+OK Bye\r' ]]
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	# shellcheck disable=SC2046
	jcheck 1 $(common_fields) PRIORITY=6 MAILPROXY_PROTOCOL=pop3 \
	    MAILPROXY_USER=alice "MAILPROXY_BACKEND=127\.0\.0\.1:$BE" \
	    MAILPROXY_RESULT=ok MAILPROXY_OUTCOME=ok MAILPROXY_TLS_VERSION= \
	    MAILPROXY_TLS_CIPHER= MAILPROXY_BACKEND_TLS= \
	    "MESSAGE=session=$ID pop3 client=$CLIENT user=\"alice\" backend=127\.0\.0\.1:$BE in=[0-9]+ out=[0-9]+ time=[0-9]+\.[0-9]{3}s result=ok outcome=\"ok\" launcher=systemd"
	same_as_message 1
	# the bytes: the client's three commands, and what it was sent
	[ "$(jfield 1 MAILPROXY_BYTES_IN)" = 31 ]
	[ "$(jfield 1 MAILPROXY_BYTES_OUT)" = "${#output}" ] ||
		[ "$(jfield 1 MAILPROXY_BYTES_OUT)" = "$((${#output} + 1))" ]
	no_session_line
	[ "$(wc -l <"$T/journal.jsonl")" -eq 1 ]
}

@test "an IMAPS session: the journal's TLS version and cipher are the line's tls=" {
	start_journal
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_imap.py" "$BE" "$T/fake.transcript" \
	    --multi --ready "$T/fake.ready" && wait_for_file "$T/fake.ready"
	jlaunch stderr --protocol=imap --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --ssl=on --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY"
	run q chat "$MPPORT" --tls --expect-greeting --lockstep imap <<<$'a LOGIN alice secret\nb LOGOUT'
	[[ $output == *$'a OK'* ]]
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	# shellcheck disable=SC2046
	jcheck 1 $(common_fields) PRIORITY=6 MAILPROXY_PROTOCOL=imap \
	    MAILPROXY_USER=alice "MAILPROXY_BACKEND=127\.0\.0\.1:$BE" \
	    MAILPROXY_RESULT=ok MAILPROXY_OUTCOME=ok MAILPROXY_TLS_VERSION=TLSv1.3 \
	    'MAILPROXY_TLS_CIPHER=TLS_[A-Z0-9_]+' MAILPROXY_BACKEND_TLS= \
	    "MESSAGE=session=$ID imap client=$CLIENT user=\"alice\" .* result=ok outcome=\"ok\" launcher=systemd tls=TLSv1\.3/TLS_[A-Z0-9_]+"
	same_as_message 1
	[[ $(jfield 1 MESSAGE) == *" tls=$(jfield 1 MAILPROXY_TLS_VERSION)/$(jfield 1 MAILPROXY_TLS_CIPHER)" ]]
	no_session_line
}

@test "a login the auth service refuses: PRIORITY 5 (notice), result refused; the 'login refused' line on stderr with the session id" {
	start_journal
	start_auth
	jlaunch stderr --protocol=smtp --auth-http="http://127.0.0.1:$BE/auth" --server-name=mx.test
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 '\0alice\0wrong')
QUIT"
	[[ $output == *$'535 5.7.0 Invalid login or password\r' ]]
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	# shellcheck disable=SC2046
	jcheck 1 $(common_fields) PRIORITY=5 MAILPROXY_PROTOCOL=smtp \
	    MAILPROXY_USER=alice MAILPROXY_BACKEND= MAILPROXY_RESULT=refused \
	    "MAILPROXY_OUTCOME=auth service refused: Invalid login or password" \
	    MAILPROXY_TLS_VERSION= MAILPROXY_TLS_CIPHER= MAILPROXY_BACKEND_TLS= \
	    "MESSAGE=session=$ID smtp client=$CLIENT user=\"alice\" backend=- .* result=refused outcome=\"auth service refused: Invalid login or password\" launcher=systemd"
	same_as_message 1
	id=$(jfield 1 MAILPROXY_SESSION_ID)
	wait_log "$T/systemd-$MPPORT.log" "login refused"
	mplog | grep -Eq "^mailproxy\[[0-9]+\]: session=$id smtp client=$CLIENT user=\"alice\" login refused: Invalid login or password$"
	no_session_line
}

@test "a login the backend itself refuses (a fixed backend): PRIORITY 5, result refused, and the 'login refused' line" {
	start_journal
	start_pop3 --reply 'PASS=-ERR [AUTH] Authentication failed.'
	jlaunch stderr --protocol=pop3 --backend="127.0.0.1:$BE" --server-name=mx.test
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS wrong\nQUIT'
	[[ $output == *$'-ERR'* ]]
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	# shellcheck disable=SC2046
	jcheck 1 $(common_fields) PRIORITY=5 MAILPROXY_PROTOCOL=pop3 \
	    MAILPROXY_USER=alice "MAILPROXY_BACKEND=127\.0\.0\.1:$BE" MAILPROXY_RESULT=refused \
	    "MAILPROXY_OUTCOME=backend 127\.0\.0\.1:$BE refused PASS: -ERR \[AUTH\] Authentication failed\." \
	    MAILPROXY_TLS_VERSION= MAILPROXY_TLS_CIPHER= MAILPROXY_BACKEND_TLS= \
	    "MESSAGE=session=$ID pop3 client=$CLIENT user=\"alice\" .* result=refused outcome=.*"
	same_as_message 1
	wait_log "$T/systemd-$MPPORT.log" "login refused"
	mplog | grep -Eq "^mailproxy\[[0-9]+\]: session=$(jfield 1 MAILPROXY_SESSION_ID) pop3 client=$CLIENT user=\"alice\" login refused: backend 127\.0\.0\.1:$BE: -ERR \[AUTH\] Authentication failed\.$"
	# a temporary trouble of the backend's is no refusal (RFC 3206)
	: >"$T/journal.jsonl"
	stop_launchers
	start_journal
	start_pop3 --reply 'PASS=-ERR [SYS/TEMP] Try again later.'
	: >"$T/systemd-$MPPORT.log"
	jlaunch stderr --protocol=pop3 --backend="127.0.0.1:$BE" --server-name=mx.test
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS wrong\nQUIT'
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	[ "$(jfield 1 MAILPROXY_RESULT)" = backend-error ]
	[ "$(jfield 1 PRIORITY)" = 3 ]
	! grep -q "login refused" "$T/systemd-$MPPORT.log" || false
}

@test "an error: a backend that is down is result backend-error, PRIORITY 3 (err); a client's errors are client-error, PRIORITY 4 (warning)" {
	start_journal
	# nothing listens on $BE
	jlaunch stderr --protocol=imap --backend="127.0.0.1:$BE" --server-name=mx.test --max-errors=2
	run q imap_chat "$MPPORT" <<<$'a LOGIN alice secret'
	[[ $output == *$'a NO [UNAVAILABLE] internal server error\r'* ]] ||
		[[ $output == *'internal server error'* ]]
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	# shellcheck disable=SC2046
	jcheck 1 $(common_fields) PRIORITY=3 MAILPROXY_PROTOCOL=imap \
	    MAILPROXY_USER=alice "MAILPROXY_BACKEND=127\.0\.0\.1:$BE" \
	    MAILPROXY_RESULT=backend-error "MAILPROXY_OUTCOME=.*127\.0\.0\.1:$BE.*" \
	    MAILPROXY_TLS_VERSION= MAILPROXY_TLS_CIPHER= MAILPROXY_BACKEND_TLS= \
	    "MESSAGE=session=$ID imap client=$CLIENT user=\"alice\" backend=127\.0\.0\.1:$BE .* result=backend-error outcome=.*"
	same_as_message 1
	run q imap_chat "$MPPORT" <<<$'a FROB\nb FROB\nc LOGOUT'
	wait_log "$T/journal.jsonl" client-error
	# shellcheck disable=SC2046
	jcheck 2 $(common_fields) PRIORITY=4 MAILPROXY_PROTOCOL=imap \
	    MAILPROXY_USER= MAILPROXY_BACKEND= MAILPROXY_RESULT=client-error \
	    "MAILPROXY_OUTCOME=too many invalid commands" \
	    MAILPROXY_TLS_VERSION= MAILPROXY_TLS_CIPHER= MAILPROXY_BACKEND_TLS= \
	    "MESSAGE=session=$ID imap client=$CLIENT user=\"\" backend=- .* result=client-error outcome=\"too many invalid commands\" launcher=systemd"
	same_as_message 2
	no_session_line
}

# the hostile name: a quote, a backslash, CR, LF, a NUL-free control
# byte, DEL and 8-bit bytes, in base64 PLAIN's authentication identity
HOSTILE='a"b\\c\r\nd\001e\177f\303\251'
HOSTILE_SHOWN='a\x22b\x5cc\x0d\x0ad\x01e\x7ff\xc3\xa9'

@test "a hostile user name (quotes, control bytes, CR LF in base64 PLAIN) is made printable in MESSAGE and in MAILPROXY_USER" {
	start_journal
	start_auth
	jlaunch stderr --protocol=smtp --auth-http="http://127.0.0.1:$BE/auth" --server-name=mx.test
	run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 "\\0$HOSTILE\\0secret")
QUIT"
	[[ $output == *$'535 5.7.0 Invalid login or password\r' ]]
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	[ "$(jfield 1 MAILPROXY_USER)" = "$HOSTILE_SHOWN" ]
	[[ $(jfield 1 MESSAGE) == *" user=\"$(jfield 1 MAILPROXY_USER)\" backend=- "* ]]
	# nothing but printable ASCII in any field
	! grep -P '[^\x20-\x7e]' <(jfield 1 MESSAGE; jfield 1 MAILPROXY_USER) || false
	# the refused line on stderr: the same name, on one line
	wait_log "$T/systemd-$MPPORT.log" "login refused"
	[ "$(grep -c 'login refused' "$T/systemd-$MPPORT.log")" = 1 ]
	grep -F "user=\"$(jfield 1 MAILPROXY_USER)\" login refused" "$T/systemd-$MPPORT.log"
}

@test "without JOURNAL_STREAM, or naming another file: the line on stderr, no journal entry, libsystemd never loaded (LD_DEBUG=files)" {
	for mode in none inode device; do
		stop_launchers
		start_journal
		start_pop3
		: >"$T/systemd-$MPPORT.log"
		JLD=1 jlaunch "$mode" --protocol=pop3 --backend="127.0.0.1:$BE" --server-name=mx.test
		run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
		[[ $output == *$'+OK Bye\r' ]]
		wait_log "$T/systemd-$MPPORT.log" "^mailproxy\[[0-9]+\]: session=$ID pop3 client=$CLIENT user=\"alice\" .* result=ok outcome=\"ok\" launcher=systemd$"
		# the loader spoke (libc), and never of libsystemd
		grep -q 'file=libc\.so\.6 \[0\]; *needed by' "$T/systemd-$MPPORT.log"
		if grep libsystemd "$T/systemd-$MPPORT.log"; then
			echo "mode $mode loaded libsystemd"
			false
		fi
		[ ! -s "$T/journal.jsonl" ]
	done
}

@test "JOURNAL_STREAM right but no journal socket: the line on stderr, libsystemd never loaded; a socket nobody reads: loaded, the send fails, a warning and the line on stderr" {
	start_pop3
	JLD=1 jlaunch stderr --protocol=pop3 --backend="127.0.0.1:$BE" --server-name=mx.test
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	wait_log "$T/systemd-$MPPORT.log" "^mailproxy\[[0-9]+\]: session=$ID pop3 client=$CLIENT user=\"alice\" .* result=ok outcome=\"ok\" launcher=systemd$"
	grep -q 'file=libc\.so\.6 \[0\]; *needed by' "$T/systemd-$MPPORT.log"
	! grep libsystemd "$T/systemd-$MPPORT.log" || false
	# a socket left behind by a journald that is gone: ECONNREFUSED
	"$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$T/jdir/socket"
	[ -S "$T/jdir/socket" ]
	: >"$T/systemd-$MPPORT.log"
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret\nQUIT'
	wait_log "$T/systemd-$MPPORT.log" "^mailproxy\[[0-9]+\]: session=$ID pop3 client=$CLIENT user=\"alice\" .* result=ok outcome=\"ok\" launcher=systemd$"
	grep -q 'file=libsystemd\.so\.0 \[0\]; *dynamically loaded by' "$T/systemd-$MPPORT.log"
	grep -Eq "^mailproxy\[[0-9]+\]: session=$ID journal: sd_journal_send: Connection refused \(the line goes to stderr\)$" "$T/systemd-$MPPORT.log"
	[ ! -s "$T/journal.jsonl" ]
}

@test "libsystemd is loaded after the client's last reply: in no /proc/PID/maps snapshot up to it, then by the loader, and the entry sent" {
	start_journal
	start_pop3
	: >"$T/stderr"
	stream=$(stat -c '%d:%i' "$T/stderr")
	printf '%s\n' 'USER u' 'PASS p' QUIT |
	    "$PYTHON" "$BATS_TEST_DIRNAME/../bench/tlspipe.py" --plain --lockstep \
	    --maps "$T/maps" --out "$T/replies" -- \
	    unshare -m sh -c 'mount --bind "$0" /run/systemd/journal && exec "$@"' "$T/jdir" \
	    env LD_DEBUG=files JOURNAL_STREAM="$stream" "$MP" --protocol=pop3 \
	    --backend="127.0.0.1:$BE" --server-name=mx.test 2>>"$T/stderr"
	grep -q $'^+OK Bye\r$' "$T/replies"
	# a snapshot at the greeting and at each of the three replies
	(($(grep -c '^-- reply' "$T/maps") == 4))
	grep -q '/libc\.so\.6$' "$T/maps"
	! grep libsystemd "$T/maps" || false
	grep -q 'file=libsystemd\.so\.0 \[0\]; *dynamically loaded by' "$T/stderr"
	wait_log "$T/journal.jsonl" MAILPROXY_RESULT
	[ "$(jfield 1 MAILPROXY_RESULT)" = ok ]
	[ "$(jfield 1 MAILPROXY_CLIENT)" = unknown ]
	! grep 'result=' "$T/stderr" || false
}

@test "the .note.dlopen ELF note names libsystemd.so.0 for the journal, as suggested" {
	objcopy -O binary --only-section=.note.dlopen "$MPELF" "$T/note"
	"$PYTHON" - "$T/note" <<'PY'
import json, struct, sys
data, off, features = open(sys.argv[1], "rb").read(), 0, {}
while off < len(data):
    namesz, descsz, _ = struct.unpack_from("<III", data, off)
    off += 12 + ((namesz + 3) & ~3)
    for e in json.loads(data[off:off + descsz - 1]):
        features[e["feature"]] = (e["soname"], e["priority"])
    off += (descsz + 3) & ~3
assert features.get("journal") == (["libsystemd.so.0"], "suggested"), features
PY
}

# result_is WORD OUTCOME: the session line says result=WORD beside an
# outcome matching the ERE OUTCOME
result_is() {
	wait_log "$T/systemd-$MPPORT.log" ' result=' 15
	grep -Eq "^mailproxy\[[0-9]+\]: session=$ID [a-z0-9]+ client=$CLIENT .* result=$1 outcome=\"$2\"" \
	    "$T/systemd-$MPPORT.log" || { cat "$T/systemd-$MPPORT.log"; false; }
}

@test "the result words: client-quit, client-error, timeout, auth-error, tls-error, relay-error, each beside its outcome" {
	start_pop3
	# client-quit: QUIT before logging in; and a close
	jlaunch none --protocol=pop3 --backend="127.0.0.1:$BE"
	run q pop3_chat "$MPPORT" <<<QUIT
	result_is client-quit "client quit before logging in"
	: >"$T/systemd-$MPPORT.log"
	run q pop3_chat "$MPPORT" <<<@shut
	result_is client-quit "client closed the connection"
	# client-error: a line over the buffer
	: >"$T/systemd-$MPPORT.log"
	run q pop3_chat "$MPPORT" <<<"@raw $(printf 'x%.0s' {1..3000})\\r\\n"
	result_is client-error "client sent a line longer than the POP3 line limit .*"
	# timeout: the login's deadline
	stop_launchers
	: >"$T/systemd-$MPPORT.log"
	jlaunch none --protocol=pop3 --backend="127.0.0.1:$BE" --login-timeout=1s
	run q pop3_chat "$MPPORT" --timeout 5 <<<"@sleep 3"
	result_is timeout "login_timeout: no relay after 1\.000s"
	# auth-error: nothing listens where the auth service should
	stop_launchers
	: >"$T/systemd-$MPPORT.log"
	jlaunch none --protocol=pop3 --auth-http="http://127.0.0.1:$(free_port)/auth"
	run q pop3_chat "$MPPORT" <<<$'USER alice\nPASS secret'
	result_is auth-error "auth service .*"
	# tls-error: plaintext to --ssl=on
	stop_launchers
	: >"$T/systemd-$MPPORT.log"
	jlaunch none --protocol=imap --backend="127.0.0.1:$BE" --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY"
	run q chat "$MPPORT" <<<'a LOGIN alice secret'
	result_is tls-error "client .*"
	# relay-error: the client resets the connection while relaying
	stop_launchers
	start_pop3
	: >"$T/systemd-$MPPORT.log"
	jlaunch none --protocol=pop3 --backend="127.0.0.1:$BE"
	"$PYTHON" - "$MPPORT" <<-'PY'
	import socket, struct, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	def upto(b):
	    got = b""
	    while not got.endswith(b):
	        got += s.recv(4096)
	    return got
	upto(b"\r\n")
	s.sendall(b"USER alice\r\n"); upto(b"\r\n")
	s.sendall(b"PASS secret\r\n"); upto(b"Logged in.\r\n")
	s.sendall(b"STAT\r\n"); upto(b"\r\n")
	# unread bytes and SO_LINGER 0: the close is a reset
	s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
	s.sendall(b"RETR 1\r\n")
	time.sleep(0.2)
	s.close()
	PY
	result_is relay-error "(client to backend|backend to client) broke"
}

@test "the README's fail2ban filter (fail2ban-regex) takes the client's address from each 'login refused' line, syslog's and the journal's, IPv6 too, never from a user name, and never counts the session line" {
	command -v fail2ban-regex >/dev/null || skip "no fail2ban-regex (Debian's fail2ban; .ci/packages has it)"
	# the filter, as the README has it
	mkdir -p "$T/f2b"
	ln -s /etc/fail2ban/filter.d/common.conf "$T/f2b/common.conf"
	awk '/^    # \/etc\/fail2ban\/filter\.d\/mailproxy\.conf$/ { on = 1 }
	    on && !/^(    |$)/ { exit }
	    on { sub(/^    /, ""); print }' \
	    "$BATS_TEST_DIRNAME/../README.md" >"$T/f2b/mailproxy.conf"
	grep -q '^failregex = ' "$T/f2b/mailproxy.conf"
	# real lines: a refusal, and a user name that tries to name a client
	start_auth
	jlaunch none --protocol=smtp --auth-http="http://127.0.0.1:$BE/auth" --server-name=mx.test
	for user in alice 'x" client=10.9.9.9:1 user="y'; do
		run q smtp_chat "$MPPORT" <<<"EHLO client.test
AUTH PLAIN $(b64 "\\0$user\\0wrong")
QUIT"
		[[ $output == *'535 5.7.0'* ]]
	done
	wait_log "$T/systemd-$MPPORT.log" 'x\\x22 client=10\.9\.9\.9:1 user=\\x22y" login refused'
	wait_log "$T/systemd-$MPPORT.log" 'user="x\\x22 .* result=refused'
	[ "$(grep -c 'login refused' "$T/systemd-$MPPORT.log")" = 2 ]
	# as syslog writes them (inetd), as the journal's syslog forwarding
	# does (systemd: our own "mailproxy[PID]: " after its), and IPv6
	d=$(date '+%b %e %H:%M:%S')
	grep '^mailproxy\[' "$T/systemd-$MPPORT.log" | while IFS= read -r l; do
		echo "$d mx $l"
		echo "$d mx mailproxy[1]: $l"
		[[ $l != *'user="alice" login refused'* ]] ||
			echo "$d mx ${l/client=127.0.0.1:/client=[2001:db8::8]:}"
	done >"$T/f2b.log"
	run fail2ban-regex -o ip "$T/f2b.log" "$T/f2b/mailproxy.conf"
	[ "$status" -eq 0 ]
	[ "$output" = $'127.0.0.1\n127.0.0.1\n2001:db8::8\n127.0.0.1\n127.0.0.1' ]
	# and all the other lines (the session lines) missed
	run fail2ban-regex "$T/f2b.log" "$T/f2b/mailproxy.conf"
	[[ $output == *"Lines: 9 lines, 0 ignored, 5 matched, 4 missed"* ]] || { echo "$output"; false; }
}
