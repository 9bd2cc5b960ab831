# common.bash - sourced by every .bats file: `load lib/common`.
#
# Gives: $MP (the binary), $T (per-test temp dir), ports and bounded waits,
# launchers that run $MP per connection the way systemd, tcpserver and inetd
# do, and small protocol clients.  setup()/teardown() defaults are defined
# below; a file that defines its own must call common_setup/common_teardown.

MP=${MAILPROXY:-$BATS_TEST_DIRNAME/../mailproxy}
# The program file itself, for a test that reads its ELF: make test-valgrind's
# $MAILPROXY is a wrapper script, and it sets MPELF to the binary it runs.
MPELF=${MPELF:-$MP}
# What $MP is, for the bounds that depend on it: "valgrind" (make
# test-valgrind's wrapper: memcheck adds about a second to a process's start
# and more to a TLS handshake), "san" (the sanitizer build) or "normal".
# Peak RSS is a measure only of the normal build: shadow memory and
# memcheck's own state dwarf any ceiling.  SLOW is the seconds a bound on a
# session's time allows for memcheck (0 elsewhere), SLOW_MS the same in ms.
case ${MP##*/} in
valgrind-mailproxy) MP_KIND=valgrind SLOW=3 ;;
mailproxy-san*) MP_KIND=san SLOW=0 ;;
*) MP_KIND=normal SLOW=0 ;;
esac
SLOW_MS=$((SLOW * 1000))
TESTLIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The interpreter for the helpers: Debian's (fast to start), else any python3.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
# Bound, in seconds, of every wait_* helper (override per call or globally).
WAIT_TIMEOUT=${WAIT_TIMEOUT:-10}

# common_setup: per-test state; $T is the per-test temp dir (bats removes it).
common_setup() {
	T=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}
	export T
}

# common_teardown: stop every launcher and helper started by this test.
common_teardown() {
	stop_launchers
}

setup() { common_setup; }
teardown() { common_teardown; }

# san_teardown LOG...: common_teardown, failing the test when a LOG (the
# launchers' logs: under the sanitizer build mailproxy's stderr) holds an
# AddressSanitizer or UndefinedBehaviorSanitizer report, shown then.
san_teardown() {
	local bad=0
	if grep -qE 'Sanitizer|runtime error' "$@" 2>/dev/null; then
		cat "$@" >&2 2>/dev/null
		bad=1
	fi
	common_teardown
	return "$bad"
}

# free_port [N]: print N (default 1) distinct TCP ports on 127.0.0.1 that the
# kernel says are free, one a line, never one already handed out in this run.
free_port() {
	local used="${BATS_RUN_TMPDIR:-/tmp}/.ports-used"
	touch "$used" 2>/dev/null || :
	"$PYTHON" - "${1:-1}" "$used" <<'PY'
import socket, sys
n, used = int(sys.argv[1]), sys.argv[2]
try:
    seen = set(open(used).read().split())
except OSError:
    seen = set()
socks, ports = [], []
while len(ports) < n and len(socks) < n + 200:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    p = str(s.getsockname()[1])
    if p not in seen:
        ports.append(p)
if len(ports) < n:
    sys.exit("free_port: no free port")
try:
    with open(used, "a") as f:
        f.write("".join(p + "\n" for p in ports))
except OSError:
    pass
print("\n".join(ports))
PY
}

# port_listening PORT: true if some socket listens on TCP PORT (reads
# /proc/net/tcp{,6}; never connects, so no session is spawned or consumed).
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:[0-9A-F]+ 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_port PORT [SECS]: wait until TCP PORT is listening (bounded).
wait_port() {
	local end=$((SECONDS + ${2:-$WAIT_TIMEOUT}))
	until port_listening "$1"; do
		((SECONDS < end)) || { echo "wait_port: nothing listens on $1 after ${2:-$WAIT_TIMEOUT}s" >&2; return 1; }
		sleep 0.05
	done
}

# wait_for_file FILE [SECS]: wait until FILE exists (bounded).
wait_for_file() {
	local end=$((SECONDS + ${2:-$WAIT_TIMEOUT}))
	until [[ -e $1 ]]; do
		((SECONDS < end)) || { echo "wait_for_file: no $1 after ${2:-$WAIT_TIMEOUT}s" >&2; return 1; }
		sleep 0.05
	done
}

