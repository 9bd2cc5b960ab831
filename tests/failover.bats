#!/usr/bin/env bats
# --backend given several times (issue 17 item 8): the next one is tried,
# in order, when one refuses the connection, does not greet in time,
# closes, or greets with a temporary failure (SMTP 4xx, POP3 -ERR, IMAP
# BYE); all within one --timeout; a TLS verification failure is not
# skipped over.  Fakes (tests/lib/fake_*.py) fail on purpose; the good
# backend is a fake or a real Postfix/Dovecot (tests/lib/mailservers.bash).

bats_require_minimum_version 1.5.0
load lib/common
load lib/mailservers

setup_file() { certs_make; mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	MPPORT=$(free_port)
	read -r A B C DEAD <<<"$(free_port 4 | tr '\n' ' ')"
}

# fake PROTO PORT ARGS...: the fake PROTO backend on PORT, its transcript
# in $T/fake-PORT.transcript, its events in $T/fake-PORT.log
fake() {
	local proto=$1 port=$2
	shift 2
	spawn "fake-$port" "$PYTHON" "$TESTLIB/fake_$proto.py" "$port" \
	    "$T/fake-$port.transcript" --ready "$T/fake-$port.ready" \
	    --log "$T/fake-$port.log" "$@" && wait_for_file "$T/fake-$port.ready"
}

# mp PROTO BACKEND... -- ARGS...: mailproxy on $MPPORT with one --backend
# for each BACKEND (a port on 127.0.0.1, or HOST:PORT), in that order
mp() {
	local proto=$1 args=()
	shift
	while (($#)) && [[ $1 != -- ]]; do
		[[ $1 == *:* ]] && args+=("--backend=$1") || args+=("--backend=127.0.0.1:$1")
		shift
	done
	shift || :
	launch_tcpserver "$MPPORT" --protocol="$proto" --server-name=mx.test \
	    --proxy-ssl-trusted-certificate="$CERTS_CA" "${args[@]}" "$@"
}

q() { "$@" 2>/dev/null; }
transcript() { tr -d '\0' <"$T/fake-$1.transcript" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
mplog_wait() { wait_log "$T/tcpserver-$MPPORT.log" "$1"; }
# untouched PORT: nobody ever connected to the fake on PORT (it logs
# nothing but its listening until a connection ends or fails)
untouched() { ! grep -qv 'listening on' "$T/fake-$1.log" || false; }
# no_credentials PORT: the fake on PORT saw no login of any kind
no_credentials() { ! transcript "$1" | grep -qaE 'USER|PASS|LOGIN|AUTH|alice|secret|AGFsaWNl' || false; }
# silent PORT: the fake on PORT got not one byte (no command, no login)
silent() { [[ -z $(transcript "$1") ]]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
PLAIN=AGFsaWNlAHNlY3JldA==

# login PROTO: a login, one command relayed, the end; $output: the client's
login() {
	case $1 in
	pop3) run q pop3_chat "$MPPORT" --timeout 15 <<<$'USER alice\nPASS secret\nSTAT\nQUIT' ;;
	imap) run q imap_chat "$MPPORT" --timeout 15 <<<$'a LOGIN alice secret\nb SELECT INBOX\nc LOGOUT' ;;
	smtp) run q smtp_chat "$MPPORT" --timeout 15 <<<$'EHLO client.test\nAUTH PLAIN '"$PLAIN"$'\nMAIL FROM:<a@client.test>\nQUIT' ;;
	esac
}

# logged_in PROTO PORT: the login of `login` went through to the fake on PORT
logged_in() {
	case $1 in
	pop3)
		[[ $output == *$'+OK Logged in.\r\n+OK 1 '* ]]
		[[ $(transcript "$2") == *$'USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r'* ]] ;;
	imap)
		[[ $output == *$'a OK '*'Logged in'*$'b OK '* ]]
		[[ $(transcript "$2") == *$'a LOGIN "alice" "secret"\r\nb SELECT INBOX\r\n'* ]] ;;
	smtp)
		[[ $output == *$'235 2.0.0 OK\r\n250 '* ]]
		[[ $(transcript "$2") == *"AUTH PLAIN $PLAIN"$'\r\nMAIL FROM:<a@client.test>\r\nQUIT\r'* ]] ;;
	esac
}

