#!/usr/bin/env bats
# UCSPI launchers and TLS fronts (issue 16 item 2): a real tcpserver (fd 0
# the socket), s6-tcpserver + s6-tlsd as tests/lib/s6_launch.py plays them
# (Debian 12 has no s6-networking: fd 0/1 pipes or a socketpair, the
# client only in the environment) and a real stunnel4 in exec= mode, in
# front of mailproxy.  The client connects from 127.0.0.6, so that its
# true address is not mailproxy's own 127.0.0.1.  What the launcher says
# must reach the log, auth_http, the PROXY header, and a real Postfix and
# Dovecot; hostile values in every variable must reach none of them.

load lib/common
load lib/mailservers

SRC=127.0.0.6

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	read -r -d '' MPPORT BE AP < <(free_port 3) || :
}

teardown() { san_teardown "$T"/*.log; }

# fake_backend [ARGS...]: tests/lib/fake_smtp.py on $BE (with --proxy,
# logging the PROXY header)
fake_backend() { start_fake_smtp "$BE" --multi "$@"; }

# auth_service ARGS...: fake_auth_http.py on $AP naming $BE
auth_service() {
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AP" \
	    --requests "$T/auth.requests" --ready "$T/auth.ready" \
	    --backend "127.0.0.1:$BE" "$@" && wait_for_file "$T/auth.ready"
}

# launch_s6 PORT S6ARGS... -- ARGS...: s6_launch.py on PORT running $MP ARGS
launch_s6() {
	local port=$1 a=()
	shift
	while [[ $1 != -- ]]; do a+=("$1"); shift; done
	shift
	spawn "s6-$port" "$PYTHON" "$TESTLIB/s6_launch.py" "$port" \
	    --ready "$T/s6-$port.ready" "${a[@]}" -- "$MP" "$@" &&
	    wait_for_file "$T/s6-$port.ready"
}

# launch_stunnel PORT ARGS...: stunnel4 on PORT ending the client's TLS
# (CERTS_RSA_*), asking for a client certificate of CERTS_CLIENT_CA (not
# requiring one), and running $MP ARGS per connection through exec=;
# mailproxy's stderr goes to $T/stunnel-PORT.log with stunnel's.
launch_stunnel() {
	local port=$1 wrap=$T/stunnel-$1.sh a
	shift
	{
		echo '#!/bin/sh'
		printf 'exec 2>>%q\n' "$T/stunnel-$port.log"
		printf 'exec %q' "$MP"
		for a in "$@"; do printf ' %q' "$a"; done
		echo
	} >"$wrap"
	chmod 755 "$wrap"
	cat >"$T/stunnel-$port.conf" <<-EOF
	foreground = yes
	pid =
	debug = notice
	[mailproxy]
	accept = 127.0.0.1:$port
	cert = $CERTS_RSA_CRT
	key = $CERTS_RSA_KEY
	CAfile = $CERTS_CLIENT_CA
	verifyChain = yes
	requireCert = no
	exec = $wrap
	EOF
	spawn "stunnel-$port" stunnel4 "$T/stunnel-$port.conf" && wait_port "$port"
}

# ucspi_wrapper ENV...: a script tcpserver runs, setting ENV (NAME=VALUE,
# printf escapes) over tcpserver's own, then exec $MP "$@"
ucspi_wrapper() {
	local v
	{
		echo '#!/bin/bash'
		for v in "$@"; do printf 'export %s=$'"'"'%s'"'"'\n' "${v%%=*}" "${v#*=}"; done
		printf 'exec %q "$@"\n' "$MP"
	} >"$T/wrap.sh"
	chmod 755 "$T/wrap.sh"
}

# login PORT CHATARGS...: EHLO, AUTH PLAIN alice/secret, QUIT from $SRC
login() {
	printf 'EHLO client.test\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT\n' |
	    chat "$1" --source "$SRC" --expect-greeting --lockstep smtp "${@:2}"
}

# pp2 LOG: the fake backend's PROXY v2 header, decoded: "src=IP:PORT
# dst=IP:PORT", then a line a TLV (authority=..., ssl=CLIENT verify=N,
# then version=, cn=, cipher=, ...)
pp2() {
	sed -n 's/.*proxy v2 \([0-9a-f]*\).*/\1/p' "$1" | tail -n 1 |
	    "$PYTHON" -c '
import ipaddress, struct, sys
h = bytes.fromhex(sys.stdin.read().strip())
fam = h[13]
if fam == 0x11:
    s, d = h[16:20], h[20:24]; sp, dp = struct.unpack(">HH", h[24:28]); off = 28
elif fam == 0x21:
    s, d = h[16:32], h[32:48]; sp, dp = struct.unpack(">HH", h[48:52]); off = 52
else:
    print("family=%02x" % fam); off = 16
if fam in (0x11, 0x21):
    print("src=%s:%d dst=%s:%d" % (ipaddress.ip_address(s), sp,
          ipaddress.ip_address(d), dp))
names = {1: "alpn", 2: "authority", 3: "crc32c", 5: "unique_id", 0x21: "version",
         0x22: "cn", 0x23: "cipher", 0x24: "sig_alg", 0x25: "key_alg"}
def walk(b):
    i = 0
    while i < len(b):
        t, n = b[i], struct.unpack(">H", b[i + 1:i + 3])[0]
        v = b[i + 3:i + 3 + n]
        if t == 0x20:
            print("ssl=%02x verify=%d" % (v[0], struct.unpack(">I", v[1:5])[0]))
            walk(v[5:])
        elif t != 3:
            print("%s=%s" % (names.get(t, "%02x" % t), v.decode("latin-1")))
        i += 3 + n
walk(h[off:])
'
}

