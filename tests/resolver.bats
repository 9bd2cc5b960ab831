#!/usr/bin/env bats
# The resolver: the client's name in XCLIENT NAME, through the real binary
# under tcpserver (or systemd-socket-activate for IPv6), against the fake
# SMTP backend and a fake DNS server (tests/lib/fake_dns.py) that answers
# from a table and records every query it gets.

load lib/common

setup() {
	common_setup
	BE=$(free_port)
	MPPORT=$(free_port)
	DNS=$(free_port)
	: >"$T/dns.queries"
}

# dns RECORD...: the fake DNS server on 127.0.0.1:$DNS (see fake_dns.py)
dns() {
	spawn "dns-$DNS" "$PYTHON" "$TESTLIB/fake_dns.py" "$DNS" "$T/dns.queries" \
	    --ready "$T/dns.ready" "$@" && wait_for_file "$T/dns.ready"
}

# backend ARGS...: the fake SMTP backend on $BE
backend() { start_fake_smtp "$BE" "$@"; }

# mp ARGS...: mailproxy for SMTP on $MPPORT, asking the fake DNS server
mp() {
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test --proxy-smtp-auth=on --resolver="127.0.0.1:$DNS" "$@"
}

q() { "$@" 2>/dev/null; }
mplog() { tcpserver_log "$MPPORT"; }
queries() { cat "$T/dns.queries"; }
# the XCLIENT line the backend got, without its CR
xclient() { grep '^XCLIENT' "$T/fake-$BE.transcript" | tr -d '\r'; }
# the base64 of "\0alice\0secret"
PLAIN=AGFsaWNlAHNlY3JldA==

# login [PORT [HOST]]: EHLO, AUTH PLAIN, QUIT; $output holds the replies
login() {
	run q chat "${1:-$MPPORT}" --host "${2:-127.0.0.1}" --expect-greeting \
	    --lockstep smtp <<<$'EHLO client.example\nAUTH PLAIN '"$PLAIN"$'\nQUIT'
	[[ "$output" == *$'235 2.0.0 OK\r\n221 2.0.0 Bye\r'* ]]
}

# pipeline ADDR ARGS...: one session on stdin/stdout with --client-addr=ADDR
pipeline() {
	local addr=$1
	shift
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    "$MP" --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --proxy-smtp-auth=on --resolver="127.0.0.1:$DNS" --client-addr="$addr" "$@" \
	    >/dev/null 2>>"$T/pipeline.err"
}

@test "the name resolves back to the client: XCLIENT NAME carries it" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=192.0.2.1,127.0.0.1
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=client.example.test' ]
	# one PTR, one A: no second resolution, no search domain, no AAAA
	[ "$(queries)" = $'udp PTR 1.0.0.127.in-addr.arpa\nudp A client.example.test' ]
}

@test "a truncated answer is asked again over TCP" {
	dns --truncate PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=client.example.test' ]
	grep -q '^tcp PTR 1.0.0.127.in-addr.arpa$' "$T/dns.queries"
	grep -q '^tcp A client.example.test$' "$T/dns.queries"
}

@test "the name is passed as the DNS has it, capitals included" {
	dns PTR:127.0.0.1=Client.Example.TEST A:client.example.test=127.0.0.1
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=Client.Example.TEST' ]
}

@test "a PTR through a CNAME (RFC 2317 delegation) is followed" {
	dns CNAME:1.0.0.127.in-addr.arpa=1.0-25.0.0.127.in-addr.arpa \
	    PTR:1.0-25.0.0.127.in-addr.arpa=client.example.test A:client.example.test=127.0.0.1
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=client.example.test' ]
}

@test "the name resolves to other addresses: [UNAVAILABLE], and a log line" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.2,192.0.2.1
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
	mplog | grep -q 'client.example.test (PTR of 127.0.0.1) does not resolve to that address'
}

@test "no PTR (NXDOMAIN): [UNAVAILABLE], no forward lookup" {
	dns PTR:127.0.0.1='!nxdomain'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
	[ "$(queries)" = 'udp PTR 1.0.0.127.in-addr.arpa' ]
}

@test "no PTR record (NOERROR, empty answer): [UNAVAILABLE]" {
	dns PTR:127.0.0.1='!nodata'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
}

