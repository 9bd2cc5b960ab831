#!/usr/bin/env bats
# PROXY v2 with the TLS TLVs, against the real HAProxy: a private haproxy
# (tests/lib/haproxy.bash) terminates a client's TLS and sends its
# send-proxy-v2-ssl-cn header with every TLS option of 2.6 to a capture
# server; tests/unit then builds our header (proto/proxy.c proxy_v2) from
# the facts HAProxy logged for that connection and compares the bytes
# (PP2_FIXTURE, tests/unit_proxy.c).  The same comparison runs in
# tests/unit on its own against tests/fixtures/haproxy-pp2-ssl.bin, one
# such capture; the last test checks that fixture is still what this
# haproxy sends.  Under CI=true a missing haproxy fails (haproxy_start).

load lib/common
load lib/haproxy

UNIT=$BATS_TEST_DIRNAME/unit
FIXTURE=$BATS_TEST_DIRNAME/fixtures/haproxy-pp2-ssl

setup_file() { haproxy_certs "$BATS_FILE_TMPDIR/pki"; }

setup() {
	common_setup
	haproxy_start "$BATS_FILE_TMPDIR/pki"
	haproxy_require
	[[ -x $UNIT ]] || { echo "no $UNIT: make tests/unit first" >&2; return 1; }
}

# same_as_ours CAPTURE: tests/unit builds our header from CAPTURE.txt and
# finds it equal to HAProxy's CAPTURE.bin (it prints both when not).  Only
# that test's line counts: the other unit tests have their own runs.
same_as_ours() {
	run env PP2_FIXTURE="$1" "$UNIT"
	echo "$output" | grep -E "HAProxy's|^# " >&2 || :
	[[ "$output" == *"ok "*" - PROXY v2 TLS: our header is HAProxy's, byte for byte"* ]]
	[[ "$output" != *"not ok "*" - PROXY v2 TLS: our header is HAProxy's"* ]]
}

# fact CAPTURE KEY: the value of KEY in CAPTURE.txt
fact() { sed -n "s/^$2=//p" "$1.txt"; }

# tlvs CAPTURE: the TLV types after the TCP4 addresses, then the SSL
# client byte, verify and its sub-TLV types: "03 02 05 20 | 07 0 | 21 ..."
tlvs() {
	python3 - "$1.bin" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read()
def walk(b):
    off, out = 0, []
    while off < len(b):
        t, n = b[off], struct.unpack(">H", b[off + 1:off + 3])[0]
        out.append((t, b[off + 3:off + 3 + n]))
        off += 3 + n
    return out
top = walk(h[28:])
ssl = [v for t, v in top if t == 0x20][0]
print(" ".join("%02x" % t for t, _ in top), "|", "%02x" % ssl[0],
      struct.unpack(">I", ssl[1:5])[0], "|",
      " ".join("%02x" % t for t, _ in walk(ssl[5:])))
PY
}

@test "haproxy: TLSv1.3 with alice's certificate: our header is HAProxy's, byte for byte" {
	haproxy_capture "$T/c13" -tls1_3
	[ "$(fact "$T/c13" protocol)" = TLSv1.3 ]
	[ "$(fact "$T/c13" cn)" = alice ]
	[ "$(fact "$T/c13" sni)" = mx.test ]
	# CRC32C first, AUTHORITY, UNIQUE_ID, SSL: SSL|CERT_CONN|CERT_SESS,
	# verified; VERSION, CN, KEY_ALG, SIG_ALG, CIPHER
	[ "$(tlvs "$T/c13")" = "03 02 05 20 | 07 0 | 21 22 25 24 23" ]
	same_as_ours "$T/c13"
}

@test "haproxy: SIG_ALG and KEY_ALG are the server certificate's, not the client's" {
	haproxy_capture "$T/c13" -tls1_3
	# the server's is RSA 2048 signed with SHA-384, alice's EC P-256 with SHA-256
	[ "$(fact "$T/c13" sig_alg)" = RSA-SHA384 ]
	[ "$(fact "$T/c13" key_alg)" = RSA2048 ]
	grep -q 'RSA-SHA384' "$T/c13.bin"
	grep -q 'RSA2048' "$T/c13.bin"
}

@test "haproxy: TLSv1.2 with a fixed cipher: our header is HAProxy's" {
	haproxy_capture "$T/c12" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
	[ "$(fact "$T/c12" protocol)" = TLSv1.2 ]
	[ "$(fact "$T/c12" cipher)" = ECDHE-RSA-AES128-GCM-SHA256 ]
	same_as_ours "$T/c12"
}

@test "haproxy: no client certificate: SSL flag alone, verify 0, no CN; ours is the same" {
	haproxy_capture "$T/nc" --no-cert -tls1_3
	[ "$(fact "$T/nc" cert)" = 0 ]
	[ "$(tlvs "$T/nc")" = "03 02 05 20 | 01 0 | 21 25 24 23" ]
	same_as_ours "$T/nc"
}

