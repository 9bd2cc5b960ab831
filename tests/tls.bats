#!/usr/bin/env bats
# TLS on the client's side, through the binary under tcpserver against the
# fake backends: implicit TLS and STARTTLS in all three protocols, what
# starttls on and only advertise and refuse, the STARTTLS injection class,
# ALPN, certificates by SNI and key type, client certificates, EXTERNAL,
# the relay over TLS byte for byte, and every way TLS can fail.  The real
# clients and servers are in tls_e2e.bats.

load lib/common
load lib/certs

setup_file() { certs_make; }

setup() {
	common_setup
	certs_make
	BE=$(free_port)
	MPPORT=$(free_port)
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

# backend PROTO ARGS...: the fake backend of PROTO on $BE
backend() {
	local p=$1
	shift
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$p.py" "$BE" "$T/fake-$BE.transcript" \
		--ready "$T/fake-$BE.ready" "$@" && wait_for_file "$T/fake-$BE.ready"
}

# mp PROTO ARGS...: mailproxy for PROTO on $MPPORT with the EC certificate
mp() {
	local p=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$p" --backend="127.0.0.1:$BE" \
	    --server-name=mx.test --ssl-certificate="$CERTS_EC_CRT" \
	    --ssl-certificate-key="$CERTS_EC_KEY" "$@"
}

# tchat PROTO ARGS...: chat in lockstep, verifying mx.test against the CA
tchat() {
	local p=$1
	shift
	chat "$MPPORT" --expect-greeting --lockstep "$p" --cafile "$CERTS_CA" \
	    --servername mx.test --tls-info "$T/tls-info" "$@"
}

q() { "$@" 2>/dev/null; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
untouched() { ! grep -q connect "$T/fake-$BE.log" 2>/dev/null; }
PLAIN=AGFsaWNlAHNlY3JldA==

@test "implicit TLS, SMTP: greeting, EHLO, AUTH over TLS; the backend gets the login" {
	backend smtp
	mp smtp --ssl=on --proxy-smtp-auth=on
	run q tchat smtp --tls <<<$'EHLO c.test\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235'* ]]
	grep -q '^TLSv1.3 ' "$T/tls-info"
	transcript | grep -q "AUTH PLAIN $PLAIN"
}

@test "implicit TLS, POP3 and IMAP: the login reaches the backend" {
	backend pop3
	mp pop3 --ssl=on
	run q tchat pop3 --tls <<<$'USER alice\nPASS secret\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == $'+OK POP3 ready\r\n+OK\r\n+OK'* ]]
	transcript | grep -q 'PASS secret'
	stop_launchers
	backend imap
	mp imap --ssl=on
	run q tchat imap --tls <<<$'a LOGIN alice secret\nb LOGOUT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == $'* OK IMAP4 ready\r\na OK'* ]]
	transcript | grep -q 'LOGIN'
	[ "$(wc -l <"$T/tls-info")" -eq 2 ]
}

@test "STARTTLS on, SMTP: advertised last, as nginx; after it EHLO again, no STARTTLS, AUTH works" {
	backend smtp
	mp smtp --starttls=on --proxy-smtp-auth=on
	run q tchat smtp <<<$'EHLO c.test\nSTARTTLS\n@starttls\nEHLO c.test\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	want=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n220 2.0.0 Start TLS\r\n'
	want+=$'250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235'
	[[ $output == "$want"* ]] || { echo "$output" | cat -A; false; }
	transcript | grep -q "AUTH PLAIN $PLAIN"
}

@test "STARTTLS only, SMTP: no AUTH before TLS, AUTH and MAIL refused (530 5.7.0), all of it after" {
	backend smtp
	mp smtp --starttls=only --proxy-smtp-auth=on
	run q tchat smtp <<<$'EHLO c.test\nAUTH PLAIN '"$PLAIN"$'\nMAIL FROM:<a@b>\nSTARTTLS\n@starttls\nEHLO c.test\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	want=$'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 STARTTLS\r\n'
	want+=$'530 5.7.0 Must issue a STARTTLS command first\r\n530 5.7.0 Must issue a STARTTLS command first\r\n'
	want+=$'220 2.0.0 Start TLS\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n221 2.0.0 Bye\r\n'
	[ "$output" = "${want%$'\n'}" ] || { echo "$output" | cat -A; false; }
	untouched
}

