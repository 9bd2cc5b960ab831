#!/usr/bin/env bats
# PROXY protocol v2 to the backend (--proxy-protocol=v2) through the real
# binary: the fake SMTP backend (tests/lib/fake_smtp.py --proxy) logs the
# header it is sent, which pp2_check takes apart as a receiver would; and a
# private Dovecot (tests/lib/mailservers.bash) behind a haproxy listener
# logs the client's address it read from the header.

load lib/common
load lib/mailservers

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
}

# Under the sanitizer build a report in mailproxy's log fails the test.
teardown() { san_teardown "$T"/tcpserver-*.log "$T"/mp6.log; }

backend() { start_fake_smtp "$BE" "$@"; }
mp() {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test --proxy-smtp-auth=on "$@"
}
q() { "$@" 2>/dev/null; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
mplog() { cat "$T/tcpserver-$MPPORT.log"; }
# the v2 header the fake backend received, in hex
v2hex() { sed -n 's/.*proxy v2 \([0-9a-f]*\).*/\1/p' "$T/fake-$BE.log"; }
# mailproxy's log line names the client as client=IP:PORT
client_port() { sed -n 's/.*client=[^ ]*:\([0-9]*\).*/\1/p' "$1" | head -n 1; }
PLAIN=AGFsaWNlAHNlY3JldA==
SESSION=$'EHLO c\nAUTH PLAIN '"$PLAIN"$'\nQUIT'

# pp2_check HEX: prints "CMD FAMILY SRC DST SPORT DPORT TLVTYPES" from a v2
# header after checking its signature, length and CRC32C as a receiver does;
# fails if any is wrong.
pp2_check() {
	python3 - "$1" <<'PY'
import ipaddress, struct, sys
h = bytes.fromhex(sys.argv[1])
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
assert h[:12] == b"\r\n\r\n\x00\r\nQUIT\n", "signature"
assert 16 + struct.unpack(">H", h[14:16])[0] == len(h), "length"
cmd, fam = h[12], h[13]
alen = {0x11: 4, 0x21: 16, 0x00: 0}[fam]
off = 16 + 2 * alen + (4 if alen else 0)
src = dst = "-"
sport = dport = 0
if alen:
    src = str(ipaddress.ip_address(h[16:16 + alen]))
    dst = str(ipaddress.ip_address(h[16 + alen:16 + 2 * alen]))
    sport, dport = struct.unpack(">HH", h[off - 4:off])
types, crcok = [], False
while off < len(h):
    t, n = h[off], struct.unpack(">H", h[off + 1:off + 3])[0]
    assert off + 3 + n <= len(h), "TLV past the end"
    if t == 0x03:
        z = h[:off + 3] + b"\0\0\0\0" + h[off + 7:]
        crcok = n == 4 and crc32c(z) == struct.unpack(">I", h[off + 3:off + 7])[0]
    types.append("%02x" % t)
    off += 3 + n
assert crcok, "CRC32C"
print("%02x %02x %s %s %d %d %s" % (cmd, fam, src, dst, sport, dport, ",".join(types)))
PY
}

@test "proxy_protocol v2: a valid v2 header with the client's address and port, CRC32C checked" {
	backend --proxy; mp --proxy-protocol=v2
	run q chat "$MPPORT" --host 127.0.0.1 --expect-greeting --lockstep smtp <<<"$SESSION"
	[[ "$output" == *'235 '* ]]
	run pp2_check "$(v2hex)"
	[ "$status" -eq 0 ]
	[ "$output" = "21 11 127.0.0.1 127.0.0.1 $(client_port "$T/tcpserver-$MPPORT.log") $MPPORT 03,05" ]
	# UNIQUE_ID (05) is the session id: 16 letters and digits
	[[ $(v2hex) =~ 050010((3[0-9]|[46][1-9a-f]|[57][0-9a]){16})$ ]]
	# the header comes first, then the login
	[ "$(transcript | head -c 12 | od -An -tx1 | tr -d ' \n')" = 0d0a0d0a000d0a515549540a ]
	[ "$(transcript | tail -c +55 | head -n 1)" = $'EHLO mx.test\r' ]
}

@test "proxy_protocol v2 from MAILPROXY_PROXY_PROTOCOL; on is still v1" {
	backend --proxy
	MAILPROXY_PROXY_PROTOCOL=v2 mp
	run q chat "$MPPORT" --host 127.0.0.1 --expect-greeting --lockstep smtp <<<"$SESSION"
	run pp2_check "$(v2hex)"
	[ "$status" -eq 0 ]
	[[ "$output" == '21 11 127.0.0.1 127.0.0.1 '* ]]
	stop_launchers
	BE=$(free_port) MPPORT=$(free_port)
	backend --proxy; MAILPROXY_PROXY_PROTOCOL=v2 mp --proxy-protocol=on
	run q chat "$MPPORT" --host 127.0.0.1 --expect-greeting --lockstep smtp <<<"$SESSION"
	[ "$(transcript | head -c 11)" = "PROXY TCP4 " ]
}

@test "proxy_protocol: a value other than off, on or v2 is refused (exit 64)" {
	run "$MP" --protocol=smtp --backend=127.0.0.1:25 --proxy-protocol=v1
	[ "$status" -eq 64 ]
	[[ "$output" == *'bad value "v1" (use off, on or v2)'* ]]
}

@test "proxy_protocol v2, an IPv6 client: TCP6 with ::1" {
	backend --proxy
	spawn mp6 systemd-socket-activate --accept -l "[::1]:$MPPORT" "$MP" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --proxy-protocol=v2 --proxy-smtp-auth=on --server-name=mx.test
	wait_port "$MPPORT"
	run q chat "$MPPORT" --host ::1 --expect-greeting --lockstep smtp <<<"$SESSION"
	run pp2_check "$(v2hex)"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^21\ 21\ ::1\ ::1\ [0-9]+\ $MPPORT\ 03,05$ ]]
}

