#!/usr/bin/env bats
# The TLS test infrastructure itself, without mailproxy: the TLS ports of the
# private Dovecot and Postfix (STARTTLS, implicit TLS), the 127.0.0.2 Dovecot
# that wants the PROXY v2 SSL TLV, and the fake backends' TLS options.

bats_require_minimum_version 1.5.0
load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
setup() { common_setup; mail_servers_require; }
teardown_file() { mail_servers_stop; }

# tls_client ARGS...: openssl s_client that trusts CERTS_CA, wants mx.test,
# sends stdin with CRLF and waits for the server to close.
tls_client() {
	timeout 10 openssl s_client -brief -crlf -ign_eof -CAfile "$CERTS_CA" \
		-verify_return_error -verify_hostname mx.test "$@"
}

# pp2_login PORT imap|pop3 ssl|plain: connect to DOVECOT_SECURE_ADDR:PORT,
# send a PROXY v2 header by hand (TCP4 203.0.113.7:5555 -> 127.0.0.2:PORT,
# with the PP2_TYPE_SSL TLV: PP2_CLIENT_SSL, verify 0, version and cipher
# sub-TLVs, or none), then log in as alice/secret; prints the dialogue.
pp2_login() {
	"$PYTHON" - "$DOVECOT_SECURE_ADDR" "$@" <<'PY'
import socket, struct, sys
host, port, proto, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def tlv(t, v):
    return bytes([t]) + struct.pack("!H", len(v)) + v
body = (socket.inet_aton("203.0.113.7") + socket.inet_aton(host)
        + struct.pack("!HH", 5555, port))
if kind == "ssl":
    body += tlv(0x20, b"\x01" + struct.pack("!I", 0) + tlv(0x21, b"TLSv1.3")
                + tlv(0x23, b"TLS_AES_128_GCM_SHA256"))
hdr = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", len(body)) + body
s = socket.create_connection((host, port), timeout=10)
s.sendall(hdr)          # one write: Dovecot peeks the header at once
f = s.makefile("rb")
def line():
    l = f.readline().decode("latin-1")
    sys.stdout.write(l)
    return l
line()
if proto == "imap":
    s.sendall(b"a LOGIN alice secret\r\n")
    while not line().startswith(("a ", "")) or False:
        pass
    s.sendall(b"b LOGOUT\r\n")
    while True:
        l = line()
        if not l or l.startswith("b "):
            break
else:
    s.sendall(b"USER alice\r\n")
    line()
    s.sendall(b"PASS secret\r\n")
    line()
    s.sendall(b"QUIT\r\n")
    line()
PY
}

