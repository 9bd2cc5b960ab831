#!/usr/bin/env bats
# The TLS units (issue 15, item 8): mailproxy-submissions (465, implicit
# TLS), mailproxy-submission (587, STARTTLS only), mailproxy-imaps (993)
# and mailproxy-pop3s (995).  systemd-analyze verify passes for each, and
# each unit's own ExecStart= line, its Environment= and an
# EnvironmentFile= serve one session under systemd-socket-activate: %d is
# a credentials directory holding what its LoadCredential= lines name,
# made from the test certificates, and openssl s_client gets the greeting
# and the answer to QUIT or LOGOUT over TLS, verifying the certificate.

load lib/common
load lib/certs

UNITS=$BATS_TEST_DIRNAME/../units
TLS_UNITS=(submissions submission imaps pop3s)

setup_file() {
	certs_make
}

setup() {
	common_setup
	certs_make
	MPPORT=$(free_port)
	# the backend: never contacted, a session that quits before logging in
	BE=$(free_port)
}

# tls_ready: this build does TLS (--check loads a certificate and key);
# otherwise the test fails here, saying so
tls_ready() {
	run "$MP" --check --protocol=smtp --backend=127.0.0.1:25 --ssl=on \
	    --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY"
	[ "$status" -eq 0 ] || {
		echo "this build has no working --ssl=on (TLS core not in?): $output"
		false
	}
}

# unit_value FILE KEY: every value of KEY= in FILE, one a line
unit_value() {
	sed -n "s/^$2=//p" "$1"
}