@test "STARTTLS, POP3: STLS in CAPA, as nginx; only: no USER, no SASL, USER and AUTH refused" {
	backend pop3
	mp pop3 --starttls=on
	run q tchat pop3 <<<$'CAPA\nQUIT'
	[ "$output" = $'+OK POP3 ready\r\n+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n+OK\r' ] ||
	    { echo "$output" | cat -A; false; }
	stop_launchers
	backend pop3
	mp pop3 --starttls=only
	run q tchat pop3 <<<$'CAPA\nUSER alice\nAUTH PLAIN\nSTLS\n@starttls\nCAPA\nUSER alice\nPASS secret\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	want=$'+OK POP3 ready\r\n+OK Capability list follows\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n'
	want+=$'-ERR must issue STLS first\r\n-ERR must issue STLS first\r\n+OK\r\n'
	want+=$'+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n+OK\r\n+OK'
	[[ $output == "$want"* ]] || { echo "$output" | cat -A; false; }
	transcript | grep -q 'PASS secret'
}

@test "STARTTLS, IMAP: STARTTLS after AUTH=, as nginx; only: LOGINDISABLED and no AUTH=, LOGIN refused" {
	backend imap
	mp imap --starttls=on
	run q tchat imap <<<$'a CAPABILITY\nb LOGOUT'
	[[ $output == $'* OK IMAP4 ready\r\n* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN STARTTLS\r\na OK completed\r\n'* ]] ||
	    { echo "$output" | cat -A; false; }
	stop_launchers
	backend imap
	mp imap --starttls=only
	run q tchat imap <<<$'a CAPABILITY\nb LOGIN alice secret\nc AUTHENTICATE PLAIN '"$PLAIN"$'\nd STARTTLS\n@starttls\ne CAPABILITY\nf LOGIN alice secret\ng LOGOUT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	want=$'* OK IMAP4 ready\r\n* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED\r\na OK completed\r\n'
	want+=$'b NO [PRIVACYREQUIRED] must issue STARTTLS first\r\nc NO [PRIVACYREQUIRED] must issue STARTTLS first\r\n'
	want+=$'d OK completed\r\n* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\ne OK completed\r\nf OK'
	[[ $output == "$want"* ]] || { echo "$output" | cat -A; false; }
	transcript | grep -q 'LOGIN'
}

@test "STARTTLS is refused where it is not offered: starttls off, or already in TLS" {
	backend imap
	mp imap
	run q tchat imap <<<$'a STARTTLS\nb LOGOUT'
	[[ $output == *$'a BAD invalid command\r\n'* ]]
	stop_launchers
	mp imap --ssl=on --starttls=on
	run q tchat imap --tls <<<$'a CAPABILITY\nb STARTTLS\nc LOGOUT'
	[[ $output == *$'* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\na OK completed\r\nb BAD invalid command\r\n'* ]] ||
	    { echo "$output" | cat -A; false; }
}

# The CVE-2011-0411 class: a command pipelined behind STARTTLS in plaintext
# must not run inside TLS.  Each injected command would answer if it ran.
@test "STARTTLS injection, SMTP: a command pipelined after STARTTLS is dropped, never run in TLS" {
	backend smtp
	mp smtp --starttls=on --proxy-smtp-auth=on
	run q tchat smtp <<<$'EHLO c.test\n@raw STARTTLS\\r\\nAUTH PLAIN '"$PLAIN"$'\\r\\n\n@wait ^220 2.0.0\n@starttls\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *$'220 2.0.0 Start TLS\r\n221 2.0.0 Bye\r'* ]] || { echo "$output" | cat -A; false; }
	untouched
}

