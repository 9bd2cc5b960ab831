#!/usr/bin/env bats
# TLS session tickets sealed with --ssl-session-ticket-key (nginx's
# ssl_session_ticket_key): each connection is its own mailproxy process
# under tcpserver, so a session resumes only through a ticket that the
# operator's key opens.  openssl s_client -sess_out keeps the first
# connection's session, -sess_in offers it on the second; s_client says
# "Reused" when the server took it.  A ticket begins with the 16-byte name
# of the key that sealed it, which tells which key a new ticket is of.

load lib/common
load lib/certs

setup_file() {
	certs_make
}

setup() {
	common_setup
	certs_make
	MPPORT=$(free_port)
	KEY_A=$CERTS_TICKET_KEY KEY_B=$CERTS_TICKET_KEY_2
}

# serve ARGS...: mailproxy, IMAP over implicit TLS, per connection under
# tcpserver on $MPPORT (the backend is never reached: the client logs out)
serve() {
	launch_tcpserver "$MPPORT" --protocol=imap --backend=127.0.0.1:1 \
	    --ssl=on --ssl-certificate="$CERTS_EC_CRT" \
	    --ssl-certificate-key="$CERTS_EC_KEY" "$@"
}

# restart ARGS...: the same port, served with other options
restart() {
	stop_launchers
	serve "$@"
}

# tls VERSION ARGS...: one session at VERSION (tls1_2, tls1_3): the
# greeting, LOGOUT, and s_client's output once the server closed (so a
# TLSv1.3 ticket, sent after the handshake, is in; -ign_eof waits for it)
tls() {
	local v=$1
	shift
	printf 'a LOGOUT\r\n' | timeout 20 openssl s_client -connect "127.0.0.1:$MPPORT" \
	    "-$v" -ign_eof "$@" 2>&1
}

# key_name FILE: the 16-byte name of a ticket key file, as hex
key_name() {
	head -c 16 "$1" | od -An -tx1 | tr -d ' \n'
}

# ticket_hex: the ticket of the session text on stdin (openssl sess_id
# -text, or what s_client prints of its session), as hex
ticket_hex() {
	sed -n '/TLS session ticket:$/,/^ *$/{s/^ *[0-9a-f]\{4\} - //p}' |
	    sed 's/   .*//;s/[- ]//g' | tr -d '\n'
}

# ticket_name SESSFILE: the first 16 bytes of the session's ticket, as hex
ticket_name() {
	openssl sess_id -in "$1" -noout -text | ticket_hex | head -c 32
}

# new_then_reused VERSION: a first session that is new, then a second one
# (another process) that resumes it
new_then_reused() {
	local v=$1 sess=$T/sess.$1 want=TLSv1.2
	if [[ $v == tls1_3 ]]; then want=TLSv1.3; fi
	run tls "$v" -sess_out "$sess"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"New, $want"* ]] || { echo "$output"; false; }
	[[ $output == *"a OK"* ]] || { echo "$output"; false; }
	[ -s "$sess" ]
	run tls "$v" -sess_in "$sess"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"Reused, $want"* ]] || { echo "$output"; false; }
	[[ $output == *"a OK"* ]] || { echo "$output"; false; }
}

# not_reused VERSION SESSFILE: a session offered SESSFILE starts anew
not_reused() {
	run tls "$1" -sess_in "$2"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"New, TLSv1."* ]] || { echo "$output"; false; }
	[[ $output != *Reused* ]] || { echo "$output"; false; }
	[[ $output == *"a OK"* ]] || { echo "$output"; false; }
}

