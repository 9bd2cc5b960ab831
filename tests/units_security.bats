#!/usr/bin/env bats
# The units' sandbox (issue 17, item 6): every shipped service scores at
# most the README's figure in "systemd-analyze security --offline=yes"
# (its "Overall exposure level" line), and systemd-analyze verify passes
# for each socket with its service.  The sessions themselves run through
# each unit's ExecStart= in launch.bats, units_tls.bats and debian.bats.

load lib/common

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
