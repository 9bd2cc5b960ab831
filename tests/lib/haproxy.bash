# haproxy.bash - a private HAProxy on 127.0.0.1 that terminates a client's
# TLS and sends PROXY v2 with its TLS TLVs to a capture server, so tests can
# compare mailproxy's header (proto/proxy.c) with the real thing.  Needs
# common.bash (free_port, spawn, wait_port, wait_for_file, wait_log).
#
#   setup_file() { haproxy_certs "$BATS_FILE_TMPDIR/pki"; }
#   setup()      { common_setup; haproxy_start "$BATS_FILE_TMPDIR/pki"; }
#   teardown()   { common_teardown; }           # spawn() stops haproxy too
#   @test ... { haproxy_capture "$T/cap" -tls1_3; ... }
#
# haproxy_start writes $T/haproxy.cfg and runs /usr/sbin/haproxy -db (in
# the foreground, under spawn()); nothing under /etc, /run or /var/log is
# read or written.  Its frontend binds 127.0.0.1:$HAPROXY_PORT with the
# server certificate for mx.test and `verify optional` against the test CA;
# its one server is the capture server on 127.0.0.1:$CAPTURE_PORT, with
# every PROXY v2 option Debian 12's haproxy 2.6 has for TLS:
# send-proxy-v2-ssl-cn plus proxy-v2-options
# ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id
# (with a 16-digit unique-id-format: UNIQUE_ID as mailproxy sends its
# session id).
#
# Each connection logs one line (log-format below) with HAProxy's own view
# of the facts; haproxy_capture turns it into the key=value facts file that
# tests/unit reads (PP2_FIXTURE, see tests/unit_proxy.c).
#
# When haproxy is not installed: under CI=true haproxy_start fails loudly
# (.ci/packages installs it); otherwise it records HAPROXY_SKIP and returns
# 0, and haproxy_require skips the test.

HAPROXY_BIN=${HAPROXY_BIN:-/usr/sbin/haproxy}

# haproxy_certs DIR: a CA, a server certificate for mx.test (RSA 2048,
# signed with SHA-384: RSA-SHA384 and RSA2048) and a client certificate
# with CN alice (EC P-256, signed with SHA-256: ecdsa key, RSA-SHA256), so a
# fact taken from the wrong certificate shows.  All signed by the CA.
haproxy_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
			-days 3650 -subj /CN=mailproxy-test-ca -sha256 &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj /CN=mx.test -sha256 &&
		printf 'subjectAltName=DNS:mx.test\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
			-CAcreateserial -out server.crt -days 3650 -sha384 \
			-extfile server.ext &&
		cat server.crt server.key >server.pem &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout client.key -out client.csr -subj /CN=alice -sha256 &&
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
			-CAcreateserial -out client.pem -days 3650 -sha256
	) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; return 1; }
}

