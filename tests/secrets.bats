#!/usr/bin/env bats
# Passwords never reach mailproxy's own logs, and one attempt's
# credentials never reach the next.  Every way a password comes in (SMTP
# AUTH PLAIN and LOGIN, with and without an initial response, CRAM-MD5,
# XOAUTH2; POP3 USER/PASS and AUTH PLAIN; IMAP LOGIN, AUTHENTICATE PLAIN
# and XOAUTH2), right and wrong, with the auth service and with a fixed
# backend; then mailproxy's log (its stderr under tcpserver: the session
# lines and every warning; mailproxy has no debug mode) is searched for
# each password, token and digest, raw and in the base64 forms the client
# sent.  The fake auth service and backends receive them legitimately and
# are not searched.  (A password in memory is tests/deadlines.bats's.)

load lib/common
load lib/certs

GOOD=Gx7-Tr0ub4dor-Pw
BAD=Bq2-Wr0ng-Guess
# fake_auth_http.py takes a token that ends with the user's password
TOKEN=Tk9Sekr1tBearer$GOOD
BADTOKEN=Tk9Sekr1tBearer$BAD

setup() {
	common_setup
	BE=$(free_port) AUTH=$(free_port) MPPORT=$(free_port)
	printf 'alice:%s\n' "$GOOD" >"$T/users"
}

teardown() { san_teardown "$T/tcpserver-$MPPORT.log"; }

b64() { printf "$1" | base64 -w0; }

backend() {
	case $1 in
	smtp) start_fake_smtp "$BE" --multi ;;
	*) spawn "fake-$BE" "$PYTHON" "$TESTLIB/fake_$1.py" "$BE" \
		"$T/fake-$BE.transcript" --ready "$T/fake-$BE.ready" --multi &&
		wait_for_file "$T/fake-$BE.ready" ;;
	esac
}

# auth ARGS...: the fake auth service, naming the backend
auth() {
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AUTH" \
	    --requests "$T/auth.requests" --ready "$T/auth.ready" \
	    --log "$T/auth.log" --users "$T/users" \
	    --backend "127.0.0.1:$BE" "$@" && wait_for_file "$T/auth.ready"
}

# mp PROTO ARGS...
mp() {
	local proto=$1
	shift
	launch_tcpserver "$MPPORT" --protocol="$proto" --server-name=mx.test "$@"
}

# dialogue PROTO: the script on stdin, one client line a line, each
# waiting for its reply; "@cram USER PASS" answers the last challenge.
# Prints what was received.
read -r -d '' DIALOGUE_PY <<'PY' || :
import base64, hashlib, hmac, os, re, sys
sys.path.insert(0, os.environ["TESTLIB"])
import chat
proto, port = sys.argv[1], int(sys.argv[2])
c = chat.connect(port)
done = lambda tag: chat.reply_done(proto, tag)
rc = 0 if c.wait(done(b"*"), "greeting") else 3
tag = b"*"
for line in sys.stdin.buffer.read().split(b"\n"):
    if rc or not line:
        continue
    if line.startswith(b"@cram "):
        _, u, p = line.split(b" ", 2)
        m = re.search(rb"^(?:334|\+) (\S+)\r?$", bytes(c.all[c.mark:]), re.M)
        line = base64.b64encode(u + b" " + hmac.new(p, base64.b64decode(
            m.group(1)), hashlib.md5).hexdigest().encode())
    elif proto == "imap" and b" " in line and not line.startswith(b"\x00"):
        tag = line.split(b" ", 1)[0]
    if c.eof:
        break       # refused without Auth-Wait: the session ended
    c.send(line + b"\r\n")
    if not c.wait(done(tag), "reply to %r" % line) and not c.eof:
        rc = 3
sys.stdout.buffer.write(bytes(c.all))
sys.exit(rc)
PY
dialogue() { TESTLIB=$TESTLIB "$PYTHON" -c "$DIALOGUE_PY" "$1" "$MPPORT"; }

# the forms of PASS a client sends: raw, base64 alone (LOGIN), in PLAIN,
# in XOAUTH2 (with TOKEN)
plain() { b64 "\0alice\0$1"; }
xoauth() { b64 "user=alice\001auth=Bearer $1\001\001"; }