@test "proxy_protocol v2, client address unknown (pipeline): LOCAL with no addresses" {
	backend --proxy
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    "$MP" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-protocol=v2 \
	    --proxy-smtp-auth=on --server-name=mx.test
	run pp2_check "$(v2hex)"
	[ "$status" -eq 0 ]
	[ "$output" = '20 00 - - 0 0 03,05' ]
}

@test "proxy_protocol v2, pipeline with a v6 --client-addr: TCP6, local end ::, port 0" {
	backend --proxy
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    "$MP" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-protocol=v2 \
	    --proxy-smtp-auth=on --server-name=mx.test --client-addr='[2001:db8::7]:4711'
	run pp2_check "$(v2hex)"
	[ "$status" -eq 0 ]
	[ "$output" = '21 21 2001:db8::7 :: 4711 0 03,05' ]
}

@test "Dovecot (IMAP) behind --proxy-protocol=v2 accepts the login and logs the client's address" {
	mail_servers_require
	launch_tcpserver "$MPPORT" --protocol=imap \
	    --backend="127.0.0.1:$DOVECOT_IMAP_HAPROXY_PORT" --proxy-protocol=v2
	run curl -sS --max-time 20 --interface 127.0.0.5 "imap://127.0.0.1:$MPPORT/" -u alice:secret
	[ "$status" -eq 0 ]
	[[ "$output" == *'INBOX'* ]]
	# mailproxy logs the client's port as the session ends, which may be
	# after curl has returned (by seconds under valgrind)
	wait_log "$T/tcpserver-$MPPORT.log" 'client=[^ ]*:[0-9]+'
	wait_log "$DOVECOT_LOG" "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.5, lip=127\.0\.0\.1, rport=$(client_port "$T/tcpserver-$MPPORT.log"), lport=$MPPORT,"
}

@test "Dovecot (POP3) behind --proxy-protocol=v2 logs the client's address" {
	mail_servers_require
	launch_tcpserver "$MPPORT" --protocol=pop3 \
	    --backend="127.0.0.1:$DOVECOT_POP3_HAPROXY_PORT" --proxy-protocol=v2
	run curl -sS --max-time 20 --interface 127.0.0.5 "pop3://alice:secret@127.0.0.1:$MPPORT/"
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" "pop3-login: .*Login: user=<alice>, .*rip=127\.0\.0\.5, .*lport=$MPPORT,"
}