@test "dovecot: STARTTLS on the plain IMAP port, then LOGIN; the plain port still takes plaintext" {
	run tls_client -starttls imap -connect "127.0.0.1:$DOVECOT_IMAP_PORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$status" -eq 0 ]
	[[ $output == *'Verification: OK'* && $output == *'Verified peername: mx.test'* ]]
	[[ $output == *'a OK '*'Logged in'* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, rport=[0-9]+, lport=$DOVECOT_IMAP_PORT, mpid=[0-9]+, TLS,"
	run imap_chat "$DOVECOT_IMAP_PORT" <<<$'a CAPABILITY\nb LOGIN alice secret\nc LOGOUT'
	[[ $output == *' STARTTLS '* && $output == *$'\r\nb OK '*'Logged in'* ]]
}

@test "dovecot: STLS on the plain POP3 port, then USER/PASS" {
	run tls_client -starttls pop3 -connect "127.0.0.1:$DOVECOT_POP3_PORT" <<<$'USER alice\nPASS secret\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *'Verification: OK'* && $output == *'+OK Logged in.'* ]]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, method=PLAIN, .*lport=$DOVECOT_POP3_PORT, mpid=[0-9]+, TLS,"
	run pop3_chat "$DOVECOT_POP3_PORT" <<<$'CAPA\nQUIT'
	[[ $output == *$'\r\nSTLS\r\n'* ]]
}

@test "dovecot: IMAPS and POP3S ports speak TLS first" {
	run tls_client -connect "127.0.0.1:$DOVECOT_IMAPS_PORT" <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$status" -eq 0 ]
	[[ $output == *'* OK '*'Dovecot'* && $output == *'a OK '*'Logged in'* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, .*lport=$DOVECOT_IMAPS_PORT, mpid=[0-9]+, TLS,"
	run tls_client -connect "127.0.0.1:$DOVECOT_POP3S_PORT" <<<$'USER bob\nPASS p a"s\\s\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *'+OK Logged in.'* ]]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<bob>, .*lport=$DOVECOT_POP3S_PORT, mpid=[0-9]+, TLS,"
	# the ECDSA-only client gets the RSA cert: no shared signature algorithm
	run ! tls_client -connect "127.0.0.1:$DOVECOT_IMAPS_PORT" -sigalgs ECDSA+SHA256 </dev/null
}

@test "dovecot 127.0.0.2: PROXY v2 with the SSL TLV logs in, secured; without it LOGIN is refused (IMAP)" {
	[ "$DOVECOT_SECURE_ADDR" = 127.0.0.2 ]
	run pp2_login "$DOVECOT_IMAP_SECURE_PORT" imap ssl
	[ "$status" -eq 0 ]
	[[ $output == *$'\na OK '*'Logged in'* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=203\.0\.113\.7, lip=127\.0\.0\.2, rport=5555, lport=$DOVECOT_IMAP_SECURE_PORT, mpid=[0-9]+, secured,"
	run pp2_login "$DOVECOT_IMAP_SECURE_PORT" imap plain
	[ "$status" -eq 0 ]
	[[ $output == *'LOGINDISABLED'* ]]
	[[ $output == *$'\na NO [PRIVACYREQUIRED] '* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login failed: Plaintext authentication disabled: .*rip=203\.0\.113\.7, lip=127\.0\.0\.2, rport=5555, lport=$DOVECOT_IMAP_SECURE_PORT"
	[ "$(grep -c "Login: user=<alice>.*lport=$DOVECOT_IMAP_SECURE_PORT," "$DOVECOT_LOG")" -eq 1 ]
}

@test "dovecot 127.0.0.2: PROXY v2 with the SSL TLV logs in, secured; without it PASS is refused (POP3)" {
	run pp2_login "$DOVECOT_POP3_SECURE_PORT" pop3 ssl
	[ "$status" -eq 0 ]
	[[ $output == *$'\n+OK Logged in.'* ]]
	wait_log "$DOVECOT_LOG" "pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=203\.0\.113\.7, lip=127\.0\.0\.2, rport=5555, lport=$DOVECOT_POP3_SECURE_PORT, mpid=[0-9]+, secured,"
	run pp2_login "$DOVECOT_POP3_SECURE_PORT" pop3 plain
	[ "$status" -eq 0 ]
	[[ $output == *'-ERR [AUTH] Plaintext authentication disallowed'* && $output != *'Logged in'* ]]
	[ "$(grep -c "Login: user=<alice>.*lport=$DOVECOT_POP3_SECURE_PORT," "$DOVECOT_LOG")" -eq 1 ]
}

@test "dovecot 127.0.0.2: without a PROXY header nothing gets in, not even from 127.0.0.1" {
	# haproxy = yes: no header, no session (Dovecot waits, then hangs up)
	run "$PYTHON" -c 'import socket,sys; s=socket.create_connection((sys.argv[1],int(sys.argv[2]))); s.settimeout(1)
try: d=s.recv(100)
except socket.timeout: d=b"timeout"
print(d)' "$DOVECOT_SECURE_ADDR" "$DOVECOT_IMAP_SECURE_PORT"
	[[ $output != *'* OK'* ]]
}

@test "postfix: STARTTLS on POSTFIX_TLS_PORT, then EHLO offers AUTH; the old ports offer no STARTTLS" {
	run tls_client -starttls smtp -connect "127.0.0.1:$POSTFIX_TLS_PORT" <<<$'EHLO c\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *'Verification: OK'* && $output == *'250-AUTH PLAIN LOGIN'* ]]
	[[ $output == *'250-XCLIENT'* ]]
	wait_log "$POSTFIX_LOG" 'Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: TLSv1\.3'
	run smtp_chat "$POSTFIX_TLS_PORT" <<<$'EHLO c\nQUIT'
	[[ $output == *'250-STARTTLS'* ]]
	local p
	for p in "$POSTFIX_PORT" "$POSTFIX_NOXCLIENT_PORT"; do
		run smtp_chat "$p" <<<$'EHLO c\nQUIT'
		[[ $output == *'250-XCLIENT'* || $p == "$POSTFIX_NOXCLIENT_PORT" ]]
		[[ $output != *STARTTLS* ]] || false
	done
}

@test "postfix: SMTPS port (wrappermode) greets over TLS; alice's client cert is verified" {
	run tls_client -connect "127.0.0.1:$POSTFIX_SMTPS_PORT" -cert "$CERTS_ALICE_CRT" -key "$CERTS_ALICE_KEY" <<<$'EHLO c\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *'220 mx.example.test ESMTP'* && $output == *'250-AUTH PLAIN LOGIN'* ]]
	wait_log "$POSTFIX_LOG" 'Trusted TLS connection established from unknown\[127\.0\.0\.1\]: .* client-signature ECDSA'
	# XCLIENT is allowed there as on POSTFIX_PORT
	run tls_client -connect "127.0.0.1:$POSTFIX_SMTPS_PORT" <<<$'EHLO c\nXCLIENT ADDR=192.0.2.9 NAME=[UNAVAILABLE]\nQUIT'
	[[ $output == *$'\n220 mx.example.test'* ]]
	wait_log "$POSTFIX_LOG" 'connect from unknown\[192\.0\.2\.9\]'
}

# The fake backends' TLS

fake_tls() { # PROTO PORT ARGS...: start tests/lib/fake_PROTO.py with a log
	local proto=$1 port=$2
	shift 2
	spawn "fake-$port" "$PYTHON" "$TESTLIB/fake_$proto.py" "$port" "$T/fake-$port.transcript" \
		--ready "$T/fake-$port.ready" --log "$T/fake-$port.events" "$@"
	wait_for_file "$T/fake-$port.ready"
}

@test "fakes: without TLS flags nothing changes (no STARTTLS offered, STARTTLS/STLS unknown)" {
	local p
	p=$(free_port)
	fake_tls smtp "$p"
	run smtp_chat "$p" <<<$'EHLO c\nSTARTTLS\nQUIT'
	[[ $output != *'250-STARTTLS'* && $output == *$'500 5.5.2 Error: command not recognized\r\n221'* ]]
	p=$(free_port)
	fake_tls pop3 "$p"
	run pop3_chat "$p" <<<$'CAPA\nSTLS\nQUIT'
	[[ $output == *$'-ERR unknown command\r\n-ERR unknown command\r\n+OK Bye'* ]]
	p=$(free_port)
	fake_tls imap "$p"
	run imap_chat "$p" <<<$'a CAPABILITY\nb STARTTLS\nc LOGOUT'
	[[ $output != *STARTTLS* && $output == *'b BAD unknown command'* ]]
}

@test "fake_smtp --starttls: advertised, upgrades, transcript in clear, SNI and client cert logged" {
	local p
	p=$(free_port)
	fake_tls smtp "$p" --multi --starttls --cert "$CERTS_RSA_CRT" --key "$CERTS_RSA_KEY" --client-ca "$CERTS_CLIENT_CA"
	run smtp_chat "$p" <<<$'EHLO c\nQUIT'
	[[ $output == *$'250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n'* ]]
	run tls_client -starttls smtp -connect "127.0.0.1:$p" -servername mx.test \
		-cert "$CERTS_ALICE_CRT" -key "$CERTS_ALICE_KEY" <<<$'EHLO again\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *'Verification: OK'* && $output != *'250-STARTTLS'* ]]
	wait_log "$T/fake-$p.events" 'tls ok version=TLSv1\.3 cipher=[A-Z0-9_]+ sni=mx\.test client_cert=alice reused=0'
	crlf 'EHLO c' QUIT 'EHLO mail.example.com' STARTTLS 'EHLO again' QUIT >"$T/expected"
	wait_log "$T/fake-$p.events" 'close .*' 
	same_bytes "$T/expected" "$T/fake-$p.transcript"
	# no SNI, no client cert; eve's cert is refused by the handshake
	run tls_client -starttls smtp -connect "127.0.0.1:$p" -noservername <<<'QUIT'
	wait_log "$T/fake-$p.events" 'sni=- client_cert=none'
	run ! tls_client -starttls smtp -connect "127.0.0.1:$p" -cert "$CERTS_EVE_CRT" -key "$CERTS_EVE_KEY" <<<'QUIT'
	wait_log "$T/fake-$p.events" 'tls handshake failed: .*certificate verify failed'
}

@test "fake_smtp: bytes pipelined after STARTTLS are dropped and logged; --reply STARTTLS= refuses" {
	local p
	p=$(free_port)
	fake_tls smtp "$p" --multi --starttls --cert "$CERTS_EC_PEM" --reply STARTTLS='454 4.7.0 TLS not available'
	run smtp_chat "$p" <<<$'EHLO c\nSTARTTLS\nQUIT'
	[[ $output == *$'454 4.7.0 TLS not available\r\n221 '* ]]
	p=$(free_port)
	fake_tls smtp "$p" --starttls --cert "$CERTS_EC_PEM"
	run "$PYTHON" - "$p" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
f.readline()
s.sendall(b"STARTTLS\r\nRSET\r\n")
print(f.readline())
PY
	[[ $output == *'220 2.0.0 Ready to start TLS'* ]]
	wait_log "$T/fake-$p.events" "starttls: discarded 6 pipelined bytes b'RSET\\\\r\\\\n'"
}

@test "fake_pop3 --starttls: CAPA lists STLS until TLS is on; STLS upgrades" {
	local p
	p=$(free_port)
	fake_tls pop3 "$p" --starttls --cert "$CERTS_EC_PEM"
	run tls_client -starttls pop3 -connect "127.0.0.1:$p" <<<$'CAPA\nUSER u\nPASS p\nQUIT'
	[ "$status" -eq 0 ]
	[[ $output == *$'+OK Capability list follows\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n+OK\r\n+OK Logged in.'* ]]
	wait_log "$T/fake-$p.events" 'tls ok version=TLSv1\.3 .*sni=- client_cert=none'
	crlf STLS CAPA 'USER u' 'PASS p' QUIT >"$T/expected"
	wait_log "$T/fake-$p.events" 'close '
	same_bytes "$T/expected" "$T/fake-$p.transcript"
}

@test "fake_imap --tls --proxy: the header in clear, then TLS; --sni-cert picks the cert by name" {
	local p
	p=$(free_port)
	fake_tls imap "$p" --multi --tls --proxy --cert "$CERTS_RSA_PEM" \
		--sni-cert "other.test=$CERTS_OTHER_CRT,$CERTS_OTHER_KEY" --tls-min TLSv1.3
	run "$PYTHON" - "$p" "$CERTS_CA" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
# header and ClientHello back to back: the fake must not read past the header
s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 1234 143\r\n")
t = ctx.wrap_socket(s, server_hostname="mx.test")
f = t.makefile("rb")
print(f.readline().decode().rstrip())
t.sendall(b"a LOGIN u p\r\nb LOGOUT\r\n")
for _ in range(3):
    print(f.readline().decode().rstrip())
PY
	[ "$status" -eq 0 ]
	[[ $output == *'* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] fake_imap ready'* ]]
	[[ $output == *'b OK LOGOUT completed'* ]]
	wait_log "$T/fake-$p.events" "proxy v1 b'PROXY TCP4 192.0.2.1 127.0.0.1 1234 143'"
	wait_log "$T/fake-$p.events" 'tls ok version=TLSv1\.3 .*sni=mx\.test client_cert=none'
	run timeout 10 openssl s_client -brief -CAfile "$CERTS_CA" -verify_return_error \
		-verify_hostname other.test -servername other.test -connect "127.0.0.1:$p" </dev/null
	# (no PROXY header: the fake logs it missing and still does TLS)
	[[ $output == *'Verified peername: other.test'* ]]
	wait_log "$T/fake-$p.events" 'sni=other\.test'
	run ! timeout 10 openssl s_client -brief -tls1_2 -connect "127.0.0.1:$p" </dev/null
}

@test "fake_imap --starttls: greeting and CAPABILITY list STARTTLS until TLS is on" {
	local p
	p=$(free_port)
	fake_tls imap "$p" --starttls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
	run tls_client -starttls imap -connect "127.0.0.1:$p" <<<$'a CAPABILITY\nb LOGOUT'
	[ "$status" -eq 0 ]
	[[ $output == *$'* CAPABILITY IMAP4rev1 LITERAL+ IDLE\r\na OK CAPABILITY completed'* ]]
	wait_log "$T/fake-$p.events" 'close '
	grep -q '^. STARTTLS' "$T/fake-$p.transcript"
	p=$(free_port)
	fake_tls imap "$p" --starttls --cert "$CERTS_EC_PEM"
	run imap_chat "$p" <<<$'a CAPABILITY\nb LOGOUT'
	[[ $output == *'SASL-IR STARTTLS AUTH=PLAIN'* && $output == *'* CAPABILITY IMAP4rev1 LITERAL+ IDLE STARTTLS'* ]]
}