# tempfail PROTO: the client got the protocol's temporary failure
tempfail() {
	case $1 in
	pop3) [[ $output == *$'-ERR internal server error\r'* ]] ;;
	imap) [[ $output == *$'* BAD internal server error\r'* ]] ;;
	smtp) [[ $output == *$'\r\n451 4.3.2 Internal server error\r'* ]] ;;
	esac
}

@test "a refused first backend: the second serves, the third is never contacted, the log names the failed one and why" {
	fake smtp "$B"; fake smtp "$C"
	mp smtp "$DEAD" "$B" "$C" -- --proxy-smtp-auth=on
	login smtp
	logged_in smtp "$B"
	mplog_wait "backend=127\.0\.0\.1:$B .*result=ok"
	untouched "$C"
	mplog | grep -qF "backend 127.0.0.1:$DEAD: Connection refused; trying 127.0.0.1:$B next"
	[ "$(mplog | grep -c 'trying')" -eq 1 ]
}

@test "a backend that accepts and never greets: the next one after its share of --timeout, nothing sent to the first" {
	fake pop3 "$A" --silent; fake pop3 "$B"
	mp pop3 "$A" "$B" -- --timeout=4s
	start=$(now_ms)
	login pop3
	elapsed=$(($(now_ms) - start))
	logged_in pop3 "$B"
	silent "$A"
	# two backends, 4 s for both: the silent one had 2 s of it
	((elapsed >= 1800 && elapsed < 3800 + SLOW_MS)) || { echo "elapsed ${elapsed}ms" >&2; false; }
	mplog_wait "backend=127\.0\.0\.1:$B .*result=ok"
	mplog | grep -qF "backend 127.0.0.1:$A timed out waiting for the greeting reply; trying 127.0.0.1:$B next"
}

@test "a temporary failure at the greeting (SMTP 421 and 451, POP3 -ERR, IMAP BYE): the next serves, the first got nothing" {
	for g in 'smtp=421 4.3.2 busy, try later' 'smtp=451 4.3.0 not now' \
	    'pop3=-ERR [SYS/TEMP] too many connections' 'imap=* BYE too busy'; do
		p=${g%%=*}
		fake "$p" "$A" --greeting "${g#*=}"; fake "$p" "$B"
		mp "$p" "$A" "$B" -- --proxy-smtp-auth=on
		login "$p"
		logged_in "$p" "$B"
		silent "$A"
		mplog_wait "backend=127\.0\.0\.1:$B .*result=ok"
		mplog | grep -qF "backend 127.0.0.1:$A "
		mplog | grep -qF -e "${g#*=}; trying 127.0.0.1:$B next"
		stop_launchers
		MPPORT=$(free_port); read -r A B <<<"$(free_port 2 | tr '\n' ' ')"
	done
}

@test "a backend that closes before its greeting: the next serves" {
	fake imap "$A" --close; fake imap "$B"
	mp imap "$A" "$B"
	login imap
	logged_in imap "$B"
	mplog_wait "backend=127\.0\.0\.1:$B .*result=ok"
	mplog | grep -qF "backend 127.0.0.1:$A closed the connection (the greeting); trying 127.0.0.1:$B next"
}