@test "STARTTLS injection, POP3 and IMAP: the same" {
	backend pop3
	mp pop3 --starttls=on
	run q tchat pop3 <<<$'@raw STLS\\r\\nUSER alice\\r\\n\n@wait ^\\+OK\\r\n@starttls\nPASS secret\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# PASS without the dropped USER: refused
	[[ $output == $'+OK POP3 ready\r\n+OK\r\n-ERR invalid command\r\n+OK\r' ]] || { echo "$output" | cat -A; false; }
	untouched
	stop_launchers
	backend imap
	mp imap --starttls=on
	run q tchat imap <<<$'@raw a STARTTLS\\r\\nb LOGIN alice secret\\r\\n\n@wait ^a OK\n@starttls\nc LOGOUT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == $'* OK IMAP4 ready\r\na OK completed\r\n* BYE\r\nc OK'* ]] || { echo "$output" | cat -A; false; }
	[[ $output != *"b "* ]]
}

@test "ALPN: the protocol's name is taken, another name refused in the handshake, none is fine" {
	backend imap
	mp imap --ssl=on
	run q tchat imap --tls --alpn imap <<<'a LOGOUT'
	[ "$status" -eq 0 ]
	grep -q '^TLSv1.3 [^ ]* imap ' "$T/tls-info"
	run q tchat imap --tls --alpn h2,http/1.1 <<<'a LOGOUT'
	[ "$status" -eq 4 ]
	run q tchat imap --tls --alpn smtp <<<'a LOGOUT'
	[ "$status" -eq 4 ]
	run q tchat imap --tls <<<'a LOGOUT'
	[ "$status" -eq 0 ]
	wait_log "$T/tcpserver-$MPPORT.log" 'client TLS handshake'
}

@test "certificates by SNI: the name asked for, the first without SNI or for an unknown name" {
	backend imap
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE" --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" \
	    --ssl-certificate="$CERTS_OTHER_CRT" --ssl-certificate-key="$CERTS_OTHER_KEY"
	for name in other.test mx.test; do
		run q chat "$MPPORT" --expect-greeting --lockstep imap --tls --cafile "$CERTS_CA" \
		    --servername "$name" --tls-info "$T/sni-$name" <<<'a LOGOUT'
		[ "$status" -eq 0 ] || { echo "$name: $output"; false; }
	done
	grep -q ' other.test$' "$T/sni-other.test"
	grep -q ' mx.test$' "$T/sni-mx.test"
	run timeout 10 openssl s_client -connect "127.0.0.1:$MPPORT" -noservername </dev/null
	[[ $output == *"subject=CN = mx.test"* ]] || { echo "$output"; false; }
	run timeout 10 openssl s_client -connect "127.0.0.1:$MPPORT" -servername nobody.test </dev/null
	[[ $output == *"subject=CN = mx.test"* ]] || { echo "$output"; false; }
}

@test "RSA and ECDSA for one name: each client gets the key type it can use" {
	backend imap
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE" --ssl=on \
	    --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY" \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY"
	run timeout 10 openssl s_client -connect "127.0.0.1:$MPPORT" -tls1_2 \
	    -cipher ECDHE-RSA-AES128-GCM-SHA256 -servername mx.test </dev/null
	[[ $output == *"Server public key is 2048 bit"* ]] || { echo "$output"; false; }
	run timeout 10 openssl s_client -connect "127.0.0.1:$MPPORT" -tls1_2 \
	    -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -servername mx.test </dev/null
	[[ $output == *"Server public key is 256 bit"* ]] || { echo "$output"; false; }
}

@test "ssl_protocols: a client of a version not listed fails the handshake" {
	backend imap
	mp imap --ssl=on --ssl-protocols=TLSv1.3
	run timeout 10 openssl s_client -connect "127.0.0.1:$MPPORT" -tls1_2 </dev/null
	[ "$status" -ne 0 ]
	run q tchat imap --tls <<<'a LOGOUT'
	[ "$status" -eq 0 ]
}

