#!/usr/bin/env bats
# The test harness itself, without mailproxy: the private Postfix and Dovecot,
# fake_smtp.py, chat.py and the three launchers (with a stand-in program).

bats_require_minimum_version 1.5.0
load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

# stub_program: write $T/stub.sh, a stand-in for mailproxy that says how it
# was started (pid, args, fd 0, launcher variables), copies one line back,
# notes its pid in the file named by its first argument and writes to stderr.
stub_program() {
	cat >"$T/stub.sh" <<'EOF'
#!/bin/sh
pids=$1; shift
fd0=$(readlink /proc/$$/fd/0)
[ "${LISTEN_FDS:-}" = 1 ] && exec <&3 >&3 3>&-
echo $$ >>"$pids"
printf 'hello pid=%s argc=%s args=[%s] fd0=%s fdnames=%s listen_pid=%s tcpremoteip=%s x=%s\r\n' \
	$$ $# "$*" "$fd0" "${LISTEN_FDNAMES:-}" "${LISTEN_PID:-}" "${TCPREMOTEIP:-}" "${MAILPROXY_TEST_X:-}"
echo "stub stderr from $$" >&2
IFS= read -r line
printf 'echo: %s\n' "$line"
EOF
	chmod 755 "$T/stub.sh"
}

# check_launcher NAME: two sessions through the launcher on $port each get
# their own stub process; a held-open session dies with stop_launchers.
# Sets $out to the first session's bytes.
check_launcher() {
	local name=$1 pids=$T/stub.pids p line
	run chat "$port" <<<'ping 1'
	[ "$status" -eq 0 ]
	out=$output
	[[ $out == *"argc=3 args=[--protocol=smtp two words --x=\"q\"]"* ]]
	[[ $out == *"echo: ping 1"$'\r' ]]
	run chat "$port" <<<'ping 2'
	[[ $output == *"echo: ping 2"$'\r' ]]
	[ "$(sort -u "$pids" | wc -l)" -eq 2 ]
	wait_log "$T/$name-$port.log" 'stub stderr from'
	# a session still open when the test ends is stopped with its launcher
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	IFS= read -r -t 5 line <&5
	[[ $line == hello* ]]
	p=$(tail -n 1 "$pids")
	alive "$p"
	stop_launchers
	exec 5>&-
	run ! alive "$p"
	run ! port_listening "$port"
}

@test "postfix: XCLIENT ADDR+LOGIN, mail lands in alice's Maildir" {
	mail_servers_require
	local subj="harness-xclient-$RANDOM"
	run swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 10 \
		--from sender@example.org --to alice@example.test \
		--xclient-addr 192.0.2.7 --xclient-login alice --header "Subject: $subj"
	[ "$status" -eq 0 ]
	maildir_find "$ALICE_MAILDIR" "^Subject: $subj"
	wait_log "$POSTFIX_LOG" 'client=[^ ]*\[192\.0\.2\.7\], sasl_method=XCLIENT, sasl_username=alice'
}

@test "postfix: AUTH PLAIN through Dovecot SASL (alice, and bob's odd password)" {
	mail_servers_require
	local subj="harness-auth-$RANDOM"
	run swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 10 \
		--from alice@example.test --to bob@example.test \
		--auth PLAIN --auth-user alice --auth-password secret --header "Subject: $subj"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "^Subject: $subj"
	wait_log "$POSTFIX_LOG" 'client=[^ ]*\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice'
	run swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 10 --quit-after AUTH \
		--auth PLAIN --auth-user bob --auth-password 'p a"s\s'
	[ "$status" -eq 0 ]
	[[ $output == *"235 2.7.0 Authentication successful"* ]]
	run swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 10 --quit-after AUTH \
		--auth PLAIN --auth-user alice --auth-password wrong
	[ "$status" -ne 0 ]
	[[ $output == *"535 5.7.8"* ]]
}