@test "TLSv1.3: the second connection, another process, resumes by the ticket" {
	serve --ssl-session-ticket-key="$KEY_A"
	new_then_reused tls1_3
	# the ticket is sealed with the operator's key: it carries its name
	[ "$(ticket_name "$T/sess.tls1_3")" = "$(key_name "$KEY_A")" ]
	# two processes served the two sessions
	wait_count "$T/tcpserver-$MPPORT.log" 'outcome="client logged out' 2
	[ "$(grep -c 'outcome="client logged out' "$T/tcpserver-$MPPORT.log")" -eq 2 ]
	[ "$(grep -o '^mailproxy\[[0-9]*\]' "$T/tcpserver-$MPPORT.log" | sort -u | wc -l)" -eq 2 ]
}

@test "TLSv1.2: the second connection, another process, resumes by the ticket" {
	serve --ssl-session-ticket-key="$KEY_A"
	new_then_reused tls1_2
	[ "$(ticket_name "$T/sess.tls1_2")" = "$(key_name "$KEY_A")" ]
}

@test "a 48-byte key (AES-128) resumes too, TLSv1.3 and TLSv1.2" {
	serve --ssl-session-ticket-key="$CERTS_TICKET_KEY_48"
	new_then_reused tls1_3
	new_then_reused tls1_2
	[ "$(ticket_name "$T/sess.tls1_2")" = "$(key_name "$CERTS_TICKET_KEY_48")" ]
}

@test "without a key: no ticket is sent, and a ticket of a key does not resume" {
	serve --ssl-session-ticket-key="$KEY_A"
	run tls tls1_3 -sess_out "$T/s13"
	[[ $output == *"New, TLSv1.3"* ]] || { echo "$output"; false; }
	run tls tls1_2 -sess_out "$T/s12"
	[[ $output == *"New, TLSv1.2"* ]] || { echo "$output"; false; }
	[ -s "$T/s13" ]
	[ -s "$T/s12" ]
	restart
	not_reused tls1_3 "$T/s13"
	not_reused tls1_2 "$T/s12"
	run tls tls1_2
	[[ $output == *"New, TLSv1.2"* ]] || { echo "$output"; false; }
	[[ $output != *"TLS session ticket:"* ]] || { echo "$output"; false; }
}

@test "--ssl-session-tickets=off: the key is there, no session resumes" {
	serve --ssl-session-ticket-key="$KEY_A"
	run tls tls1_3 -sess_out "$T/s13"
	run tls tls1_2 -sess_out "$T/s12"
	[ -s "$T/s13" ]
	[ -s "$T/s12" ]
	restart --ssl-session-ticket-key="$KEY_A" --ssl-session-tickets=off
	not_reused tls1_3 "$T/s13"
	not_reused tls1_2 "$T/s12"
	run tls tls1_2
	[[ $output != *"TLS session ticket:"* ]] || { echo "$output"; false; }
}

@test "a ticket of a key not listed does not resume" {
	serve --ssl-session-ticket-key="$KEY_B"
	run tls tls1_3 -sess_out "$T/s13"
	run tls tls1_2 -sess_out "$T/s12"
	[ -s "$T/s13" ]
	[ -s "$T/s12" ]
	restart --ssl-session-ticket-key="$KEY_A"
	not_reused tls1_3 "$T/s13"
	not_reused tls1_2 "$T/s12"
}

@test "rotation: keys A then B open a ticket of B, and the new ticket is of A" {
	local v
	serve --ssl-session-ticket-key="$KEY_B"
	for v in tls1_3 tls1_2; do
		run tls "$v" -sess_out "$T/old.$v"
		[ "$status" -eq 0 ] || { echo "$output"; false; }
		[ "$(ticket_name "$T/old.$v")" = "$(key_name "$KEY_B")" ]
	done
	restart --ssl-session-ticket-key="$KEY_A" --ssl-session-ticket-key="$KEY_B"
	# TLSv1.3: s_client keeps the new ticket in -sess_out
	run tls tls1_3 -sess_in "$T/old.tls1_3" -sess_out "$T/new.tls1_3"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"Reused, TLSv1.3"* ]] || { echo "$output"; false; }
	[ "$(ticket_name "$T/new.tls1_3")" = "$(key_name "$KEY_A")" ]
	# TLSv1.2: a resumed session's new ticket is not written out, but
	# s_client prints it: the server renewed the ticket with the first key
	run tls tls1_2 -sess_in "$T/old.tls1_2"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"Reused, TLSv1.2"* ]] || { echo "$output"; false; }
	[ "$(ticket_hex <<<"$output" | head -c 32)" = "$(key_name "$KEY_A")" ] ||
	    { echo "$output"; false; }
	# and A alone opens the new one
	restart --ssl-session-ticket-key="$KEY_A"
	run tls tls1_3 -sess_in "$T/new.tls1_3"
	[[ $output == *"Reused, TLSv1.3"* ]] || { echo "$output"; false; }
}

