#!/usr/bin/env bats
# tests/lib/certs.bash itself: the generated certificates verify (or fail to)
# as their names say, with openssl alone.

bats_require_minimum_version 1.5.0
load lib/common
load lib/certs

setup_file() { certs_make; }

# verify ARGS... CERT: openssl verify with the server CA and a purpose
verify_server() { openssl verify -CAfile "$CERTS_CA" -purpose sslserver "$@"; }
verify_client() { openssl verify -CAfile "$CERTS_CLIENT_CA" -purpose sslclient "$@"; }

# key_matches CERT KEY [PASSARGS...]: the key's public half is the cert's
key_matches() {
	local c=$1 k=$2
	shift 2
	[ "$(openssl x509 -in "$c" -noout -pubkey)" = "$(openssl pkey -in "$k" -pubout "$@")" ]
}

@test "certs_make exports every path, all files exist, a second call reuses them" {
	local v n=0
	for v in CERTS_DIR CERTS_CA CERTS_CA_KEY CERTS_RSA_CRT CERTS_RSA_KEY CERTS_EC_CRT CERTS_EC_KEY \
		CERTS_RSA_PEM CERTS_EC_PEM CERTS_CHAIN CERTS_OTHER_CRT CERTS_OTHER_KEY CERTS_IP_CRT CERTS_IP_KEY \
		CERTS_WRONG_CRT CERTS_WRONG_KEY CERTS_EXPIRED_CRT CERTS_EXPIRED_KEY CERTS_UNTRUSTED_CRT \
		CERTS_UNTRUSTED_KEY CERTS_ENC_KEY CERTS_ENC_CRT CERTS_PASSWORD_FILE CERTS_PASSWORD_FILE_WRONG \
		CERTS_CLIENT_CA CERTS_CLIENT_CA_KEY CERTS_ALICE_CRT CERTS_ALICE_KEY CERTS_MALLORY_CRT \
		CERTS_MALLORY_KEY CERTS_CRL CERTS_CLIENT_CA_CRL CERTS_EVE_CRT CERTS_EVE_KEY CERTS_EVE_CA \
		CERTS_TICKET_KEY CERTS_TICKET_KEY_48 CERTS_TICKET_KEY_2; do
		[ -n "${!v}" ] || { echo "$v is empty" >&2; return 1; }
		[ -e "${!v}" ] || { echo "$v: no ${!v}" >&2; return 1; }
		n=$((n + 1))
	done
	[ "$n" -eq 38 ]
	[ -n "$CERTS_PASSWORD" ]
	[ "$CERTS_DIR" = "$BATS_FILE_TMPDIR/certs" ]
	local before
	before=$(stat -c %Y.%i "$CERTS_CA" "$CERTS_RSA_KEY")
	certs_make
	[ "$(stat -c %Y.%i "$CERTS_CA" "$CERTS_RSA_KEY")" = "$before" ]
	# another DIR gets a set of its own, another CA
	certs_make "$T/other"
	[ "$CERTS_DIR" = "$T/other" ]
	run ! cmp -s "$CERTS_CA" "$BATS_FILE_TMPDIR/certs/ca/ca.crt"
}

@test "mx.test RSA and ECDSA: verify for mx.test, localhost and 127.0.0.1; keys match" {
	local c
	for c in "$CERTS_RSA_CRT" "$CERTS_EC_CRT"; do
		verify_server -verify_hostname mx.test "$c"
		verify_server -verify_hostname localhost "$c"
		verify_server -verify_ip 127.0.0.1 "$c"
		run ! verify_server -verify_hostname other.test "$c"
	done
	openssl x509 -in "$CERTS_RSA_CRT" -noout -text | grep -q 'Public Key Algorithm: rsaEncryption'
	openssl x509 -in "$CERTS_RSA_CRT" -noout -text | grep -q 'Public-Key: (2048 bit)'
	openssl x509 -in "$CERTS_EC_CRT" -noout -text | grep -q 'Public Key Algorithm: id-ecPublicKey'
	run openssl x509 -in "$CERTS_EC_CRT" -noout -ext subjectAltName
	[[ $output == *'DNS:mx.test, DNS:localhost, IP Address:127.0.0.1'* ]]
	key_matches "$CERTS_RSA_CRT" "$CERTS_RSA_KEY"
	key_matches "$CERTS_EC_CRT" "$CERTS_EC_KEY"
}