@test "postfix: the haproxy listener takes the address from PROXY v1 and v2, then XCLIENT" {
	mail_servers_require
	local subj="harness-proxy-$RANDOM"
	run swaks --server "127.0.0.1:$POSTFIX_HAPROXY_PORT" --timeout 10 \
		--from sender@example.org --to alice@example.test --header "Subject: $subj" \
		--proxy-family TCP4 --proxy-source 198.51.100.9 --proxy-source-port 4242 \
		--proxy-dest 127.0.0.1 --proxy-dest-port 25
	[ "$status" -eq 0 ]
	[[ $output == *"PROXY TCP4 198.51.100.9 127.0.0.1 4242 25"* ]]
	maildir_find "$ALICE_MAILDIR" "^Subject: $subj"
	wait_log "$POSTFIX_LOG" 'client=[^ ]*\[198\.51\.100\.9\]'
	run swaks --server "127.0.0.1:$POSTFIX_HAPROXY_PORT" --timeout 10 --quit-after EHLO \
		--proxy-version 2 --proxy-family AF_INET --proxy-source 198.51.100.10 \
		--proxy-source-port 4243 --proxy-dest 127.0.0.1 --proxy-dest-port 25
	[ "$status" -eq 0 ]
	wait_log "$POSTFIX_LOG" 'connect from [^ ]*\[198\.51\.100\.10\]'
	# PROXY (here TCP6) then XCLIENT, as mailproxy does with both options on
	run swaks --server "127.0.0.1:$POSTFIX_HAPROXY_PORT" --timeout 10 --quit-after RCPT \
		--from sender@example.org --to alice@example.test \
		--proxy-family TCP6 --proxy-source 2001:db8::7 --proxy-source-port 4244 \
		--proxy-dest ::1 --proxy-dest-port 25 --xclient-addr IPV6:2001:db8::8 --xclient-login alice
	[ "$status" -eq 0 ]
	wait_log "$POSTFIX_LOG" 'client=[^ ]*\[2001:db8::8\], sasl_method=XCLIENT, sasl_username=alice'
	# without a header the haproxy listener drops the client
	run smtp_chat "$POSTFIX_HAPROXY_PORT" --timeout 1 <<<'QUIT'
	[ "$status" -eq 3 ]
	[[ $output == "chat.py: timeout/EOF waiting for greeting" ]]
}

@test "dovecot: curl imap:// logs in as alice and as bob, lists INBOX" {
	mail_servers_require
	run curl -sS --max-time 10 "imap://127.0.0.1:$DOVECOT_IMAP_PORT/" -u alice:secret
	[ "$status" -eq 0 ]
	[[ $output == *'"." INBOX'* ]]
	wait_log "$DOVECOT_LOG" 'imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1,'
	run curl -sS --max-time 10 "imap://127.0.0.1:$DOVECOT_IMAP_PORT/" -u 'bob:p a"s\s'
	[ "$status" -eq 0 ]
	[[ $output == *INBOX* ]]
	# the IMAP LOGIN command with a quoted string (curl refuses this password
	# with --login-options AUTH=+LOGIN: "URL using bad/illegal format")
	run imap_chat "$DOVECOT_IMAP_PORT" <<-'EOF'
		a LOGIN bob "p a\"s\\s"
		b LOGOUT
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *$'\r\na OK '*'Logged in'* ]]
	run curl -sS --max-time 10 "imap://127.0.0.1:$DOVECOT_IMAP_PORT/" -u alice:wrong
	[ "$status" -ne 0 ]
}

@test "dovecot: curl pop3:// LISTs alice's mail; bob logs in with USER/PASS" {
	mail_servers_require
	local subj="harness-pop3-$RANDOM"
	swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 10 --silent 2 \
		--from sender@example.org --to alice@example.test --header "Subject: $subj"
	maildir_find "$ALICE_MAILDIR" "^Subject: $subj"
	run curl -sS --max-time 10 "pop3://127.0.0.1:$DOVECOT_POP3_PORT/" -u alice:secret
	[ "$status" -eq 0 ]
	[[ $output =~ ^1\ [0-9]+ ]]
	run pop3_chat "$DOVECOT_POP3_PORT" <<-'EOF'
		USER bob
		PASS p a"s\s
		STAT
		QUIT
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *$'+OK Logged in.\r\n+OK '* ]]
	wait_log "$DOVECOT_LOG" 'pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=127\.0\.0\.1,'
}

@test "dovecot: haproxy ports want a header and log its address (v1 IMAP, v2 POP3)" {
	mail_servers_require
	# no header: Dovecot waits haproxy_timeout (3 s) and hangs up
	run curl -sS --max-time 10 "imap://127.0.0.1:$DOVECOT_IMAP_HAPROXY_PORT/" -u alice:secret
	[ "$status" -ne 0 ]
	run chat "$DOVECOT_IMAP_HAPROXY_PORT" --lockstep imap <<-'EOF'
		@raw PROXY TCP4 203.0.113.5 127.0.0.1 5555 143\r\n
		@wait ^\* OK
		a LOGIN alice secret
		b LOGOUT
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *$'\r\na OK '*'Logged in'* ]]
	wait_log "$DOVECOT_LOG" 'imap-login: Info: Login: user=<alice>, method=PLAIN, rip=203\.0\.113\.5, lip=127\.0\.0\.1, rport=5555, lport=143'
	# v2, TCP4 203.0.113.6:5555 -> 127.0.0.1:110
	run chat "$DOVECOT_POP3_HAPROXY_PORT" --lockstep pop3 <<-'EOF'
		@raw \r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x06\x7f\x00\x00\x01\x15\xb3\x00\x6e
		@wait ^\+OK
		USER alice
		PASS secret
		QUIT
	EOF
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" 'pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=203\.0\.113\.6, lip=127\.0\.0\.1, rport=5555, lport=110'
}

