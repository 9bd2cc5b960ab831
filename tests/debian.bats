#!/usr/bin/env bats
# The Debian package (issue 17, item 7): dpkg-buildpackage in a copy of the
# tree (the checkout stays clean), lintian without an error or a warning,
# dpkg -i: the binary, the man page, the units (none enabled) and the
# commented /etc/mailproxy conffiles; one SMTP session through
# systemd-socket-activate with the INSTALLED unit's ExecStart=,
# Environment= and EnvironmentFile=, as nobody; dpkg --purge leaves
# nothing.  This machine's package database is used: run as root (CI is),
# on a machine where mailproxy is not installed already.

load lib/common

PKGDIR=/lib/systemd/system

setup_file() {
	local root=$BATS_TEST_DIRNAME/.. d=$BATS_FILE_TMPDIR/deb
	export DEB_DIR=$d
	if dpkg-query -W -f='${Status}' mailproxy 2>/dev/null | grep -q ' installed$'; then
		export DEB_SKIP="mailproxy is installed on this machine: this file would purge it"
		return 0
	fi
	mkdir -p "$d/src"
	# the tracked files as they are in the working tree, no build products
	(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$d/src")
	(cd "$d/src" && timeout 300 nice dpkg-buildpackage -us -uc -b) >"$d/build.log" 2>&1 ||
	    { export DEB_SKIP="dpkg-buildpackage failed: $(tail -5 "$d/build.log")"; return 0; }
	timeout 60 dpkg -i "$d/mailproxy_"*"_$(dpkg --print-architecture).deb" >"$d/install.log" 2>&1 ||
	    export DEB_SKIP="dpkg -i failed: $(cat "$d/install.log")"
}

teardown_file() {
	[[ -n ${DEB_SKIP:-} && ${DEB_SKIP} == *"installed on this machine"* ]] ||
	    timeout 60 dpkg --purge mailproxy >/dev/null 2>&1 || :
}

setup() {
	common_setup
	# a failed build or install fails each test, saying why (CI=true
	# counts a skip as a failure, and so does a developer reading it)
	[[ -z ${DEB_SKIP:-} ]] || { echo "$DEB_SKIP" >&2; false; }
	BE=$(free_port)
	MPPORT=$(free_port)
}

# unit_value FILE KEY: every value of KEY= in FILE, one a line
unit_value() { sed -n "s/^$2=//p" "$1"; }

@test "the package builds, and lintian reports no error and no warning" {
	ls "$DEB_DIR"/mailproxy_*.changes
	run timeout 120 lintian "$DEB_DIR"/mailproxy_*.changes
	echo "$output"
	! grep -qE '^[EW]: ' <<<"$output" || false
	# the checkout is untouched: no debian/mailproxy, no build products
	[ ! -e "$BATS_TEST_DIRNAME/../debian/mailproxy" ]
	[ ! -e "$BATS_TEST_DIRNAME/../debian/files" ]
}

@test "dpkg -i: binary, man page, units with /usr/sbin in ExecStart=, none enabled, the conffiles" {
	local u n
	[ -x /usr/sbin/mailproxy ]
	/usr/sbin/mailproxy --version
	[ -s /usr/share/man/man8/mailproxy.8.gz ]
	[ -s /usr/share/doc/mailproxy/copyright ]
	n=0
	for u in "$BATS_TEST_DIRNAME"/../units/*.socket "$BATS_TEST_DIRNAME"/../units/*@.service; do
		[ -f "$PKGDIR/${u##*/}" ]
		n=$((n + 1))
	done
	[ "$n" -eq 14 ]
	for u in "$PKGDIR"/mailproxy-*@.service; do
		grep -qE '^ExecStart=/usr/sbin/mailproxy( |$)' "$u"
		! grep -v "^#" "$u" | grep -q /usr/local || false
	done
	# disabled: nothing of ours in any .wants directory
	run find /etc/systemd/system -name 'mailproxy*'
	[ "$output" = "" ]
	# the environment files: conffiles, root's alone, every line a comment
	for n in smtp submission submissions pop3 pop3s imap imaps; do
		dpkg-query -W -f='${Conffiles}\n' mailproxy | grep -q "^ /etc/mailproxy/$n.conf "
		[ "$(stat -c '%a %U' "/etc/mailproxy/$n.conf")" = "600 root" ]
		! grep -qv '^#' "/etc/mailproxy/$n.conf" || false
		grep -q '^#MAILPROXY_BACKEND=' "/etc/mailproxy/$n.conf"
		[[ $(unit_value "$PKGDIR/mailproxy-$n@.service" EnvironmentFile) == "-/etc/mailproxy/$n.conf" ]]
	done
	# the libraries dl.c loads: libssl3 needed, the other two recommended
	dpkg-query -W -f='${Depends}\n' mailproxy | grep -qw libssl3
	dpkg-query -W -f='${Recommends}\n' mailproxy | grep -qw libc-ares2
	dpkg-query -W -f='${Recommends}\n' mailproxy | grep -qw libsystemd0
}

@test "the installed mailproxy-smtp@.service: one session through its ExecStart= and EnvironmentFile=, as nobody" {
	local svc=$PKGDIR/mailproxy-smtp@.service exec words envs=() line file
	exec=$(unit_value "$svc" ExecStart)
	[[ $(wc -l <<<"$exec") -eq 1 ]]
	read -ra words <<<"$exec"
	[ "${words[0]}" = /usr/sbin/mailproxy ]
	# the operator's edit of the shipped file: its commented lines kept
	file=$(unit_value "$svc" EnvironmentFile)
	file=${file#-}
	cp "$file" "$T/smtp.conf.orig"
	printf '%s\n' "MAILPROXY_BACKEND=127.0.0.1:$BE" MAILPROXY_SERVER_NAME=mx.test \
	    MAILPROXY_PROXY_SMTP_AUTH=on >>"$file"
	# systemd reads Environment= and the file as root, then starts the
	# program as the dynamic user: here, nobody
	while IFS= read -r line; do envs+=(-E "$line"); done < <(unit_value "$svc" Environment)
	while IFS= read -r line; do
		[[ -z $line || $line == \#* ]] || envs+=(-E "$line")
	done <"$file"
	cp "$T/smtp.conf.orig" "$file"
	start_fake_smtp "$BE"
	spawn unit systemd-socket-activate --accept -l "127.0.0.1:$MPPORT" "${envs[@]}" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
	    "${words[@]}"
	wait_port "$MPPORT"
	run smtp_chat "$MPPORT" <<<$'EHLO client.example\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT'
	[[ "$output" == $'220 mx.test ESMTP ready\r\n250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n235 2.0.0 OK\r\n221 2.0.0 Bye\r' ]]
	grep -q 'XCLIENT ADDR=127.0.0.1 ' "$T/fake-$BE.transcript"
	wait_log "$T/unit.log" 'smtp client=127\.0\.0\.1:[0-9]+ user="alice" .*outcome="ok"'
}

@test "dpkg --purge: the binary, the units and /etc/mailproxy gone" {
	timeout 60 dpkg --purge mailproxy
	[ ! -e /usr/sbin/mailproxy ]
	[ ! -e /usr/share/man/man8/mailproxy.8.gz ]
	[ -z "$(find "$PKGDIR" -name 'mailproxy*')" ]
	[ ! -e /etc/mailproxy ]
	! dpkg-query -W -f='${Status}' mailproxy 2>/dev/null | grep -q installed || false
}