@test "combined PEMs hold the cert and its key; the chain holds the cert and the CA" {
	cmp -s <(openssl x509 -in "$CERTS_RSA_PEM") <(openssl x509 -in "$CERTS_RSA_CRT")
	cmp -s <(openssl x509 -in "$CERTS_EC_PEM") <(openssl x509 -in "$CERTS_EC_CRT")
	key_matches "$CERTS_RSA_CRT" "$CERTS_RSA_PEM"
	key_matches "$CERTS_EC_CRT" "$CERTS_EC_PEM"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$CERTS_CHAIN")" -eq 2 ]
	openssl verify -CAfile "$CERTS_CA" -untrusted "$CERTS_CHAIN" "$CERTS_EC_CRT"
}

@test "other.test for SNI, IP-only, wrong.test: each verifies for its name only" {
	verify_server -verify_hostname other.test "$CERTS_OTHER_CRT"
	run ! verify_server -verify_hostname mx.test "$CERTS_OTHER_CRT"
	key_matches "$CERTS_OTHER_CRT" "$CERTS_OTHER_KEY"
	verify_server -verify_ip 127.0.0.1 "$CERTS_IP_CRT"
	run ! verify_server -verify_hostname localhost "$CERTS_IP_CRT"
	run ! verify_server -verify_hostname mx.test "$CERTS_IP_CRT"
	run openssl x509 -in "$CERTS_IP_CRT" -noout -ext subjectAltName
	[[ $output == *'IP Address:127.0.0.1'* && $output != *DNS:* ]]
	key_matches "$CERTS_IP_CRT" "$CERTS_IP_KEY"
	verify_server -verify_hostname wrong.test "$CERTS_WRONG_CRT"
	run ! verify_server -verify_hostname mx.test "$CERTS_WRONG_CRT"
	[[ $output == *'hostname mismatch'* ]]
	run ! verify_server -verify_ip 127.0.0.1 "$CERTS_WRONG_CRT"
	key_matches "$CERTS_WRONG_CRT" "$CERTS_WRONG_KEY"
}

@test "expired and untrusted server certs fail for the right reason" {
	run ! verify_server -verify_hostname mx.test "$CERTS_EXPIRED_CRT"
	[[ $output == *'certificate has expired'* ]]
	[ "$(openssl x509 -in "$CERTS_EXPIRED_CRT" -noout -enddate)" = 'notAfter=Jan  2 00:00:00 2020 GMT' ]
	# valid but for the time (the CA was not valid in 2020 either)
	verify_server -no_check_time -verify_hostname mx.test "$CERTS_EXPIRED_CRT"
	key_matches "$CERTS_EXPIRED_CRT" "$CERTS_EXPIRED_KEY"
	run ! verify_server -verify_hostname mx.test "$CERTS_UNTRUSTED_CRT"
	[[ $output == *'unable to get local issuer certificate'* ]]
	openssl verify -CAfile "$CERTS_EVE_CA" -verify_hostname mx.test "$CERTS_UNTRUSTED_CRT"
	key_matches "$CERTS_UNTRUSTED_CRT" "$CERTS_UNTRUSTED_KEY"
}

