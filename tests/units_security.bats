#!/usr/bin/env bats
# The units' sandbox (issue 17, item 6): every shipped service scores at
# most the README's figure in "systemd-analyze security --offline=yes"
# (its "Overall exposure level" line), and systemd-analyze verify passes
# for each socket with its service.  The sessions themselves run through
# each unit's ExecStart= in launch.bats, units_tls.bats and debian.bats;
# here two more run under MemoryDenyWriteExecute='s rule (tests/lib/mdwe.py,
# the kernel's PR_SET_MDWE) and no_new_privs: one in TLS (OpenSSL loaded
# by dl.c) and one that resolves the client's name (c-ares loaded).

load lib/common
load lib/certs

UNITS=$BATS_TEST_DIRNAME/../units
README=$BATS_TEST_DIRNAME/../README.md

# readme_score UNIT: the exposure the README's systemd section gives UNIT
readme_score() {
	awk -v u="| \`$1\` |" '/^## systemd/ { f = 1; next } /^## / { f = 0 }
	    f && index($0, u) == 1 { split($0, a, "|"); gsub(/ /, "", a[3]); print a[3] }' "$README"
}

@test "every service's systemd-analyze security score is at most the README's" {
	local svc name want got n=0
	for svc in "$UNITS"/*@.service; do
		name=${svc##*/}
		want=$(readme_score "$name")
		[[ $want =~ ^[0-9]+\.[0-9]$ ]] || { echo "README: no score for $name"; false; }
		got=$(systemd-analyze security --offline=yes "$svc" 2>&1 |
		    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
		[[ $got =~ ^[0-9]+\.[0-9]$ ]] || { echo "$name: no score from systemd-analyze"; false; }
		echo "$name: $got (README: $want)"
		awk -v g="$got" -v w="$want" 'BEGIN { exit !(g <= w) }' ||
		    { echo "$name scores $got, above the README's $want"; false; }
		n=$((n + 1))
	done
	[ "$n" -eq 7 ]
}

@test "systemd-analyze verify: each socket with its service, clean" {
	local sock svc
	mkdir "$T/units"
	cp "$UNITS"/*.socket "$UNITS"/*.service "$T/units/"
	# systemd checks that ExecStart= exists: point it at this build
	sed -i "s|^ExecStart=/usr/local/sbin/mailproxy|ExecStart=$(readlink -f "$MP")|" "$T/units/"*.service
	for sock in "$T"/units/*.socket; do
		svc=${sock%.socket}@.service
		run systemd-analyze verify --man=no "$sock" "$svc"
		[ "$status" -eq 0 ] || { echo "$sock: $output"; false; }
		[ -z "$output" ] || { echo "$sock: $output"; false; }
	done
}

@test "the sandbox's settings in every service" {
	local svc
	for svc in "$UNITS"/*@.service; do
		for kv in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
		    PrivateTmp=yes PrivateDevices=yes MemoryDenyWriteExecute=yes \
		    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallArchitectures=native \
		    SystemCallFilter=@system-service 'SystemCallFilter=~@privileged @resources' \
		    CapabilityBoundingSet= SocketBindDeny=any IPAddressDeny=any MemoryMax=64M \
		    MemorySwapMax=0 UMask=077 ProtectProc=invisible ProcSubset=pid; do
			grep -qxF "$kv" "$svc" || { echo "${svc##*/}: no $kv"; false; }
		done
	done
}

# syscall_set GROUP-OR-CALL...: the system calls they name, systemd's
# groups expanded (nested ones too), one per line
syscall_set() {
	local g
	for g; do
		case $g in
		@*) systemd-analyze syscall-filter "$g" | awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 }' |
		    while read -r n; do syscall_set "$n"; done ;;
		*) echo "$g" ;;
		esac
	done
}