@test "PTR SERVFAIL: [TEMPUNAVAIL], asked once" {
	dns PTR:127.0.0.1='!servfail'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	[ "$(queries)" = 'udp PTR 1.0.0.127.in-addr.arpa' ]
	mplog | grep -q "resolver 127.0.0.1:$DNS: PTR of 127.0.0.1: "
}

@test "PTR REFUSED: [TEMPUNAVAIL]" {
	dns PTR:127.0.0.1='!refused'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
}

@test "no answer to the PTR: [TEMPUNAVAIL] within resolver_timeout, the session goes on" {
	dns PTR:127.0.0.1='!timeout'
	backend; mp --resolver-timeout=1s
	start=$(date +%s%N)
	login
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	((elapsed >= 900 && elapsed < 3000 + SLOW_MS)) || { echo "took ${elapsed}ms"; false; }
	grep -q 'PTR' "$T/dns.queries"
	mplog | grep -q 'no answer within resolver_timeout'
}

@test "no DNS server at all (port closed): [TEMPUNAVAIL] at once" {
	backend; mp --resolver-timeout=5s
	start=$SECONDS
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	((SECONDS - start < 3))
}

@test "forward lookup NXDOMAIN: [UNAVAILABLE]" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test='!nxdomain'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
}

@test "forward lookup without an A record: [UNAVAILABLE]" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test='!nodata'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
}

@test "forward lookup SERVFAIL: [TEMPUNAVAIL]" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test='!servfail'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	mplog | grep -q 'A of client.example.test (PTR of 127.0.0.1): '
}

@test "no answer to the forward lookup: [TEMPUNAVAIL]; both lookups share resolver_timeout" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test='!timeout'
	backend; mp --resolver-timeout=1s
	start=$(date +%s%N)
	login
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	((elapsed >= 900 && elapsed < 3000)) || { echo "took ${elapsed}ms"; false; }
	grep -q 'A client.example.test' "$T/dns.queries"
}

@test "a PTR name that is no host name: [UNAVAILABLE], logged, never looked up" {
	dns PTR:127.0.0.1='evil\x20name.example.test'
	backend; mp
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
	[ "$(queries)" = 'udp PTR 1.0.0.127.in-addr.arpa' ]
	mplog | grep -qF 'PTR of 127.0.0.1 is not a host name: "evil name.example.test"'
}

@test "bad PTR names of every kind are refused (CR LF, = + _, a dot in a label, too long, numeric)" {
	local l63 i
	l63=$(printf 'a%.0s' {1..63})
	dns PTR:10.0.0.1='a\r\nRCPT TO:<x>.example.test' PTR:10.0.0.2='a=b.example.test' \
	    PTR:10.0.0.3='a+b.example.test' PTR:10.0.0.4='under_score.example.test' \
	    PTR:10.0.0.5='dot\x2einside.example.test' PTR:10.0.0.6="$l63.$l63.$l63.$l63" \
	    PTR:10.0.0.7='192.0.2.1' PTR:10.0.0.8='-lead.example.test' PTR:10.0.0.9='a\x00b.test' \
	    PTR:10.0.0.10='caf\xe9.example.test' \
	    A:under_score.example.test=10.0.0.4 A:192.0.2.1=10.0.0.7
	backend --multi
	for i in 1 2 3 4 5 6 7 8 9 10; do
		: >"$T/fake-$BE.transcript"
		pipeline "10.0.0.$i"
		[ "$(xclient)" = "XCLIENT ADDR=10.0.0.$i NAME=[UNAVAILABLE]" ] ||
		    { echo "10.0.0.$i: $(xclient)"; false; }
	done
	# none of them was looked up
	[ "$(grep -vc ' PTR ' "$T/dns.queries")" -eq 0 ]
	[ "$(grep -c 'is not a host name' "$T/pipeline.err")" -eq 10 ]
	# the log line shows the bytes, made printable
	grep -qF 'PTR of 10.0.0.1 is not a host name: "a\\013\\010RCPT TO:<x>.example.test"' "$T/pipeline.err"
	[ "$(grep -c $'\r' "$T/pipeline.err")" -eq 0 ]
}

