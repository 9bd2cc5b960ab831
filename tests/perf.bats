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
# Callgrind's count is deterministic, but for a few hundred with the
# environment's size: the ceiling is about three times the figure, well
# below what linking one of those libraries again costs.
CEILING=850000

setup() {
	common_setup
	[ -x "$BIN" ] || { echo "no $BIN: run make" >&2; return 1; }
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
