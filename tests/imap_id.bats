#!/usr/bin/env bats
# IMAP ID (RFC 2971) from the client, through the real binary under
# tcpserver: every form of the argument answered, malformed ones refused
# with BAD, and the fields passed on to the backend without those only the
# proxy may set (Dovecot's trusted keys), against the fake backend.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_imap.py" "$BE" "$T/fake-$BE.transcript" \
		--ready "$T/fake-$BE.ready" --log "$T/fake-$BE.log" --multi &&
		wait_for_file "$T/fake-$BE.ready"
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE" \
		--imap-capabilities="IMAP4rev1 ID"
}

teardown() { san_teardown "$T"/tcpserver-*.log; }

q() { "$@" 2>/dev/null; }
transcript() { cat "$T/fake-$BE.transcript" 2>/dev/null; }
untouched() { ! grep -q connect "$T/fake-$BE.log"; }
# absent REGEX: the backend was sent nothing that matches (any case)
absent() { ! transcript | grep -qi -- "$1"; }
G=$'* OK IMAP4 ready\r\n'
OK=$'* ID NIL\r\n'

@test "ID advertised when imap_capabilities lists it (the man page's example)" {
	run q imap_chat "$MPPORT" <<<$'a CAPABILITY\nb LOGOUT'
	[[ "$output" == "$G"$'* CAPABILITY IMAP4rev1 ID AUTH=PLAIN\r\na OK completed\r\n'* ]]
}

@test "ID: NIL, quoted pairs, NIL values, a literal, LITERAL+, an empty list: * ID NIL and OK" {
	run q imap_chat "$MPPORT" <<<'a ID NIL
b ID ("name" "Thunderbird" "version" "115.0")
c id ("name" NIL "os" nil)
d ID ("name" {4}
@nowait
Mail "version" {2+}
@nowait
@raw 17)\r\n
e ID ()
f LOGOUT'
	[ "$output" = "$G$OK"$'a OK completed\r\n'"$OK"$'b OK completed\r\n'"$OK"$'c OK completed\r\n+ OK\r\n'"$OK"$'d OK completed\r\n'"$OK"$'e OK completed\r\n* BYE\r\nf OK completed\r' ]
	untouched
}

@test "ID: malformed lists get BAD: no value, a NIL name, an atom, nesting, CR LF in a literal, RFC 2971's limits" {
	local pairs name value
	pairs=$(for i in $(seq 0 30); do printf '"k%d" "v" ' "$i"; done)
	name=$(printf 'n%.0s' $(seq 31))
	value=$(head -c 1025 /dev/zero | tr '\0' v)
	run q imap_chat "$MPPORT" <<<"a ID (\"name\")
b ID (NIL \"x\")
c ID (\"name\" x)
d ID (\"name\" (\"x\"))
e ID (\"name\" {2}
@raw a\r
@wait e BAD
f ID (${pairs% })
g ID (\"$name\" NIL)
h ID (\"name\" \"$value\")
i LOGOUT"
	[[ "$output" == "$G"$'a BAD invalid arguments\r\nb BAD invalid arguments\r\nc BAD invalid arguments\r\nd BAD invalid arguments\r\n+ OK\r\ne BAD invalid arguments\r\n'* ]]
	# max_errors (5) ends it at the fifth
	[[ "$output" == *$'e BAD invalid arguments\r\n* BYE too many invalid commands\r' ]]
	run q imap_chat "$MPPORT" <<<"f ID (${pairs% })
g ID (\"$name\" NIL)
h ID (\"name\" \"$value\")
i ID (\"name\" \"$(head -c 1024 /dev/zero | tr '\0' v)\")
j LOGOUT"
	[[ "$output" == "$G"$'f BAD invalid arguments\r\ng BAD invalid arguments\r\nh BAD invalid arguments\r\n'"$OK"$'i OK completed\r\n'* ]]
	untouched
}

@test "ID: the client's fields reach the backend, the forged ones of the proxy do not" {
	run q imap_chat "$MPPORT" <<<'a ID ("name" "Thunder\"bird" "X-Originating-IP" "6.6.6.6" "x-session-id" "forged" "x-forward-user" "root" "os" NIL)
b LOGIN alice secret
c LOGOUT'
	[[ "$output" == "$G$OK"$'a OK completed\r\nb OK '* ]]
	transcript | grep -qF '"name" "Thunder\"bird" "os" NIL'
	absent 'x-originating-ip\|6\.6\.6\.6\|forged\|x-forward'
}

@test "ID with --proxy-imap-id: the backend gets the client's fields, then ours, never the client's forgery" {
	stop_launchers
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_imap.py" "$BE" "$T/fake-$BE.transcript" \
		--ready "$T/fake-$BE.ready2" --log "$T/fake-$BE.log" --multi &&
		wait_for_file "$T/fake-$BE.ready2"
	launch_tcpserver "$MPPORT" --protocol=imap --backend="127.0.0.1:$BE" \
		--imap-capabilities="IMAP4rev1 ID" --proxy-imap-id=on
	run q imap_chat "$MPPORT" <<<'a ID ("name" "mua" {16}
@nowait
@raw x-originating-ip "6.6.6.6" "X-Connected-Port" "1")\r\n
b LOGIN alice secret
c LOGOUT'
	[[ "$output" == "$G"$'+ OK\r\n'"$OK"$'a OK completed\r\nb OK '* ]]
	transcript | grep -q '^[^ ]* ID ("name" "mua" "x-originating-ip" "127\.0\.0\.1" '
	[ "$(transcript | grep -oi 'x-originating-ip' | wc -l)" -eq 1 ]
	[ "$(transcript | grep -oi 'x-connected-port' | wc -l)" -eq 1 ]
	absent '6\.6\.6\.6'
}
