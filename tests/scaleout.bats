#!/usr/bin/env bats
# Scale-out, as the README's "Growing past one host" shows it: several
# hosts each run the socket units, behind one HAProxy that balances them
# and sends PROXY v2, with one auth_http service naming the backend.  The
# hosts are two network namespaces made here (or, where the machine does
# not allow them, two loopback addresses: tests/lib/hosts.bash), each
# with mailproxy under systemd-socket-activate started with the command
# line and environment of units/mailproxy-imap@.service and an
# environment file like the one the unit reads.  The clients come from
# other loopback addresses, so the address that reaches the backend can
# only be the true one if the PROXY header carried it.  Per-client
# limits are HAProxy's (a stick table): systemd's own per-source limit
# (MaxConnectionsPerSource=) would see only the balancer.

load lib/common
load lib/mailservers
load lib/hosts
load lib/haproxy

setup_file() { mail_servers_start; }
teardown_file() { mail_servers_stop; }
setup() {
	common_setup
	mail_servers_require
	hosts_init
}
teardown() {
	local rc=0
	san_teardown "$T"/host-*.log || rc=$?
	hosts_fini
	return "$rc"
}

UNIT=$BATS_TEST_DIRNAME/../units/mailproxy-imap@.service

# host_start NAME ADDR PORT ENVFILE: on host NAME, the socket unit's
# listener on ADDR:PORT (systemd-socket-activate --accept, as
# mailproxy-imap.socket with Accept=yes), running the service's ExecStart
# with its Environment= and then the EnvironmentFile, as systemd would.
# Its log is $T/host-NAME.log.  (The probe connection of host_wait is a
# session of its own that ends at once: the tests count ok sessions.)
host_start() {
	local name=$1 addr=$2 port=$3 envfile=$4 envs=() line
	while IFS= read -r line; do
		envs+=(-E "${line#Environment=}")
	done < <(grep '^Environment=' "$UNIT")
	while IFS= read -r line; do
		[[ $line == \#* || -z $line ]] || envs+=(-E "$line")
	done <"$envfile"
	grep -q '^ExecStart=/usr/local/sbin/mailproxy$' "$UNIT"
	host_run "$name" "host-$name" systemd-socket-activate --accept -l "$addr:$port" \
		--fdname=connection "${envs[@]}" "$MP" && host_wait "$addr" "$port"
}

# The operator's environment file of every host: the same on each.
write_envfile() {
	cat >"$1" <<EOF
# /etc/mailproxy/imap.conf of every host
MAILPROXY_AUTH_HTTP=http://$SVC_ADDR:$AUTH_PORT/auth
MAILPROXY_SERVER_NAME=mx.example.test
MAILPROXY_LISTEN_PROXY_PROTOCOL=on
MAILPROXY_SET_REAL_IP_FROM=$HOSTS_FROM
MAILPROXY_PROXY_PROTOCOL=v2
MAILPROXY_TIMEOUT=10s
EOF
}

@test "two hosts behind one HAProxy with PROXY v2: both serve, and Dovecot sees each true client address" {
	local front pa pb i src ha hb
	read -r -d '' front pa pb AUTH_PORT < <(free_port 4) || :
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AUTH_PORT" \
		--requests "$T/auth.requests" --log "$T/auth.events" \
		--backend-imap "$SVC_ADDR:$DOVECOT_IMAP_HAPROXY_PORT"
	wait_port "$AUTH_PORT"
	svc_expose "$AUTH_PORT"
	svc_expose "$DOVECOT_IMAP_HAPROXY_PORT"
	ha=$(host_add a) && hb=$(host_add b)
	write_envfile "$T/imap.conf"
	host_start a "$ha" "$pa" "$T/imap.conf"
	host_start b "$hb" "$pb" "$T/imap.conf"
	haproxy_tcp "$front" send-proxy-v2 "$ha:$pa" "$hb:$pb"

	# four sessions from two client addresses: round robin gives each
	# host two of them
	for i in 1 2 3 4; do
		src=127.0.0.$((10 + i % 2))
		run curl -sS --max-time 20 --interface "$src" -u alice:secret \
			"imap://127.0.0.1:$front/" -X "EXAMINE INBOX"
		[ "$status" -eq 0 ] || { echo "curl $i from $src: $output" >&2; false; }
	done

	# each host served, and logged the true client, not the balancer
	wait_count "$T/host-a.log" 'imap client=127\.0\.0\.1[01]:[0-9]+ .*outcome="ok"' 2
	wait_count "$T/host-b.log" 'imap client=127\.0\.0\.1[01]:[0-9]+ .*outcome="ok"' 2
	[ "$(grep -c 'outcome="ok"' "$T/host-a.log")" -eq 2 ]
	[ "$(grep -c 'outcome="ok"' "$T/host-b.log")" -eq 2 ]
	# no session was logged with the balancer's address for the client's
	[ -z "$(grep -h 'outcome="ok"' "$T"/host-*.log | grep -vE 'imap client=127\.0\.0\.1[01]:')" ]

	# the backend saw both true client addresses (rip=), through each host
	wait_log "$DOVECOT_LOG" 'Login: user=<alice>.*rip=127\.0\.0\.10,'
	wait_log "$DOVECOT_LOG" 'Login: user=<alice>.*rip=127\.0\.0\.11,'
	# and the auth service was asked about the true client
	grep -q '^Client-IP: 127\.0\.0\.10' "$T/auth.requests"
	grep -q '^Client-IP: 127\.0\.0\.11' "$T/auth.requests"
}

@test "the per-client limit lives at the front: HAProxy's stick table refuses a client's extra connection, others still get in" {
	local front pa i ha idle=()
	read -r -d '' front pa AUTH_PORT < <(free_port 3) || :
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AUTH_PORT" \
		--requests "$T/auth.requests" \
		--backend-imap "$SVC_ADDR:$DOVECOT_IMAP_HAPROXY_PORT"
	wait_port "$AUTH_PORT"
	svc_expose "$AUTH_PORT"
	svc_expose "$DOVECOT_IMAP_HAPROXY_PORT"
	ha=$(host_add a)
	write_envfile "$T/imap.conf"
	host_start a "$ha" "$pa" "$T/imap.conf"
	HAPROXY_PER_CLIENT=2 haproxy_tcp "$front" send-proxy-v2 "$ha:$pa"

	# two idle sessions from 127.0.0.12 hold its share
	for i in 1 2; do
		"$PYTHON" - "$front" 127.0.0.12 >"$T/idle-$i.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[2], 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
print(s.recv(512).decode(errors="replace"), flush=True)
time.sleep(6)
PY
		idle+=($!)
	done
	wait_log "$T/idle-1.out" '^\* OK'
	wait_log "$T/idle-2.out" '^\* OK'

	# a third from the same address is refused at the front ...
	run curl -sS --max-time 10 --interface 127.0.0.12 -u alice:secret \
		"imap://127.0.0.1:$front/" -X "EXAMINE INBOX"
	[ "$status" -ne 0 ]
	# ... while another client gets through to the backend
	run curl -sS --max-time 20 --interface 127.0.0.13 -u alice:secret \
		"imap://127.0.0.1:$front/" -X "EXAMINE INBOX"
	[ "$status" -eq 0 ]
	wait_log "$DOVECOT_LOG" 'Login: user=<alice>.*rip=127\.0\.0\.13,'
	wait "${idle[@]}"
}