# creds NAME: $T/creds-NAME, the instance's $CREDENTIALS_DIRECTORY, with a
# file for each LoadCredential=ID:PATH of the unit: the test CA's mx.test
# certificate for /etc/mailproxy/tls.crt, its key for tls.key
creds() {
	local svc=$UNITS/mailproxy-$1@.service d=$T/creds-$1 line id path n=0
	mkdir -p "$d"
	while IFS= read -r line; do
		id=${line%%:*} path=${line#*:}
		case $path in
		/etc/mailproxy/tls.crt) cp "$CERTS_RSA_CRT" "$d/$id" ;;
		/etc/mailproxy/tls.key) cp "$CERTS_RSA_KEY" "$d/$id" ;;
		*) echo "$svc: LoadCredential=$line: no test file for $path" >&2; return 1 ;;
		esac
		n=$((n + 1))
	done < <(unit_value "$svc" LoadCredential)
	((n == 2)) || { echo "$svc: $n LoadCredential= lines, expected 2" >&2; return 1; }
	chmod 700 "$d"
	chmod 400 "$d"/*
	CREDS=$d
}

# unit_activate NAME: the socket-activated session of mailproxy-NAME as
# its units say: ListenStream= of the .socket (a port, moved to $MPPORT on
# loopback), Accept=yes, ExecStart= of the service with %d (and %i, %%)
# expanded and $MP for the program, Environment= lines, and
# $T/NAME.conf as its EnvironmentFile=; NAME.log its log
unit_activate() {
	local name=$1 sock=$UNITS/mailproxy-$1.socket svc=$UNITS/mailproxy-$1@.service
	local exec words=() envs=() line w args=() inst
	[[ $(unit_value "$sock" Accept) == yes ]] || { echo "$sock: no Accept=yes" >&2; return 1; }
	[[ $(unit_value "$svc" EnvironmentFile) == "-/etc/mailproxy/$name.conf" ]] ||
	    { echo "$svc: EnvironmentFile= is not -/etc/mailproxy/$name.conf" >&2; return 1; }
	creds "$name" || return 1
	exec=$(unit_value "$svc" ExecStart)
	[[ $(wc -l <<<"$exec") -eq 1 ]] || { echo "$svc: not one ExecStart=" >&2; return 1; }
	read -ra words <<<"$exec"
	[[ ${words[0]} == /usr/local/sbin/mailproxy ]] || { echo "ExecStart=$exec" >&2; return 1; }
	inst="1-127.0.0.1:$MPPORT-127.0.0.1:0"
	for w in "${words[@]:1}"; do
		w=${w//%d/$CREDS}
		w=${w//%i/$inst}
		w=${w//%%/%}
		[[ $w != *%* ]] || { echo "$svc: a specifier left in $w" >&2; return 1; }
		args+=("$w")
	done
	while IFS= read -r line; do
		envs+=(-E "$line")
	done < <(unit_value "$svc" Environment)
	while IFS= read -r line; do
		[[ -z $line || $line == \#* ]] || envs+=(-E "$line")
	done <"$T/$name.conf"
	spawn "$name" systemd-socket-activate --accept -l "127.0.0.1:$MPPORT" \
	    -E CREDENTIALS_DIRECTORY="$CREDS" "${envs[@]}" "$MP" "${args[@]}" || return 1
	wait_port "$MPPORT"
}

# conf NAME [LINE...]: $T/NAME.conf, the unit's EnvironmentFile=, as the
# comment in the unit has it: backend and server name, and LINEs
conf() {
	local name=$1
	shift
	printf '%s\n' "# as /etc/mailproxy/$name.conf" "MAILPROXY_BACKEND=127.0.0.1:$BE" \
	    MAILPROXY_SERVER_NAME=mx.test "$@" >"$T/$name.conf"
}

# s_client LINES [ARGS...]: openssl s_client to $MPPORT, verifying the
# certificate against the test CA and the name mx.test (sent as SNI);
# LINES (\n-separated) are sent with CRLF once the server has said
# something (implicit TLS: its greeting) or, with -starttls, once TLS is
# up.  $output: what the server sent over TLS, CRs removed; $T/s_client.err
# openssl's own messages
s_client() {
	local send=$1 out=$T/s_client.out
	shift
	: >"$out"
	run timeout 10 sh -c '
		port=$1 out=$2 send=$3; shift 3
		{
			i=0
			case " $* " in
			*" -starttls "*) ;;
			*) until [ -s "$out" ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done ;;
			esac
			printf "%s\n" "$send" | sed "s/\$/\r/"
		# -quiet ignores the EOF of its input: it ends when the server closes
		} | openssl s_client -connect "127.0.0.1:$port" -quiet \
		    -CAfile "$CERTS_CA" -verify_return_error -verify_hostname mx.test \
		    -servername mx.test "$@" >"$out" 2>"$T/s_client.err"
	' sh "$MPPORT" "$out" "$send" "$@"
	output=$(tr -d '\r' <"$out")
}

@test "the TLS units: socket and service as the plaintext ones, systemd-analyze verify clean" {
	local n sock svc
	mkdir "$T/units"
	for n in "${TLS_UNITS[@]}"; do
		cp "$UNITS/mailproxy-$n.socket" "$UNITS/mailproxy-$n@.service" "$T/units/"
	done
	# systemd checks that ExecStart= exists: point it at this build
	sed -i "s|^ExecStart=/usr/local/sbin/mailproxy |ExecStart=$(readlink -f "$MP") |" "$T/units/"*.service
	for n in "${TLS_UNITS[@]}"; do
		sock=$T/units/mailproxy-$n.socket svc=$T/units/mailproxy-$n@.service
		grep -qx 'Accept=yes' "$sock"
		grep -qx 'KeepAlive=yes' "$sock"
		grep -qxE 'KeepAliveTimeSec=[0-9]+min' "$sock"
		grep -qxE 'MaxConnectionsPerSource=[1-9][0-9]*' "$sock"
		grep -qx 'MaxConnections=1024' "$sock"
		grep -qx 'TriggerLimitBurst=0' "$sock"
		grep -qx 'CollectMode=inactive-or-failed' "$svc"
		grep -qx 'DynamicUser=yes' "$svc"
		grep -qx 'LoadCredential=mailproxy.crt:/etc/mailproxy/tls.crt' "$svc"
		grep -qx 'LoadCredential=mailproxy.key:/etc/mailproxy/tls.key' "$svc"
		grep -qE '^ExecStart=.* --ssl-certificate=%d/mailproxy\.crt --ssl-certificate-key=%d/mailproxy\.key( |$)' "$svc"
		# the sandbox of the plaintext services, line for line
		diff <(sed -n '/^# Sandbox/,$p' "$UNITS/mailproxy-smtp@.service") \
		    <(sed -n '/^# Sandbox/,$p' "$svc")
		run systemd-analyze verify --man=no "$sock" "$svc"
		[ "$status" -eq 0 ] || { echo "$n: $output"; false; }
		[ -z "$output" ] || { echo "$n: $output"; false; }
	done
	# the ports and the TLS of each
	grep -qx 'ListenStream=465' "$T/units/mailproxy-submissions.socket"
	grep -qx 'ListenStream=587' "$T/units/mailproxy-submission.socket"
	grep -qx 'ListenStream=993' "$T/units/mailproxy-imaps.socket"
	grep -qx 'ListenStream=995' "$T/units/mailproxy-pop3s.socket"
	grep -qE '^ExecStart=[^ ]+ --ssl=on ' "$T/units/mailproxy-submissions@.service"
	grep -qE '^ExecStart=[^ ]+ --starttls=only ' "$T/units/mailproxy-submission@.service"
	grep -qE '^ExecStart=[^ ]+ --ssl=on ' "$T/units/mailproxy-imaps@.service"
	grep -qE '^ExecStart=[^ ]+ --ssl=on ' "$T/units/mailproxy-pop3s@.service"
	grep -qx 'Environment=MAILPROXY_PROTOCOL=smtp' "$T/units/mailproxy-submissions@.service"
	grep -qx 'Environment=MAILPROXY_PROTOCOL=smtp' "$T/units/mailproxy-submission@.service"
	grep -qx 'Environment=MAILPROXY_PROTOCOL=imap' "$T/units/mailproxy-imaps@.service"
	grep -qx 'Environment=MAILPROXY_PROTOCOL=pop3' "$T/units/mailproxy-pop3s@.service"
}

@test "make install installs the TLS units" {
	make -C "$BATS_TEST_DIRNAME/.." -s -o mailproxy install DESTDIR="$T/root" >/dev/null
	for n in "${TLS_UNITS[@]}"; do
		cmp "$UNITS/mailproxy-$n.socket" "$T/root/usr/local/lib/systemd/system/mailproxy-$n.socket"
		cmp "$UNITS/mailproxy-$n@.service" "$T/root/usr/local/lib/systemd/system/mailproxy-$n@.service"
	done
}

@test "mailproxy-submissions (465): implicit TLS, the greeting and QUIT over it" {
	tls_ready
	conf submissions MAILPROXY_PROXY_SMTP_AUTH=on MAILPROXY_PROXY_PASS_ERROR_MESSAGE=on
	unit_activate submissions
	s_client 'QUIT'
	[ "$output" = $'220 mx.test ESMTP ready\n221 2.0.0 Bye' ] || { cat "$T/s_client.err"; false; }
	wait_log "$T/submissions.log" 'smtp client=127\.0\.0\.1:[0-9]+ user="" .*outcome="client quit before logging in"'
}

@test "mailproxy-submission (587): STARTTLS, then EHLO and QUIT over TLS" {
	tls_ready
	conf submission MAILPROXY_PROXY_SMTP_AUTH=on MAILPROXY_PROXY_PASS_ERROR_MESSAGE=on
	unit_activate submission
	s_client $'EHLO client.test\nQUIT' -starttls smtp
	[[ "$output" == *$'250-mx.test\n'*'250 AUTH PLAIN LOGIN'*$'\n221 2.0.0 Bye' ]] ||
	    { echo "$output"; cat "$T/s_client.err"; false; }
	[[ "$output" != *STARTTLS* ]]
	wait_log "$T/submission.log" 'smtp client=127\.0\.0\.1:[0-9]+ user="" .*outcome="client quit before logging in"'
}

@test "mailproxy-submission (587): in plaintext STARTTLS is offered and no login is taken" {
	tls_ready
	conf submission MAILPROXY_PROXY_SMTP_AUTH=on MAILPROXY_PROXY_PASS_ERROR_MESSAGE=on
	unit_activate submission
	run smtp_chat "$MPPORT" <<<$'EHLO client.test\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT'
	[[ "$output" == *$'250 STARTTLS\r'* || "$output" == *$'250-STARTTLS\r'* ]] || { echo "$output"; false; }
	[[ "$output" != *$'\r\n235 '* ]]
	[[ "$output" == *$'\r\n221 2.0.0 Bye\r'* ]]
	# the backend was never contacted
	wait_log "$T/submission.log" 'smtp client=.* backend=- .*outcome='
	[ "$(grep -c 'outcome=' "$T/submission.log")" -eq 1 ]
}

@test "mailproxy-imaps (993): implicit TLS, the greeting and LOGOUT over it" {
	tls_ready
	conf imaps
	unit_activate imaps
	s_client 'a LOGOUT'
	[ "$output" = $'* OK IMAP4 ready\n* BYE\na OK completed' ] || { cat "$T/s_client.err"; false; }
	wait_log "$T/imaps.log" 'imap client=127\.0\.0\.1:[0-9]+ user="" .*outcome="client logged out before logging in"'
}

@test "mailproxy-pop3s (995): implicit TLS, the greeting and QUIT over it" {
	tls_ready
	conf pop3s
	unit_activate pop3s
	s_client 'QUIT'
	[ "$output" = $'+OK POP3 ready\n+OK' ] || { cat "$T/s_client.err"; false; }
	wait_log "$T/pop3s.log" 'pop3 client=127\.0\.0\.1:[0-9]+ user="" .*outcome="client quit before logging in"'
}

@test "a TLS unit without its environment file: the session ends at once and the journal says why" {
	tls_ready
	: >"$T/pop3s.conf"
	unit_activate pop3s
	# (the client's temporary failure is not asserted: it is written before
	# any TLS handshake, in plaintext, which a TLS client cannot read)
	s_client 'QUIT'
	wait_log "$T/pop3s.log" 'mailproxy: --backend: required'
	wait_log "$T/pop3s.log" 'died with code 64'
}
