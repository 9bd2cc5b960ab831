#!/usr/bin/env bats
# The session's confinement (sandbox.c), seen from outside a running
# session: /proc/PID/status says no_new_privs and seccomp filter mode, an
# undumpable process's /proc files belong to root whoever it runs as, and
# a session killed by SIGABRT leaves no core.  That the filter kills or
# refuses what it should is tests/unit_sandbox.c (a forked child makes the
# forbidden calls); that it allows everything a session does is the rest
# of the suite, which runs under it.  The sanitizer build keeps its
# process dumpable (LeakSanitizer must ptrace it) and has a relaxed
# filter: the tests say which build they expect.  Under make test-valgrind
# the program itself is tested, not memcheck running it (valgrind cannot
# run under a seccomp filter, so mailproxy installs none there, and it
# writes a core of its own on SIGABRT).

load lib/common
MP=$MPELF

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	start_fake_smtp "$BE" --multi
}

teardown() { san_teardown "$T/tcpserver-$MPPORT.log"; }

# (the client itself in the background, not a subshell: $! is its pid)
hostile=("$PYTHON" "$TESTLIB/hostile.py")

# mp ARGS...: mailproxy under tcpserver towards the fake SMTP backend
mp() {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@" && LPID=$SPAWNED_PID
}

# session_pid: the pid of the one session running (bounded wait)
session_pid() {
	local end=$((SECONDS + 5)) p
	until p=$(pgrep -P "$LPID") && [[ -n $p ]]; do
		((SECONDS < end)) || { echo "no session under $LPID" >&2; return 1; }
		sleep 0.05
	done
	echo "$p"
}

# held STAGE: a client holding its session open at the greeting
# (STAGE=greeting) or in the relay after a login (STAGE=relay)
held() {
	if [[ $1 == greeting ]]; then
		"${hostile[@]}" "$MPPORT" >/dev/null 3>&- <<<$'@wait ^220 \n@mark '"$T/held"$'\n@hold 8' &
	else
		"${hostile[@]}" "$MPPORT" >/dev/null 3>&- <<<$'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN AGFsaWNlAHNlY3JldA==\n@wait ^235 \nNOOP\n@wait ^250 2\n@mark '"$T/held"$'\n@hold 8' &
	fi
	CPID=$!
	wait_for_file "$T/held"
}

status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

@test "a session at its greeting and one in the relay: NoNewPrivs 1, Seccomp 2 (filter), one filter" {
	mp --proxy-smtp-auth=on
	for stage in greeting relay; do
		rm -f "$T/held"
		held "$stage"
		pid=$(session_pid)
		echo "$stage: $(grep -E '^(NoNewPrivs|Seccomp)' "/proc/$pid/status")"
		[ "$(status_field "$pid" NoNewPrivs)" = 1 ]
		[ "$(status_field "$pid" Seccomp)" = 2 ]
		[ "$(status_field "$pid" Seccomp_filters)" = 1 ]
		kill "$CPID" 2>/dev/null || :
		wait "$CPID" 2>/dev/null || :
		end=$((SECONDS + 5))
		while pgrep -P "$LPID" >/dev/null; do
			((SECONDS < end)) || { echo "the $stage session stays"; false; }
			sleep 0.05
		done
	done
	# the relay session did log in, under the filter
	grep -q 'AUTH PLAIN AGFsaWNlAHNlY3JldA==' "$T/fake-$BE.transcript"
}

@test "undumpable: a session running as nobody has /proc files of root's (the sanitizer build's stay its own)" {
	TCPSERVER_OPTS="-q -R -H -l localhost -u 65534 -g 65534" mp
	held greeting
	pid=$(session_pid)
	# the session does run as nobody
	[ "$(status_field "$pid" Uid | cut -f1)" = 65534 ]
	owner=$(stat -c %u "/proc/$pid/status")
	if [[ $MP_KIND == san ]]; then
		[ "$owner" = 65534 ]
	else
		[ "$owner" = 0 ]
	fi
	kill "$CPID" 2>/dev/null || :
}

@test "a session killed by SIGABRT leaves no core, with ulimit -c unlimited, where a dumpable process leaves one" {
	[[ $(cat /proc/sys/kernel/core_pattern) == core* ]] || {
		echo "core_pattern is $(cat /proc/sys/kernel/core_pattern): this test needs a plain file"
		false
	}
	mkdir -p "$T/control" "$T/mp"
	ulimit -c unlimited
	# the control: a process that may dump does, here
	(cd "$T/control" && exec sleep 30) &
	cpid=$!
	sleep 0.2
	kill -ABRT "$cpid"
	wait "$cpid" 2>/dev/null || :
	end=$((SECONDS + 5))
	until compgen -G "$T/control/core*" >/dev/null; do
		((SECONDS < end)) || { echo "no control core: the machine writes none"; false; }
		sleep 0.1
	done
	cd "$T/mp"
	mp
	cd - >/dev/null
	held greeting
	pid=$(session_pid)
	kill -ABRT "$pid"
	end=$((SECONDS + 5))
	while alive "$pid"; do
		((SECONDS < end)) || { echo "the session survived SIGABRT"; false; }
		sleep 0.05
	done
	sleep 0.5
	run ls "$T/mp"
	echo "$output"
	! compgen -G "$T/mp/core*" >/dev/null || false
	kill "$CPID" 2>/dev/null || :
}
