#!/usr/bin/env bats
# Deadlines and the end of a session, through the binary under tcpserver:
# every write and the whole login are bounded, the relay ends when the
# session is over, and the login leaves no copy of a password in memory.
# The clients that misbehave on purpose are tests/lib/hostile.py; the
# backends are the fakes, with their fault options (--flood-after,
# --stall-after, --hold).

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

smtp_backend() { start_fake_smtp "$BE" "$@"; }
pop3_backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" "$@" &&
	    wait_for_file "$T/fake-$BE.ready"
}
imap_backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_imap.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" "$@" &&
	    wait_for_file "$T/fake-$BE.ready"
}

# mp PROTO ARGS...: mailproxy on $MPPORT towards the fake backend; LPID is
# tcpserver's pid, whose children are the sessions
mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@" && LPID=$SPAWNED_PID
}

q() { "$@" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log" 2>/dev/null; }
hostile() { "$PYTHON" "$TESTLIB/hostile.py" "$MPPORT" "$@"; }
memgrep() { "$PYTHON" "$TESTLIB/memgrep.py" "$@"; }
# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==

# session_pid: the pid of the one session running (bounded wait)
session_pid() {
	local end=$((SECONDS + 5)) p
	until p=$(pgrep -P "$LPID") && [[ -n $p ]]; do
		((SECONDS < end)) || { echo "no session under $LPID" >&2; return 1; }
		sleep 0.05
	done
	echo "$p"
}

# sessions_gone SECS: true once no session runs, false if one still does
# after SECS
sessions_gone() {
	local end=$((SECONDS + $1))
	while pgrep -P "$LPID" >/dev/null; do
		((SECONDS < end)) || { echo "a session still runs after $1s" >&2; return 1; }
		sleep 0.05
	done
}

# keepalive_timer FILTER: ss shows the keepalive timer on the established
# socket FILTER selects (bounded wait: while sent data is not yet acked,
# ss shows the retransmission timer instead)
keepalive_timer() {
	local end=$((SECONDS + 3)) out
	until out=$(ss -tnoH state established "( $1 )") &&
	    [[ $out == *"timer:(keepalive,"* ]]; do
		((SECONDS < end)) || { echo "no keepalive timer ($1): $out" >&2; return 1; }
		sleep 0.1
	done
}

# outcome REGEX [SECS]: the session's log line has outcome="..." matching
outcome() { wait_log "$T/tcpserver-$MPPORT.log" "outcome=\"$1\"" "${2:-5}"; }

# --- Every write has a deadline (item 4) ----------------------------------

@test "before the login, a client that pipelines NOOPs and reads nothing is cut off within timeout" {
	# max_commands would end the flood first: here the write deadline must
	smtp_backend; mp smtp --timeout=1s --max-commands=1000000
	start=$SECONDS
	run hostile --rcvbuf 4096 --for 8 <<<'@flood NOOP'
	[ "$status" -eq 0 ]
	# the process gave up on the client, it did not wait for it to leave
	[[ "$output" == "ended: E"* ]]
	outcome 'timeout: the client stopped reading' 2
	sessions_gone 2
	[ $((SECONDS - start)) -le $((6 + SLOW)) ]
}

@test "during the relay, a client that stops reading is cut off within proxy_timeout, even while it sends" {
	smtp_backend --flood-after NOOP; mp smtp --proxy-smtp-auth=on --proxy-timeout=1s
	start=$SECONDS
	run hostile --rcvbuf 4096 --for 8 <<<$'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN '"$PLAIN"$'\n@wait ^235 \n@deaf NOOP 0.2'
	[ "$status" -eq 0 ]
	outcome 'proxy_timeout: the client stopped reading' 2
	sessions_gone 2
	[ $((SECONDS - start)) -le $((6 + SLOW)) ]
}

@test "during the relay, a backend that stops reading is cut off within proxy_timeout, even while it sends" {
	smtp_backend --stall-after DATA; mp smtp --proxy-smtp-auth=on --proxy-timeout=1s
	start=$SECONDS
	run hostile --for 8 <<<$'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN '"$PLAIN"$'\n@wait ^235 \nMAIL FROM:<a@x>\n@wait ^250 2.1.0\nRCPT TO:<b@x>\n@wait ^250 2.1.5\nDATA\n@wait ^354\n@upload'
	[ "$status" -eq 0 ]
	outcome 'proxy_timeout: the backend stopped reading' 2
	sessions_gone 2
	[ $((SECONDS - start)) -le $((6 + SLOW)) ]
}

@test "login_timeout: a NOOP now and then does not hold an SMTP session: 421 4.4.2, closed" {
	smtp_backend; mp smtp --timeout=1s --login-timeout=2s
	start=$SECONDS
	run hostile --for 6 --out "$T/got" <<<'@drip NOOP 0.3'
	[ "$status" -eq 0 ]
	[ $((SECONDS - start)) -le 4 ]
	[[ "$(cat "$T/got")" == *$'250 2.0.0 OK\r\n421 4.4.2 Timeout, closing connection\r' ]]
	outcome 'login_timeout: no relay after 2.000s' 2
	sessions_gone 2
}

@test "login_timeout: the same for POP3 (-ERR) and IMAP (* BYE)" {
	pop3_backend; mp pop3 --timeout=1s --login-timeout=2s
	start=$SECONDS
	run hostile --for 6 --out "$T/got" <<<'@drip CAPA 0.3'
	[ $((SECONDS - start)) -le 4 ]
	[[ "$(cat "$T/got")" == *$'\r\n.\r\n-ERR timeout, closing connection\r' ]]
	outcome 'login_timeout: no relay after 2.000s' 2
	stop_launchers
	BE=$(free_port) MPPORT=$(free_port)
	imap_backend; mp imap --timeout=1s --login-timeout=2s
	start=$SECONDS
	run hostile --for 6 --out "$T/got" <<<'@drip a NOOP 0.3'
	[ $((SECONDS - start)) -le 4 ]
	[[ "$(cat "$T/got")" == *$'a OK completed\r\n* BYE timeout, closing connection\r' ]]
	outcome 'login_timeout: no relay after 2.000s' 2
}

@test "login_timeout covers the backend's handshake: a slow greeting gets the internal error in time" {
	smtp_backend --delay-greeting 5; mp smtp --smtp-auth=none --timeout=10s --login-timeout=2s
	start=$SECONDS
	run q chat "$MPPORT" --expect-greeting --lockstep smtp --timeout 8 <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>'
	[[ "$output" == *$'250 2.0.0 OK\r\n451 4.3.2 Internal server error\r' ]]
	[ $((SECONDS - start)) -le 4 ]
	outcome 'login_timeout: no relay after 2.000s' 2
}

@test "login_timeout ends where the relay starts: an MX session (smtp_auth none) relays past it" {
	smtp_backend; mp smtp --smtp-auth=none --login-timeout=1s
	run q chat "$MPPORT" --expect-greeting --lockstep smtp <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\n@sleep 0.7\nNOOP\n@sleep 0.7\nNOOP\nQUIT'
	[ "$status" -eq 0 ]
	[[ "$output" == *$'250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r' ]]
	outcome ok
}

@test "--login-timeout and --half-close-timeout: in --help with their defaults, in the environment, checked" {
	run "$MP" --help
	grep -qE -- '--login-timeout=TIME .*default: 3m' <<<"$output"
	grep -qE -- '--half-close-timeout=TIME .*default: 60s' <<<"$output"
	run env MAILPROXY_LOGIN_TIMEOUT=soon "$MP" --protocol=smtp --backend=127.0.0.1:25
	[ "$status" -eq 64 ]
	[[ "$output" == *MAILPROXY_LOGIN_TIMEOUT* ]]
	run "$MP" --protocol=smtp --backend=127.0.0.1:25 --half-close-timeout=-1
	[ "$status" -eq 64 ]
	[[ "$output" == "mailproxy: --half-close-timeout"* ]]
}

@test "the socket units: KeepAlive=yes, a MaxConnectionsPerSource= limit, systemd-analyze verify clean" {
	mkdir "$T/units"
	cp "$BATS_TEST_DIRNAME"/../units/*.socket "$BATS_TEST_DIRNAME"/../units/*.service "$T/units/"
	# systemd checks that ExecStart= exists: point it at this build
	sed -i "s|^ExecStart=.*|ExecStart=$(readlink -f "$MP")|" "$T/units/"*.service
	for p in smtp pop3 imap; do
		u=$T/units/mailproxy-$p.socket
		grep -qx 'KeepAlive=yes' "$u"
		grep -qxE 'MaxConnectionsPerSource=[1-9][0-9]*' "$u"
		grep -qxE 'KeepAliveTimeSec=[0-9]+min' "$u"
		run systemd-analyze verify --man=no "$u" "$T/units/mailproxy-$p@.service"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
}

@test "SO_KEEPALIVE on both connections of a relaying session (ss shows the keepalive timers)" {
	smtp_backend; mp smtp --proxy-smtp-auth=on
	hostile >/dev/null 3>&- <<<$'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN '"$PLAIN"$'\n@wait ^235 \n@mark '"$T/relaying"$'\n@hold 4' &
	cpid=$!
	wait_for_file "$T/relaying"
	keepalive_timer "dport = :$BE"
	keepalive_timer "sport = :$MPPORT"
	kill "$cpid" 2>/dev/null || :
}

# --- A session ends when it is over (item 5) ------------------------------

@test "the backend closes after QUIT: the client gets every byte and EOF, the process ends though the client stays" {
	smtp_backend; mp smtp --proxy-smtp-auth=on
	hostile --out "$T/got" >"$T/client" 3>&- <<<$'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN '"$PLAIN"$'\n@wait ^235 \nQUIT\n@eof 3\n@mark '"$T/eof"$'\n@hold 3' &
	cpid=$!
	wait_for_file "$T/eof" 5
	# the client still holds its socket: the session is over regardless
	outcome ok 2
	sessions_gone 1
	alive "$cpid"
	wait "$cpid"
	[[ "$(cat "$T/client")" == "ended: script"* ]]
	[[ "$(cat "$T/got")" == *$'\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
}

@test "the client half-closes: a 3 MB RETR still arrives whole, read slowly past the bound; then the idle backend ends it" {
	"$PYTHON" -c '
import random, sys
random.seed(13)
for i in range(40000):
    sys.stdout.write("".join(random.choice("abcdefghij :-") for _ in range(76)) + "\r\n")' >"$T/msg"
	pop3_backend --message "$T/msg" --hold 20; mp pop3 --half-close-timeout=1s
	start=$SECONDS
	run hostile --rcvbuf 65536 --timeout 20 --out "$T/got" <<<$'@wait ^\\+OK\nUSER alice\n@wait ^\\+OK.*\\n\\+OK\nPASS secret\n@wait Logged in\nRETR 1\n@shut\n@slurp 65536 0.05'
	[ "$status" -eq 0 ]
	# the transfer took longer than the bound: it is an idle bound, not a total
	"$PYTHON" - "$T/got" "$T/msg" <<-'PY'
	import sys
	got, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	head = got.index(b"Logged in.\r\n") + len(b"Logged in.\r\n")
	retr = got[head:]
	first = retr.index(b"\r\n") + 2
	assert retr.startswith(b"+OK "), retr[:40]
	assert retr[first:] == msg + b".\r\n", (len(retr) - first, len(msg))
	PY
	outcome 'half_close_timeout' 3
	sessions_gone 2
	[ $((SECONDS - start)) -ge 2 ]
	[ $((SECONDS - start)) -le 12 ]
}

# --- Secrets leave no copies (item 13) ------------------------------------

@test "once the relay runs, no copy of the password is in memory (PASS split over two reads)" {
	pop3_backend; mp pop3
	# PASS pipelined after USER, split over two reads; the USER line is
	# longer than the PASS line, so that the second read does not
	# overwrite what moving the first half to the front left behind
	hostile >/dev/null 3>&- <<<$'@wait ^\\+OK\n@raw USER alice-with-a-long-mailbox-name@example.org\\r\\nPASS hunter2-\n@wait ^\\+OK.*\\n\\+OK\n@sleep 0.3\n@raw Zq9x\\r\\n\n@wait Logged in\n@mark '"$T/relaying"$'\n@hold 5' &
	cpid=$!
	wait_for_file "$T/relaying"
	grep -q 'PASS hunter2-Zq9x' "$T/fake-$BE.transcript"
	pid=$(session_pid)
	# the reader works: the session's own argv is there
	run memgrep "$pid" mx.test
	[[ "$output" =~ ^mx.test\ [1-9] ]]
	# the relay starts a moment after the reply: wait for it, bounded
	end=$((SECONDS + 3))
	until run memgrep "$pid" hunter2 && [ "$output" = 'hunter2 0' ]; do
		((SECONDS < end)) || { echo "$output"; false; }
		sleep 0.1
	done
	kill "$cpid" 2>/dev/null || :
}

@test "a partial line moved to the front of the buffer leaves no copy behind (a refused AUTH PLAIN)" {
	smtp_backend; mp smtp
	# the EHLO line is longer than the AUTH line, so nothing the second
	# read brings overwrites what the first left behind
	hostile >"$T/client" 3>&- <<<$'@wait ^220 \n@raw EHLO client-with-a-rather-long-name.example.org\\r\\nAUTH PLAIN AGFsaWNlAGh1bnRl\n@wait ^250 \n@sleep 0.3\n@raw cjItWnE5eA==\\r\\n\n@wait ^502 \nNOOP\n@wait ^250 2\n@mark '"$T/idle"$'\n@hold 5' &
	cpid=$!
	wait_for_file "$T/idle"
	pid=$(session_pid)
	run memgrep "$pid" mx.test AGFsaWNlAGh1bnRl
	[[ "${lines[0]}" =~ ^mx.test\ [1-9] ]]
	[ "${lines[1]}" = 'AGFsaWNlAGh1bnRl 0' ]
	kill "$cpid" 2>/dev/null || :
}

@test "once the relay runs, no copy of an AUTH PLAIN credential is in memory, not even libc's lowercased one" {
	smtp_backend; mp smtp --proxy-smtp-auth=on
	# the base64 of "\0alice\0hunter2-Zq9x", and its first 16 bytes in
	# lower case: the vectorised strncasecmp leaves those on the stack
	hostile >/dev/null 3>&- <<<$'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN AGFsaWNlAGh1bnRlcjItWnE5eA==\n@wait ^235 \n@mark '"$T/relaying"$'\n@hold 5' &
	cpid=$!
	wait_for_file "$T/relaying"
	pid=$(session_pid)
	end=$((SECONDS + 3))
	until run memgrep "$pid" mx.test AGFsaWNlAGh1bnRl agfsawnlagh1bnrl hunter2 &&
	    [[ "${lines[0]}" =~ ^mx.test\ [1-9] ]] &&
	    [ "${lines[*]:1}" = 'AGFsaWNlAGh1bnRl 0 agfsawnlagh1bnrl 0 hunter2 0' ]; do
		((SECONDS < end)) || { echo "$output"; false; }
		sleep 0.1
	done
	kill "$cpid" 2>/dev/null || :
}
