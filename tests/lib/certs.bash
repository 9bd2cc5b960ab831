# certs.bash - test certificates for the TLS tests (issue 15), made with
# openssl once per test file (or per DIR) and cached.  Needs only openssl.
#
#   load lib/common; load lib/certs
#   setup_file() { certs_make; }            # or: certs_make "$SOMEDIR"
#
# certs_make [DIR] generates into DIR (default $BATS_FILE_TMPDIR/certs, else
# a mktemp dir) unless DIR already holds a complete set (then it only
# exports), and exports (all paths, PEM; keys unencrypted unless said):
#   CERTS_DIR                   the directory
#   CERTS_CA CERTS_CA_KEY       the server CA ("mailproxy test CA", EC P-256):
#                               trust it to verify every server cert below
#   CERTS_RSA_CRT CERTS_RSA_KEY     mx.test, RSA 2048; SAN DNS:mx.test,
#                                   DNS:localhost, IP:127.0.0.1
#   CERTS_EC_CRT CERTS_EC_KEY       the same names, ECDSA P-256
#   CERTS_RSA_PEM CERTS_EC_PEM      each cert followed by its key, one file
#   CERTS_CHAIN                     CERTS_EC_CRT followed by CERTS_CA
#   CERTS_OTHER_CRT CERTS_OTHER_KEY other.test (SAN DNS:other.test), EC: SNI
#   CERTS_IP_CRT CERTS_IP_KEY       SAN IP:127.0.0.1 only (CN=127.0.0.1, no
#                                   DNS name at all), EC
#   CERTS_WRONG_CRT CERTS_WRONG_KEY wrong.test (SAN DNS:wrong.test), EC
#   CERTS_EXPIRED_CRT CERTS_EXPIRED_KEY  mx.test/localhost/127.0.0.1 like
#                                   CERTS_EC_CRT, valid 2020-01-01..2020-01-02
#   CERTS_UNTRUSTED_CRT CERTS_UNTRUSTED_KEY  mx.test/localhost/127.0.0.1, but
#                                   signed by CERTS_EVE_CA (not CERTS_CA)
#   CERTS_ENC_KEY CERTS_ENC_CRT     CERTS_EC_KEY encrypted (PKCS#8, AES-256)
#                                   and its cert (= CERTS_EC_CRT)
#   CERTS_PASSWORD                  its passphrase
#   CERTS_PASSWORD_FILE             nginx ssl_password_file format, one
#                                   passphrase a line, tried in order: a
#                                   wrong one first, CERTS_PASSWORD second
#   CERTS_PASSWORD_FILE_WRONG       only wrong passphrases
#   CERTS_CLIENT_CA CERTS_CLIENT_CA_KEY  the client CA ("mailproxy test
#                                   client CA", EC), distinct from CERTS_CA
#   CERTS_ALICE_CRT CERTS_ALICE_KEY     CN=alice, by CERTS_CLIENT_CA: good
#   CERTS_MALLORY_CRT CERTS_MALLORY_KEY CN=mallory, by CERTS_CLIENT_CA,
#                                       revoked in CERTS_CRL
#   CERTS_CRL                       CERTS_CLIENT_CA's CRL (PEM, mallory in it)
#   CERTS_CLIENT_CA_CRL             CERTS_CLIENT_CA followed by CERTS_CRL
#   CERTS_EVE_CRT CERTS_EVE_KEY     CN=eve, signed by CERTS_EVE_CA, which
#                                   nobody trusts
#   CERTS_EVE_CA                    that other CA ("untrusted test CA")
#   CERTS_TICKET_KEY                80 random bytes (nginx ssl_session_ticket_key)
#   CERTS_TICKET_KEY_48             48 random bytes (the older format)
#   CERTS_TICKET_KEY_2              another 80 random bytes (key rotation)
# Client certs carry extendedKeyUsage clientAuth, server certs serverAuth;
# everything is valid for 10 years except CERTS_EXPIRED_CRT.  Files are
# world-readable (the mail servers' unprivileged processes never need them,
# but nothing breaks if they read them).

