#!/usr/bin/env bats
# .ci/install, the README's first command: as root on a machine without
# sudo (a fresh Debian, a container) it installs by itself; as a user it
# runs itself again through sudo.  apt-get and debconf-set-selections are
# stubs that record their calls, so nothing is installed; each run is in a
# mount namespace of its own with a tmpfs on /usr/sbin, so the policy-rc.d
# it writes there and removes is never the machine's.

load lib/common

setup() {
	common_setup
	# a copy of .ci and a bin directory that nobody can read too ($T cannot)
	W=$(mktemp -d /tmp/mailproxy-install.XXXXXX)
	chmod 755 "$W"
	mkdir "$W/ci" "$W/bin"
	cp "$BATS_TEST_DIRNAME/../.ci/install" "$BATS_TEST_DIRNAME/../.ci/packages" "$W/ci/"
	: >"$W/calls"
	chmod 666 "$W/calls"
	# the tools .ci/install uses, and nothing else: no sudo
	for t in sh dirname id cat chmod rm; do ln -s "$(command -v "$t")" "$W/bin/$t"; done
	stub apt-get 'echo "apt-get $* (policy-rc.d: $(/usr/sbin/policy-rc.d; echo $?), uid $(id -u))"'
	stub debconf-set-selections 'echo "debconf-set-selections $(cat) (uid $(id -u))"'
}

teardown() {
	rm -rf "$W"
	common_teardown
}

# stub NAME BODY: $W/bin/NAME runs BODY with its output appended to the calls
stub() {
	printf '#!/bin/sh\n{ %s; } >>%s\n' "$2" "$W/calls" >"$W/$1"
	chmod 755 "$W/$1"
	mv "$W/$1" "$W/bin/$1"
}

# install [AS...]: run $W/ci/install (through AS, a full path) in a mount
# namespace with an empty /usr/sbin, PATH=$W/bin; $output, $status as run's
install() {
	run unshare -m sh -c 'mount -t tmpfs tmpfs /usr/sbin && PATH=$0 exec "$@"' \
	    "$W/bin" "$@" "$W/ci/install"
}

@test "as root without sudo: installs the packages itself, policy-rc.d keeps services down" {
	[ -z "$(PATH=$W/bin; command -v sudo)" ]
	install
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$(sed -n 1p "$W/calls")" = "debconf-set-selections postfix postfix/main_mailer_type select No configuration (uid 0)" ]
	[ "$(sed -n 2p "$W/calls")" = "apt-get update -qq (policy-rc.d: 101, uid 0)" ]
	[ "$(sed -n 3p "$W/calls")" = "apt-get install -y -qq --no-install-recommends $(tr '\n' ' ' <"$W/ci/packages" | sed 's/ *$//') (policy-rc.d: 101, uid 0)" ]
	[ "$(wc -l <"$W/calls")" -eq 3 ]
}

@test "as root: an apt-get that fails fails the install, and policy-rc.d is removed" {
	stub apt-get 'echo "apt-get $*"; exit 100'
	run unshare -m sh -c 'mount -t tmpfs tmpfs /usr/sbin && PATH=$0 "$1"; echo "status $?"; ls /usr/sbin' \
	    "$W/bin" "$W/ci/install"
	[ "$output" = "status 100" ]
	[ "$(tail -n 1 "$W/calls")" = "apt-get update -qq" ]
}

@test "as a user: runs itself again through sudo, and installs nothing itself" {
	stub sudo 'echo "sudo $* (uid $(id -u))"'
	install /usr/bin/setpriv --reuid=nobody --regid=nogroup --clear-groups
	[ "$status" -eq 0 ]
	[ "$(cat "$W/calls")" = "sudo -- $W/ci/install (uid 65534)" ]
}

@test "as a user whose sudo refuses: the install fails" {
	stub sudo 'echo "sudo $*"; exit 1'
	install /usr/bin/setpriv --reuid=nobody --regid=nogroup --clear-groups
	[ "$status" -eq 1 ]
	[ "$(cat "$W/calls")" = "sudo -- $W/ci/install" ]
}

@test "the README's first command, as root where sudo is missing: installs, builds, runs the demo" {
	local cmd
	cmd=$(awk '/^## Try it/ { f = 1; next } /^## / { f = 0 }
	    f && /^    / { print substr($0, 5); exit }' "$BATS_TEST_DIRNAME/../README.md")
	[[ $cmd == *.ci/install* ]]
	stub sudo 'echo "sudo: command not found" >&2; exit 127'
	run unshare -m sh -c 'mount -t tmpfs tmpfs /usr/sbin && cd "$1/.." &&
	    export PATH="$0:$PATH" && eval "$2"' "$W/bin" "$BATS_TEST_DIRNAME" "$cmd"
	[ "$status" -eq 0 ]
	[[ $output == *$'\nS: 235 2.0.0 OK\n'* ]]
	[[ $output == *'outcome="ok"'* ]]
	[ "$(grep -c '^apt-get ' "$W/calls")" -eq 2 ]
}