# sasl_chat PROTO PORT: tests/lib/sasl_chat.py, the script on stdin, its
# salts in $T/sasl.salts and reply times in $T/sasl.times
sasl_chat() { "$PYTHON" "$TESTLIB/sasl_chat.py" "$1" "$2" "$T/sasl"; }
# last_salt: the last salt or challenge sasl_chat answered
last_salt() { tail -n 1 "$T/sasl.salts"; }
# hmac_md5 KEY TEXT, md5hex TEXT: what APOP and CRAM-MD5 answers hold
hmac_md5() { "$PYTHON" -c 'import hmac,hashlib,sys,os; print(hmac.new(os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), hashlib.md5).hexdigest())' "$@"; }
md5hex() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# wait_log FILE REGEX [SECS]: wait until FILE has a line matching the ERE.
wait_log() { wait_count "$1" "$2" 1 "${3:-}"; }

# wait_count FILE ERE N [SECS]: wait until at least N lines of FILE match
# ERE (a session logs as it ends, after its client has gone: later still
# under valgrind).
wait_count() {
	local end=$((SECONDS + ${4:-$WAIT_TIMEOUT})) n
	while n=$(grep -cE -- "$2" "$1" 2>/dev/null); ((n < $3)); do
		if ((SECONDS >= end)); then
			echo "wait_count: $n of $3 lines /$2/ in $1 after ${4:-$WAIT_TIMEOUT}s; it has:" >&2
			tail -n 30 "$1" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
}

# _tdir: make sure $T is set (also in setup_file, where it is the file's dir).
_tdir() { : "${T:=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}}"; }

# spawn NAME CMD...: run CMD in the background in its own session, output to
# $T/NAME.log, recorded for stop_launchers; sets SPAWNED_PID.  (bats' fd 3 is
# closed so bats never waits on it.)
spawn() {
	local name=$1 pidf
	shift
	_tdir
	pidf=$T/.$name.$RANDOM.pid
	setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" \
		</dev/null >>"$T/$name.log" 2>&1 3>&- &
	wait_for_file "$pidf" 5 || return 1
	SPAWNED_PID=$(<"$pidf")
	echo "$SPAWNED_PID" >>"$T/.launchers"
}

# _descendants PID: print PID's descendants (any session), deepest last.
_descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END { n = split(kids[root], q, " "); i = 1
		      while (i <= n) { p = q[i++]; print p
		            m = split(kids[p], more, " ")
		            for (j = 1; j <= m; j++) q[++n] = more[j] } }'
}

# alive PID: true if PID exists and is not a zombie (the sandbox's init may
# reap late, and kill -0 succeeds on zombies).
alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[[ -n $st && ${st%% *} != Z ]]
}

# wait_gone SECS PID...: wait until no PID is alive; KILL the survivors.
wait_gone() {
	local end=$((SECONDS + $1)) p left
	shift
	while :; do
		left=
		for p in "$@"; do alive "$p" && left+=" $p"; done
		[[ -z $left ]] && return 0
		((SECONDS < end)) || break
		sleep 0.05
	done
	echo "wait_gone: killing$left" >&2
	for p in $left; do kill -KILL "$p" 2>/dev/null || :; done
	return 0
}

# stop_pid PID: TERM the process, its group and its descendants (in any
# session); KILL whatever is left after 3 s.
stop_pid() {
	local pid=$1 all p
	all="$pid $(_descendants "$pid")"
	kill -TERM -- "-$pid" 2>/dev/null || :
	for p in $all; do kill -TERM "$p" 2>/dev/null || :; done
	# shellcheck disable=SC2086
	wait_gone 3 $all
}

# stop_launchers: stop everything spawn() started in this scope (test or file).
stop_launchers() {
	_tdir
	local f=$T/.launchers pid
	[[ -f $f ]] || return 0
	for pid in $(tac "$f"); do stop_pid "$pid"; done
	rm -f "$f"
}

# Launchers: each starts a listener on 127.0.0.1:PORT that runs $MP ARGS (or
# $LAUNCH_CMD ARGS) once per connection, returns when PORT listens, and logs
# the launcher's and the sessions' stderr to $T/<launcher>-PORT.log.

# launch_systemd PORT ARGS...: via systemd-socket-activate --accept: fd 3,
# LISTEN_FDS=1, LISTEN_FDNAMES=connection (no REMOTE_ADDR: only PID 1 sets it).
# It clears the environment: MAILPROXY_* and the names in $LAUNCH_ENV pass.
launch_systemd() {
	local port=$1 envs=() v
	shift
	for v in $(compgen -e | grep '^MAILPROXY_') $LAUNCH_ENV; do envs+=(-E "$v"); done
	spawn "systemd-$port" systemd-socket-activate --accept -l "127.0.0.1:$port" \
		--fdname=connection "${envs[@]}" "${LAUNCH_CMD:-$MP}" "$@" && wait_port "$port"
}