# haproxy_start PKI: the capture server, then haproxy in front of it.
# Exports HAPROXY_PORT, CAPTURE_PORT, HAPROXY_LOG ($T/haproxy.log),
# CAPTURE_DIR and HAPROXY_PKI.
haproxy_start() {
	local pki=$1
	_tdir
	HAPROXY_PKI=$pki
	HAPROXY_SKIP=
	if [[ ! -x $HAPROXY_BIN ]]; then
		if [[ ${CI:-} == true ]]; then
			echo "haproxy_start: $HAPROXY_BIN is missing (apt-get install haproxy)" >&2
			return 1
		fi
		HAPROXY_SKIP="$HAPROXY_BIN is not installed"
		return 0
	fi
	read -r -d '' HAPROXY_PORT CAPTURE_PORT < <(free_port 2) || :
	HAPROXY_LOG=$T/haproxy.log
	CAPTURE_DIR=$T/captured
	export HAPROXY_PORT CAPTURE_PORT HAPROXY_LOG CAPTURE_DIR HAPROXY_PKI
	mkdir -p "$CAPTURE_DIR"
	pp2_capture_start "$CAPTURE_PORT" "$CAPTURE_DIR" || return 1
	# The log line is HAProxy's view of what it put in the header:
	# addresses, then the TLS facts; "-" for an empty sample.
	cat >"$T/haproxy.cfg" <<EOF
global
	nbthread 1
	log stdout format raw daemon
defaults
	mode tcp
	log global
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend tls
	bind 127.0.0.1:$HAPROXY_PORT ssl crt $pki/server.pem ca-file $pki/ca.pem verify optional
	# a unique-id of 16 digits, the shape of mailproxy's session id
	unique-id-format %[rand(9000000000000000),add(1000000000000000)]
	log-format "facts src=%ci:%cp dst=%fi:%fp id=%ID protocol=%[ssl_fc_protocol] cipher=%[ssl_fc_cipher] sni=%[ssl_fc_sni] cert=%[ssl_c_used] verify=%[ssl_c_verify] cn=%[ssl_c_s_dn(CN)] sig_alg=%[ssl_f_sig_alg] key_alg=%[ssl_f_key_alg] end"
	default_backend capture
backend capture
	server capture 127.0.0.1:$CAPTURE_PORT send-proxy-v2-ssl-cn proxy-v2-options ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id
EOF
	"$HAPROXY_BIN" -c -q -f "$T/haproxy.cfg" >&2 || return 1
	spawn haproxy "$HAPROXY_BIN" -db -f "$T/haproxy.cfg" &&
		wait_port "$HAPROXY_PORT"
}

# haproxy_require: skip the test when haproxy_start found no haproxy.
haproxy_require() {
	[[ -z ${HAPROXY_SKIP:-} ]] || skip "$HAPROXY_SKIP"
}

# pp2_capture_start PORT DIR: a server that reads the PROXY v2 header of
# each connection (16 bytes, then the length they give), writes it to
# DIR/N.bin (N counts connections from 1) and closes.  It reads nothing
# more: the header is all HAProxy sends before the client's bytes.
pp2_capture_start() {
	# spawn gives the program /dev/null as stdin: the script is an argument
	spawn "capture-$1" "$PYTHON" -c "$(cat <<'PY'
import os, socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
n = 0
def readn(c, k):
    b = b""
    while len(b) < k:
        r = c.recv(k - len(b))
        if not r:
            break
        b += r
    return b
while True:
    c, _ = s.accept()
    c.settimeout(5)
    n += 1
    h = readn(c, 16)
    if len(h) == 16:
        h += readn(c, h[14] << 8 | h[15])
    tmp = os.path.join(out, "%d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(h)
    os.rename(tmp, os.path.join(out, "%d.bin" % n))
    c.close()
PY
	)" "$1" "$2" && wait_port "$1"
}

# haproxy_capture OUT [--no-cert] [--no-sni] S_CLIENT_ARGS...: one TLS
# connection to haproxy as alice (--no-cert: with no certificate), asking
# for mx.test (--no-sni: for no name); leaves the header haproxy sent in OUT.bin and haproxy's facts
# in OUT.txt.  The client stays connected until the header has arrived, so
# the connection is not cut before haproxy connects on.
haproxy_capture() {
	local out=$1 n sni=(-servername mx.test)
	local cert=(-cert "$HAPROXY_PKI/client.pem" -key "$HAPROXY_PKI/client.key")
	shift
	while :; do
		case ${1:-} in
		--no-cert) cert=() ;;
		--no-sni) sni=(-noservername) ;;
		*) break ;;
		esac
		shift
	done
	n=$(($(find "$CAPTURE_DIR" -name '*.bin' | wc -l) + 1))
	# shellcheck disable=SC2016
	bash -c 'for _ in $(seq 100); do [ -e "$0" ] && break; sleep 0.1; done' \
		"$CAPTURE_DIR/$n.bin" |
		openssl s_client -connect "127.0.0.1:$HAPROXY_PORT" "${sni[@]}" \
			-CAfile "$HAPROXY_PKI/ca.pem" "${cert[@]}" -quiet -no_ign_eof "$@" >"$out.s_client" 2>&1
	wait_for_file "$CAPTURE_DIR/$n.bin" || return 1
	cp "$CAPTURE_DIR/$n.bin" "$out.bin"
	# haproxy logs when the session ends, after the client's close
	local end=$((SECONDS + WAIT_TIMEOUT))
	until [[ $(grep -c '^facts .* end$' "$HAPROXY_LOG") -ge $n ]]; do
		((SECONDS < end)) || { echo "haproxy_capture: no log line $n" >&2; cat "$HAPROXY_LOG" >&2; return 1; }
		sleep 0.1
	done
	haproxy_facts "$(grep '^facts .* end$' "$HAPROXY_LOG" | sed -n "${n}p")" >"$out.txt"
}

