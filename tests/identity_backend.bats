#!/usr/bin/env bats
# The client's address and the session id to IMAP and POP3 backends without
# a PROXY header (issue 16 items 4, 5's backend half and 9): IMAP ID with
# --proxy-imap-id, POP3 XCLIENT with --proxy-pop3-xclient, byte for byte
# against the fakes, then a real Dovecot that trusts the proxy
# (login_trusted_networks: mail_servers_start_trusted) logging the true
# client address (rip=) and our session id (session=<..>).  Clients
# connect from 127.0.0.7, so their address is not mailproxy's (127.0.0.1).

load lib/common
load lib/mailservers

SRC=127.0.0.7

setup_file() { mail_servers_start; mail_servers_start_trusted; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}
teardown() { san_teardown "$T"/tcpserver-*.log; }

# fake PROTO ARGS...: the fake PROTO backend on $BE
fake() {
	local proto=$1
	shift
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$proto.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" \
	    --log "$T/fake-$BE.log" "$@" && wait_for_file "$T/fake-$BE.ready"
}

# mp PROTO ARGS...: mailproxy for PROTO on $MPPORT towards $BACKEND (or the fake)
mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" \
	    --backend="${BACKEND:-127.0.0.1:$BE}" --server-name=mx.test "$@"
}

q() { "$@" 2>/dev/null; }
transcript() { tr -d '\0' <"$T/fake-$BE.transcript" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
# the client's port, as mailproxy logged it (client=127.0.0.7:PORT)
cport() {
	wait_log "$T/tcpserver-$MPPORT.log" "client=$SRC:" >/dev/null
	sed -n "s/.*client=$SRC:\([0-9]*\) .*/\1/p" "$T/tcpserver-$MPPORT.log" | head -n 1
}
ID16='[A-Za-z0-9]{16}'

imap_login() {
	q imap_chat "$MPPORT" --source "$SRC" <<-'EOF'
		a LOGIN alice secret
		b LOGOUT
	EOF
}
pop3_login() {
	q pop3_chat "$MPPORT" --source "$SRC" <<-'EOF'
		USER alice
		PASS secret
		QUIT
	EOF
}

@test "proxy-imap-id: ID before LOGIN under our tag, the client's ends and the session id; its * ID is not the client's" {
	fake imap; mp imap --proxy-imap-id=on
	run imap_login
	[[ $output == *'a OK '* ]]
	[[ $output != *'fake_imap")'* ]]
	local p
	p=$(cport)
	[[ $(transcript) =~ ^"mp2 ID (\"x-originating-ip\" \"$SRC\" \"x-originating-port\" \"$p\" \"x-connected-ip\" \"127.0.0.1\" \"x-connected-port\" \"$MPPORT\" \"x-session-id\" \""$ID16"\")"$'\r\na LOGIN "alice" "secret"\r\n' ]]
}

@test "proxy-imap-id off (the default): no ID" {
	fake imap; mp imap
	run imap_login
	[[ $(transcript) == $'a LOGIN "alice" "secret"\r\n'* ]]
}

@test "proxy-imap-id: after STARTTLS with --proxy-starttls, never in plaintext" {
	certs_make "$BATS_FILE_TMPDIR/certs" >/dev/null 2>&1 || :
	fake imap --starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
	mp imap --proxy-imap-id=on --proxy-starttls=on --proxy-ssl-trusted-certificate="$CERTS_CA"
	run imap_login
	[[ $output == *'a OK '* ]]
	[[ $(transcript) == $'mp1 STARTTLS\r\nmp2 ID ("x-originating-ip" "127.0.0.7" '*$'\r\na LOGIN "alice" "secret"\r\n'* ]]
}

@test "proxy-imap-id: a backend that answers ID with BAD: the login goes on, one log line" {
	fake imap --reply 'ID=BAD unknown command'
	mp imap --proxy-imap-id=on
	run imap_login
	[[ $output == *'a OK '* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'answered ID with: mp2 BAD unknown command'
}

@test "session id: the same in the PROXY v2 UNIQUE_ID and the IMAP ID" {
	fake imap --proxy; mp imap --proxy-imap-id=on --proxy-protocol=v2
	run imap_login
	[[ $output == *'a OK '* ]]
	local hex id
	hex=$(sed -n 's/.*proxy v2 \([0-9a-f]*\).*/\1/p' "$T/fake-$BE.log")
	id=$(printf '%s' "${hex##*050010}" | xxd -r -p)
	[[ $id =~ ^$ID16$ ]]
	grep -aq "\"x-session-id\" \"$id\")" "$T/fake-$BE.transcript"
}

@test "session id: a new one for every session" {
	fake imap --multi; mp imap --proxy-imap-id=on
	run imap_login
	run imap_login
	[ "$(grep -ao '"x-session-id" "[A-Za-z0-9]*"' "$T/fake-$BE.transcript" | sort -u | wc -l)" -eq 2 ]
}

# POP3

@test "proxy-pop3-xclient: Dovecot's greeting says [XCLIENT]: XCLIENT at once, no CAPA" {
	fake pop3 --greeting '+OK [XCLIENT] Dovecot (Debian) ready.' --reply 'XCLIENT=+OK Updated'
	mp pop3 --proxy-pop3-xclient=on
	run pop3_login
	[[ $output == *'+OK Logged in.'* ]]
	[[ $(transcript) =~ ^"XCLIENT ADDR=$SRC PORT=$(cport) SESSION="$ID16$'\r\nUSER alice\r\n' ]]
	[[ $output != *Updated* ]]
}

@test "proxy-pop3-xclient: CAPA, then XCLIENT ADDR PORT SESSION when CAPA lists XCLIENT, then USER" {
	fake pop3 --reply 'CAPA=+OK\nUSER\nXCLIENT\nSASL PLAIN\n.' --reply 'XCLIENT=+OK Updated'
	mp pop3 --proxy-pop3-xclient=on
	run pop3_login
	[[ $output == *'+OK Logged in.'* ]]
	local p
	p=$(cport)
	[[ $(transcript) =~ ^$'CAPA\r\n'"XCLIENT ADDR=$SRC PORT=$p SESSION="$ID16$'\r\nUSER alice\r\nPASS secret\r\n' ]]
	# the client saw none of it
	[[ $output != *Updated* && $output != *XCLIENT* ]]
}

@test "proxy-pop3-xclient: a CAPA without XCLIENT: a log line, no XCLIENT, the login goes on" {
	fake pop3 --reply 'CAPA=+OK\nUSER\n.'
	mp pop3 --proxy-pop3-xclient=on
	run pop3_login
	[[ $output == *'+OK Logged in.'* ]]
	[[ $(transcript) == $'CAPA\r\nUSER alice\r\nPASS secret\r\n'* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'offers no XCLIENT in its greeting or CAPA'
}

@test "proxy-pop3-xclient: a backend without CAPA (-ERR): the login goes on" {
	fake pop3
	mp pop3 --proxy-pop3-xclient=on
	run pop3_login
	[[ $output == *'+OK Logged in.'* ]]
	[[ $(transcript) == $'CAPA\r\nUSER alice\r\n'* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'no CAPA, so no XCLIENT'
}

@test "proxy-pop3-xclient: XCLIENT refused: -ERR to the client, no credentials sent, the log names login_trusted_networks" {
	fake pop3 --reply 'CAPA=+OK\nXCLIENT\n.' --reply 'XCLIENT=-ERR You are not from trusted IP'
	mp pop3 --proxy-pop3-xclient=on --proxy-pass-error-message=on
	run pop3_login
	[[ $output == *'-ERR internal server error'* || $output == *'-ERR '* ]]
	[[ $output != *'trusted IP'* ]]
	[[ $(transcript) != *USER* ]]
	wait_log "$T/tcpserver-$MPPORT.log" 'refused XCLIENT: -ERR You are not from trusted IP .list us in its login_trusted_networks'
}

@test "proxy-pop3-xclient: after STLS with --proxy-starttls, CAPA again in TLS" {
	certs_make "$BATS_FILE_TMPDIR/certs" >/dev/null 2>&1 || :
	fake pop3 --starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY" \
	    --reply 'XCLIENT=+OK Updated'
	mp pop3 --proxy-pop3-xclient=on --proxy-starttls=on --proxy-ssl-trusted-certificate="$CERTS_CA"
	run pop3_login
	[[ $output == *'+OK Logged in.'* ]]
	[[ $(transcript) == $'STLS\r\nCAPA\r\nUSER alice\r\n'* ]]
}

@test "proxy-pop3-xclient off (the default): no CAPA, no XCLIENT" {
	fake pop3 --reply 'CAPA=+OK\nXCLIENT\n.'
	mp pop3
	run pop3_login
	[[ $(transcript) == $'USER alice\r\nPASS secret\r\n'* ]]
}

# A real Dovecot.  Between mailproxy and it, a recorder (tee_start) keeps
# what mailproxy sent, so the test knows our session id and finds it in
# Dovecot's log; Dovecot sees the recorder's address, 127.0.0.1, as it
# would mailproxy's.

# tee_start PORT HOST:PORT FILE: tests/lib/tee_tcp.py on PORT
tee_start() {
	spawn "tee-$1" "$PYTHON" "$TESTLIB/tee_tcp.py" "$1" "$2" "$3" && wait_port "$1"
}

# sent_id: the session id mailproxy sent through the recorder
sent_id() { grep -aoE '"x-session-id" "[A-Za-z0-9]+"|SESSION=[A-Za-z0-9]+' "$T/tee" | tr -d '"' | grep -oE '[A-Za-z0-9]{16}$'; }

@test "dovecot (trusted): IMAP through --proxy-imap-id logs the true client address, its port and our session id" {
	mail_servers_require
	tee_start "$BE" "$DOVECOT_TRUSTED_ADDR:$DOVECOT_IMAP_TRUSTED_PORT" "$T/tee"
	mp imap --proxy-imap-id=on
	run curl -sS --max-time 20 --interface "$SRC" "imap://127.0.0.1:$MPPORT/" -u alice:secret
	[ "$status" -eq 0 ]
	[[ $output == *INBOX* ]]
	local id
	id=$(sent_id)
	[[ $id =~ ^$ID16$ ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.7, lip=127\.0\.0\.1, rport=$(cport), lport=$MPPORT, .*session=<$id>"
	# and the session's own lines after the login carry it
	wait_log "$DOVECOT_LOG" "imap\(alice\)<[0-9]*><$id>: Info: Disconnected: Logged out"
}

@test "dovecot (trusted): POP3 through --proxy-pop3-xclient logs the true client address and our session id" {
	mail_servers_require
	tee_start "$BE" "$DOVECOT_TRUSTED_ADDR:$DOVECOT_POP3_TRUSTED_PORT" "$T/tee"
	mp pop3 --proxy-pop3-xclient=on
	run curl -sS --max-time 20 --interface "$SRC" "pop3://alice:secret@127.0.0.1:$MPPORT/"
	[ "$status" -eq 0 ]
	local id
	id=$(sent_id)
	[[ $id =~ ^$ID16$ ]]
	# Dovecot offered XCLIENT in its greeting: no CAPA was needed
	[[ $(tr -d '\r' <"$T/tee" | head -n 1) == "XCLIENT ADDR=$SRC PORT=$(cport) SESSION=$id" ]]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.7, .*rport=$(cport), .*session=<$id>"
	wait_log "$DOVECOT_LOG" "pop3\(alice\)<[0-9]*><$id>: Info: Disconnected: Logged out"
}

@test "dovecot (trusted), control: without the options it logs mailproxy's address" {
	mail_servers_require
	BACKEND=$DOVECOT_TRUSTED_ADDR:$DOVECOT_IMAP_TRUSTED_PORT mp imap
	run curl -sS --max-time 20 --interface "$SRC" "imap://127.0.0.1:$MPPORT/" -u alice:secret
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.3, .*lport=$DOVECOT_IMAP_TRUSTED_PORT,"
	stop_launchers
	MPPORT=$(free_port)
	BACKEND=$DOVECOT_TRUSTED_ADDR:$DOVECOT_POP3_TRUSTED_PORT mp pop3
	run curl -sS --max-time 20 --interface "$SRC" "pop3://alice:secret@127.0.0.1:$MPPORT/"
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.3, .*lport=$DOVECOT_POP3_TRUSTED_PORT,"
}

@test "dovecot (untrusted), control: it ignores our ID and lists no XCLIENT; rip is mailproxy's" {
	mail_servers_require
	BACKEND=127.0.0.1:$DOVECOT_IMAP_PORT mp imap --proxy-imap-id=on
	run curl -sS --max-time 20 --interface "$SRC" "imap://127.0.0.1:$MPPORT/" -u alice:secret
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, .*lport=$DOVECOT_IMAP_PORT,"
	stop_launchers
	MPPORT=$(free_port)
	BACKEND=127.0.0.1:$DOVECOT_POP3_PORT mp pop3 --proxy-pop3-xclient=on
	run curl -sS --max-time 20 --interface "$SRC" "pop3://alice:secret@127.0.0.1:$MPPORT/"
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, .*lport=$DOVECOT_POP3_PORT,"
	wait_log "$T/tcpserver-$MPPORT.log" 'offers no XCLIENT in its greeting or CAPA'
}