@test "an encrypted key: the passphrase file's lines are tried in turn; none fits: TLS unavailable" {
	backend smtp
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --starttls=on --ssl-certificate="$CERTS_ENC_CRT" --ssl-certificate-key="$CERTS_ENC_KEY" \
	    --ssl-password-file="$CERTS_PASSWORD_FILE"
	run q tchat smtp <<<$'STARTTLS\n@starttls\nQUIT'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	stop_launchers
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --starttls=on --ssl-certificate="$CERTS_ENC_CRT" --ssl-certificate-key="$CERTS_ENC_KEY" \
	    --ssl-password-file="$CERTS_PASSWORD_FILE_WRONG"
	run q tchat smtp <<<$'STARTTLS\nQUIT'
	[[ $output == $'220 mx.test ESMTP ready\r\n454 4.7.0 TLS not available due to temporary reason\r\n221 2.0.0 Bye\r' ]] ||
	    { echo "$output" | cat -A; false; }
	wait_log "$T/tcpserver-$MPPORT.log" "ssl-certificate-key: $CERTS_ENC_KEY:.*no passphrase of --ssl-password-file fits"
}

@test "a key that is not the certificate's: STARTTLS gets the temporary failure, the log names it" {
	backend pop3
	launch_tcpserver "$MPPORT" --protocol=pop3 --backend="127.0.0.1:$BE" --starttls=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_OTHER_KEY"
	run q tchat pop3 <<<$'STLS\nQUIT'
	[[ $output == $'+OK POP3 ready\r\n-ERR TLS not available\r\n+OK\r' ]] || { echo "$output" | cat -A; false; }
	wait_log "$T/tcpserver-$MPPORT.log" "$CERTS_OTHER_KEY does not belong to its certificate"
}

@test "at start: an unreadable certificate or key, or TLS without one: exit 64 naming it" {
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$T/none.crt" --ssl-certificate-key="$CERTS_EC_KEY" </dev/null
	[ "$status" -eq 64 ]
	[ "$output" = "mailproxy: --ssl-certificate: $T/none.crt: No such file or directory" ]
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --starttls=on </dev/null
	[ "$status" -eq 64 ]
	[ "$output" = "mailproxy: --ssl-certificate: required with --ssl=on or --starttls" ]
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --ssl=on --ssl-certificate="$CERTS_EC_CRT" \
	    --ssl-certificate-key="$CERTS_EC_KEY" --ssl-certificate="$CERTS_RSA_CRT" </dev/null
	[ "$status" -eq 64 ]
	[[ $output == *"one for each --ssl-certificate"* ]]
	run "$MP" --protocol=imap --backend=127.0.0.1:1 --ssl=on --ssl-certificate="$CERTS_EC_CRT" \
	    --ssl-certificate-key="$CERTS_EC_KEY" --ssl-verify-client=on </dev/null
	[ "$status" -eq 64 ]
	[[ $output == *"needs --ssl-client-certificate or --ssl-trusted-certificate"* ]]
}

@test "--check: loads everything and says so; a bad key, a bad cipher list, a bad curve: 64 and why" {
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY"
	[ "$status" -eq 0 ]
	[ "$output" = "mailproxy: the options are valid" ]
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_RSA_KEY"
	[ "$status" -eq 64 ]
	[[ $output == *"does not belong to its certificate"* ]]
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" --ssl-ciphers=NOSUCH
	[ "$status" -eq 64 ]
	[[ $output == "mailproxy: --ssl-ciphers: NOSUCH:"* ]]
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" --ssl-ecdh-curve=nosuch
	[ "$status" -eq 64 ]
	[[ $output == "mailproxy: --ssl-ecdh-curve: nosuch:"* ]]
	run "$MP" --check --protocol=imap --backend=127.0.0.1:1 --ssl=on \
	    --ssl-certificate="$CERTS_EC_CRT" --ssl-certificate-key="$CERTS_EC_KEY" --ssl-protocols=TLSv1.4
	[ "$status" -eq 64 ]
	[[ $output == "mailproxy: --ssl-protocols: "* ]]
	# the backend's side too: its client certificate and key, its CAs
	run "$MP" --check --protocol=imap --backend=127.0.0.1:993 --proxy-ssl=on \
	    --proxy-ssl-certificate="$CERTS_ALICE_CRT" --proxy-ssl-certificate-key="$CERTS_EC_KEY"
	[ "$status" -eq 64 ]
	[[ $output == "mailproxy: --proxy-ssl-certificate-key: $CERTS_EC_KEY: "*"key values mismatch" ]]
	run "$MP" --check --protocol=imap --backend=127.0.0.1:993 --proxy-ssl=on \
	    --proxy-ssl-trusted-certificate="$CERTS_EC_KEY"
	[ "$status" -eq 64 ]
	[[ $output == "mailproxy: --proxy-ssl-trusted-certificate: $CERTS_EC_KEY: "* ]]
}