@test "TLSv1.2: a ticket of the first key is not renewed" {
	serve --ssl-session-ticket-key="$KEY_A" --ssl-session-ticket-key="$KEY_B"
	run tls tls1_2 -sess_out "$T/s12"
	[ -s "$T/s12" ]
	run tls tls1_2 -sess_in "$T/s12"
	[[ $output == *"Reused, TLSv1.2"* ]] || { echo "$output"; false; }
	# the session s_client ends with holds the ticket it offered
	[ "$(ticket_hex <<<"$output")" = "$(openssl sess_id -in "$T/s12" -noout -text | ticket_hex)" ] ||
	    { echo "$output"; false; }
}

@test "a key file of the wrong size: --check exits 64 naming the file and its size" {
	head -c 50 /dev/urandom >"$T/bad.key"
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" \
	    --ssl-session-ticket-key="$KEY_A" --ssl-session-ticket-key="$T/bad.key"
	[ "$status" -eq 64 ] || { echo "$output"; false; }
	[[ $output == *"--ssl-session-ticket-key: $T/bad.key is 50 bytes"* ]] || { echo "$output"; false; }
	[[ $output == *"80 or 48"* ]] || { echo "$output"; false; }
	# the good sizes pass
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" \
	    --ssl-session-ticket-key="$KEY_A" --ssl-session-ticket-key="$CERTS_TICKET_KEY_48"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# an empty file is wrong too
	: >"$T/empty.key"
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" \
	    --ssl-session-ticket-key="$T/empty.key"
	[ "$status" -eq 64 ] || { echo "$output"; false; }
	[[ $output == *"$T/empty.key is 0 bytes"* ]] || { echo "$output"; false; }
}

@test "a key file of the wrong size: exit 64 at start, before any TLS, the message names the file" {
	head -c 81 /dev/urandom >"$T/bad.key"
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" \
	    --ssl-session-ticket-key="$T/bad.key" </dev/null
	[ "$status" -eq 64 ] || { echo "$output"; false; }
	[ "$output" = "mailproxy: --ssl-session-ticket-key: $T/bad.key is 81 bytes: it must be 80 or 48" ]
}

# session_of PID: the one session tcpserver PID runs (bounded wait)
session_of() {
	local end=$((SECONDS + 5)) p
	while ((SECONDS < end)); do
		p=$(_descendants "$1" | head -n 1)
		if [[ -n $p ]]; then echo "$p"; return 0; fi
		sleep 0.05
	done
	echo "no session under $1" >&2
	return 1
}

# held VERSION: a session at VERSION that stays (LOGOUT after 4 s, more
# under memcheck, whose address space memgrep.py reads for long), its
# output in $T/held, its ticket in $T/held.sess; returns once the
# greeting came, HPID the session
held() {
	rm -f "$T/held" "$T/held.sess"
	{ sleep $((4 + 3 * SLOW)); printf 'a LOGOUT\r\n'; } | timeout 20 openssl s_client \
	    -connect "127.0.0.1:$MPPORT" "-$1" -ign_eof -sess_out "$T/held.sess" \
	    >"$T/held" 2>&1 3>&- &
	wait_log "$T/held" '^\* OK IMAP4'
	HPID=$(session_of "$LPID")
}

@test "once the ticket is sealed, the session's memory holds no copy of the keys" {
	local v
	printf '%s' mailproxy-tkname HMAC-key-for-the-memgrep-test-01 \
	    AES-key-for-the-memgrep-test-002 >"$T/text.key"
	[ "$(stat -c %s "$T/text.key")" -eq 80 ]
	serve --ssl-session-ticket-key="$T/text.key"
	LPID=$SPAWNED_PID
	for v in tls1_3 tls1_2; do
		held "$v"
		wait_for_file "$T/held.sess"
		[ "$(ticket_name "$T/held.sess")" = "$(key_name "$T/text.key")" ]
		run "$PYTHON" "$TESTLIB/memgrep.py" "$HPID" text.key \
		    HMAC-key-for-the-memgrep AES-key-for-the-memgrep
		[ "$status" -eq 0 ] || { echo "$output"; false; }
		# the reader works: the session's argv names the file
		[[ ${lines[0]} =~ ^text.key\ [1-9] ]] || { echo "$output"; false; }
		[ "${lines[*]:1}" = 'HMAC-key-for-the-memgrep 0 AES-key-for-the-memgrep 0' ] ||
		    { echo "$output"; false; }
		wait_log "$T/held" '^a OK'
	done
}