# haproxy_facts LOGLINE: the facts file (key=value lines) from a log line;
# HAProxy's "-" (no value) becomes empty, ssl_c_used's 1/0 is cert.
# key_alg is the one fact HAProxy's log cannot give as its TLV has it: the
# ssl_f_key_alg fetch is the key's OID name ("rsaEncryption"), the TLV its
# type and size ("RSA2048", ssl_sock_get_pkey_algo), so it is read here
# from the server certificate the same way.
haproxy_facts() {
	local kv
	printf '# HAProxy %s, haproxy.cfg of tests/lib/haproxy.bash\n' \
		"$("$HAPROXY_BIN" -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')"
	for kv in $1; do
		case $kv in
		facts | end) ;;
		key_alg=*) echo "key_alg=$(cert_key_alg "$HAPROXY_PKI/server.crt")" ;;
		*=-) echo "${kv%%=*}=" ;;
		*) echo "$kv" ;;
		esac
	done
}

# cert_key_alg CERT: "RSA2048", "EC256"... as HAProxy names a key.
cert_key_alg() {
	openssl x509 -in "$1" -noout -text | awk '
		/Public Key Algorithm: rsaEncryption/ { t = "RSA" }
		/Public Key Algorithm: id-ecPublicKey/ { t = "EC" }
		/Public Key Algorithm: dsaEncryption/ { t = "DSA" }
		/Public-Key: \(/ { sub(/.*\(/, ""); sub(/ bit.*/, ""); b = $0 }
		END { print t b }'
}

# haproxy_tcp PORT SEND SERVER...: HAProxy as an operator's TCP front: on
# 127.0.0.1:PORT, round robin over the servers (ADDR:PORT), each sent SEND
# (send-proxy or send-proxy-v2).  With HAPROXY_PER_CLIENT=N a stick table
# refuses a client address's connections past N at once, as the README's
# "Growing past one host" has it.  Config $T/haproxy-PORT.cfg, log (one
# line a connection) $T/haproxy-PORT.log.  Without haproxy: under CI=true
# a failure, else the test skips.
haproxy_tcp() {
	local port=$1 send=$2 cfg i=0 s
	shift 2
	_tdir
	cfg=$T/haproxy-$port.cfg
	if [[ ! -x $HAPROXY_BIN ]]; then
		[[ ${CI:-} != true ]] || { echo "haproxy_tcp: $HAPROXY_BIN is missing" >&2; return 1; }
		skip "$HAPROXY_BIN is not installed"
	fi
	{
		cat <<CFG
global
	nbthread 1
	log stdout format raw daemon
defaults
	mode tcp
	log global
	option tcplog
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend mail
	bind 127.0.0.1:$port
CFG
		if [[ -n ${HAPROXY_PER_CLIENT:-} ]]; then
			cat <<CFG
	# per client: the balancer is the one place that sees every client
	stick-table type ip size 100k expire 10m store conn_cur,conn_rate(10s)
	tcp-request connection track-sc0 src
	tcp-request connection reject if { sc_conn_cur(0) gt $HAPROXY_PER_CLIENT }
CFG
		fi
		printf '\tdefault_backend servers\nbackend servers\n\tbalance roundrobin\n'
		for s; do
			printf '\tserver s%d %s %s\n' $((i++)) "$s" "$send"
		done
	} >"$cfg"
	"$HAPROXY_BIN" -c -q -f "$cfg" >&2 || return 1
	spawn "haproxy-$port" "$HAPROXY_BIN" -db -f "$cfg" && wait_port "$port"
}