@test "a failed handshake: plaintext to implicit TLS closes cleanly, and the log says why" {
	backend imap
	mp imap --ssl=on
	run q chat "$MPPORT" <<<'a LOGIN alice secret'
	[ "$status" -eq 0 ]
	# not a byte of plaintext: the client expected TLS
	[ -z "$output" ] || { echo "$output" | cat -A; false; }
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome="client TLS handshake: .*wrong version number'
	untouched
}

@test "client certificates, on: a good one logs in; none, a revoked one, an untrusted one: sent away as nginx" {
	backend imap
	mp imap --ssl=on --ssl-verify-client=on --ssl-client-certificate="$CERTS_CLIENT_CA" \
	    --ssl-crl="$CERTS_CRL"
	run q tchat imap --tls --cert "$CERTS_ALICE_CRT" --key "$CERTS_ALICE_KEY" <<<$'a LOGIN alice secret\nb LOGOUT'
	[[ $output == $'* OK IMAP4 ready\r\na OK'* ]] || { echo "$output" | cat -A; false; }
	run q tchat imap --tls <<<'a LOGOUT'
	[ "$output" = $'* BYE No required SSL certificate\r' ] || { echo "$output" | cat -A; false; }
	run q tchat imap --tls --cert "$CERTS_MALLORY_CRT" --key "$CERTS_MALLORY_KEY" <<<'a LOGOUT'
	[ "$output" = $'* BYE SSL certificate error\r' ] || { echo "$output" | cat -A; false; }
	run q tchat imap --tls --cert "$CERTS_EVE_CRT" --key "$CERTS_EVE_KEY" <<<'a LOGOUT'
	[ "$output" = $'* BYE SSL certificate error\r' ] || { echo "$output" | cat -A; false; }
	wait_log "$T/tcpserver-$MPPORT.log" 'client certificate: FAILED:certificate revoked'
	wait_log "$T/tcpserver-$MPPORT.log" 'client sent no required certificate'
}

@test "client certificates, optional and optional_no_ca: none is fine; an untrusted one only with no_ca" {
	backend smtp
	mp smtp --starttls=on --ssl-verify-client=optional --ssl-trusted-certificate="$CERTS_CLIENT_CA"
	run q tchat smtp <<<$'STARTTLS\n@starttls\nQUIT'
	[[ $output == *$'220 2.0.0 Start TLS\r\n221 2.0.0 Bye\r'* ]] || { echo "$output" | cat -A; false; }
	run q tchat smtp --cert "$CERTS_EVE_CRT" --key "$CERTS_EVE_KEY" <<<$'STARTTLS\n@starttls\nQUIT'
	[[ $output == *$'220 2.0.0 Start TLS\r\n421 4.7.1 SSL certificate error\r'* ]] || { echo "$output" | cat -A; false; }
	stop_launchers
	mp smtp --starttls=on --ssl-verify-client=optional_no_ca --ssl-trusted-certificate="$CERTS_CLIENT_CA"
	run q tchat smtp --cert "$CERTS_EVE_CRT" --key "$CERTS_EVE_KEY" <<<$'STARTTLS\n@starttls\nQUIT'
	[[ $output == *$'220 2.0.0 Start TLS\r\n221 2.0.0 Bye\r'* ]] || { echo "$output" | cat -A; false; }
	stop_launchers
	backend pop3
	mp pop3 --ssl=on --ssl-verify-client=on --ssl-client-certificate="$CERTS_CLIENT_CA"
	run q tchat pop3 --tls <<<'QUIT'
	[ "$output" = $'-ERR No required SSL certificate\r' ] || { echo "$output" | cat -A; false; }
}

