#!/usr/bin/env bats
# Under inetd the client's socket is fds 0, 1 and 2 alike: nothing but the
# protocol's replies may reach the client, and every warning, option error
# and log line goes to syslog.  The sessions run under a real openbsd-inetd
# (INETD_RAW_STDERR=1: stderr is the client), each in a mount namespace of
# its own whose /dev/log is a fake syslog daemon (tests/lib/fake_syslog.py),
# since these machines run none.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	: >"$T/syslog"
	spawn syslog "$PYTHON" "$TESTLIB/fake_syslog.py" "$T/syslog.sock" "$T/syslog" \
	    --ready "$T/syslog.ready"
	wait_for_file "$T/syslog.ready"
	# $MP with /dev/log pointing at the fake: /dev a tmpfs holding the
	# devices a process uses and the link; the wrapper's own errors go to
	# a file, never to the client
	cat >"$T/devlog.sh" <<-EOF
	#!/bin/sh
	exec unshare -m sh -c '
	    { mkdir -p "\$0/olddev" && mount --rbind /dev "\$0/olddev" &&
	      mount -t tmpfs dev /dev &&
	      for d in null zero full random urandom; do
	        : >/dev/\$d && mount --bind "\$0/olddev/\$d" /dev/\$d || exit
	      done &&
	      ln -s /proc/self/fd /dev/fd &&
	      ln -s "\$0/syslog.sock" /dev/log &&
	      umount -l "\$0/olddev"; } 2>>"\$0/devlog.err" && exec "\$@"' \\
	    "$T" "$MP" "\$@"
	EOF
	chmod 755 "$T/devlog.sh"
}

# inetd ARGS...: mailproxy ARGS under inetd on $MPPORT, stderr the client's
inetd() { INETD_RAW_STDERR=1 LAUNCH_CMD=$T/devlog.sh launch_inetd "$MPPORT" "$@"; }
q() { "$@" 2>/dev/null; }
# syslogged REGEX: wait until the fake syslog has a line matching the ERE
syslogged() { wait_log "$T/syslog" "$1"; }

@test "the fake /dev/log: a session's line reaches it, the client gets only replies" {
	start_fake_smtp "$BE"
	inetd --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT'
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	# LOG_MAIL | LOG_INFO
	syslogged '^<22>.* mailproxy\[[0-9]+\]: session=[A-Za-z0-9]{16} smtp client=127\.0\.0\.1:[0-9]+ user="alice" .*result=ok outcome="ok" launcher=inetd$'
	[ ! -s "$T/devlog.err" ]
}

@test "an option error under inetd: the client gets exactly the temporary failure, syslog the error" {
	local p want
	for p in smtp pop3 imap; do
		case $p in
		smtp) want=$'421 4.3.0 Service temporarily unavailable\r\n' ;;
		pop3) want=$'-ERR internal server error\r\n' ;;
		imap) want=$'* BYE internal server error\r\n' ;;
		esac
		: >"$T/syslog"
		MPPORT=$(free_port)
		inetd --protocol="$p" --backend="127.0.0.1:$BE" --max-commands=ten
		chat "$MPPORT" --timeout 5 </dev/null >"$T/got" 2>/dev/null
		printf '%s' "$want" >"$T/want"
		same_bytes "$T/want" "$T/got"
		# LOG_MAIL | LOG_ERR
		syslogged '^<19>.* mailproxy\[[0-9]+\]: --max-commands: bad number "ten" \(use 0 to 1000000\)$'
		[ "$(wc -l <"$T/syslog")" -eq 1 ]
	done
	[ ! -s "$T/devlog.err" ]
}

@test "a bad value under inetd: the same, and the exit status is 64" {
	inetd --protocol=smtp --backend="127.0.0.1:$BE" --proxy-timeout=soon
	chat "$MPPORT" --timeout 5 </dev/null >"$T/got" 2>/dev/null
	crlf '421 4.3.0 Service temporarily unavailable' >"$T/want"
	same_bytes "$T/want" "$T/got"
	syslogged '^<19>.* mailproxy\[[0-9]+\]: --proxy-timeout: .*soon'
	# inetd -d: the wait status in hex, 64 << 8
	wait_log "$T/inetd-$MPPORT.log" ' reaped, status 4000$'
}

@test "a warning under inetd goes to syslog, the client gets only the reply" {
	start_fake_smtp "$BE"
	# a fixed backend without --proxy-smtp-auth: AUTH is refused, with a hint
	inetd --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT'
	[ "${lines[0]}" = $'220 mx.test ESMTP ready\r' ]
	[[ "$output" == *$'\r\n221 2.0.0 Bye\r' ]]
	[[ "$output" != *refused* ]]
	[[ "$output" != *mailproxy* ]]
	# LOG_MAIL | LOG_WARNING
	syslogged '^<20>.* mailproxy\[[0-9]+\]: session=[A-Za-z0-9]{16} AUTH refused: '
}