# no_secret FILE...: none of the secrets, in any form, in FILE
no_secret() {
	local s found=0
	for s in "$GOOD" "$BAD" "$TOKEN" "$BADTOKEN" Tk9Sekr1t \
	    "$(b64 "$GOOD")" "$(b64 "$BAD")" "$(plain "$GOOD")" "$(plain "$BAD")" \
	    "$(xoauth "$TOKEN")" "$(xoauth "$BADTOKEN")" \
	    "$(b64 "\0alice\0$GOOD" | cut -c1-16)"; do
		if grep -F -n -- "$s" "$@"; then
			echo "found: $s"
			found=1
		fi
	done
	# a CRAM-MD5 answer: the hex digest and its base64
	if grep -E -n '[0-9a-f]{32}|YWxpY2Ug' "$@"; then
		echo "found: a CRAM-MD5 digest"
		found=1
	fi
	return "$found"
}

# every session ended: the log has its line
sessions_logged() {
	local n=$1 end=$((SECONDS + 10))
	until [ "$(grep -c 'result=' "$T/tcpserver-$MPPORT.log")" -ge "$n" ]; do
		((SECONDS < end)) || { cat "$T/tcpserver-$MPPORT.log"; return 1; }
		sleep 0.1
	done
}

@test "SMTP through the auth service: PLAIN, LOGIN, CRAM-MD5, XOAUTH2, right and wrong: no password in mailproxy's log" {
	backend smtp; auth
	mp smtp --auth-http="http://127.0.0.1:$AUTH/auth" \
	    --smtp-auth="plain login cram-md5 xoauth2"
	for p in "$GOOD" "$BAD"; do
		dialogue smtp <<<"EHLO c
AUTH PLAIN $(plain "$p")
QUIT" >>"$T/client"
		dialogue smtp <<<"EHLO c
AUTH PLAIN
$(plain "$p")
QUIT" >>"$T/client"
		dialogue smtp <<<"EHLO c
AUTH LOGIN $(b64 alice)
$(b64 "$p")
QUIT" >>"$T/client"
		dialogue smtp <<<"EHLO c
AUTH CRAM-MD5
@cram alice $p
QUIT" >>"$T/client"
	done
	for t in "$TOKEN" "$BADTOKEN"; do
		dialogue smtp <<<"EHLO c
AUTH XOAUTH2 $(xoauth "$t")
QUIT" >>"$T/client"
	done
	# each way in was tried, and each right one logged in
	[ "$(grep -c '^235 ' "$T/client")" = 5 ]
	[ "$(grep -c '^=====$' "$T/auth.requests")" = 10 ]
	sessions_logged 10
	grep -q "Auth-Pass: $GOOD" "$T/auth.requests"
	no_secret "$T/tcpserver-$MPPORT.log"
}

@test "POP3 and IMAP through the auth service: USER/PASS, AUTH PLAIN, LOGIN, AUTHENTICATE PLAIN and XOAUTH2, right and wrong: none in the log" {
	backend pop3; auth
	mp pop3 --auth-http="http://127.0.0.1:$AUTH/auth" --pop3-auth="plain xoauth2"
	for p in "$GOOD" "$BAD"; do
		dialogue pop3 <<<"USER alice
PASS $p
QUIT" >>"$T/client"
		dialogue pop3 <<<"AUTH PLAIN $(plain "$p")
QUIT" >>"$T/client"
	done
	dialogue pop3 <<<"AUTH XOAUTH2 $(xoauth "$TOKEN")
QUIT" >>"$T/client"
	sessions_logged 5
	[ "$(grep -c '^=====$' "$T/auth.requests")" = 5 ]
	[ "$(grep -c '^+OK Logged in' "$T/client")" = 3 ]
	no_secret "$T/tcpserver-$MPPORT.log"
	stop_launchers
	: >"$T/auth.requests"
	backend imap; auth
	MPPORT=$(free_port)
	mp imap --auth-http="http://127.0.0.1:$AUTH/auth" --imap-auth="plain xoauth2"
	for p in "$GOOD" "$BAD"; do
		dialogue imap <<<"a LOGIN alice $p
b LOGOUT" >>"$T/client"
		dialogue imap <<<"a LOGIN \"alice\" {${#p}}
$p
b LOGOUT" >>"$T/client"
		dialogue imap <<<"a AUTHENTICATE PLAIN $(plain "$p")
b LOGOUT" >>"$T/client"
	done
	dialogue imap <<<"a AUTHENTICATE XOAUTH2 $(xoauth "$BADTOKEN")
b LOGOUT" >>"$T/client"
	sessions_logged 7
	[ "$(grep -c '^=====$' "$T/auth.requests")" = 7 ]
	[ "$(grep -c '^a OK' "$T/client")" = 3 ]
	no_secret "$T/tcpserver-$MPPORT.log"
}