@test "fake_smtp: the default script answers a whole session, byte for byte" {
	local port
	port=$(free_port)
	start_fake_smtp "$port"
	smtp_chat "$port" >"$T/got" <<-'EOF'
		EHLO client.example
		XCLIENT ADDR=192.0.2.1 LOGIN=alice
		EHLO client.example
		AUTH PLAIN AGFsaWNlAHNlY3JldA==
		MAIL FROM:<a@example.org>
		RCPT TO:<b@example.test>
		DATA
		Subject: t

		hello
		.
		RSET
		NOOP
		HELO x
		BOGUS
		QUIT
	EOF
	ehlo=("250-fake.example.test" "250-PIPELINING" "250-SIZE 10240000" "250-8BITMIME"
		"250-XCLIENT NAME ADDR LOGIN"
		"250-AUTH PLAIN LOGIN" "250 ENHANCEDSTATUSCODES")
	crlf "220 fake.example.test ESMTP fake_smtp" "${ehlo[@]}" \
		"220 fake.example.test ESMTP fake_smtp" "${ehlo[@]}" \
		"235 2.7.0 Authentication successful" "250 2.1.0 Ok" "250 2.1.5 Ok" \
		"354 End data with <CR><LF>.<CR><LF>" "250 2.0.0 Ok: queued as FAKE" \
		"250 2.0.0 Ok" "250 2.0.0 Ok" "250 fake.example.test" \
		"500 5.5.2 Error: command not recognized" "221 2.0.0 Bye" >"$T/want"
	same_bytes "$T/want" "$T/got"
	crlf "EHLO client.example" "XCLIENT ADDR=192.0.2.1 LOGIN=alice" "EHLO client.example" \
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.test>" \
		"DATA" "Subject: t" "" "hello" "." "RSET" "NOOP" "HELO x" "BOGUS" "QUIT" >"$T/want.sent"
	same_bytes "$T/want.sent" "$T/fake-$port.transcript"
	# a single-connection fake exits after its session
	wait_log "$T/fake-$port.log" "close 127\.0\.0\.1:"
	run ! port_listening "$port"
}

@test "fake_smtp: overrides and faults (--reply queue, --greeting, --proxy, --close, --silent, --delay-greeting)" {
	local port t0
	port=$(free_port)
	start_fake_smtp "$port" --multi --reply XCLIENT='550 5.7.0 nope' \
		--reply AUTH='535 5.7.8 bad' --reply AUTH='235 2.7.0 ok' \
		--reply EHLO='250-x\n250 XCLIENT ADDR' --reply EOM='451 4.3.0 later'
	run smtp_chat "$port" <<-'EOF'
		EHLO a
		XCLIENT ADDR=192.0.2.1
		AUTH PLAIN AGFsaWNlAHNlY3JldA==
		AUTH LOGIN
		YWxpY2U=
		c2VjcmV0
		AUTH PLAIN
		AGFsaWNlAHNlY3JldA==
		DATA
		x
		.
		QUIT
	EOF
	[ "$status" -eq 0 ]
	[ "$output" = "$(crlf "220 fake.example.test ESMTP fake_smtp" "250-x" "250 XCLIENT ADDR" \
		"550 5.7.0 nope" "535 5.7.8 bad" "334 VXNlcm5hbWU6" "334 UGFzc3dvcmQ6" "235 2.7.0 ok" \
		"334 " "235 2.7.0 ok" "354 End data with <CR><LF>.<CR><LF>" "451 4.3.0 later" "221 2.0.0 Bye")" ]
	stop_launchers

	port=$(free_port)
	start_fake_smtp "$port" --greeting '554 5.3.2 go away'
	run smtp_chat "$port" <<<'QUIT'
	[ "$output" = "$(crlf '554 5.3.2 go away' '221 2.0.0 Bye')" ]

	port=$(free_port)
	start_fake_smtp "$port" --proxy
	run smtp_chat "$port" <<-'EOF'
		@first PROXY TCP4 192.0.2.9 127.0.0.1 1234 25\r\n
		QUIT
	EOF
	[ "$status" -eq 0 ]
	[[ $output == "220 "* ]]
	same_bytes <(crlf 'PROXY TCP4 192.0.2.9 127.0.0.1 1234 25' QUIT) "$T/fake-$port.transcript"
	grep -q "proxy v1 b'PROXY TCP4 192.0.2.9" "$T/fake-$port.log"

	port=$(free_port)
	start_fake_smtp "$port" --proxy
	run chat "$port" --expect-greeting <<-'EOF'
		@first \r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x09\x7f\x00\x00\x01\x04\xd2\x00\x19
		QUIT
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *"221 2.0.0 Bye"* ]]
	grep -q 'proxy v2 0d0a0d0a000d0a515549540a2111000cc00002097f00000104d20019' "$T/fake-$port.log"

	port=$(free_port)
	start_fake_smtp "$port" --close
	run chat "$port" </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]

	port=$(free_port)
	start_fake_smtp "$port" --silent
	run chat "$port" --timeout 1 <<-'EOF'
		EHLO a
		@wait ^250
	EOF
	[ "$status" -eq 3 ]
	[ "$output" = "chat.py: timeout/EOF waiting for ^250" ]
	same_bytes <(crlf 'EHLO a') "$T/fake-$port.transcript"

	port=$(free_port)
	start_fake_smtp "$port" --delay-greeting 1
	t0=$(date +%s%N)
	run smtp_chat "$port" <<<'QUIT'
	[ "$status" -eq 0 ]
	(( ($(date +%s%N) - t0) >= 1000000000 ))
}