@test "the longest valid name (253 bytes) passes" {
	local l63 name
	l63=$(printf 'a%.0s' {1..63})
	name=$l63.$l63.$l63.$(printf 'b%.0s' {1..61})
	[ ${#name} -eq 253 ]
	dns PTR:127.0.0.1="$name" A:"$name"=127.0.0.1
	backend; mp
	login
	[ "$(xclient)" = "XCLIENT ADDR=127.0.0.1 NAME=$name" ]
}

@test "an IPv6 client: the PTR of its ip6.arpa name, then AAAA" {
	dns PTR:::1=client6.example.test AAAA:client6.example.test=2001:db8::1,::1 \
	    A:client6.example.test=127.0.0.1
	backend
	spawn mp6 systemd-socket-activate --accept -l "[::1]:$MPPORT" "$MP" --protocol=smtp \
	    --backend="127.0.0.1:$BE" --proxy-smtp-auth=on --server-name=mx.test \
	    --resolver="127.0.0.1:$DNS"
	wait_port "$MPPORT"
	login "$MPPORT" ::1
	[ "$(xclient)" = 'XCLIENT ADDR=IPV6:::1 NAME=client6.example.test' ]
	[ "$(queries)" = "udp PTR 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"$'\n'"udp AAAA client6.example.test" ]
}

@test "an IPv6 client whose name has only an A record: [UNAVAILABLE]" {
	dns PTR:2001:db8::7=client6.example.test A:client6.example.test=127.0.0.1
	backend --multi
	pipeline '[2001:db8::7]:4711'
	[ "$(xclient)" = 'XCLIENT ADDR=IPV6:2001:db8::7 NAME=[UNAVAILABLE]' ]
	grep -q 'PTR 7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa' "$T/dns.queries"
	grep -q 'AAAA client6.example.test' "$T/dns.queries"
}

@test "a resolver at an IPv6 address, [::1]:PORT" {
	spawn "dns-$DNS" "$PYTHON" "$TESTLIB/fake_dns.py" "$DNS" "$T/dns.queries" --host ::1 \
	    --ready "$T/dns.ready" PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	wait_for_file "$T/dns.ready"
	backend; mp --resolver="[::1]:$DNS"
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=client.example.test' ]
}

@test "pipeline: --client-addr is resolved as a socket's peer is" {
	dns PTR:192.0.2.5=mail.example.test A:mail.example.test=192.0.2.5
	backend --multi
	pipeline 192.0.2.5:25
	[ "$(xclient)" = 'XCLIENT ADDR=192.0.2.5 NAME=mail.example.test' ]
}

@test "pipeline without a client address: [UNAVAILABLE], no query" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend --multi
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    "$MP" --protocol=smtp --backend="127.0.0.1:$BE" --proxy-smtp-auth=on \
	    --resolver="127.0.0.1:$DNS" >/dev/null 2>&1
	[ "$(xclient)" = 'XCLIENT ADDR=[UNAVAILABLE] NAME=[UNAVAILABLE]' ]
	[ ! -s "$T/dns.queries" ]
}

@test "resolver off by default: no DNS query at all" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend
	launch_tcpserver "$MPPORT" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test --proxy-smtp-auth=on
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
	[ ! -s "$T/dns.queries" ]
}

@test "--resolver=off: no DNS query at all" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend; mp --resolver=off
	login
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[UNAVAILABLE]' ]
	[ ! -s "$T/dns.queries" ]
}

@test "a session that never logs in asks the DNS nothing" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend; mp
	run q smtp_chat "$MPPORT" <<<$'EHLO client.example\nNOOP\nQUIT'
	[[ "$output" == *$'221 2.0.0 Bye\r' ]]
	[ ! -s "$T/dns.queries" ]
}

@test "xclient off: the name is not needed, and not looked up" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend; mp --xclient=off
	login
	[ "$(grep -c XCLIENT "$T/fake-$BE.transcript")" -eq 0 ]
	[ ! -s "$T/dns.queries" ]
}

@test "--resolver and --resolver-timeout: bad values exit 64 with one line" {
	for bad in --resolver=bogus --resolver=dns.example.test --resolver=127.0.0.1:0 \
	    --resolver=127.0.0.1:65536 --resolver='[::1' --resolver='[::1]x' \
	    --resolver-timeout=soon --resolver-timeout=1x; do
		run "$MP" --protocol=smtp --backend=127.0.0.1:25 "$bad" </dev/null
		[ "$status" -eq 64 ] || { echo "$bad: $status"; false; }
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "mailproxy: ${bad%%=*}: bad "* ]]
	done
}