@test "every call sandbox.c's filter allows is one the units' SystemCallFilter= allows: no session meets EPERM from systemd's filter" {
	local svc allow deny ours missing
	# the allow list, and the calls it allows for some arguments only
	ours=$( { sed -n '/^static const int allowed\[\]/,/^};/p' "$BATS_TEST_DIRNAME/../sandbox.c" |
	    grep -o '__NR_[a-z0-9_]*' | sed 's/^__NR_//'; echo socket ioctl prctl seccomp | tr ' ' '\n'; } | sort -u)
	[ "$(echo "$ours" | wc -l)" -gt 50 ]
	for svc in "$UNITS"/*@.service; do
		allow=$(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$svc")
		deny=$(sed -n 's/^SystemCallFilter=~\(.*\)/\1/p' "$svc")
		# shellcheck disable=SC2086
		missing=$(comm -23 <(echo "$ours") <(comm -23 <(syscall_set $allow | sort -u) <(syscall_set $deny | sort -u)))
		[ -z "$missing" ] || { echo "${svc##*/} refuses what sandbox.c allows:" $missing; false; }
	done
}

# mdwe_activate ARGS...: systemd-socket-activate --accept on $MPPORT
# running mailproxy ARGS under no_new_privs and MDWE, umask 077; the
# program itself under make test-valgrind too ($MPELF), since memcheck's
# translated code lives in W+X mappings that MDWE refuses
mdwe_activate() {
	local envs=() v
	for v in $LAUNCH_ENV; do envs+=(-E "$v"); done
	spawn mp systemd-socket-activate --accept -l "127.0.0.1:$MPPORT" "${envs[@]}" \
	    setpriv --no-new-privs sh -c 'umask 077 && exec "$@"' sh \
	    "$PYTHON" "$TESTLIB/mdwe.py" "$MPELF" "$@" && wait_port "$MPPORT"
}

@test "under MDWE (as MemoryDenyWriteExecute=yes) no mapping is W+X, and a TLS session loads OpenSSL and runs" {
	local BE
	# the rule holds across execve: a W+X mapping is refused
	run "$PYTHON" "$TESTLIB/mdwe.py" "$PYTHON" -c \
	    'import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)'
	[ "$status" -ne 0 ]
	[[ $output == *PermissionError* ]]
	certs_make
	MPPORT=$(free_port) BE=$(free_port)
	mdwe_activate --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --proxy-smtp-auth=on --ssl=on --ssl-certificate="$CERTS_RSA_CRT" \
	    --ssl-certificate-key="$CERTS_RSA_KEY"
	{ sleep 1; printf 'QUIT\r\n'; sleep 1; } |
	    timeout 10 openssl s_client -connect "127.0.0.1:$MPPORT" -quiet -CAfile "$CERTS_CA" \
	    -verify_return_error -verify_hostname mx.test -servername mx.test >"$T/s_client.out" 2>&1 || :
	grep -q '^220 mx.test ESMTP ready' "$T/s_client.out" || { cat "$T/s_client.out"; false; }
	grep -q '^221 ' "$T/s_client.out"
	wait_log "$T/mp.log" 'outcome="client quit before logging in"'
	grep -q 'tls=TLSv1\.3/' "$T/mp.log"
}

@test "under MDWE a session that resolves the client's name loads c-ares and runs" {
	local BE DNS
	MPPORT=$(free_port) BE=$(free_port) DNS=$(free_port)
	spawn dns "$PYTHON" "$TESTLIB/fake_dns.py" "$DNS" "$T/dns.queries" --ready "$T/dns.ready" \
	    PTR:127.0.0.1=client.example.test A:client.example.test=127.0.0.1
	wait_for_file "$T/dns.ready"
	start_fake_smtp "$BE"
	mdwe_activate --protocol=smtp --backend="127.0.0.1:$BE" --server-name=mx.test \
	    --proxy-smtp-auth=on --resolver="127.0.0.1:$DNS"
	run smtp_chat "$MPPORT" <<<$'EHLO client.example\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT'
	[[ "$output" == *$'235 2.0.0 OK\r\n221 2.0.0 Bye\r'* ]]
	grep -q 'XCLIENT .*NAME=client\.example\.test' "$T/fake-$BE.transcript"
	wait_log "$T/mp.log" 'outcome="ok"'
}
