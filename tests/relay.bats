#!/usr/bin/env bats
# The relay's engines, through the binary under tcpserver: readwrite and
# splice each move large transfers both ways byte for byte, at one page
# and at 64k of proxy_buffer, pass a half-close on, and a direction whose
# descriptor cannot splice falls back to readwrite.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	"$PYTHON" -c '
import random, sys
random.seed(7)
for i in range(30000):
    sys.stdout.write("".join(random.choice("abcdefghij :-") for _ in range(76)) + "\r\n")' >"$T/msg"
}

pop3_backend() {
	spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_pop3.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" "$@" &&
	    wait_for_file "$T/fake-$BE.ready"
}

mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" --backend="127.0.0.1:$BE" \
	    --server-name=mx.test "$@"
}

# retr: log in, RETR 1, half-close; the message must arrive whole
retr() {
	"$PYTHON" "$TESTLIB/hostile.py" "$MPPORT" --timeout 20 --out "$T/got" \
	    <<<$'@wait ^\\+OK\nUSER alice\n@wait ^\\+OK.*\\n\\+OK\nPASS secret\n@wait Logged in\nRETR 1\n@shut\n@eof 20' >/dev/null
	"$PYTHON" - "$T/got" "$T/msg" <<-'PY'
	import sys
	got, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	retr = got[got.index(b"Logged in.\r\n") + 12:]
	body = retr[retr.index(b"\r\n") + 2:]
	assert body == msg + b".\r\n", (len(body), len(msg))
	PY
}

# data: an MX session whose 2 MB message goes up; the backend must record
# it whole
data() {
	"$PYTHON" - "$MPPORT" "$T/msg" <<-'PY'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	f = s.makefile("rb")
	def reply():
	    while True:
	        l = f.readline()
	        if l[3:4] != b"-":
	            return l
	reply()
	for c in (b"HELO c", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA"):
	    s.sendall(c + b"\r\n")
	    reply()
	s.sendall(open(sys.argv[2], "rb").read() + b".\r\nQUIT\r\n")
	assert reply().startswith(b"250"), "no 250 after the message"
	assert reply().startswith(b"221"), "no 221"
	PY
	"$PYTHON" - "$T/fake-$BE.transcript" "$T/msg" <<-'PY'
	import sys
	t, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	assert msg + b".\r\nQUIT\r\n" in t, len(t)
	PY
}

@test "readwrite, one page: a 2 MB RETR down after a half-close, byte for byte" {
	pop3_backend --message "$T/msg"; mp pop3 --relay-engine=readwrite
	retr
}

@test "splice, one page: a 2 MB RETR down after a half-close, byte for byte" {
	pop3_backend --message "$T/msg"; mp pop3 --relay-engine=splice
	retr
}

@test "splice, 64k: a 2 MB RETR down, byte for byte" {
	pop3_backend --message "$T/msg"; mp pop3 --relay-engine=splice --proxy-buffer=64k
	retr
}

@test "readwrite and splice, one page and 64k: a 2 MB DATA up, byte for byte" {
	local e b
	for e in readwrite splice; do
		for b in 4k 64k; do
			stop_launchers
			BE=$(free_port) MPPORT=$(free_port)
			start_fake_smtp "$BE"
			mp smtp --smtp-auth=none --relay-engine="$e" --proxy-buffer="$b"
			data
		done
	done
}

# piped ENGINE: a POP3 RETR in a pipeline (stdin and stdout are pipes,
# which splice takes) under strace, which records the splice calls
piped() {
	pop3_backend --message "$T/msg"
	{ printf 'USER alice\r\nPASS secret\r\nRETR 1\r\n'; sleep 1; printf 'QUIT\r\n'; } |
	    strace -qq -e trace=splice -o "$T/strace.$1" "$MP" --protocol=pop3 \
	    --backend="127.0.0.1:$BE" --relay-engine="$1" 2>"$T/err" | cat >"$T/got"
	"$PYTHON" - "$T/got" "$T/msg" <<-'PY'
	import sys
	got, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	assert msg + b".\r\n" in got, len(got)
	PY
}

@test "splice is what moves the bytes with --relay-engine=splice" {
	piped splice
	grep -q 'splice(.*= [1-9]' "$T/strace.splice"
}

@test "readwrite never splices" {
	piped readwrite
	[ -f "$T/strace.readwrite" ]
	! grep -q 'splice(' "$T/strace.readwrite" || false
}

@test "a pipeline whose stdin is a file cannot splice: that direction falls back to readwrite" {
	pop3_backend --message "$T/msg"
	printf 'USER alice\r\nPASS secret\r\nRETR 1\r\nQUIT\r\n' >"$T/in"
	"$MP" --protocol=pop3 --backend="127.0.0.1:$BE" --relay-engine=splice \
	    <"$T/in" >"$T/got" 2>"$T/err"
	"$PYTHON" - "$T/got" "$T/msg" <<-'PY'
	import sys
	got, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
	assert msg + b".\r\n" in got, len(got)
	PY
}

@test "Nagle's algorithm: off towards the backend for the handshake, on again for the relay" {
	pop3_backend --message "$T/msg"
	{ printf 'USER alice\r\nPASS secret\r\n'; sleep 0.5; printf 'QUIT\r\n'; } |
	    strace -qq -e trace=setsockopt,write,writev -o "$T/strace" "$MP" --protocol=pop3 \
	    --backend="127.0.0.1:$BE" >/dev/null 2>&1 ||
	    :	# under strace, LeakSanitizer fails the sanitizer build's exit
	# NODELAY 1 before the login goes out, 0 once it is done
	grep -nE 'TCP_NODELAY|PASS' "$T/strace" >"$T/order"
	cat "$T/order"
	pass=$(grep -m1 'PASS' "$T/order" | cut -d: -f1)
	[ "$(grep -m1 'TCP_NODELAY, \[1\]' "$T/order" | cut -d: -f1)" -lt "$pass" ]
	[ "$(grep -m1 'TCP_NODELAY, \[0\]' "$T/order" | cut -d: -f1)" -gt "$pass" ]
}
