#!/usr/bin/env bats
# What every session pays before it does anything: the libraries mapped
# at start (libc alone; the others are loaded by the sessions that use
# them, and recorded in the .note.dlopen ELF note), and the instructions
# of a whole plaintext SMTP session, counted by callgrind.  Always the
# normal build, even under make test-san: the sanitizers' runtime would
# be counted too, and its libraries listed.

load lib/common

BIN=$BATS_TEST_DIRNAME/../mailproxy

# A whole plaintext SMTP session, instructions from exec to exit: about
# 282,000 when this was written, over an empty C program's 126,000; it
# was 4,455,000 with libsystemd, libcrypto, c-ares and libbsd linked.
# With TLS in (issue 15) it is 297,781, against 295,983 at ac877e0, the
# commit before TLS (the same session, the same command): OpenSSL is
# neither loaded nor initialised by a plaintext session (the tests after
# this one prove it), and a TLS session costs about 10M (the README).
# Callgrind's count is deterministic, but for a few hundred with the
# environment's size: the ceiling is about three times the figure, well
# below what linking one of those libraries again costs.
CEILING=850000

setup() {
	common_setup
	[ -x "$BIN" ] || { echo "no $BIN: run make" >&2; return 1; }
}

# an ECDSA P-256 certificate for the TLS sessions below
tls_cert() {
	if [[ -s $T/crt.pem ]]; then return 0; fi
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$T/key.pem" -out "$T/crt.pem" -days 30 \
	    -subj /CN=mx.test 2>/dev/null
}

@test "libc is the only library mapped at start: no libcares, libcrypto, libsystemd, libbsd" {
	run readelf -dW "$BIN"
	[ "$status" -eq 0 ]
	needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' <<<"$output")
	[ "$needed" = libc.so.6 ] || { echo "NEEDED: $needed"; false; }
	# and every symbol bound at start (see the Makefile's LDFLAGS)
	grep -qE '\(FLAGS\).*BIND_NOW' <<<"$output"
}

@test "the .note.dlopen ELF note: FDO, type 0x407c0c0a, JSON naming libcares.so.2 for the resolver" {
	objcopy -O binary --only-section=.note.dlopen "$BIN" "$T/note"
	"$PYTHON" - "$T/note" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
assert data, "no .note.dlopen section"
off, features = 0, {}
while off < len(data):
    namesz, descsz, ntype = struct.unpack_from("<III", data, off)
    off += 12
    owner = data[off:off + namesz]
    off += (namesz + 3) & ~3
    desc = data[off:off + descsz]
    off += (descsz + 3) & ~3
    assert owner == b"FDO\0", owner
    assert ntype == 0x407C0C0A, hex(ntype)
    assert desc.endswith(b"\0") and b"\0" not in desc[:-1], desc
    for entry in json.loads(desc[:-1].decode()):
        assert set(entry) == {"feature", "description", "priority", "soname"}, entry
        assert entry["priority"] in ("required", "recommended", "suggested"), entry
        assert entry["description"], entry
        features[entry["feature"]] = entry["soname"]
assert off == len(data), "trailing bytes"
assert features.get("resolver") == ["libcares.so.2"], features
print(features)
PY
}

@test "a plaintext SMTP session costs less than $CEILING instructions (callgrind)" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	BE=$(free_port)
	start_fake_smtp "$BE" --multi
	printf '%s\r\n' 'EHLO client.example' 'MAIL FROM:<a@example.org>' \
	    'RCPT TO:<b@example.org>' DATA hello . QUIT >"$T/session"
	valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.out" \
	    "$BIN" --protocol=smtp --backend="127.0.0.1:$BE" --smtp-auth=none \
	    --server-name=mx.test <"$T/session" >"$T/replies" 2>"$T/valgrind.log"
	grep -q $'^250 2.0.0 Ok: queued as FAKE\r$' "$T/replies"
	grep -q $'^221 2.0.0 Bye\r$' "$T/replies"
	grep -q 'outcome="ok"' "$T/valgrind.log"
	n=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$T/valgrind.log")
	[[ $n =~ ^[0-9]+$ ]] || { cat "$T/valgrind.log"; false; }
	echo "# $n instructions, ceiling $CEILING" >&3
	((n <= CEILING)) || { echo "$n instructions, more than $CEILING"; false; }
}