@test "a backend's share of --timeout ends at its greeting: after it, each reply has --timeout" {
	# 2 s for both; the first takes nothing of it, the second greets at
	# once, then takes 0.8 s a reply: EHLO, XCLIENT, HELO, MAIL, RCPT
	fake smtp "$B" --delay-replies 0.8
	mp smtp "$DEAD" "$B" -- --timeout=2s --smtp-auth=none
	run q smtp_chat "$MPPORT" --timeout 15 <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nQUIT'
	[[ $output == *$'250 2.1.5 '* ]]
	mplog_wait "backend=127\.0\.0\.1:$B .*result=ok"
}

@test "a permanent refusal at the greeting (SMTP 554) is no outage: the next is not tried" {
	fake smtp "$A" --greeting '554 5.3.2 no service for you'; fake smtp "$B"
	mp smtp "$A" "$B" -- --proxy-smtp-auth=on
	login smtp
	tempfail smtp
	mplog_wait "backend=127\.0\.0\.1:$A .*result=backend-error outcome=\"backend 127.0.0.1:$A refused greeting: 554"
	untouched "$B"
}

@test "the PROXY header is sent again on the next backend's connection, XCLIENT only to the one that greeted" {
	fake smtp "$A" --proxy --greeting '421 4.3.2 busy'; fake smtp "$B" --proxy
	mp smtp "$A" "$B" -- --proxy-protocol=on --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'EHLO client.test\nMAIL FROM:<a@client.test>\nRCPT TO:<b@x.test>\nQUIT'
	[[ $output == *$'250 2.1.5 '* ]]
	[[ $(transcript "$A") == "PROXY TCP4 127.0.0.1 127.0.0.1 "*$'\r' ]]
	[[ $(transcript "$B") == "PROXY TCP4 127.0.0.1 127.0.0.1 "*$'\r\nEHLO mx.test\r\nXCLIENT '*'MAIL FROM:<a@client.test>'* ]]
	! grep -q XCLIENT <(transcript "$A") || false
}

@test "all fail: the temporary failure once, within the one --timeout, each failure logged" {
	for p in smtp pop3 imap; do
		case $p in
		smtp) g='421 4.3.2 busy' ;;
		pop3) g='-ERR [SYS/TEMP] busy' ;;
		imap) g='* BYE busy' ;;
		esac
		fake "$p" "$A" --greeting "$g"; fake "$p" "$B" --silent
		mp "$p" "$DEAD" "$A" "$B" -- --timeout=3s --proxy-smtp-auth=on
		start=$(now_ms)
		login "$p"
		elapsed=$(($(now_ms) - start))
		tempfail "$p"
		[ "$(grep -c 'internal server error' -i <<<"$output")" -eq 1 ]
		silent "$A"; silent "$B"
		# the last, silent, backend had what the others left of 3 s
		((elapsed >= 2500 && elapsed < 4500 + SLOW_MS)) || { echo "$p: elapsed ${elapsed}ms" >&2; false; }
		mplog_wait "backend=127\.0\.0\.1:$B .*result=(backend-error|timeout)"
		mplog | grep -qF "backend 127.0.0.1:$DEAD: Connection refused; trying 127.0.0.1:$A next"
		mplog | grep -qF -e "$g; trying 127.0.0.1:$B next"
		[ "$(mplog | grep -c 'trying')" -eq 2 ]
		stop_launchers
		MPPORT=$(free_port); read -r A B <<<"$(free_port 2 | tr '\n' ' ')"
	done
}

@test "a TLS certificate that fails verification on the first: the session ends, the second is never contacted" {
	for p in imap smtp; do
		fake "$p" "$A" --tls --cert "$CERTS_WRONG_CRT" --key "$CERTS_WRONG_KEY"
		fake "$p" "$B" --tls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
		mp "$p" "$A" "$B" -- --proxy-ssl=on --proxy-smtp-auth=on
		login "$p"
		tempfail "$p"
		mplog_wait "backend=127\.0\.0\.1:$A .*outcome=\"backend 127.0.0.1:$A: TLS certificate: IP address mismatch\""
		wait_log "$T/fake-$A.log" 'tls handshake failed'
		no_credentials "$A"
		untouched "$B"
		mplog | grep -qF "backend 127.0.0.1:$A: TLS failed: the next backends are not tried"
		stop_launchers
		MPPORT=$(free_port); read -r A B <<<"$(free_port 2 | tr '\n' ' ')"
	done
}