@test "client certs with the CRL: alice ok, mallory revoked, eve untrusted" {
	verify_client -crl_check -CRLfile "$CERTS_CRL" "$CERTS_ALICE_CRT"
	run ! verify_client -crl_check -CRLfile "$CERTS_CRL" "$CERTS_MALLORY_CRT"
	[[ $output == *'certificate revoked'* ]]
	# mallory is fine but for the CRL
	verify_client "$CERTS_MALLORY_CRT"
	run ! verify_client -crl_check -CRLfile "$CERTS_CRL" "$CERTS_EVE_CRT"
	[[ $output == *'unable to get local issuer certificate'* ]]
	run ! verify_client "$CERTS_EVE_CRT"
	# CA and CRL in one file, as nginx's ssl_crl may be given with the CA
	openssl verify -CAfile "$CERTS_CLIENT_CA_CRL" -crl_check "$CERTS_ALICE_CRT"
	run ! openssl verify -CAfile "$CERTS_CLIENT_CA_CRL" -crl_check "$CERTS_MALLORY_CRT"
	# the server CA does not vouch for clients, nor the client CA for servers
	run ! openssl verify -CAfile "$CERTS_CA" "$CERTS_ALICE_CRT"
	run ! openssl verify -CAfile "$CERTS_CLIENT_CA" "$CERTS_RSA_CRT"
	run openssl x509 -in "$CERTS_ALICE_CRT" -noout -subject
	[ "$output" = 'subject=CN = alice' ]
	run openssl crl -in "$CERTS_CRL" -noout -text
	[[ $output == *'Key Compromise'* ]]
	[ "$(grep -c 'Serial Number' <<<"$output")" -eq 1 ]
	key_matches "$CERTS_ALICE_CRT" "$CERTS_ALICE_KEY"
	key_matches "$CERTS_MALLORY_CRT" "$CERTS_MALLORY_KEY"
	key_matches "$CERTS_EVE_CRT" "$CERTS_EVE_KEY"
}

@test "the encrypted key opens with the password file's second line, not without" {
	grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$CERTS_ENC_KEY"
	run ! openssl pkey -in "$CERTS_ENC_KEY" -passin pass: -noout
	[ "$(wc -l <"$CERTS_PASSWORD_FILE")" -eq 2 ]
	[ "$(sed -n 2p "$CERTS_PASSWORD_FILE")" = "$CERTS_PASSWORD" ]
	run ! openssl pkey -in "$CERTS_ENC_KEY" -passin "pass:$(head -n 1 "$CERTS_PASSWORD_FILE")" -noout
	key_matches "$CERTS_ENC_CRT" "$CERTS_ENC_KEY" -passin "pass:$CERTS_PASSWORD"
	local line
	while IFS= read -r line; do
		run ! openssl pkey -in "$CERTS_ENC_KEY" -passin "pass:$line" -noout
	done <"$CERTS_PASSWORD_FILE_WRONG"
}

@test "ticket keys: 80, 48 and 80 random bytes, all different" {
	[ "$(stat -c %s "$CERTS_TICKET_KEY")" -eq 80 ]
	[ "$(stat -c %s "$CERTS_TICKET_KEY_48")" -eq 48 ]
	[ "$(stat -c %s "$CERTS_TICKET_KEY_2")" -eq 80 ]
	run ! cmp -s "$CERTS_TICKET_KEY" "$CERTS_TICKET_KEY_2"
	# not text: at least 20 distinct byte values
	[ "$(od -An -v -tx1 "$CERTS_TICKET_KEY" | tr -s ' ' '\n' | sort -u | grep -c .)" -ge 20 ]
}

@test "a TLS handshake with the certs: s_server with the EC PEM, s_client checks mx.test and sends alice" {
	local port
	port=$(free_port)
	spawn s_server openssl s_server -accept "127.0.0.1:$port" -cert "$CERTS_EC_PEM" \
		-Verify 1 -CAfile "$CERTS_CLIENT_CA" -naccept 1 -www
	wait_port "$port"
	run timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CERTS_CA" -verify_return_error \
		-verify_hostname mx.test -cert "$CERTS_ALICE_CRT" -key "$CERTS_ALICE_KEY" -brief </dev/null
	[ "$status" -eq 0 ]
	[[ $output == *'Verification: OK'* ]]
}