@test "haproxy: no SNI: no AUTHORITY; ours is the same" {
	haproxy_capture "$T/ns" --no-sni -tls1_3
	[ -z "$(fact "$T/ns" sni)" ]
	[ "$(tlvs "$T/ns")" = "03 05 20 | 07 0 | 21 22 25 24 23" ]
	same_as_ours "$T/ns"
}

@test "haproxy: the fixture tests/unit compares with is what this haproxy sends" {
	haproxy_capture "$T/c13" -tls1_3
	# the same facts but the ports (bytes 24-27) and the unique-id, so the
	# same bytes but the ports, the CRC32C value (31-34) and UNIQUE_ID's
	# 16 (45-60, after AUTHORITY "mx.test")
	diff <(grep -v -e '^#' -e '^src=' -e '^dst=' -e '^id=' "$FIXTURE.txt") \
	    <(grep -v -e '^#' -e '^src=' -e '^dst=' -e '^id=' "$T/c13.txt")
	python3 - "$FIXTURE.bin" "$T/c13.bin" <<'PY'
import sys
a, b = (bytearray(open(p, "rb").read()) for p in sys.argv[1:])
for h in (a, b):
    assert h[45:48] == b"\x05\x00\x10"
    h[24:28] = h[31:35] = b"\0\0\0\0"
    h[48:64] = b"\0" * 16
sys.exit(a != b)
PY
	# and tests/unit passes on the fixture as it stands
	run "$UNIT"
	[[ "$output" == *"ok "*" - PROXY v2 TLS: our header is HAProxy's, byte for byte"* ]]
	[[ "$output" != *"not ok "*" - PROXY v2 TLS: our header is HAProxy's"* ]]
}

# mailproxy itself, in front of the fake backend (tests/lib/fake_smtp.py
# --proxy logs the header): implicit TLS with haproxy's certificate and
# client verification, so the same client gives the same facts.  Its TLVs
# (all but the addresses, the CRC32C value and UNIQUE_ID's: our session
# id, HAProxy's unique-id) must be HAProxy's.  This is
# where the facts' filling (tls_facts.c) meets HAProxy: KEY_ALG and SIG_ALG
# are those of the certificate the server presented (test 2), not the
# client's.
@test "haproxy: mailproxy --ssl --proxy-protocol=v2 sends the TLVs HAProxy sends for the same client" {
	local pki=$BATS_FILE_TMPDIR/pki be mpport
	read -r -d '' be mpport < <(free_port 2) || :
	start_fake_smtp "$be" --proxy
	launch_tcpserver "$mpport" --protocol=smtp --backend="127.0.0.1:$be" \
	    --server-name=mx.test --proxy-smtp-auth=on --proxy-protocol=v2 \
	    --ssl=on --ssl-certificate="$pki/server.crt" \
	    --ssl-certificate-key="$pki/server.key" \
	    --ssl-verify-client=optional --ssl-client-certificate="$pki/ca.pem"
	haproxy_capture "$T/hap" -tls1_3
	{ printf 'EHLO c\r\n'; sleep 0.5; printf 'AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n'
	  sleep 1; printf 'QUIT\r\n'; sleep 0.5; } |
	    openssl s_client -connect "127.0.0.1:$mpport" -servername mx.test \
	    -CAfile "$pki/ca.pem" -cert "$pki/client.pem" -key "$pki/client.key" \
	    -quiet -tls1_3 >"$T/mp.s_client" 2>&1 || :
	wait_log "$T/fake-$be.log" 'proxy v2 '
	sed -n 's/.*proxy v2 \([0-9a-f]*\).*/\1/p' "$T/fake-$be.log" | xxd -r -p >"$T/mp.bin"
	# our length and TLVs after the CRC32C one, against haproxy's
	[ "$(tlvs "$T/mp")" = "$(tlvs "$T/hap")" ]
	# (shown when it fails: ours, then HAProxy's)
	xxd "$T/mp.bin" >&2; xxd "$T/hap.bin" >&2
	# UNIQUE_ID where HAProxy's is, of the same size; ours is the session
	# id (16 letters and digits), HAProxy's its unique-id: the values
	# are left out of the comparison
	python3 - "$T/mp.bin" "$T/hap.bin" <<'PY'
import re, sys
for p in sys.argv[1:]:
    h = bytearray(open(p, "rb").read())
    assert h[45:48] == b"\x05\x00\x10", p
    assert re.fullmatch(rb"[A-Za-z0-9]{16}", bytes(h[48:64])), p
    h[48:64] = b"\0" * 16
    open(p + ".masked", "wb").write(h)
PY
	cmp <(tail -c +36 "$T/mp.bin.masked") <(tail -c +36 "$T/hap.bin.masked")
	cmp <(head -c 16 "$T/mp.bin") <(head -c 16 "$T/hap.bin")
}