@test "tcpserver: fd 0 is the socket and wins; a TCPREMOTEIP that differs is logged, never used" {
	fake_backend --proxy
	ucspi_wrapper TCPREMOTEIP=203.0.113.9 TCPREMOTEPORT=4444
	LAUNCH_CMD=$T/wrap.sh launch_tcpserver "$MPPORT" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --proxy-protocol=v2 --proxy-smtp-auth=on
	run login "$MPPORT"
	[ "$status" -eq 0 ]
	[[ $output == *"235 "* ]]
	log=$T/tcpserver-$MPPORT.log
	wait_log "$log" "smtp client=127\.0\.0\.6:[0-9]+ user=\"alice\" .*outcome=\"ok\" launcher=tcpserver$"
	grep -q "launcher's TCPREMOTEIP=203.0.113.9 differs from the socket's peer 127.0.0.6 port [0-9]*: the socket's is used" "$log"
	wait_log "$T/fake-$BE.log" 'proxy v2 '
	pp2 "$T/fake-$BE.log" | grep -qx "src=127.0.0.6:[0-9]* dst=127.0.0.1:$MPPORT"
	! grep -q 203.0.113.9 "$T/fake-$BE.transcript" || false
}

@test "tcpserver: TCPREMOTEHOST names the client in XCLIENT without --resolver; a hostile one is logged, made printable, dropped" {
	fake_backend
	ucspi_wrapper TCPREMOTEHOST=client.example.test
	LAUNCH_CMD=$T/wrap.sh launch_tcpserver "$MPPORT" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --proxy-smtp-auth=on
	run login "$MPPORT"
	[ "$status" -eq 0 ]
	wait_log "$T/tcpserver-$MPPORT.log" 'outcome="ok" launcher=tcpserver'
	grep -q '^XCLIENT .*NAME=client\.example\.test' "$T/fake-$BE.transcript"
	grep -q '^XCLIENT .*ADDR=127\.0\.0\.6' "$T/fake-$BE.transcript"

	: >"$T/fake-$BE.transcript"
	ucspi_wrapper 'TCPREMOTEHOST=evil.test\r\nRCPT TO:<x@y>\x1b[31m'
	run login "$MPPORT"
	[ "$status" -eq 0 ]
	wait_log "$T/tcpserver-$MPPORT.log" 'launcher.s TCPREMOTEHOST ignored: not a host name: "evil\.test\\r\\nRCPT TO:<x@y>\\033\[31m"'
	[ "$(grep -c "TCPREMOTEHOST ignored" "$T/tcpserver-$MPPORT.log")" -eq 1 ]
	grep -q '^XCLIENT .*NAME=\[UNAVAILABLE\]' "$T/fake-$BE.transcript"
	! grep -q -e 'RCPT TO:<x@y>' -e evil "$T/fake-$BE.transcript" || false
	! grep -q $'\r\|\e' "$T/tcpserver-$MPPORT.log" || false

	# with a --resolver of our own, its answer counts, not the launcher's
	: >"$T/fake-$BE.transcript"
	ucspi_wrapper TCPREMOTEHOST=client.example.test
	MPPORT=$(free_port) dns=$(free_port)
	LAUNCH_CMD=$T/wrap.sh launch_tcpserver "$MPPORT" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --proxy-smtp-auth=on \
	    --resolver="127.0.0.1:$dns" --resolver-timeout=500ms
	run login "$MPPORT"
	[ "$status" -eq 0 ]
	grep -q '^XCLIENT .*NAME=\[TEMPUNAVAIL\]' "$T/fake-$BE.transcript"
}