# pop3_session MAPS LDLOG [ARGS...]: a POP3 session in lockstep through
# bench/tlspipe.py (pipeline mode: TLS, or --plain, over stdin/stdout)
# against the fake POP3 backend, mailproxy under LD_DEBUG=files (through
# env(1), so that only its loader reports), the shared objects of its
# /proc/PID/maps after the greeting and after every reply in MAPS.  TLS
# unless ARGS begin with --plain.
pop3_session() {
	local maps=$1 ldlog=$2 mode=()
	shift 2
	if [[ ${1:-} == --plain ]]; then
		mode=(--plain)
		shift
	fi
	printf '%s\n' 'USER u' 'PASS p' QUIT |
	    "$PYTHON" "$BATS_TEST_DIRNAME/../bench/tlspipe.py" "${mode[@]}" \
	    --lockstep --maps "$maps" --out "$T/replies" -- \
	    env LD_DEBUG=files "$BIN" --protocol=pop3 --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@" 2>"$ldlog"
	tr -d '\r' <"$T/replies" >"$T/replies.txt"
	grep -q '^+OK Logged in' "$T/replies.txt" || { cat "$T/replies.txt" "$ldlog"; false; }
	grep -q '^+OK Bye' "$T/replies.txt"
	grep -q 'outcome="ok"' "$ldlog"
	# a snapshot at the greeting, one at each of the three replies
	(($(grep -c '^-- reply' "$maps") == 4))
	grep -q '/libc\.so\.6$' "$maps"
}

# no_openssl FILE: fails, showing them, if FILE names libssl or libcrypto
no_openssl() {
	if grep -E 'libssl|libcrypto' "$1"; then return 1; fi
}

@test "a plaintext session never maps libssl or libcrypto: its maps at every reply, LD_DEBUG=files for the whole process, --starttls=on offered too" {
	BE=$(free_port)
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" "$T/fake.transcript" \
	    --multi --ready "$T/fake.ready" && wait_for_file "$T/fake.ready"
	tls_cert
	pop3_session "$T/maps" "$T/ld.log" --plain
	no_openssl "$T/maps"
	grep -q 'file=libc\.so\.6 \[0\]; *needed by' "$T/ld.log"
	no_openssl "$T/ld.log"
	# STARTTLS offered (and its certificate given) but not used: the same
	rm -f "$T/maps"
	pop3_session "$T/maps" "$T/ld.log" --plain --starttls=on \
	    --ssl-certificate="$T/crt.pem" --ssl-certificate-key="$T/key.pem"
	no_openssl "$T/maps"
	no_openssl "$T/ld.log"
}

@test "a --ssl=on session maps libssl and libcrypto from its greeting on (what the test above would see)" {
	BE=$(free_port)
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" "$T/fake.transcript" \
	    --multi --ready "$T/fake.ready" && wait_for_file "$T/fake.ready"
	tls_cert
	pop3_session "$T/maps" "$T/ld.log" --ssl=on \
	    --ssl-certificate="$T/crt.pem" --ssl-certificate-key="$T/key.pem"
	grep -q 'tls=TLSv1.3/' "$T/ld.log"
	# in every snapshot, the greeting's included (TLS came first)
	(($(grep -c '/libssl\.so\.3$' "$T/maps") == 4))
	(($(grep -c '/libcrypto\.so\.3$' "$T/maps") == 4))
	grep -q 'file=libssl\.so\.3 \[0\]; *dynamically loaded by' "$T/ld.log"
	grep -q 'file=libcrypto\.so\.3 \[0\]; *dynamically loaded by' "$T/ld.log"
}
