#!/usr/bin/env bats
# Hostile clients, table-driven: each row of tests/hostile/client.tsv is one
# client (tests/lib/hostile.py) against the real binary under tcpserver,
# before any login.  For every row: the expected reply came; the session
# ended as the row says (closed by mailproxy, or still polite enough to
# QUIT/LOGOUT); the process exited 0, no signal; the backend (a fake that
# logs every accept) saw nothing; its peak RSS stayed under $RSS_CEILING
# (normal build only); and it was gone within its timeouts.
#
# Not repeated here, as they are tested elsewhere: a client that floods
# and reads nothing, or drips NOOPs past login_timeout (deadlines.bats);
# 10 MB lines and lines just at the limits (smtp.bats, pop3.bats,
# imap.bats); literals over imap_client_buffer and refused literals'
# data (imap.bats); SASL lines over 16 KiB (smtp.bats, pop3.bats,
# imap.bats); max_commands at its default and its counting (max_commands.bats).

load lib/common

# KiB: a session's peak RSS is about 2 MiB; a row's 1000000-byte line held
# in memory would pass this
RSS_CEILING=2600

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	# the wrapper between tcpserver and mailproxy: records the session's
	# pid, and GNU time's "STATUS MAXRSS" (or its signal line) per pid;
	# the row's options come from $T/opts
	cat >"$T/wrap" <<-EOF
	#!/bin/sh
	echo \$\$ >>"$T/pids"
	exec /usr/bin/time -o "$T/ru.\$\$" -f '%x %M' "$MP" "\$@" \$(cat "$T/opts")
	EOF
	chmod 755 "$T/wrap"
	: >"$T/pids"
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

# mp PROTO: the fake backend of PROTO on $BE (every connection logged),
# mailproxy for PROTO on $MPPORT through the wrapper
mp() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$1.py" "$BE" "$T/fake-$BE.transcript" \
	    --multi --ready "$T/fake-$BE.ready" --log "$T/fake-$BE.log" || return 1
	wait_for_file "$T/fake-$BE.ready" || return 1
	LAUNCH_CMD=$T/wrap launch_tcpserver "$MPPORT" --protocol="$1" \
	    --server-name=mx.test --backend="127.0.0.1:$BE"
}

# the quit command of each protocol, and the reply that shows it was taken
declare -gA QUIT=([smtp]=QUIT [pop3]=QUIT [imap]='z LOGOUT')
declare -gA BYE=([smtp]='^221 2\.0\.0 Bye\r\n\Z' [pop3]='^\+OK\r\n\Z' [imap]='^z OK completed\r\n\Z')

# ran_within [SECS]: the client's "ended: ... after S.SSs, ..." says at
# most SECS (true without SECS)
ran_within() {
	[[ -z $1 ]] ||
	    awk -v n="$1" '/^ended: / { t = $(NF - 3); sub(/s,$/, "", t); ok = t + 0 <= n }
	        END { exit !ok }' "$T/hostile.out"
}

# row PROTO NAME OPTS SCRIPT EXPECT END: one client; prints what is wrong
# and returns 1 if anything is
row() {
	local proto=$1 name=$2 opts=$3 script=$4 expect=$5 end=$6 n pid bad=0 ru
	local args=(--out "$T/got" --timeout 2 --for 20 --expect "$expect")
	if [[ $opts == - ]]; then opts=; fi
	echo "$opts" >"$T/opts"
	n=$(wc -l <"$T/pids")
	script=${script// ; /$'\n'}
	# close/N: the client's whole run is bounded by N seconds
	local within=${end#*/}
	[[ $end == */* ]] || within=
	end=${end%/*}
	if [[ $end == quit ]]; then
		script+=$'\n'${QUIT[$proto]}
		args+=(--expect "${BYE[$proto]}")
	fi
	script+=$'\n@eof 5'
	if ! "$PYTHON" "$TESTLIB/hostile.py" "$MPPORT" "${args[@]}" <<<"$script" >"$T/hostile.out" 2>&1; then
		echo "row \"$name\": the client failed:"; cat "$T/hostile.out"; bad=1
	fi
	if ! ran_within "$within"; then
		echo "row \"$name\": the client's run took more than ${within}s:"; cat "$T/hostile.out"; bad=1
	fi
	# the session's pid; gone within 3 s of its close (conn_linger's 1 s)
	local end_by=$((SECONDS + 5))
	until (($(wc -l <"$T/pids") > n)); do
		((SECONDS < end_by)) || { echo "row \"$name\": no session started"; return 1; }
		sleep 0.05
	done
	pid=$(sed -n "$((n + 1))p" "$T/pids")
	end_by=$((SECONDS + 3 + SLOW))
	while alive "$pid"; do
		if ((SECONDS >= end_by)); then
			echo "row \"$name\": session $pid still runs $((3 + SLOW)) s after the client's end"
			kill -KILL "$pid" 2>/dev/null || :
			return 1
		fi
		sleep 0.05
	done
	wait_for_file "$T/ru.$pid" 2 || { echo "row \"$name\": no exit record"; return 1; }
	ru=$(cat "$T/ru.$pid")
	if ! [[ $ru =~ ^0\ ([0-9]+)$ ]]; then
		echo "row \"$name\": not a clean exit 0: $ru"; bad=1
	elif [[ $MP_KIND == normal ]] && ((BASH_REMATCH[1] > RSS_CEILING)); then
		echo "row \"$name\": peak RSS ${BASH_REMATCH[1]} KiB > $RSS_CEILING KiB"; bad=1
	fi
	if grep -q connect "$T/fake-$BE.log"; then
		echo "row \"$name\": the backend was contacted"; bad=1
	fi
	return "$bad"
}

# rows PROTO: every row of PROTO in the table; fails naming each bad row
rows() {
	local proto name opts script expect end failed=0 count=0
	mp "$1" || return 1
	while IFS=$'\t' read -r proto name opts script expect end; do
		[[ $proto == "$1" ]] || continue
		count=$((count + 1))
		row "$proto" "$name" "$opts" "$script" "$expect" "$end" || failed=$((failed + 1))
	done <"$BATS_TEST_DIRNAME/hostile/client.tsv"
	echo "$1: $count rows, $failed failed"
	((count > 0 && failed == 0))
}

@test "SMTP: every hostile row gets its reply, no crash, no backend, bounded memory, gone in time" {
	rows smtp
}

@test "POP3: every hostile row gets its reply, no crash, no backend, bounded memory, gone in time" {
	rows pop3
}

@test "IMAP: every hostile row gets its reply, no crash, no backend, bounded memory, gone in time" {
	rows imap
}

# The gate of every row above, planted: the client gets its reply and sees
# the close, but the session died of a signal.
@test "a session killed by a signal fails its row, though its client got the reply it wanted" {
	mp smtp
	cat >"$T/wrap" <<-EOF
	#!/bin/sh
	echo \$\$ >>"$T/pids"
	exec /usr/bin/time -o "$T/ru.\$\$" -f '%x %M' sh -c 'read -r l; printf "500 planted\r\n"; kill -SEGV \$\$'
	EOF
	run row smtp planted - 'HELLO' '^500 planted\r$' close
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *'row "planted": not a clean exit 0: Command terminated by signal 11'* ]]
	[[ $output != *'the client failed'* ]]
}