@test "s6-tcpserver on pipes and on a socketpair: the environment alone says who the client is (launcher=ucspi)" {
	fake_backend --proxy
	for how in --unset=NONE --socketpair; do
		MPPORT=$(free_port)
		launch_s6 "$MPPORT" "$how" -- --protocol=smtp \
		    --backend="127.0.0.1:$BE" --proxy-protocol=on --proxy-smtp-auth=on
		: >"$T/fake-$BE.log"
		run login "$MPPORT"
		[ "$status" -eq 0 ]
		[[ $output == *"235 "*"221 "* ]]
		wait_log "$T/s6-$MPPORT.log" 'smtp client=127\.0\.0\.6:[0-9]+ user="alice" .*outcome="ok" launcher=ucspi$'
		wait_log "$T/fake-$BE.log" "proxy v1 b'PROXY TCP4 127\.0\.0\.6 127\.0\.0\.1 [0-9]+ $MPPORT"
	done
}

@test "s6-tlsd: the front's TLS is the session's: tls= logged, no STARTTLS offered, Auth-SSL: on, the PROXY v2 SSL and AUTHORITY TLVs" {
	fake_backend --proxy
	auth_service
	launch_s6 "$MPPORT" --tls "$CERTS_RSA_CRT" "$CERTS_RSA_KEY" -- \
	    --protocol=smtp --auth-http="http://127.0.0.1:$AP/auth" \
	    --proxy-protocol=v2 --proxy-smtp-auth=on --starttls=on \
	    --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY"
	run login "$MPPORT" --tls --servername mx.test
	[ "$status" -eq 0 ]
	[[ $output == *"235 "* ]]
	[[ $output != *STARTTLS* ]]
	wait_log "$T/s6-$MPPORT.log" 'smtp client=127\.0\.0\.6:[0-9]+ user="alice" .*outcome="ok" launcher=ucspi-tls tls=TLSv1\.3/TLS_[A-Z0-9_]+$'
	grep -qx $'Client-IP: 127.0.0.6\r' "$T/auth.requests"
	grep -qx $'Auth-SSL: on\r' "$T/auth.requests"
	grep -qx $'Auth-SSL-Protocol: TLSv1.3\r' "$T/auth.requests"
	grep -qx $'Auth-SSL-Cipher: TLS_[A-Z0-9_]*\r' "$T/auth.requests"
	# the front's SNI name, last, after nginx's headers
	grep -qx $'Auth-SSL-Server-Name: mx.test\r' "$T/auth.requests"
	wait_log "$T/fake-$BE.log" 'proxy v2 '
	run pp2 "$T/fake-$BE.log"
	echo "$output"
	[[ ${lines[0]} == "src=127.0.0.6:"*" dst=127.0.0.1:$MPPORT" ]]
	# UNIQUE_ID, the session id, where HAProxy puts its unique-id
	[[ $output =~ $'\n'authority=mx.test$'\n'unique_id=[A-Za-z0-9]{16}$'\n'ssl=01\ verify=0$'\n'version=TLSv1.3$'\n'cipher=TLS_ ]]
	[[ $output != *"cn="* ]]
}