@test "--resolver=off, IP, IP:PORT, IPv6 and [IPv6]:PORT are accepted" {
	for good in off OFF 127.0.0.1 127.0.0.1:53 ::1 '[::1]' '[::1]:5353'; do
		run sh -c "printf 'QUIT\r\n' | '$MP' --protocol=smtp --backend=127.0.0.1:25 --resolver='$good' --resolver-timeout=2s"
		[ "$status" -eq 0 ] || { echo "$good: $output"; false; }
		[[ "$output" == "220 "* ]]
	done
	run sh -c "printf 'QUIT\r\n' | MAILPROXY_RESOLVER=127.0.0.1 MAILPROXY_RESOLVER_TIMEOUT=5s '$MP' --protocol=smtp --backend=127.0.0.1:25"
	[ "$status" -eq 0 ]
}

@test "a resolver without a port is asked on port 53" {
	# 127.0.0.1:53 may be a local resolver's: the fake DNS server, the
	# backend and mailproxy (on stdin/stdout) run in a network namespace of
	# their own (we are root), where it is free
	local ns
	spawn netns unshare -n sh -c 'ip link set lo up && : >"$0" && exec sleep 600' "$T/netns.up"
	ns=$SPAWNED_PID
	wait_for_file "$T/netns.up"
	spawn dns-53 nsenter -t "$ns" -n "$PYTHON" "$TESTLIB/fake_dns.py" 53 "$T/dns.queries" \
	    --ready "$T/dns.ready" PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	spawn "fake-$BE" nsenter -t "$ns" -n "$PYTHON" "$TESTLIB/fake_smtp.py" "$BE" \
	    "$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready"
	wait_for_file "$T/dns.ready"
	wait_for_file "$T/fake-$BE.ready"
	printf 'EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$PLAIN" |
	    nsenter -t "$ns" -n "$MP" --protocol=smtp --backend="127.0.0.1:$BE" \
	    --server-name=mx.test --proxy-smtp-auth=on --resolver=127.0.0.1 \
	    --client-addr=127.0.0.1 >"$T/replies" 2>"$T/pipeline.err"
	grep -q $'^235 2.0.0 OK\r$' "$T/replies"
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=client.example.test' ]
	[ "$(queries)" = $'udp PTR 1.0.0.127.in-addr.arpa\nudp A client.example.test' ]
}

@test "c-ares is loaded by the sessions that resolve, and by no other" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend --multi
	LD_DEBUG=libs pipeline 127.0.0.1
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=client.example.test' ]
	grep -q 'calling init: .*/libcares\.so\.2$' "$T/pipeline.err"
	: >"$T/pipeline.err"
	LD_DEBUG=libs pipeline 127.0.0.1 --resolver=off
	grep -q 'calling init: .*/libc\.so\.6$' "$T/pipeline.err"
	run grep -c libcares "$T/pipeline.err"
	[ "$output" = 0 ]
}

@test "c-ares that will not load: [TEMPUNAVAIL], one line naming the soname and the package" {
	dns PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	backend --multi
	# found first on LD_LIBRARY_PATH: a file that is no library, then a
	# library without c-ares's symbols
	mkdir "$T/notelf" "$T/nosyms"
	echo 'not a library' >"$T/notelf/libcares.so.2"
	echo 'int nothing;' | cc -shared -fPIC -x c - -o "$T/nosyms/libcares.so.2"
	LD_LIBRARY_PATH=$T/notelf pipeline 127.0.0.1
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	grep -qF 'resolver: cannot load libcares.so.2 (Debian package libc-ares2): ' "$T/pipeline.err"
	: >"$T/fake-$BE.transcript"
	LD_LIBRARY_PATH=$T/nosyms pipeline 127.0.0.1
	[ "$(xclient)" = 'XCLIENT ADDR=127.0.0.1 NAME=[TEMPUNAVAIL]' ]
	grep -qF 'resolver: libcares.so.2 has no ares_library_init (Debian package libc-ares2): ' "$T/pipeline.err"
	[ "$(grep -c libcares "$T/pipeline.err")" -eq 2 ]
	# the session went on, and nobody was asked
	[ "$(grep -c 'outcome="ok"' "$T/pipeline.err")" -eq 2 ]
	[ ! -s "$T/dns.queries" ]
}