@test "with --auth-http the service names the one backend: a dead one is not failed over to --backend's" {
	fake pop3 "$B"
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$C" --requests "$T/auth.requests" \
	    --ready "$T/auth.ready" --backend "127.0.0.1:$DEAD" && wait_for_file "$T/auth.ready"
	mp pop3 "$B" "$B" -- --auth-http="http://127.0.0.1:$C/auth"
	login pop3
	tempfail pop3
	mplog_wait "backend=127\.0\.0\.1:$DEAD .*result=backend-error outcome=\"backend 127.0.0.1:$DEAD: Connection refused\""
	! mplog | grep -q trying || false
	untouched "$B"
}

@test "real servers: a dead backend, then Dovecot (IMAP, POP3) and, after a 421, Postfix" {
	mail_servers_require
	mp imap "$DEAD" "$DOVECOT_IMAP_PORT"
	login imap
	[[ $output == *$'a OK '*'Logged in'*$'b OK '* ]]
	mplog_wait "backend=127\.0\.0\.1:$DOVECOT_IMAP_PORT .*result=ok"
	mplog | grep -qF "backend 127.0.0.1:$DEAD: Connection refused; trying 127.0.0.1:$DOVECOT_IMAP_PORT next"
	stop_launchers; MPPORT=$(free_port)
	mp pop3 "$DEAD" "$DOVECOT_POP3_PORT"
	login pop3
	[[ $output == *$'+OK Logged in.\r\n+OK '* ]]
	stop_launchers; MPPORT=$(free_port)
	fake smtp "$A" --greeting '421 4.7.0 mx1 going down'
	mp smtp "$A" "$POSTFIX_PORT" -- --proxy-smtp-auth=on
	run q smtp_chat "$MPPORT" --timeout 15 <<<$'EHLO client.test\nAUTH PLAIN '"$PLAIN"$'\nMAIL FROM:<alice@example.test>\nRCPT TO:<bob@example.test>\nDATA\nSubject: failover after a 421\n.\nQUIT'
	[[ $output == *$'235 2.0.0 OK\r\n250 2.1.0 Ok'*$'250 2.0.0 Ok: queued'* ]]
	silent "$A"
	mplog_wait "backend=127\.0\.0\.1:$POSTFIX_PORT .*result=ok"
	mplog | grep -qF "421 4.7.0 mx1 going down; trying 127.0.0.1:$POSTFIX_PORT next"
	wait_log "$POSTFIX_LOG" 'sasl_method=PLAIN, sasl_username=alice'
}

@test "--backend: repeatable in --help; MAILPROXY_BACKEND takes a list; a bad one is named" {
	run "$MP" --help
	grep -qE -- '--backend=HOST:PORT .*repeatable' <<<"$output"
	fake smtp "$A" --greeting '421 busy'; fake smtp "$B"
	MAILPROXY_BACKEND="127.0.0.1:$A 127.0.0.1:$B" mp smtp -- --smtp-auth=none
	run q smtp_chat "$MPPORT" <<<$'HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nQUIT'
	[[ $output == *$'250 2.1.5 '* ]]
	mplog_wait "backend=127\.0\.0\.1:$B .*result=ok"
	run "$MP" --protocol=smtp --backend=127.0.0.1:25 --backend=::1:25
	[ "$status" -eq 64 ]
	[[ $output == *'--backend: bad address "::1:25"'* ]]
	run env MAILPROXY_BACKEND="127.0.0.1:25 nope" "$MP" --protocol=smtp
	[ "$status" -eq 64 ]
	[[ $output == *'MAILPROXY_BACKEND: bad address "nope"'* ]]
}
