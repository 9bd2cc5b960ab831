#!/usr/bin/env bats
# The PROXY header from the front (--listen-proxy-protocol,
# --set-real-ip-from), through the binary started by systemd-socket-
# activate: v1 and v2 headers from a test client (127.0.0.1), trusted and
# not, missing, malformed, slow, hostile; the bytes behind the header,
# plaintext and TLS, reaching the protocol intact.  Then the real front:
# Debian's HAProxy (TCP mode, send-proxy and send-proxy-v2) in front of
# mailproxy, a real Postfix (XCLIENT) and a real Dovecot (PROXY v2)
# behind it, and a client on 127.0.0.5 whose address all of them log.

load lib/common
load lib/mailservers
load lib/haproxy

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	read -r -d '' BE MPPORT < <(free_port 2) || :
}

teardown() { san_teardown "$T"/systemd-*.log "$T"/inetd-*.log "$T"/tcpserver-*.log; }

PLAIN=AGFsaWNlAHNlY3JldA==
V1='PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n'

backend() { start_fake_smtp "$BE" --multi "$@"; }
# mp ARGS...: SMTP mailproxy expecting a header, to the fake backend
mp() {
	launch_systemd "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test --proxy-smtp-auth=on \
	    --listen-proxy-protocol=on "$@"
}
mplog() { cat "$T/systemd-$MPPORT.log"; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
# wait_sessions N: N sessions have ended (each logs one line as it ends)
wait_sessions() { wait_count "$T/systemd-$MPPORT.log" 'outcome=' "$1"; }

# v2 CMD FAM BODYHEX [LEN]: a v2 header as chat.py's escapes (\xHH), with
# the length of the body unless LEN says another
v2() {
	"$PYTHON" - "$@" <<'PY'
import sys
cmd, fam, body = int(sys.argv[1], 16), int(sys.argv[2], 16), bytes.fromhex(sys.argv[3])
n = int(sys.argv[4]) if len(sys.argv) > 4 else len(body)
h = b"\r\n\r\n\0\r\nQUIT\n" + bytes([cmd, fam, n >> 8, n & 0xff]) + body
print("".join("\\x%02x" % b for b in h))
PY
}
# 192.0.2.1:56324 -> 198.51.100.2:25, and [2001:db8::7]:4711 -> [2001:db8::1]:25
TCP4=c0000201c6336402dc040019
TCP6=20010db800000000000000000000000720010db800000000000000000000000112670019

# the client's SMTP session after the header
session() { printf '%s\n' "EHLO client.example" "AUTH PLAIN $PLAIN" QUIT; }

@test "v1 from a trusted peer: the header's source is the client, to XCLIENT and the log, which names the peer as via=" {
	backend
	mp --set-real-ip-from=127.0.0.0/8
	{ echo "@first $V1"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 1
	transcript | grep -q $'^XCLIENT .*ADDR=192\\.0\\.2\\.1'
	mplog | grep -qE 'smtp client=192\.0\.2\.1:56324 user="alice" .*outcome="ok".* via=127\.0\.0\.1:[0-9]+$'
}

@test "v2 TCP6 from a trusted peer: the IPv6 client, to XCLIENT and the log" {
	backend
	mp --set-real-ip-from=10.0.0.0/8 --set-real-ip-from=127.0.0.1
	{ echo "@first $(v2 21 21 "$TCP6")"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 1
	transcript | grep -q $'^XCLIENT .*ADDR=IPV6:2001:db8::7'
	mplog | grep -qE 'client=\[2001:db8::7\]:4711 .* via=127\.0\.0\.1:[0-9]+$'
}

@test "an untrusted peer: the header is still required and read, but the socket's address is the client's" {
	backend
	mp --set-real-ip-from=10.0.0.0/8 --set-real-ip-from=::1
	{ echo "@first $V1"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	{ echo "@first $(v2 21 11 "$TCP4")"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 2
	[ "$(transcript | grep -c $'^XCLIENT .*ADDR=127\\.0\\.0\\.1')" -eq 2 ]
	! transcript | grep -q 192.0.2.1 || false
	[ "$(mplog | grep -cE 'client=127\.0\.0\.1:[0-9]+ user="alice" .*outcome="ok"')" -eq 2 ]
	! mplog | grep -q 'via=' || false
	# and without --set-real-ip-from no peer is trusted
	stop_launchers
	backend
	mp
	{ echo "@first $V1"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 1
	mplog | grep -E 'client=127\.0\.0\.1:[0-9]+ .*outcome="ok"' | grep -qv via=
}

@test "LOCAL (v2) and UNKNOWN (v1) from a trusted peer: the socket's ends are kept" {
	backend
	mp --set-real-ip-from=127.0.0.0/8
	{ echo "@first $(v2 20 00 '')"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	{ echo '@first PROXY UNKNOWN\r\n'; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	{ echo "@first $(v2 21 00 '')"; session; } | smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 3
	[ "$(mplog | grep -E 'client=127\.0\.0\.1:[0-9]+ .*outcome="ok"' | grep -cv via=)" -eq 3 ]
}

@test "no header: a client speaking SMTP at once gets nothing, the backend is never contacted, the log names the peer and why" {
	backend
	mp --set-real-ip-from=127.0.0.0/8
	printf '@raw EHLO client.example\\r\\n\n' | chat "$MPPORT" --timeout 5 >"$T/out"
	[ ! -s "$T/out" ]
	wait_sessions 1
	mplog | grep -qE 'smtp client=127\.0\.0\.1:[0-9]+ user="" backend=- .*result=client-error outcome="PROXY header: not a PROXY header"'
	[ ! -s "$T/fake-$BE.transcript" ]
}

@test "no header at all: closed at --timeout, nothing sent" {
	backend
	mp --set-real-ip-from=127.0.0.0/8 --timeout=1s
	start=$SECONDS
	chat "$MPPORT" --timeout 8 </dev/null >"$T/out"
	[ ! -s "$T/out" ]
	((SECONDS - start <= 4))
	wait_sessions 1
	mplog | grep -q 'result=timeout outcome="PROXY header: none came in time"'
}

@test "a header sent a byte at a time: one deadline for the whole header, a peer cannot stretch it" {
	backend
	mp --set-real-ip-from=127.0.0.0/8 --timeout=1s
	start=$SECONDS
	for c in P R O X Y ' ' T C P 4 ' ' 1 9 2 . 0; do
		printf '@raw %s\n@sleep 0.2\n' "$c"
	done | chat "$MPPORT" --timeout 8 >"$T/out" 2>/dev/null || :
	[ ! -s "$T/out" ]
	((SECONDS - start <= 5))
	wait_sessions 1
	mplog | grep -q 'outcome="PROXY header: incomplete in time"'
	# and a slow header that ends in time is fine
	stop_launchers
	backend
	mp --set-real-ip-from=127.0.0.0/8 --timeout=3s
	printf '@raw PROXY TCP4 192.0.2.1 \n@sleep 0.5\n@raw 198.51.100.2 56324 25\\r\\nEHLO c\\r\\nAUTH PLAIN %s\\r\\nQUIT\\r\\n\n' "$PLAIN" |
		chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 1
	mplog | grep -qE 'client=192\.0\.2\.1:56324 .*outcome="ok"'
}

@test "a header cut short by the peer's close: logged, nothing sent" {
	backend
	mp --set-real-ip-from=127.0.0.0/8
	printf '@raw PROXY TCP4 192.0\n@shut\n' | chat "$MPPORT" --timeout 5 >"$T/out"
	[ ! -s "$T/out" ]
	wait_sessions 1
	mplog | grep -q 'result=client-quit outcome="PROXY header: the peer closed the connection after 16 bytes"'
}

@test "hostile headers: each refused with its reason, nothing sent, no backend contact" {
	backend
	mp --set-real-ip-from=127.0.0.0/8
	long=$(printf 'PROXY UNKNOWN %0200d' 0)
	cases=(
		"$long"'\r\n'                                   "v1: no CRLF within 107 bytes"
		'PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n' "v1: a bad source port"
		'PROXY TCP4 192.0.2.1 198.51.100.2 1 025\r\n'    "v1: a bad destination port"
		'PROXY TCP4 192.0.2.01 198.51.100.2 1 25\r\n'    "v1: a bad TCP4 address"
		'PROXY TCP4 2001:db8::1 198.51.100.2 1 25\r\n'   "v1: a bad TCP4 address"
		'PROXY TCP6 192.0.2.1 2001:db8::1 1 25\r\n'      "v1: a bad TCP6 address"
		'PROXY TCP4 192.0.2.1 198.51.100.2 1 25\n'       "v1: an LF without its CR"
		'PROXY TCP4 192.0.2.1\x00 198.51.100.2 1 25\r\n' "v1: a byte that is not printable US-ASCII"
		'PROXY TCP4  192.0.2.1 198.51.100.2 1 25\r\n'    "v1: an empty field (two spaces, or one at the end)"
		"$(v2 21 11 "$TCP4" 65535)"                      "v2: longer than 1552 bytes"
		"$(v2 21 11 "$TCP4" 8)"                          "v2: a length too short for its addresses"
		"$(v2 21 11 "${TCP4}0400ff0000")"                "v2: a TLV longer than what holds it"
		"$(v2 21 11 "${TCP4}0400")"                      "v2: a TLV cut short"
		"$(v2 21 11 "${TCP4}030004deadbeef")"            "v2: a wrong CRC32C"
		"$(v2 21 11 "${TCP4}2000080100000000210009aa")"  "v2: a TLV longer than what holds it"
		"$(v2 22 11 "$TCP4")"                            "v2: neither LOCAL nor PROXY"
		"$(v2 11 11 "$TCP4")"                            "v2: not version 2"
		"$(v2 21 51 "$TCP4")"                            "v2: an unknown family or transport"
		'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'   "not a PROXY header"
	)
	n=0
	for ((i = 0; i < ${#cases[@]}; i += 2)); do
		printf '@raw %s\n@raw EHLO x\\r\\nQUIT\\r\\n\n' "${cases[i]}" |
			chat "$MPPORT" --timeout $((5 + SLOW)) >"$T/out" || :
		[ ! -s "$T/out" ] || { echo "case $i: got $(cat "$T/out")"; false; }
		n=$((n + 1))
		wait_sessions "$n"
		line=$(grep 'outcome=' "$T/systemd-$MPPORT.log" | sed -n "${n}p")
		grep -qF "outcome=\"PROXY header: ${cases[i + 1]}\"" <<<"$line" ||
			{ echo "case $i: $line"; false; }
	done
	[ ! -s "$T/fake-$BE.transcript" ]
}

@test "bytes pipelined behind the header, in the same segment, reach the protocol intact" {
	backend
	mp --set-real-ip-from=127.0.0.0/8
	printf '@first %sEHLO client.example\\r\\nAUTH PLAIN %s\\r\\nQUIT\\r\\n\n' "$V1" "$PLAIN" |
		smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	grep -q '^221 ' "$T/out"
	printf '@first %sEHLO client.example\\r\\nAUTH PLAIN %s\\r\\nQUIT\\r\\n\n' "$(v2 21 11 "$TCP4")" "$PLAIN" |
		smtp_chat "$MPPORT" >"$T/out"
	grep -q '^235 ' "$T/out"
	wait_sessions 2
	[ "$(mplog | grep -cE 'client=192\.0\.2\.1:56324 user="alice" .*outcome="ok"')" -eq 2 ]
}

# tls_after_header PORT HEADER-ESCAPED: one write of the header and the
# TLS ClientHello together, then the handshake and an IMAP LOGOUT; prints
# what the server said in TLS
tls_after_header() {
	"$PYTHON" - "$@" <<'PY'
import socket, ssl, sys
port, hdr = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
first = True
def pump():
    global first
    data = out.read()
    if first:
        data, first = hdr + data, False
    if data:
        s.sendall(data)
def step(f):
    while True:
        try:
            return f()
        except ssl.SSLWantReadError:
            pump()
            d = s.recv(65536)
            if not d:
                raise SystemExit("EOF in TLS")
            inc.write(d)
step(t.do_handshake)
pump()
got = b""
while b"* OK" not in got:
    got += step(lambda: t.read(65536))
t.write(b"a1 LOGOUT\r\n")
pump()
while b"a1 OK" not in got:
    got += step(lambda: t.read(65536))
sys.stdout.write(got.decode("latin-1"))
PY
}

@test "--ssl: the header, then the TLS handshake in the same write; the protocol runs in TLS, the client is the header's" {
	launch_systemd "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE" \
	    --ssl=on --ssl-certificate="$CERTS_RSA_CRT" --ssl-certificate-key="$CERTS_RSA_KEY" \
	    --listen-proxy-protocol=on --set-real-ip-from=127.0.0.1
	run tls_after_header "$MPPORT" "$V1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"* OK"* ]]
	[[ "$output" == *"a1 OK"* ]]
	run tls_after_header "$MPPORT" "$(v2 21 11 "$TCP4")"
	[ "$status" -eq 0 ]
	[[ "$output" == *"a1 OK"* ]]
	# chat.py's own TLS, after the header in a write of its own
	printf '@first %s\n@starttls\n@wait ^\\* OK\na2 LOGOUT\n' "$V1" |
		chat "$MPPORT" --timeout $((5 + SLOW)) >"$T/out"
	grep -q '^a2 OK' "$T/out"
	wait_sessions 3
	[ "$(mplog | grep -cE 'imap client=192\.0\.2\.1:56324 .* tls=TLSv1\.[23]/.* via=127\.0\.0\.1:[0-9]+$')" -eq 3 ]
}

@test "--set-real-ip-from: a bad network is refused at start, one line, exit 64" {
	for bad in 10.0.0.0/33 ::/129 10.0.0.0/ mx.example unix: 10.0.0/8 '[::1]'; do
		run "$MP" --protocol=smtp --backend=127.0.0.1:25 --listen-proxy-protocol=on \
		    --set-real-ip-from=127.0.0.1 "--set-real-ip-from=$bad"
		[ "$status" -eq 64 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "mailproxy: --set-real-ip-from: bad network \"$bad\""* ]]
	done
	run env MAILPROXY_SET_REAL_IP_FROM='127.0.0.0/8 2001:db8::/32 ::1 10.1.2.3' \
	    "$MP" --protocol=smtp --backend=127.0.0.1:25 --listen-proxy-protocol=on --check
	[ "$status" -eq 0 ]
}

@test "under inetd and tcpserver too: the header is read from fd 0, the protocol answers on fd 1" {
	backend
	for l in inetd tcpserver; do
		port=$(free_port)
		"launch_$l" "$port" --protocol=smtp --backend="127.0.0.1:$BE" \
		    --server-name=mx.test --proxy-smtp-auth=on \
		    --listen-proxy-protocol=on --set-real-ip-from=127.0.0.0/8
		{ echo "@first $V1"; session; } | smtp_chat "$port" >"$T/out"
		grep -q '^235 ' "$T/out"
		wait_log "$T/$l-$port.log" 'smtp client=192\.0\.2\.1:56324 user="alice" .*outcome="ok".* via=127\.0\.0\.1:[0-9]+$'
	done
	[ "$(transcript | grep -c $'^XCLIENT .*ADDR=192\\.0\\.2\\.1')" -eq 2 ]
}

# pipe PEER NETWORK...: one SMTP session in a pipeline whose peer is PEER
# (--client-addr; - for none), the header and QUIT on stdin; prints the
# log line
pipe() {
	local args=() n
	[[ $1 == - ]] || args+=("--client-addr=$1")
	shift
	for n in "$@"; do args+=("--set-real-ip-from=$n"); done
	printf 'PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nQUIT\r\n' |
		"$MP" --protocol=smtp --backend=127.0.0.1:1 --server-name=mx.test \
		    --listen-proxy-protocol=on "${args[@]}" 2>&1 >/dev/null
}

@test "IPv6 and v4-mapped peers: trusted by their own networks, a v4-mapped one as the IPv4 address it is" {
	run pipe '[::1]:99' ::1
	[[ "$output" == *"client=192.0.2.1:56324 "*" via=[::1]:99" ]]
	run pipe '[2001:db8::5]:99' 2001:db8::/64 10.0.0.0/8
	[[ "$output" == *" via=[2001:db8::5]:99" ]]
	run pipe '[2001:db8:0:1::5]:99' 2001:db8::/48
	[[ "$output" == *" via=[2001:db8:0:1::5]:99" ]]
	run pipe '[2001:db9::5]:99' 2001:db8::/32 0.0.0.0/0
	[[ "$output" == *"client=[2001:db9::5]:99 "* && "$output" != *via=* ]]
	run pipe '::ffff:127.0.0.1' 127.0.0.0/8
	[[ "$output" == *"client=192.0.2.1:56324 "*" via="* ]]
	run pipe 127.0.0.1:5 ::ffff:127.0.0.0/104
	[[ "$output" == *"client=192.0.2.1:56324 "*" via=127.0.0.1:5" ]]
	run pipe 127.0.0.1:5 ::ffff:10.0.0.0/104 ::/0
	[[ "$output" == *"client=127.0.0.1:5 "* && "$output" != *via=* ]]
	# a pipeline without --client-addr has no peer to trust
	run pipe - 0.0.0.0/0 ::/0
	[[ "$output" == *"client=unknown "* && "$output" != *via=* ]]
}

# pf_logins: Postfix's sessions of alice from 127.0.0.5 so far
pf_logins() {
	grep -c 'client=unknown\[127\.0\.0\.5\], sasl_method=PLAIN, sasl_username=alice' "$POSTFIX_LOG" || :
}

@test "HAProxy send-proxy and send-proxy-v2 in front, Postfix behind: Postfix and mailproxy log the true client, 127.0.0.5" {
	mail_servers_require
	for send in send-proxy send-proxy-v2; do
		read -r -d '' HP MP1 < <(free_port 2) || :
		launch_systemd "$MP1" --protocol=smtp --server-name=mx.test \
		    --backend="127.0.0.1:$POSTFIX_PORT" --proxy-smtp-auth=on \
		    --listen-proxy-protocol=on --set-real-ip-from=127.0.0.1
		haproxy_tcp "$HP" "$send" "127.0.0.1:$MP1"
		tag=front-$send-$RANDOM
		n=$(pf_logins)
		run swaks --server 127.0.0.1 --port "$HP" --local-interface 127.0.0.5 \
		    --from alice@example.test --to bob@example.test --auth PLAIN \
		    --auth-user alice --auth-password secret --header "Subject: $tag"
		[ "$status" -eq 0 ]
		maildir_find "$BOB_MAILDIR" "Subject: $tag"
		end=$((SECONDS + WAIT_TIMEOUT))
		until (($(pf_logins) > n)); do
			((SECONDS < end)) || { tail -n 20 "$POSTFIX_LOG"; false; }
			sleep 0.1
		done
		wait_log "$T/systemd-$MP1.log" 'smtp client=127\.0\.0\.5:[0-9]+ user="alice" .*outcome="ok".* via=127\.0\.0\.1:[0-9]+$'
		! grep -q 'client=127\.0\.0\.1' "$T/systemd-$MP1.log" || false
	done
}

# logins PROTO: Dovecot's logins of alice from 127.0.0.5 so far
logins() {
	grep -c "$1-login: Info: Login: user=<alice>.*rip=127\.0\.0\.5" "$DOVECOT_LOG" || :
}

@test "HAProxy send-proxy and send-proxy-v2 in front, Dovecot behind (PROXY v2): Dovecot and mailproxy log the true client, 127.0.0.5" {
	mail_servers_require
	for send in send-proxy send-proxy-v2; do
		read -r -d '' HPI HPP MPI MPP < <(free_port 4) || :
		launch_systemd "$MPI" --protocol=imap --proxy-protocol=v2 \
		    --backend="127.0.0.1:$DOVECOT_IMAP_HAPROXY_PORT" \
		    --listen-proxy-protocol=on --set-real-ip-from=127.0.0.1
		launch_systemd "$MPP" --protocol=pop3 --proxy-protocol=v2 \
		    --backend="127.0.0.1:$DOVECOT_POP3_HAPROXY_PORT" \
		    --listen-proxy-protocol=on --set-real-ip-from=127.0.0.1
		haproxy_tcp "$HPI" "$send" "127.0.0.1:$MPI"
		haproxy_tcp "$HPP" "$send" "127.0.0.1:$MPP"
		ni=$(logins imap)
		np=$(logins pop3)
		run curl -sS --max-time 20 --interface 127.0.0.5 -u alice:secret \
		    "imap://127.0.0.1:$HPI/INBOX" -X 'EXAMINE INBOX'
		[ "$status" -eq 0 ]
		[[ "$output" == *EXISTS* ]]
		run curl -sS --max-time 20 --interface 127.0.0.5 -u alice:secret \
		    "pop3://127.0.0.1:$HPP/" -l
		[ "$status" -eq 0 ]
		wait_log "$T/systemd-$MPI.log" 'imap client=127\.0\.0\.5:[0-9]+ user="alice" .*outcome="ok".* via=127\.0\.0\.1:[0-9]+$'
		wait_log "$T/systemd-$MPP.log" 'pop3 client=127\.0\.0\.5:[0-9]+ user="alice" .*outcome="ok".* via=127\.0\.0\.1:[0-9]+$'
		end=$((SECONDS + WAIT_TIMEOUT))
		until (($(logins imap) > ni && $(logins pop3) > np)); do
			((SECONDS < end)) || { tail -n 20 "$DOVECOT_LOG"; false; }
			sleep 0.1
		done
	done
}