@test "a fixed backend: the password goes to the backend only, never to the log" {
	backend smtp
	mp smtp --backend="127.0.0.1:$BE" --proxy-smtp-auth=on
	dialogue smtp <<<"EHLO c
AUTH PLAIN $(plain "$GOOD")
QUIT" >>"$T/client"
	dialogue smtp <<<"EHLO c
AUTH LOGIN
$(b64 alice)
$(b64 "$GOOD")
QUIT" >>"$T/client"
	sessions_logged 2
	grep -q "$(plain "$GOOD")" "$T/fake-$BE.transcript"
	no_secret "$T/tcpserver-$MPPORT.log"
}

# --- one attempt's credentials never reach the next ---------------------

# request N: the Nth request the auth service recorded
request() { awk -v n="$1" '/^=====$/ { i++; next } i == n - 1' "$T/auth.requests"; }

@test "refused with Auth-Wait, then another login: the second request carries only its own user and password" {
	backend smtp; auth --wait 1
	mp smtp --auth-http="http://127.0.0.1:$AUTH/auth" \
	    --smtp-auth="plain login cram-md5"
	# the first attempt long, the second short, then one without a password
	dialogue smtp <<<"EHLO c
AUTH PLAIN $(b64 "\0alice-with-a-long-name\0$BAD-and-more")
AUTH LOGIN $(b64 bob)
$(b64 x)
AUTH CRAM-MD5
@cram carol y
QUIT" >"$T/client"
	[ "$(grep -c '^535 ' "$T/client")" = 3 ]
	[ "$(grep -c '^=====$' "$T/auth.requests")" = 3 ]
	request 1 | grep -q "^Auth-User: alice-with-a-long-name"
	request 2 | grep -q '^Auth-User: bob'$'\r''$'
	request 2 | grep -q '^Auth-Pass: x'$'\r''$'
	request 3 | grep -q '^Auth-User: carol'$'\r''$'
	request 3 | grep -q '^Auth-Login-Attempt: 3'
	for n in 2 3; do
		! request "$n" | grep -E "alice|$BAD|and-more" || false
	done
}

@test "POP3: refused with Auth-Wait, a PASS without a new USER is not a login with the old user" {
	backend pop3; auth --wait 1
	mp pop3 --auth-http="http://127.0.0.1:$AUTH/auth"
	dialogue pop3 <<<"USER alice
PASS $BAD
PASS $GOOD
AUTH PLAIN $(b64 "\0bob\0z")
QUIT" >"$T/client"
	# the second PASS came without a USER: refused by us, not asked
	[ "$(grep -c '^=====$' "$T/auth.requests")" = 2 ]
	request 2 | grep -q '^Auth-User: bob'$'\r''$'
	! request 2 | grep -E "alice|$BAD|$GOOD" || false
}

@test "IMAP: refused with Auth-Wait, then AUTHENTICATE PLAIN: none of the LOGIN's credentials in the second request" {
	backend imap; auth --wait 1
	mp imap --auth-http="http://127.0.0.1:$AUTH/auth"
	dialogue imap <<<"a LOGIN alice-with-a-long-name $BAD-and-more
b AUTHENTICATE PLAIN $(b64 "\0bob\0z")
c LOGOUT" >"$T/client"
	[ "$(grep -c '^=====$' "$T/auth.requests")" = 2 ]
	request 2 | grep -q '^Auth-User: bob'$'\r''$'
	request 2 | grep -q '^Auth-Pass: z'$'\r''$'
	! request 2 | grep -E "alice|$BAD|and-more" || false
}

# --- and no copy in the session's memory once it relays ------------------

memgrep() { "$PYTHON" "$TESTLIB/memgrep.py" "$@"; }