# auth PORT: the fake auth service, accepting what it is asked, pointing at $BE
auth() {
	AUTHPORT=$(free_port)
	spawn "auth-$AUTHPORT" "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AUTHPORT" \
	    --requests "$T/requests" --backend "127.0.0.1:$BE" --ready "$T/auth.ready" &&
	    wait_for_file "$T/auth.ready"
}

@test "EXTERNAL is offered only on TLS with a verified certificate, in all three protocols" {
	backend imap
	auth
	mp imap --ssl=on --ssl-verify-client=optional --ssl-client-certificate="$CERTS_CLIENT_CA" \
	    --imap-auth='plain external' --auth-http="http://127.0.0.1:$AUTHPORT/"
	run q tchat imap --tls <<<$'a CAPABILITY\nb AUTHENTICATE EXTERNAL =\nc LOGOUT'
	[[ $output == $'* OK IMAP4 ready\r\n* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\na OK completed\r\nb NO unsupported authentication mechanism\r\n'* ]] ||
	    { echo "$output" | cat -A; false; }
	run q tchat imap --tls --cert "$CERTS_ALICE_CRT" --key "$CERTS_ALICE_KEY" <<<$'a CAPABILITY\nb AUTHENTICATE EXTERNAL YWxpY2U=\nc LOGOUT'
	[[ $output == $'* OK IMAP4 ready\r\n* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=EXTERNAL\r\na OK completed\r\nb OK'* ]] ||
	    { echo "$output" | cat -A; false; }
	grep -q '^Auth-Method: external' "$T/requests"
	grep -q '^Auth-SSL-Verify: SUCCESS' "$T/requests"
	stop_launchers
	mp smtp --starttls=on --ssl-verify-client=optional --ssl-client-certificate="$CERTS_CLIENT_CA" \
	    --smtp-auth='plain external' --auth-http="http://127.0.0.1:$AUTHPORT/"
	run q tchat smtp --cert "$CERTS_ALICE_CRT" --key "$CERTS_ALICE_KEY" <<<$'EHLO c\nSTARTTLS\n@starttls\nEHLO c\nQUIT'
	[[ $output == *$'250-AUTH PLAIN\r\n250 STARTTLS\r\n220 2.0.0 Start TLS\r\n250-mx.test\r\n250 AUTH PLAIN EXTERNAL\r\n'* ]] ||
	    { echo "$output" | cat -A; false; }
	stop_launchers
	mp pop3 --ssl=on --ssl-verify-client=optional --ssl-client-certificate="$CERTS_CLIENT_CA" \
	    --pop3-auth='plain external' --auth-http="http://127.0.0.1:$AUTHPORT/"
	run q tchat pop3 --tls --cert "$CERTS_ALICE_CRT" --key "$CERTS_ALICE_KEY" <<<$'CAPA\nQUIT'
	[[ $output == *$'SASL PLAIN LOGIN EXTERNAL\r\n'* ]] || { echo "$output" | cat -A; false; }
}

# msg: 2 MB of lines, for the transfers
msg() {
	"$PYTHON" -c '
import random, sys
random.seed(7)
for i in range(30000):
    sys.stdout.write("".join(random.choice("abcdefghij :-") for _ in range(76)) + "\r\n")' >"$T/msg"
}

# retr: over TLS, log in, RETR 1, half-close; the message arrives whole
retr() {
	q tchat pop3 --tls --timeout 30 <<<$'USER alice\nPASS secret\nRETR 1\n@shut' >"$T/got"
	"$PYTHON" - "$T/got" "$T/msg" <<-'PY'
	import sys
	got, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	retr = got[got.index(b"Logged in.\r\n") + 12:]
	body = retr[retr.index(b"\r\n") + 2:]
	assert body == msg + b".\r\n", (len(body), len(msg))
	PY
}

@test "relay over TLS: a 2 MB RETR down after a half-close, byte for byte, at one page and at 64k" {
	msg
	backend pop3 --message "$T/msg"
	mp pop3 --ssl=on
	retr
	stop_launchers
	backend pop3 --message "$T/msg"
	mp pop3 --ssl=on --proxy-buffer=64k --relay-engine=splice
	retr
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome="ok"'
}