@test "chat.py: @raw pipelining, @wait, --linger, timeouts exit 3" {
	local port
	port=$(free_port)
	start_fake_smtp "$port" --multi
	run chat "$port" --expect-greeting <<-'EOF'
		@raw EHLO a\r\nNOOP\r\nRSET\r\n
		@wait ^250 2\.0\.0 Ok\r\n250 2\.0\.0 Ok\r\n
		QUIT
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *$'250 ENHANCEDSTATUSCODES\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r' ]]
	# the peer never closes: --linger ends the read, a plain read times out
	run chat "$port" --linger 0.3 <<<'NOOP'
	[ "$status" -eq 0 ]
	[ "$output" = "$(crlf '220 fake.example.test ESMTP fake_smtp' '250 2.0.0 Ok')" ]
	run chat "$port" --timeout 0.5 <<<'NOOP'
	[ "$status" -eq 3 ]
	run chat "$port" --timeout 0.5 --lockstep smtp <<<'@wait ^never'
	[ "$status" -eq 3 ]
	[[ $output == *"timeout/EOF waiting for ^never"*"220 fake.example.test"* ]]
	# nothing listens: exit 2
	local dead
	dead=$(free_port)
	run chat "$dead" </dev/null
	[ "$status" -eq 2 ]
}

@test "launch_systemd: fd 3 per connection, LISTEN_FDNAMES=connection, MAILPROXY_* passed" {
	stub_program
	port=$(free_port)
	MAILPROXY_TEST_X=1 LAUNCH_CMD=$T/stub.sh launch_systemd "$port" "$T/stub.pids" \
		--protocol=smtp 'two words' '--x="q"'
	check_launcher systemd
	[[ $out == *"fd0=/dev/null fdnames=connection listen_pid="*" x=1"$'\r'* ]]
}

@test "launch_tcpserver: fd 0/1 per connection, TCPREMOTEIP set" {
	stub_program
	port=$(free_port)
	LAUNCH_CMD=$T/stub.sh launch_tcpserver "$port" "$T/stub.pids" \
		--protocol=smtp 'two words' '--x="q"'
	check_launcher tcpserver
	[[ $out == *"fd0=socket:"*"tcpremoteip=127.0.0.1"* ]]
}

@test "launch_inetd: openbsd-inetd nowait, fd 0 is the socket, stderr to the log" {
	stub_program
	port=$(free_port)
	LAUNCH_CMD=$T/stub.sh launch_inetd "$port" "$T/stub.pids" \
		--protocol=smtp 'two words' '--x="q"'
	check_launcher inetd
	[[ $out == *"fd0=socket:"*"fdnames= listen_pid= tcpremoteip= x="$'\r'* ]]
	[ ! -e "$T/inetd-run/inetd.pid" ] || grep -q '^[0-9]' "$T/inetd-run/inetd.pid"
}
