# hosts.bash - "hosts" for the scale-out test: network namespaces where the
# machine allows them, else loopback addresses.  Needs common.bash.
#
#   hosts_init                  decides the mode; exports HOSTS_MODE (netns
#                               or loopback) and SVC_ADDR, the address at
#                               which every host reaches the shared services
#   host_add NAME               makes a host; prints its address
#   host_run NAME SPAWNNAME CMD...  spawn()s CMD on that host
#   host_wait ADDR PORT         waits until ADDR:PORT answers
#   svc_expose PORT             makes 127.0.0.1:PORT (a service on this
#                               machine) reachable from every host at
#                               SVC_ADDR:PORT
#   hosts_fini                  removes what hosts_init and host_add made
#
# netns: each host is a namespace of its own with a veth pair to this one
# (10.99.N.2 in the host, 10.99.N.1 here) and a default route back; the
# services are reached at 10.99.0.1, an address on this namespace's
# loopback that every host routes to, through small forwarders to the
# services' 127.0.0.1 ports.  The connections the hosts receive come
# from 10.99.N.1.  loopback: each host is an address 127.0.0.(N+1) on this
# machine, the services are at 127.0.0.1, and connections to the hosts come
# from 127.0.0.1.  HOSTS_FROM is the network the hosts' peers come from.

hosts_init() {
	_tdir
	HOSTS_TAG=mp$$x$RANDOM
	: >"$T/.hosts"
	if [[ ${HOSTS_MODE:-} != loopback ]] && ip netns add "${HOSTS_TAG}probe" 2>/dev/null; then
		ip netns del "${HOSTS_TAG}probe"
		HOSTS_MODE=netns
		SVC_ADDR=10.99.0.1
		HOSTS_FROM=10.99.0.0/16
		ip addr add "$SVC_ADDR/32" dev lo 2>/dev/null || :
		sysctl -qw net.ipv4.ip_forward=1 2>/dev/null || :
	else
		HOSTS_MODE=loopback
		SVC_ADDR=127.0.0.1
		HOSTS_FROM=127.0.0.1/32
	fi
	export HOSTS_MODE SVC_ADDR HOSTS_FROM
}

host_add() {
	local name=$1 n ns link
	# (called in $(...): the count is the file's, not a variable's)
	n=$(($(wc -l <"$T/.hosts") + 1))
	if [[ $HOSTS_MODE == loopback ]]; then
		echo "$name loopback" >>"$T/.hosts"
		echo "127.0.0.$((n + 1))"
		return
	fi
	ns=$HOSTS_TAG$name
	# interface names are at most 15 bytes: the host's number and our PID
	link=mpv$n$$
	link=${link:0:14}
	echo "$name $ns ${link}a" >>"$T/.hosts"
	ip netns add "$ns" &&
	ip link add "${link}a" type veth peer name "${link}b" &&
	ip link set "${link}b" netns "$ns" &&
	ip addr add "10.99.$n.1/24" dev "${link}a" &&
	ip link set "${link}a" up &&
	ip -n "$ns" addr add "10.99.$n.2/24" dev "${link}b" &&
	ip -n "$ns" link set "${link}b" up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" route add default via "10.99.$n.1" || return 1
	echo "10.99.$n.2"
}

host_run() {
	local name=$1 spawnname=$2
	shift 2
	if [[ $HOSTS_MODE == loopback ]]; then
		spawn "$spawnname" "$@"
	else
		spawn "$spawnname" ip netns exec "$HOSTS_TAG$name" "$@"
	fi
}

# A forwarder per exposed port: bytes both ways, nothing added, so a PROXY
# header the host sends reaches the service as it was sent.
svc_expose() {
	local port=$1
	[[ $HOSTS_MODE == netns ]] || return 0
	spawn "fwd-$port" "$PYTHON" -c '
import socket, sys, threading
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(64)
while True:
    c, _ = l.accept()
    u = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
' "$SVC_ADDR" "$port"
	host_wait "$SVC_ADDR" "$port"
}

# host_wait ADDR PORT: until a connection to ADDR:PORT succeeds (a listener
# on a host, or a service as the hosts reach it): bounded, 10 s.
host_wait() {
	local end=$((SECONDS + 10))
	until "$PYTHON" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' "$1" "$2" 2>/dev/null; do
		((SECONDS < end)) || { echo "host_wait: $1:$2 does not answer" >&2; return 1; }
		sleep 0.1
	done
}

hosts_fini() {
	local name ns link
	[[ -f $T/.hosts ]] || return 0
	while read -r name ns link; do
		[[ $ns == loopback ]] && continue
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || :
		ip link del "$link" 2>/dev/null || :
		ip netns del "$ns" 2>/dev/null || :
	done <"$T/.hosts"
	rm -f "$T/.hosts"
}