# _certs_ca_init DIR NAME CN: an "openssl ca" directory DIR/NAME with an EC
# P-256 self-signed root.
_certs_ca_init() {
	local d=$1/$2
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	echo 1000 >"$d/crlnumber"
	cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = this
[ this ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = anything
unique_subject = no
preserve = yes
email_in_dn = no
copy_extensions = none
[ anything ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = $3
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null &&
		openssl req -new -x509 -config "$d/ca.cnf" -extensions v3_ca -key "$d/ca.key" \
			-days 3650 -out "$d/ca.crt" 2>/dev/null
}

# _certs_issue DIR CA NAME CN USAGE SAN [rsa] [ca-args...]: key DIR/NAME.key
# and cert DIR/NAME.crt signed by DIR/CA; USAGE serverAuth|clientAuth; SAN
# the subjectAltName value (or "" for none).
_certs_issue() {
	local dir=$1 ca=$2 name=$3 cn=$4 usage=$5 san=$6 kind=${7:-ec}
	shift 7 2>/dev/null || shift $#
	local ext=$dir/$name.ext
	{
		echo "basicConstraints = critical, CA:false"
		echo "keyUsage = critical, digitalSignature, keyEncipherment"
		echo "extendedKeyUsage = $usage"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		[[ -z $san ]] || echo "subjectAltName = $san"
	} >"$ext"
	if [[ $kind == rsa ]]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/$name.key" 2>/dev/null
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" 2>/dev/null
	fi || return 1
	openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$dir/$ca/ca.cnf" -extfile "$ext" \
			-in "$dir/$name.csr" -out "$dir/$name.crt" "$@" 2>"$dir/$name.err" || {
		cat "$dir/$name.err" >&2
		return 1
	}
	rm -f "$dir/$name.csr" "$dir/$name.err"
}

# _certs_generate DIR: make the whole set (about 0.3 s).
_certs_generate() {
	local d=$1 S='DNS:mx.test,DNS:localhost,IP:127.0.0.1'
	_certs_ca_init "$d" ca "mailproxy test CA" &&
		_certs_ca_init "$d" client-ca "mailproxy test client CA" &&
		_certs_ca_init "$d" eve-ca "untrusted test CA" || return 1
	_certs_issue "$d" ca server-rsa mx.test serverAuth "$S" rsa &&
		_certs_issue "$d" ca server-ec mx.test serverAuth "$S" ec &&
		_certs_issue "$d" ca other other.test serverAuth DNS:other.test ec &&
		_certs_issue "$d" ca ip 127.0.0.1 serverAuth IP:127.0.0.1 ec &&
		_certs_issue "$d" ca wrong wrong.test serverAuth DNS:wrong.test ec &&
		_certs_issue "$d" ca expired mx.test serverAuth "$S" ec \
			-startdate 20200101000000Z -enddate 20200102000000Z &&
		_certs_issue "$d" eve-ca untrusted mx.test serverAuth "$S" ec &&
		_certs_issue "$d" client-ca alice alice clientAuth "" ec &&
		_certs_issue "$d" client-ca mallory mallory clientAuth "" ec &&
		_certs_issue "$d" eve-ca eve eve clientAuth "" ec || return 1
	openssl ca -batch -config "$d/client-ca/ca.cnf" -revoke "$d/mallory.crt" \
		-crl_reason keyCompromise 2>/dev/null &&
		openssl ca -batch -config "$d/client-ca/ca.cnf" -gencrl -out "$d/client.crl" 2>/dev/null ||
		return 1
	cat "$d/server-rsa.crt" "$d/server-rsa.key" >"$d/server-rsa.pem"
	cat "$d/server-ec.crt" "$d/server-ec.key" >"$d/server-ec.pem"
	cat "$d/server-ec.crt" "$d/ca/ca.crt" >"$d/chain.pem"
	cat "$d/client-ca/ca.crt" "$d/client.crl" >"$d/client-ca-crl.pem"
	echo 'mailproxy-test-pass' >"$d/password"
	printf '%s\n' 'not-the-passphrase' 'mailproxy-test-pass' >"$d/passwords"
	printf '%s\n' 'not-the-passphrase' 'nor-this-one' >"$d/passwords-wrong"
	openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$d/server-ec.key" -out "$d/server-ec.enc.key" \
		-passout "file:$d/password" 2>/dev/null || return 1
	head -c 80 /dev/urandom >"$d/ticket.key"
	head -c 48 /dev/urandom >"$d/ticket48.key"
	head -c 80 /dev/urandom >"$d/ticket2.key"
	chmod -R a+rX "$d"
	touch "$d/.complete"
}

# certs_make [DIR]: generate (once) and export the CERTS_* paths above.
certs_make() {
	local d=${1:-}
	if [[ -z $d ]]; then
		if [[ -n ${BATS_FILE_TMPDIR:-} ]]; then
			d=$BATS_FILE_TMPDIR/certs
		elif [[ -n ${CERTS_DIR:-} ]]; then
			d=$CERTS_DIR
		else
			d=$(mktemp -d /tmp/mailproxy-certs.XXXXXX) || return 1
		fi
	fi
	command -v openssl >/dev/null || { echo "certs_make: openssl not installed" >&2; return 1; }
	mkdir -p "$d" && d=$(cd "$d" && pwd) || return 1
	# one generator per DIR, even when test files share it
	(
		flock 9
		[[ -e $d/.complete ]] && exit 0
		rm -rf "${d:?}"/* 2>/dev/null
		_certs_generate "$d"
	) 9>"$d/.lock" || { echo "certs_make: generating into $d failed" >&2; return 1; }
	export CERTS_DIR=$d
	export CERTS_CA=$d/ca/ca.crt CERTS_CA_KEY=$d/ca/ca.key
	export CERTS_RSA_CRT=$d/server-rsa.crt CERTS_RSA_KEY=$d/server-rsa.key
	export CERTS_EC_CRT=$d/server-ec.crt CERTS_EC_KEY=$d/server-ec.key
	export CERTS_RSA_PEM=$d/server-rsa.pem CERTS_EC_PEM=$d/server-ec.pem CERTS_CHAIN=$d/chain.pem
	export CERTS_OTHER_CRT=$d/other.crt CERTS_OTHER_KEY=$d/other.key
	export CERTS_IP_CRT=$d/ip.crt CERTS_IP_KEY=$d/ip.key
	export CERTS_WRONG_CRT=$d/wrong.crt CERTS_WRONG_KEY=$d/wrong.key
	export CERTS_EXPIRED_CRT=$d/expired.crt CERTS_EXPIRED_KEY=$d/expired.key
	export CERTS_UNTRUSTED_CRT=$d/untrusted.crt CERTS_UNTRUSTED_KEY=$d/untrusted.key
	export CERTS_ENC_KEY=$d/server-ec.enc.key CERTS_ENC_CRT=$d/server-ec.crt
	export CERTS_PASSWORD=mailproxy-test-pass CERTS_PASSWORD_FILE=$d/passwords
	export CERTS_PASSWORD_FILE_WRONG=$d/passwords-wrong
	export CERTS_CLIENT_CA=$d/client-ca/ca.crt CERTS_CLIENT_CA_KEY=$d/client-ca/ca.key
	export CERTS_ALICE_CRT=$d/alice.crt CERTS_ALICE_KEY=$d/alice.key
	export CERTS_MALLORY_CRT=$d/mallory.crt CERTS_MALLORY_KEY=$d/mallory.key
	export CERTS_CRL=$d/client.crl CERTS_CLIENT_CA_CRL=$d/client-ca-crl.pem
	export CERTS_EVE_CRT=$d/eve.crt CERTS_EVE_KEY=$d/eve.key CERTS_EVE_CA=$d/eve-ca/ca.crt
	export CERTS_TICKET_KEY=$d/ticket.key CERTS_TICKET_KEY_48=$d/ticket48.key
	export CERTS_TICKET_KEY_2=$d/ticket2.key
}