# launch_tcpserver PORT ARGS...: via ucspi-tcp tcpserver: fd 0/1, PROTO,
# TCPREMOTEIP...; $TCPSERVER_OPTS replaces the default "-q -R -H -l localhost"
# (no ident or DNS lookups, so no TCPREMOTEHOST).
launch_tcpserver() {
	local port=$1
	shift
	# shellcheck disable=SC2086
	spawn "tcpserver-$port" tcpserver ${TCPSERVER_OPTS:--q -R -H -l localhost} \
		127.0.0.1 "$port" "${LAUNCH_CMD:-$MP}" "$@" || return 1
	echo "$SPAWNED_PID" >"$T/.tcpserver-$port.pid"
	wait_port "$port"
}

# tcpserver_log PORT: the log of the tcpserver on PORT once none of its
# sessions runs, or after 5 s (a test may hold one): mailproxy logs as a
# session ends, after its client may have seen the close
tcpserver_log() {
	local pid end=$((SECONDS + 5))
	pid=$(cat "$T/.tcpserver-$1.pid" 2>/dev/null) || pid=
	while [ -n "$pid" ] && [ -n "$(_descendants "$pid")" ] && ((SECONDS < end)); do
		sleep 0.05
	done
	cat "$T/tcpserver-$1.log"
}

# launch_inetd PORT ARGS...: via openbsd-inetd -d, "nowait root", from a
# private $T/inetd-PORT.conf: fd 0, 1 and 2 are the socket.  A wrapper script
# execs $MP, so ARGS may hold spaces and exceed inetd's 20-word argv limit; it
# points stderr at the log unless INETD_RAW_STDERR=1 (then stderr is the
# client!).  In a private mount namespace when possible: inetd -d still
# writes /run/inetd.pid.
launch_inetd() {
	local port=$1 wrap conf a
	shift
	_tdir
	wrap=$T/inetd-$port.sh conf=$T/inetd-$port.conf
	{
		echo '#!/bin/sh'
		[[ ${INETD_RAW_STDERR:-} == 1 ]] || printf 'exec 2>>%q\n' "$T/inetd-$port.log"
		printf 'exec %q' "${LAUNCH_CMD:-$MP}"
		for a in "$@"; do printf ' %q' "$a"; done
		echo
	} >"$wrap"
	chmod 755 "$wrap"
	printf '127.0.0.1:%s stream tcp4 nowait root %s %s\n' "$port" "$wrap" "${wrap##*/}" >"$conf"
	if unshare -m true 2>/dev/null; then
		mkdir -p "$T/inetd-run"
		spawn "inetd-$port" unshare -m sh -c 'mount --bind "$0" /run && exec "$@"' \
			"$T/inetd-run" /usr/sbin/inetd -d -E "$conf"
	else
		spawn "inetd-$port" /usr/sbin/inetd -d -E "$conf"
	fi && wait_port "$port"
}

# start_fake_smtp PORT ARGS...: tests/lib/fake_smtp.py on PORT, transcript in
# $T/fake-PORT.transcript, events in $T/fake-PORT.log; returns once listening.
start_fake_smtp() {
	local port=$1
	shift
	_tdir
	spawn "fake-$port" "$PYTHON" "$TESTLIB/fake_smtp.py" "$port" "$T/fake-$port.transcript" \
		--ready "$T/fake-$port.ready" "$@" && wait_for_file "$T/fake-$port.ready"
}

# chat PORT ARGS...: tests/lib/chat.py (stdin script -> raw reply bytes).
chat() {
	local port=$1
	shift
	"$PYTHON" "$TESTLIB/chat.py" "$@" "$port"
}

# smtp_chat PORT [ARGS...]: chat in SMTP lockstep after the greeting: each
# stdin line is sent with CRLF once the previous reply is complete; prints
# every byte received until EOF (see chat.py for @raw/@wait/@sleep/--linger).
smtp_chat() { chat "$1" --expect-greeting --lockstep smtp "${@:2}"; }

# pop3_chat / imap_chat PORT [ARGS...]: the same for POP3 and IMAP.
pop3_chat() { chat "$1" --expect-greeting --lockstep pop3 "${@:2}"; }
imap_chat() { chat "$1" --expect-greeting --lockstep imap "${@:2}"; }

# same_bytes EXPECTED_FILE ACTUAL_FILE: true if byte-identical, else show a
# cat -A diff (CR shows as ^M) on stderr.
same_bytes() {
	cmp -s -- "$1" "$2" && return 0
	diff -u <(cat -A -- "$1") <(cat -A -- "$2") >&2
	return 1
}

# crlf LINE...: print each LINE terminated by CRLF (to build expected bytes).
crlf() { printf '%s\r\n' "$@"; }