@test "s6: hostile values in every variable are each logged once, made printable, and passed on nowhere" {
	fake_backend --proxy
	auth_service
	launch_s6 "$MPPORT" --tls "$CERTS_RSA_CRT" "$CERTS_RSA_KEY" \
	    --env 'TCPREMOTEIP=127.0.0.6\r\nAuth-User: root' \
	    --env 'TCPREMOTEPORT=+25' \
	    --env 'TCPLOCALIP=::1%lo' \
	    --env 'TCPLOCALPORT=99999' \
	    --env 'TCPREMOTEHOST=-evil-\x1b]0;x\x07' \
	    --env 'TCPLOCALHOST=\r\nlocal\x1b' \
	    --env 'SSL_PROTOCOL=TLSv1.3\r\nAuth-User: root' \
	    --env "SSL_CIPHER=$(printf 'A%.0s' {1..80})" \
	    --env 'SSL_TLS_SNI_SERVERNAME=mx.test\r\nX: y' \
	    --env 'SSL_PEER_CERT_SUBJECT=/CN=alice\n' \
	    --env 'SSL_PEER_CERT_CN=adm\xffin' -- \
	    --protocol=smtp --auth-http="http://127.0.0.1:$AP/auth" \
	    --proxy-protocol=v2 --proxy-smtp-auth=on
	run login "$MPPORT" --tls --servername mx.test
	[ "$status" -eq 0 ]
	[[ $output == *"235 "*"221 "* ]]
	log=$T/s6-$MPPORT.log
	wait_log "$log" 'smtp client=unknown user="alice" .*outcome="ok" launcher=ucspi-tls tls=unknown/unknown$'
	for v in TCPREMOTEIP TCPREMOTEPORT TCPLOCALIP TCPLOCALPORT TCPREMOTEHOST \
	    SSL_PROTOCOL SSL_CIPHER SSL_TLS_SNI_SERVERNAME SSL_PEER_CERT_SUBJECT \
	    SSL_PEER_CERT_CN; do
		[ "$(grep -c "launcher's $v ignored: " "$log")" -eq 1 ] || { echo "$v"; cat "$log"; false; }
	done
	grep -qF 'TCPREMOTEIP ignored: not an IP address: "127.0.0.6\r\nAuth-User: root"' "$log"
	grep -qF 'SSL_PEER_CERT_CN ignored: not printable ASCII, or too long: "adm\377in"' "$log"
	# TCPLOCALHOST is never read; no raw control byte reached the log
	! grep -q 'TCPLOCALHOST' "$log" || false
	! grep -q $'\r\|\e\|\a' "$log" || false
	# auth_http: the TLS is on, but no fact, no address, no injection
	grep -qx $'Client-IP: unknown\r' "$T/auth.requests"
	grep -qx $'Auth-SSL: on\r' "$T/auth.requests"
	! grep -q -e 'Auth-SSL-Protocol' -e 'Auth-SSL-Cipher' -e 'root' -e '^X: ' \
	    -e 'Auth-SSL-Server-Name' -e 'Client-Port' -e 'Server-' "$T/auth.requests" || false
	# the backend's PROXY v2: no address to give, no SNI, no CN
	wait_log "$T/fake-$BE.log" 'proxy v2 '
	run pp2 "$T/fake-$BE.log"
	echo "$output"
	[[ $output != *"src="* && $output != *authority* && $output != *"cn="* && $output != *root* ]]
}

@test "stunnel4 exec=: REMOTE_HOST is the client; the log, Client-IP and Auth-SSL, the PROXY v2 SSL TLV with the certificate's CN" {
	fake_backend --proxy
	auth_service
	launch_stunnel "$MPPORT" --protocol=smtp --auth-http="http://127.0.0.1:$AP/auth" \
	    --proxy-protocol=v2 --proxy-smtp-auth=on
	run login "$MPPORT" --tls --servername mx.test --cert "$CERTS_ALICE_CRT" --key "$CERTS_ALICE_KEY"
	[ "$status" -eq 0 ]
	[[ $output == *"235 "* ]]
	log=$T/stunnel-$MPPORT.log
	wait_log "$log" 'smtp client=127\.0\.0\.6:[0-9]+ user="alice" .*outcome="ok" launcher=stunnel tls=unknown/unknown$'
	! grep -q "ignored" "$log" || false
	grep -qx $'Client-IP: 127.0.0.6\r' "$T/auth.requests"
	grep -qx $'Auth-SSL: on\r' "$T/auth.requests"
	wait_log "$T/fake-$BE.log" 'proxy v2 '
	run pp2 "$T/fake-$BE.log"
	echo "$output"
	[[ ${lines[0]} == "src=127.0.0.6:"* ]]
	# stunnel names no protocol or cipher: the SSL flag and the CN alone
	[[ $output == *$'\nssl=01 verify=0\ncn=alice'* ]]
	[[ $output != *version=* && $output != *cipher=* ]]
}

@test "stunnel4: a certificate whose O field holds \"/CN=admin\" gives its own CN, never admin" {
	fake_backend --proxy
	# stunnel writes it "O=x/CN=admin, CN=mallory" (X509_NAME_oneline
	# would write /O=x/CN=admin/CN=mallory, two CNs: then none)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/m.key" -subj '/O=x\/CN=admin/CN=mallory' -out "$T/m.csr" 2>/dev/null
	openssl x509 -req -in "$T/m.csr" -CA "$CERTS_CLIENT_CA" -CAkey "$CERTS_CLIENT_CA_KEY" \
	    -CAcreateserial -days 2 -out "$T/m.crt" 2>/dev/null
	launch_stunnel "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --proxy-protocol=v2 --proxy-smtp-auth=on
	run login "$MPPORT" --tls --cert "$T/m.crt" --key "$T/m.key"
	[ "$status" -eq 0 ]
	wait_log "$T/stunnel-$MPPORT.log" 'outcome="ok" launcher=stunnel tls=unknown/unknown$'
	wait_log "$T/fake-$BE.log" 'proxy v2 '
	run pp2 "$T/fake-$BE.log"
	echo "$output"
	[[ $output == *$'ssl=01 verify=0\ncn=mallory'* ]]
	[[ $output != *"cn=admin"* ]]
}

@test "--ssl=on behind a TLS front is refused, naming the front" {
	launch_stunnel "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --ssl=on --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY"
	run login "$MPPORT" --tls
	[[ $output != *"220 "* ]]
	wait_log "$T/stunnel-$MPPORT.log" "stunnel ended the client's TLS already: drop --ssl=on"
}

@test "no launcher's word: systemd ignores PROTO=TCP; a pipe with stunnel's variables or a bad PROTO is a pipeline; --client-addr wins" {
	fake_backend
	PROTO=TCP TCPREMOTEIP=203.0.113.9 REMOTE_HOST=203.0.113.8 REMOTE_PORT=1 \
	    SSL_PROTOCOL=TLSv1.3 LAUNCH_ENV="PROTO TCPREMOTEIP REMOTE_HOST REMOTE_PORT SSL_PROTOCOL" \
	    launch_systemd "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-smtp-auth=on
	run login "$MPPORT"
	[ "$status" -eq 0 ]
	wait_log "$T/systemd-$MPPORT.log" 'smtp client=127\.0\.0\.6:[0-9]+ .*outcome="ok" launcher=systemd$'
	# session NAME=VALUE... [ARGS...]: a pipeline with that environment
	session() {
		local e=()
		while [[ $# -gt 0 && $1 == [A-Z]*=* ]]; do e+=("$1"); shift; done
		printf 'EHLO x\r\nQUIT\r\n' | env "${e[@]}" "$MP" --protocol=smtp \
		    --backend="127.0.0.1:$BE" "$@" 2>&1 >/dev/null
	}
	run session REMOTE_HOST=203.0.113.8 REMOTE_PORT=1
	[[ $output == *'client=unknown '*'launcher=pipeline' ]]
	run session PROTO=$'TCP\r' TCPREMOTEIP=203.0.113.9
	[[ $output == *'client=unknown '*'launcher=pipeline' ]]
	run session PROTO=TCP TCPREMOTEIP=203.0.113.9 TCPREMOTEPORT=25
	[[ $output == *'client=203.0.113.9:25 '*'launcher=ucspi' ]]
	run session PROTO=TCP TCPREMOTEIP=203.0.113.9 --client-addr=192.0.2.1:7
	[[ $output == *'client=192.0.2.1:7 '*'launcher=ucspi' ]]
	# ucspi-tcp6's names, then the TCP ones; v4-mapped written as IPv4
	run session PROTO=TCP6 TCP6REMOTEIP=2001:DB8::1 TCP6REMOTEPORT=5 TCPREMOTEIP=192.0.2.9
	[[ $output == *'client=[2001:db8::1]:5 '*'launcher=ucspi' ]]
	run session PROTO=TCP6 TCPREMOTEIP=::ffff:192.0.2.7 TCPREMOTEPORT=6
	[[ $output == *'client=192.0.2.7:6 '*'launcher=ucspi' ]]
}

@test "Postfix logs the true client of SMTP sessions through tcpserver (with TCPREMOTEHOST), s6 pipes and stunnel" {
	mail_servers_require
	mail() {
		printf '%s\n' "EHLO client.test" "AUTH PLAIN AGFsaWNlAHNlY3JldA==" \
		    "MAIL FROM:<alice@example.test>" "RCPT TO:<bob@example.test>" DATA \
		    "Subject: $1" "" "via $1" . QUIT |
		    chat "$2" --source "$SRC" --expect-greeting --lockstep smtp "${@:3}"
	}
	args=(--protocol=smtp --backend="127.0.0.1:$POSTFIX_PORT" --proxy-smtp-auth=on)
	ucspi_wrapper TCPREMOTEHOST=client.example.test
	LAUNCH_CMD=$T/wrap.sh launch_tcpserver "$MPPORT" "${args[@]}"
	tag=tcpserver-$RANDOM
	run mail "$tag" "$MPPORT"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$POSTFIX_LOG" 'client=client\.example\.test\[127\.0\.0\.6\], sasl_method=PLAIN, sasl_username=alice'

	s6=$(free_port)
	launch_s6 "$s6" --unset=NONE -- "${args[@]}"
	tag=s6-$RANDOM
	run mail "$tag" "$s6"
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$T/s6-$s6.log" 'client=127\.0\.0\.6:[0-9]+ user="alice" .*launcher=ucspi$'

	st=$(free_port)
	launch_stunnel "$st" "${args[@]}"
	tag=stunnel-$RANDOM
	run mail "$tag" "$st" --tls
	[ "$status" -eq 0 ]
	maildir_find "$BOB_MAILDIR" "Subject: $tag"
	wait_log "$T/stunnel-$st.log" 'client=127\.0\.0\.6:[0-9]+ user="alice" .*launcher=stunnel tls='
	# each of the three: the true address, never mailproxy's own
	[ "$(grep -c 'client=unknown\[127\.0\.0\.6\], sasl_method=PLAIN, sasl_username=alice' "$POSTFIX_LOG")" -ge 2 ]
}

@test "Dovecot logs the true address of IMAP behind stunnel via PROXY v2, secured by the SSL TLV; without a TLS front, refused" {
	mail_servers_require
	imap() {
		printf 'a LOGIN alice secret\nb LOGOUT\n' |
		    chat "$1" --source "$SRC" --expect-greeting --lockstep imap "${@:2}"
	}
	args=(--protocol=imap --backend="$DOVECOT_SECURE_ADDR:$DOVECOT_IMAP_SECURE_PORT"
	    --proxy-protocol=v2)
	launch_stunnel "$MPPORT" "${args[@]}"
	run imap "$MPPORT" --tls
	[ "$status" -eq 0 ]
	[[ $output == *"a OK"* ]]
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.6, lip=[^,]*, rport=[0-9]+, lport=[0-9]+, mpid=[0-9]+, secured,"
	wait_log "$T/stunnel-$MPPORT.log" 'imap client=127\.0\.0\.6:[0-9]+ user="alice" .*launcher=stunnel tls='

	# the same through s6 pipes without TLS: the true address, not secured
	s6=$(free_port)
	launch_s6 "$s6" --unset=NONE -- "${args[@]}"
	run imap "$s6"
	echo "$output"
	[[ $output != *"a OK"* ]]
	wait_log "$DOVECOT_LOG" "imap-login: .*rip=127\.0\.0\.6, lip=127\.0\.0\.1, rport=[0-9]+, lport=$s6"
	grep "lport=$s6" "$DOVECOT_LOG" >&2
	! grep -q "Login: user=<alice>.*lport=$s6" "$DOVECOT_LOG" || false
}