# held PROTO SCRIPT: a client logging in with the hostile.py SCRIPT, then
# holding the session open in the relay; the session's memory is searched
# for every secret (bounded: the relay starts a moment after the reply)
held_clean() {
	local proto=$1 script=$2 pid end lpid
	lpid=$(tail -n 1 "$T/.launchers")
	"$PYTHON" "$TESTLIB/hostile.py" "$MPPORT" >/dev/null 3>&- <<<"$script"$'\n@mark '"$T/relaying"$'\n@hold 8' &
	cpid=$!
	wait_for_file "$T/relaying"
	end=$((SECONDS + 5))
	until pid=$(pgrep -P "$lpid") && [[ -n $pid ]]; do
		((SECONDS < end)) || { echo "no session"; return 1; }
		sleep 0.05
	done
	# the reader works: the session's own argv is there
	run memgrep "$pid" mx.test
	[[ "$output" =~ ^mx.test\ [1-9] ]] || { echo "memgrep: $output"; return 1; }
	end=$((SECONDS + 3))
	until run memgrep "$pid" "$GOOD" "$TOKEN" "$(b64 "$GOOD")" "$(plain "$GOOD")" \
	    "$(xoauth "$TOKEN")" && [ "$(grep -cv ' 0$' <<<"$output")" = 0 ]; do
		((SECONDS < end)) || { echo "$proto: $output"; kill "$cpid"; return 1; }
		sleep 0.1
	done
	kill "$cpid" 2>/dev/null || :
	rm -f "$T/relaying"
	end=$((SECONDS + 5))
	while pgrep -P "$lpid" >/dev/null; do
		((SECONDS < end)) || { echo "the session stays"; return 1; }
		sleep 0.05
	done
}

@test "once the relay runs, no copy of the password, the token or their base64 in the session's memory: every protocol, with the auth service" {
	backend smtp; auth
	mp smtp --auth-http="http://127.0.0.1:$AUTH/auth" \
	    --smtp-auth="plain login xoauth2" --proxy-smtp-auth=on
	held_clean smtp-login $'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH LOGIN\n@wait ^334 \n'"$(b64 alice)"$'\n@wait ^334 .*\\n334 \n'"$(b64 "$GOOD")"$'\n@wait ^235 '
	held_clean smtp-xoauth2 $'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH XOAUTH2 '"$(xoauth "$TOKEN")"$'\n@wait ^235 '
	stop_launchers
	backend pop3; auth
	MPPORT=$(free_port)
	mp pop3 --auth-http="http://127.0.0.1:$AUTH/auth" --pop3-auth="plain xoauth2"
	held_clean pop3-pass $'@wait ^\\+OK\nUSER alice\n@wait ^\\+OK.*\\n\\+OK\nPASS '"$GOOD"$'\n@wait Logged in'
	held_clean pop3-plain $'@wait ^\\+OK\nAUTH PLAIN '"$(plain "$GOOD")"$'\n@wait Logged in'
	stop_launchers
	backend imap; auth
	MPPORT=$(free_port)
	mp imap --auth-http="http://127.0.0.1:$AUTH/auth" --imap-auth="plain xoauth2"
	held_clean imap-literal $'@wait ^\\* OK\na LOGIN alice {'"${#GOOD}"$'}\n@wait ^\\+ \n'"$GOOD"$'\n@wait ^a OK'
	held_clean imap-xoauth2 $'@wait ^\\* OK\na AUTHENTICATE XOAUTH2 '"$(xoauth "$TOKEN")"$'\n@wait ^a OK'
}

@test "an auth service over https (its Auth-Pass decrypted by libssl): no copy of the password in memory once the relay runs" {
	certs_make
	backend smtp; auth --tls-cert "$CERTS_RSA_CRT" --tls-key "$CERTS_RSA_KEY"
	mp smtp --auth-http="https://localhost:$AUTH/auth" \
	    --proxy-ssl-trusted-certificate="$CERTS_CA" --proxy-smtp-auth=on
	held_clean smtp-https $'@wait ^220 \nEHLO c\n@wait ^250 \nAUTH PLAIN '"$(plain "$GOOD")"$'\n@wait ^235 '
	grep -q "Auth-Pass: $GOOD" "$T/auth.requests"
	grep -q "$(plain "$GOOD")" "$T/fake-$BE.transcript"
}