@test "relay over TLS: a 2 MB message up, byte for byte, the reply after it; close_notify at the end" {
	msg
	backend smtp
	mp smtp --starttls=on --smtp-auth=none
	"$PYTHON" - "$MPPORT" "$T/msg" "$CERTS_CA" <<-'PY'
	import socket, ssl, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
	def reply(f):
	    while True:
	        l = f.readline()
	        if l[3:4] != b"-":
	            return l
	f = s.makefile("rb")
	reply(f)
	s.sendall(b"EHLO c\r\n"); reply(f)
	s.sendall(b"STARTTLS\r\n"); assert reply(f).startswith(b"220")
	ctx = ssl.create_default_context(cafile=sys.argv[3])
	t = ctx.wrap_socket(s, server_hostname="mx.test")
	f = t.makefile("rb")
	for c in (b"EHLO c", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA"):
	    t.sendall(c + b"\r\n")
	    reply(f)
	t.sendall(open(sys.argv[2], "rb").read() + b".\r\nQUIT\r\n")
	assert reply(f).startswith(b"250"), "no 250 after the message"
	assert reply(f).startswith(b"221"), "no 221"
	# the backend closed: mailproxy's close_notify is a clean EOF here
	assert f.read() == b""
	t.unwrap()
	PY
	"$PYTHON" - "$T/fake-$BE.transcript" "$T/msg" <<-'PY'
	import sys
	t, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	assert msg + b".\r\nQUIT\r\n" in t, len(t)
	PY
}

@test "the log line of a TLS session names the protocol and the cipher" {
	backend imap
	mp imap --ssl=on
	q tchat imap --tls <<<$'a LOGIN alice secret\nb LOGOUT' >/dev/null
	wait_log "$T/tcpserver-$MPPORT.log" 'tls=TLSv1.3/TLS_'
}

# chain: a client certificate two intermediate CAs below the client CA
# (OpenSSL counts neither the leaf nor the trust anchor: depth 1 takes one
# intermediate): $T/chain.pem holds the leaf then both, $T/leaf.key its key
chain() {
	local d=$T/ch ca=$CERTS_CLIENT_CA cakey=$CERTS_CLIENT_CA_KEY i
	mkdir -p "$d"
	printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$d/ca.ext"
	printf 'extendedKeyUsage=clientAuth\n' >"$d/leaf.ext"
	for i in int1 int2 leaf; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		    -keyout "$d/$i.key" -subj "/CN=$i" -out "$d/$i.csr" 2>/dev/null
		openssl x509 -req -in "$d/$i.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial \
		    -CAserial "$d/serial" -days 30 \
		    -extfile "$d/$([[ $i == leaf ]] && echo leaf || echo ca).ext" \
		    -out "$d/$i.crt" 2>/dev/null
		ca=$d/$i.crt cakey=$d/$i.key
	done
	cat "$d/leaf.crt" "$d/int2.crt" "$d/int1.crt" >"$T/chain.pem"
	cp "$d/leaf.key" "$T/leaf.key"
}

@test "ssl_verify_depth: a chain through two intermediates needs depth 2; at the default 1 it is a certificate error" {
	chain
	backend imap
	mp imap --ssl=on --ssl-verify-client=on --ssl-client-certificate="$CERTS_CLIENT_CA"
	run q tchat imap --tls --cert "$T/chain.pem" --key "$T/leaf.key" <<<'a LOGOUT'
	[ "$output" = $'* BYE SSL certificate error\r' ] || { echo "$output" | cat -A; false; }
	wait_log "$T/tcpserver-$MPPORT.log" 'client certificate: FAILED:'
	stop_launchers
	backend imap
	mp imap --ssl=on --ssl-verify-client=on --ssl-client-certificate="$CERTS_CLIENT_CA" \
	    --ssl-verify-depth=2
	run q tchat imap --tls --cert "$T/chain.pem" --key "$T/leaf.key" <<<'a LOGOUT'
	[[ $output == $'* OK IMAP4 ready\r\n* BYE'* ]] || { echo "$output" | cat -A; false; }
}

@test "TLS on both sides: a 2 MB RETR from a backend in TLS to a client in TLS, byte for byte" {
	msg
	backend pop3 --message "$T/msg" --tls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
	mp pop3 --ssl=on --proxy-ssl=on --proxy-ssl-trusted-certificate="$CERTS_CA"
	retr
	wait_log "$T/tcpserver-$MPPORT.log" 'tls=TLSv1.3/.* backend_tls=TLSv1.3/'
}

# A client that stops reading while a large RETR comes down: the write to
# it stalls, and the read of it (the relay's other direction, on the same
# SSL) must not steal what the write waits for.
@test "relay over TLS: a client that pauses, then reads slowly, gets all of a 10 MB RETR: a stalled write is never made to wait for input" {
	msg
	# 10 MB: more than the kernel's buffers take while the client sleeps
	cat "$T/msg" "$T/msg" "$T/msg" "$T/msg" "$T/msg" >"$T/big" && mv "$T/big" "$T/msg"
	backend pop3 --message "$T/msg"
	# a buffer of several TLS records: a write can stall between them
	mp pop3 --ssl=on --proxy-buffer=64k
	timeout 30 "$PYTHON" - "$MPPORT" "$T/msg" <<-'PY'
	import socket, ssl, sys, time
	ctx = ssl.create_default_context()
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	raw = socket.socket()
	# small, set before connecting so the window is made for it
	raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
	raw.connect(("127.0.0.1", int(sys.argv[1])))
	s = ctx.wrap_socket(raw)
	s.recv(100)
	s.sendall(b"USER alice\r\n"); s.recv(100)
	s.sendall(b"PASS secret\r\n"); s.recv(100)
	s.sendall(b"RETR 1\r\n")
	got = s.recv(65536)
	time.sleep(2)			# mailproxy's writes stall on a full socket
	start = time.monotonic()
	want = open(sys.argv[2], "rb").read() + b".\r\n"
	while not got.endswith(want):
	    d = s.recv(65536)
	    assert d, "EOF after %d bytes" % len(got)
	    got += d
	    # a slow reader: the writes stall again and again
	    if len(got) < 3000000:
	        time.sleep(0.002)
	    assert time.monotonic() - start < 15, "stalled at %d bytes" % len(got)
	PY
}

# OpenSSL decrypts in place: the login's plaintext sits in the SSL's read
# buffer, freed (SSL_MODE_RELEASE_BUFFERS) without a wipe unless
# SSL_OP_CLEANSE_PLAINTEXT says so.
@test "TLS on both sides: once the relay runs, no copy of the password is in the session's memory" {
	backend pop3 --tls --cert "$CERTS_EC_CRT" --key "$CERTS_EC_KEY"
	mp pop3 --ssl=on --proxy-ssl=on --proxy-ssl-trusted-certificate="$CERTS_CA"
	LPID=$SPAWNED_PID
	"$PYTHON" - "$MPPORT" "$T/relaying" <<-'PY' 3>&- &
	import socket, ssl, sys, time
	ctx = ssl.create_default_context()
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
	s.recv(100)
	s.sendall(b"USER alice\r\n"); s.recv(100)
	s.sendall(b"PASS hunter2-Zq9x\r\n")
	assert s.recv(100).startswith(b"+OK")
	open(sys.argv[2], "w").close()
	time.sleep(6)
	PY
	cpid=$!
	wait_for_file "$T/relaying"
	pid=$(pgrep -P "$LPID")
	run "$PYTHON" "$TESTLIB/memgrep.py" "$pid" mx.test
	[[ "$output" =~ ^mx.test\ [1-9] ]]
	end=$((SECONDS + 3))
	until run "$PYTHON" "$TESTLIB/memgrep.py" "$pid" hunter2 && [ "$output" = 'hunter2 0' ]; do
		((SECONDS < end)) || { echo "$output"; false; }
		sleep 0.1
	done
	kill "$cpid" 2>/dev/null || :
}
