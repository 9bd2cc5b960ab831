#!/usr/bin/env bats
# Where the client comes from (systemd, inetd, tcpserver, a pipeline), and
# the options: argv, the environment, --help, errors with exit status 64.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	start_fake_smtp "$BE" --multi
}

q() { "$@" 2>/dev/null; }
PLAIN=AGFsaWNlAHNlY3JldA==
SESSION=$'EHLO client.example\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
ARGS=(--protocol=smtp --server-name=mx.test --proxy-smtp-auth=on)

# a whole session: greeting, EHLO, AUTH to the backend, QUIT relayed
session_ok() {
	run q smtp_chat "$MPPORT" <<<"$SESSION"
	[[ "$output" == $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	grep -q "^AUTH PLAIN $PLAIN" "$T/fake-$BE.transcript"
}

@test "systemd-socket-activate --accept: the connection on fd 3, the client's address from it" {
	launch_systemd "$MPPORT" "${ARGS[@]}" --backend="127.0.0.1:$BE"
	session_ok
	grep -q 'XCLIENT ADDR=127.0.0.1 ' "$T/fake-$BE.transcript"
	wait_log "$T/systemd-$MPPORT.log" 'smtp client=127\.0\.0\.1:[0-9]+ user="alice"'
}

@test "systemd: options from the environment, as from an EnvironmentFile" {
	MAILPROXY_BACKEND="127.0.0.1:$BE" MAILPROXY_PROXY_SMTP_AUTH=on \
	    MAILPROXY_SERVER_NAME=mx.test MAILPROXY_PROTOCOL=smtp launch_systemd "$MPPORT"
	session_ok
}

@test "systemd without Accept=yes: a listening socket is refused with the fix" {
	spawn sd-listen systemd-socket-activate -l "127.0.0.1:$MPPORT" "$MP" "${ARGS[@]}" --backend="127.0.0.1:$BE"
	wait_port "$MPPORT"
	run q chat "$MPPORT" --timeout 3 </dev/null
	wait_log "$T/sd-listen.log" 'Accept=yes'
	grep -q 'systemd passed a listening socket: set Accept=yes' "$T/sd-listen.log"
}

@test "inetd (nowait): the socket on fds 0, 1 and 2; the log goes to syslog, not to the client" {
	INETD_RAW_STDERR=1 launch_inetd "$MPPORT" "${ARGS[@]}" --backend="127.0.0.1:$BE"
	session_ok
	[[ "$output" != *mailproxy\[* ]]
	grep -q 'XCLIENT ADDR=127.0.0.1 ' "$T/fake-$BE.transcript"
}

@test "tcpserver (UCSPI): fd 0 and fd 1" {
	launch_tcpserver "$MPPORT" "${ARGS[@]}" --backend="127.0.0.1:$BE"
	session_ok
}

@test "pipeline: stdin and stdout, the client address unknown" {
	run sh -c "printf 'EHLO c\r\nAUTH PLAIN $PLAIN\r\nQUIT\r\n' | '$MP' ${ARGS[*]} --backend=127.0.0.1:$BE 2>'$T/err'"
	[ "$status" -eq 0 ]
	[ "$output" = $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]
	grep -q 'XCLIENT ADDR=\[UNAVAILABLE\] NAME=\[UNAVAILABLE\]' "$T/fake-$BE.transcript"
	grep -q 'client=unknown user="alice"' "$T/err"
}

@test "--help lists every option of the contract with its default" {
	run "$MP" --help
	[ "$status" -eq 0 ]
	for o in protocol backend auth-http client-addr proxy-buffer proxy-pass-error-message \
	    proxy-protocol proxy-smtp-auth proxy-timeout xclient server-name timeout resolver \
	    resolver-timeout smtp-auth smtp-capabilities smtp-greeting-delay smtp-client-buffer \
	    pop3-auth pop3-capabilities imap-auth imap-capabilities imap-client-buffer max-errors \
	    auth-http-header auth-http-timeout auth-http-pass-client-cert starttls ssl \
	    ssl-certificate ssl-certificate-key ssl-protocols ssl-ciphers ssl-verify-client \
	    ssl-client-certificate ssl-trusted-certificate set-real-ip-from listen-proxy-protocol; do
		grep -qE -- "--$o\b" <<<"$output" || { echo "missing --$o"; false; }
	done
	grep -qE -- '--proxy-timeout=.*default: 24h' <<<"$output"
	grep -qE -- '--xclient=.*default: on' <<<"$output"
	grep -qE -- '--smtp-auth=.*default: plain login' <<<"$output"
	grep -qE -- '--max-errors=.*default: 5' <<<"$output"
}

@test "--version" {
	run "$MP" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^mailproxy\ [0-9] ]]
}

@test "a bad option: one line naming it, exit status 64" {
	for bad in --frobnicate=1 --proxy-timeout=10x --proxy-buffer=0 --xclient=maybe \
	    --smtp-auth=apop --backend=nohostport --max-errors=-1 --protocol=nntp positional; do
		run "$MP" --protocol=smtp --backend=127.0.0.1:25 "$bad"
		[ "$status" -eq 64 ]
		[ "${#lines[@]}" -eq 1 ]
		name=${bad%%=*}
		[[ "$output" == "mailproxy: $name"* ]] || [[ "$bad" == positional && "$output" == *positional* ]]
	done
}

@test "required: the protocol, and a backend" {
	run "$MP" --backend=127.0.0.1:25
	[ "$status" -eq 64 ]
	[[ "$output" == *"--protocol: required"* ]]
	run "$MP" --protocol=smtp
	[ "$status" -eq 64 ]
	[[ "$output" == *"--backend: required"* ]]
}

@test "options restating their defaults, as an EnvironmentFile may list them, are accepted" {
	run env MAILPROXY_STARTTLS=off MAILPROXY_RESOLVER=off MAILPROXY_MAX_COMMANDS=1000 \
		MAILPROXY_LISTEN_PROXY_PROTOCOL=off "$MP" --protocol=smtp --backend=127.0.0.1:25 --help
	[ "$status" -eq 0 ]
	[[ "$output" != *"not supported yet"* ]]
}

@test "auth method external without TLS, client certificates and an auth service: refused at start" {
	local why="external needs TLS, --ssl-verify-client and --auth-http (which decides who a certificate may log in as)"
	for o in --smtp-auth=external '--smtp-auth=plain external' --pop3-auth=external \
	    '--imap-auth=plain EXTERNAL'; do
		p=${o#--}
		run "$MP" --protocol="${p%%-*}" --backend=127.0.0.1:25 "$o"
		[ "$status" -eq 64 ]
		[ "$output" = "mailproxy: ${o%%=*}: $why" ]
	done
	run env MAILPROXY_POP3_AUTH='plain external' "$MP" --protocol=pop3 --backend=127.0.0.1:110 \
	    --auth-http=http://127.0.0.1:1/ --ssl=on --ssl-certificate=/dev/null --ssl-certificate-key=/dev/null
	[ "$status" -eq 64 ]
	[ "$output" = "mailproxy: --pop3-auth: $why" ]
}

@test "the environment: MAILPROXY_*, argv wins, unknown variables refused" {
	run sh -c "printf 'QUIT\r\n' | MAILPROXY_SERVER_NAME=env.test '$MP' --protocol=smtp --backend=127.0.0.1:$BE"
	[[ "$output" == "220 env.test ESMTP ready"* ]]
	run sh -c "printf 'QUIT\r\n' | MAILPROXY_SERVER_NAME=env.test '$MP' --protocol=smtp --backend=127.0.0.1:$BE --server-name=argv.test"
	[[ "$output" == "220 argv.test ESMTP ready"* ]]
	run env MAILPROXY_PROXY_TIMOUT=1s "$MP" --protocol=smtp --backend=127.0.0.1:25
	[ "$status" -eq 64 ]
	[[ "$output" == *MAILPROXY_PROXY_TIMOUT* ]]
}

@test "a bad option with a client already connected: 421 4.3.0 first, exit 64" {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-timeout=soon
	run q chat "$MPPORT" </dev/null
	[ "$output" = $'421 4.3.0 Service temporarily unavailable\r' ]
	wait_log "$T/tcpserver-$MPPORT.log" 'proxy-timeout'
}

# Socket activation as the shipped unit does it, with our own
# sd_listen_fds(3): mailproxy-smtp@.service's ExecStart= arguments and
# Environment=, and $T/smtp.conf as its EnvironmentFile=.

UNIT=$BATS_TEST_DIRNAME/../units/mailproxy-smtp@.service

# unit_conf: the EnvironmentFile of a submission proxy, as the README has it
unit_conf() {
	printf '%s\n' '# as /etc/mailproxy/smtp.conf' "MAILPROXY_BACKEND=127.0.0.1:$BE" \
	    MAILPROXY_SERVER_NAME=mx.test MAILPROXY_PROXY_SMTP_AUTH=on >"$T/smtp.conf"
}

# unit_activate NAME SOCKET-ACTIVATE-ARGS...: systemd-socket-activate with
# those arguments runs ${LAUNCH_CMD:-$MP} as the unit's ExecStart= says,
# in the unit's environment; SAPID is its pid, NAME.log its log
unit_activate() {
	local name=$1 exec words envs=() line v
	shift
	exec=$(sed -n 's/^ExecStart=//p' "$UNIT" | tail -n 1)
	read -ra words <<<"$exec"
	[[ ${words[0]} == */mailproxy ]] || { echo "ExecStart=$exec" >&2; return 1; }
	while IFS= read -r line; do
		envs+=(-E "$line")
	done < <(sed -n 's/^Environment=//p' "$UNIT")
	while IFS= read -r line; do
		[[ -z $line || $line == \#* ]] || envs+=(-E "$line")
	done <"$T/smtp.conf"
	for v in $LAUNCH_ENV; do envs+=(-E "$v"); done
	spawn "$name" systemd-socket-activate "$@" "${envs[@]}" "${LAUNCH_CMD:-$MP}" \
	    "${words[@]:1}" && SAPID=$SPAWNED_PID
}

# session_pid: the one session that runs under $SAPID (bounded wait)
session_pid() {
	local end=$((SECONDS + 5)) p
	until p=$(pgrep -P "$SAPID") && [[ -n $p ]]; do
		((SECONDS < end)) || { echo "no session under $SAPID" >&2; return 1; }
		sleep 0.05
	done
	echo "$p"
}

@test "the shipped unit's command line and environment: one connection, fd 3 close-on-exec, no libsystemd" {
	unit_conf
	unit_activate unit --accept -l "127.0.0.1:$MPPORT" --fdname=connection
	wait_port "$MPPORT"
	session_ok
	grep -q 'XCLIENT ADDR=127.0.0.1 ' "$T/fake-$BE.transcript"
	wait_log "$T/unit.log" 'smtp client=127\.0\.0\.1:[0-9]+ user="alice" .*outcome="ok"'
	# a live session: the connection is fd 3, close-on-exec (O_CLOEXEC is
	# 02000000 in fdinfo's octal flags), and no libsystemd is mapped
	"$PYTHON" "$TESTLIB/hostile.py" "$MPPORT" >/dev/null 3>&- \
	    <<<$'@wait ^220 \n@mark '"$T/greeted"$'\n@hold 5' &
	wait_for_file "$T/greeted"
	pid=$(session_pid)
	[[ $(readlink "/proc/$pid/fd/3") == socket:* ]]
	flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$pid/fdinfo/3")
	(((8#$flags & 8#2000000) != 0)) || { echo "fd 3 flags $flags"; false; }
	run grep -cE 'libsystemd|libcares|libcrypto' "/proc/$pid/maps"
	[ "$output" = 0 ]
	kill %1 2>/dev/null || :
}

@test "LISTEN_PID of another process: the descriptors are not ours, fd 0 is the connection" {
	unit_conf
	# an activated parent runs mailproxy as its child, the connection as
	# fds 0 and 1 and fd 3 closed: LISTEN_FDS=1 and LISTEN_PID, the
	# parent's, are inherited, and taking them would fail on fd 3
	printf '#!/bin/sh\n"%s" "$@" <&3 >&3 3>&-\n' "$MP" >"$T/parent.sh"
	chmod 755 "$T/parent.sh"
	LAUNCH_CMD=$T/parent.sh unit_activate parent --accept -l "127.0.0.1:$MPPORT"
	wait_port "$MPPORT"
	session_ok
	grep -q 'XCLIENT ADDR=127.0.0.1 ' "$T/fake-$BE.transcript"
	wait_log "$T/parent.log" 'smtp client=127\.0\.0\.1:[0-9]+ user="alice" .*outcome="ok"'
	run grep -c 'socket activation' "$T/parent.log"
	[ "$output" = 0 ]
}

@test "two sockets passed (LISTEN_FDS=2): refused with the fix" {
	unit_conf
	P2=$(free_port)
	unit_activate two -l "127.0.0.1:$MPPORT" -l "127.0.0.1:$P2"
	wait_port "$MPPORT"
	run q chat "$MPPORT" --timeout 3 </dev/null
	wait_log "$T/two.log" 'systemd passed'
	grep -q 'systemd passed 2 sockets, expected one connection: use one ListenStream= and Accept=yes' "$T/two.log"
}

@test "the unit without Accept=yes: a listening socket is refused with the fix" {
	unit_conf
	unit_activate listen -l "127.0.0.1:$MPPORT"
	wait_port "$MPPORT"
	run q chat "$MPPORT" --timeout 3 </dev/null
	wait_log "$T/listen.log" 'Accept=yes'
	grep -q 'systemd passed a listening socket: set Accept=yes in the .socket unit' "$T/listen.log"
}

# sa PREFIX: mailproxy as "sh -c 'PREFIX exec mailproxy ...'", which keeps
# the shell's pid, $$, for mailproxy; stdin empty, stderr with stdout
sa() {
	sh -c "$1"' exec "$0" --protocol=smtp --backend=127.0.0.1:'"$BE"' --server-name=mx.test' \
	    "$MP" </dev/null 2>&1
}

@test "sd_listen_fds(3) by the letter: bad variables, fd 3 closed or a file, a LISTEN_PID not ours" {
	local bad
	for bad in LISTEN_FDS=x LISTEN_FDS=0 LISTEN_FDS=-1 LISTEN_FDS=+1 LISTEN_FDS=1x \
	    'LISTEN_FDS=" 1"' LISTEN_FDS= LISTEN_FDS=99999999999; do
		run sa "LISTEN_PID=\$\$ $bad"
		[ "$status" -eq 64 ] || { echo "$bad: $status $output"; false; }
		[[ "$output" == *'systemd socket activation: Invalid argument' ]]
	done
	run sa 'LISTEN_PID=x LISTEN_FDS=1'
	[ "$status" -eq 64 ]
	[[ "$output" == *'systemd socket activation: Invalid argument' ]]
	run sa 'exec 3>&-; LISTEN_PID=$$ LISTEN_FDS=1'
	[ "$status" -eq 64 ]
	# valgrind (make test-valgrind's wrapper) opens /dev/null on a closed
	# fd 3 before mailproxy starts: then the file case below is what runs
	if [[ $MP_KIND != valgrind ]]; then
		[[ "$output" == *'systemd socket activation: Bad file descriptor' ]]
	else
		[[ "$output" == *'systemd passed fd 3, which is not a stream socket' ]]
	fi
	run sa 'exec 3>"$T/file"; LISTEN_PID=$$ LISTEN_FDS=1'
	[ "$status" -eq 64 ]
	[[ "$output" == *'systemd passed fd 3, which is not a stream socket' ]]
	# not ours (no LISTEN_PID, or PID 1's): a pipeline session
	for bad in 'LISTEN_PID=1 LISTEN_FDS=1' 'LISTEN_FDS=1'; do
		run sh -c 'printf "QUIT\r\n" | '"$bad"' LISTEN_FDNAMES=connection "$0" --protocol=smtp --backend=127.0.0.1:'"$BE"' --server-name=mx.test 2>&1' "$MP"
		[ "$status" -eq 0 ] || { echo "$bad: $status $output"; false; }
		[[ "$output" == $'220 mx.test ESMTP ready\r\n221 2.0.0 Bye\r'* ]]
	done
}
