# mailservers.bash - private Postfix and Dovecot instances on 127.0.0.1 for
# end-to-end tests.  Needs common.bash (free_port, wait_port, wait_gone);
# loads certs.bash itself.
#
#   load lib/common; load lib/mailservers
#   setup_file()    { mail_servers_start; }
#   setup()         { common_setup; mail_servers_require; }
#   teardown_file() { mail_servers_stop; }
#
# mail_servers_start exports:
#   POSTFIX_PORT            smtpd; XCLIENT allowed from 127.0.0.0/8
#   POSTFIX_HAPROXY_PORT    smtpd that wants a PROXY v1/v2 header first (and
#                           allows XCLIENT too)
#   POSTFIX_NOXCLIENT_PORT  smtpd that allows XCLIENT from nobody
#   DOVECOT_IMAP_PORT DOVECOT_POP3_PORT                 plain listeners; they
#                           offer STARTTLS / STLS too (ssl = yes, CERTS_RSA_*)
#   DOVECOT_IMAP_HAPROXY_PORT DOVECOT_POP3_HAPROXY_PORT haproxy = yes
#   DOVECOT_IMAPS_PORT DOVECOT_POP3S_PORT               implicit TLS (CERTS_RSA_*)
#   DOVECOT_SECURE_ADDR     127.0.0.2: where the two ports below listen
#   DOVECOT_IMAP_SECURE_PORT DOVECOT_POP3_SECURE_PORT   a second Dovecot
#                           instance on 127.0.0.2 with haproxy = yes,
#                           disable_plaintext_auth = yes, haproxy_trusted_
#                           networks = 127.0.0.1/32 and no login_trusted_
#                           networks: a login is accepted only when the PROXY
#                           v2 header carries PP2_TYPE_SSL with PP2_CLIENT_SSL
#                           (or after STARTTLS); it logs to DOVECOT_LOG, its
#                           Login line ends in "secured" (TLV) or "TLS"
#   POSTFIX_PORTLOG_PORT    smtpd as POSTFIX_PORT that also logs the client's
#                           port (smtpd_client_port_logging: "client=
#                           name[addr]:port"), so that XCLIENT PORT= shows
#   POSTFIX_LOGIN_PORT      smtpd whose AUTH offers LOGIN only
#                           (smtpd_sasl_mechanism_filter), port logging too
#   POSTFIX_TLS_PORT        smtpd offering STARTTLS (CERTS_RSA_*, level may)
#   POSTFIX_SMTPS_PORT      smtpd with implicit TLS (smtpd_tls_wrappermode)
#                           Both allow XCLIENT from 127.0.0.0/8, as POSTFIX_PORT;
#                           POSTFIX_PORT and the others offer no STARTTLS.
#   CERTS_*                 certs.bash's, made by certs_make (kept if set)
# mail_servers_start_trusted (after mail_servers_start) adds:
#   DOVECOT_TRUSTED_ADDR    127.0.0.3: where the two ports below listen
#   DOVECOT_IMAP_TRUSTED_PORT DOVECOT_POP3_TRUSTED_PORT  a third Dovecot
#                           instance with login_trusted_networks =
#                           127.0.0.1/32 (the proxy's address): it takes the
#                           client's address and session id from IMAP ID
#                           (x-originating-ip, x-session-id ...) and POP3
#                           XCLIENT (ADDR PORT SESSION); logs to DOVECOT_LOG
#   ALICE_MAILDIR BOB_MAILDIR   Maildirs (alice/secret, bob/'p a"s\s')
#   POSTFIX_LOG DOVECOT_LOG     log files ("client=...[ADDR], sasl_method=...,
#                               sasl_username=..." / "Login: user=<..>, ..., rip=...")
#   MAILSERVERS_DIR POSTFIX_CONFIG_DIR DOVECOT_CONF     the state, the configs
#   MAIL_SERVERS_SKIP       why they did not start (empty when they did)
# When a server cannot start: with CI=true mail_servers_start fails (setup_file
# fails loudly); otherwise the tests that call mail_servers_require skip.
#
# All state lives under $MAILSERVERS_DIR (/tmp/mailproxy-ms.XXXXXX, world-
# traversable because postfix, dovecot, dovenull and mail must reach it);
# nothing under /etc, /run or /var is configured or written.  Mail for
# example.test goes Postfix -> pipe -> dovecot-lda (Debian 12 ships Dovecot's
# LMTP server only in dovecot-lmtpd; LDA needs no extra package).  Dovecot
# runs with auth_failure_delay = 0 and no auth penalty so failure tests stay
# fast.  MAILSERVERS_KEEP=1 keeps the directory after stop.

# shellcheck source=tests/lib/certs.bash
source "$(dirname "${BASH_SOURCE[0]}")/certs.bash"

MS_USERS=(alice bob)
MS_PASS_alice='secret'
MS_PASS_bob='p a"s\s'
# The mail owner: a system account that exists on every Debian (uid 8).
MS_MAIL_USER=mail

# _ms_fail MSG: give up starting: fail loudly when CI=true, else record a
# skip reason for mail_servers_require.
_ms_fail() {
	local msg
	msg=$(printf '%s' "$*" | tr -d '\r' | tr -s '\n' '|')
	set -- "$msg"
	echo "mail_servers_start: $*" >&2
	if [[ ${CI:-} == true ]]; then
		mail_servers_stop
		return 1
	fi
	export MAIL_SERVERS_SKIP="mail servers unavailable: $*"
	mail_servers_stop
	return 0
}

# mail_servers_require: in setup(): skip the test if the servers did not start.
mail_servers_require() {
	if [[ -n ${MAIL_SERVERS_SKIP:-} ]]; then skip "$MAIL_SERVERS_SKIP"; fi
	if [[ -z ${POSTFIX_PORT:-} ]]; then
		echo "mail_servers_require: mail_servers_start was not called in setup_file" >&2
		return 1
	fi
}

# _ms_dovecot_conf: write $D/dovecot.conf and the users file.
_ms_dovecot_conf() {
	local D=$1 u uid gid
	uid=$(id -u "$MS_MAIL_USER") gid=$(id -g "$MS_MAIL_USER")
	mkdir -p "$D/run" "$D/state" "$MAILSERVERS_DIR/mail"
	: >"$D/users"
	for u in "${MS_USERS[@]}"; do
		local pw="MS_PASS_$u"
		mkdir -p "$MAILSERVERS_DIR/mail/$u"
		printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$u" "${!pw}" "$uid" "$gid" \
			"$MAILSERVERS_DIR/mail/$u" >>"$D/users"
	done
	chown -R "$uid:$gid" "$MAILSERVERS_DIR/mail"
	chmod 640 "$D/users"
	chgrp dovecot "$D/users"
	: >"$DOVECOT_LOG"
	install -o "$uid" -g "$gid" -m 644 /dev/null "$D/lda.log"
	cat >"$D/dovecot.conf" <<EOF
# private test instance (tests/lib/mailservers.bash)
instance_name = mailproxy-test-${MAILSERVERS_DIR##*.}
base_dir = $D/run
state_dir = $D/state
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$CERTS_RSA_CRT
ssl_key = <$CERTS_RSA_KEY
disable_plaintext_auth = no
haproxy_trusted_networks = 127.0.0.0/8
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DOVECOT_IMAPS_PORT
    ssl = yes
  }
  inet_listener imap_haproxy {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_HAPROXY_PORT
    haproxy = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DOVECOT_POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $DOVECOT_POP3S_PORT
    ssl = yes
  }
  inet_listener pop3_haproxy {
    address = 127.0.0.1
    port = $DOVECOT_POP3_HAPROXY_PORT
    haproxy = yes
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0660
    user = $MS_MAIL_USER
    group = $(id -gn "$MS_MAIL_USER")
  }
}
$(_ms_dovecot_shared "$D" "$uid" "$gid")
EOF
	chmod 644 "$D/dovecot.conf"
}

# _ms_dovecot_shared D UID GID: what every private Dovecot instance has:
# logins logged to $DOVECOT_LOG, the users and Maildirs of $D, no auth
# penalty and no per-IP connection limit.
_ms_dovecot_shared() {
	local D=$1 uid=$2 gid=$3
	cat <<EOF
auth_mechanisms = plain login
auth_verbose = yes
# no 2 s pause after a wrong password: keeps failure tests fast
auth_failure_delay = 0
auth_username_chars =
log_path = $DOVECOT_LOG
info_log_path = $DOVECOT_LOG
log_timestamp = "%Y-%m-%d %H:%M:%S "
login_log_format_elements = user=<%u> method=%m rip=%r lip=%l rport=%b lport=%a mpid=%e %c session=<%{session}>
first_valid_uid = $uid
first_valid_gid = $gid
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $D/users
}
userdb {
  driver = passwd-file
  args = $D/users
}
# No auth penalty: after a failed login Dovecot would hold the next login
# from the same IP (all tests come from 127.0.0.1) for 4-15 s.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 100
}
protocol pop3 {
  mail_max_userip_connections = 100
}
EOF
}

# _ms_dovecot_secure_conf D2 D: write $D2/dovecot.conf, a second instance on
# $DOVECOT_SECURE_ADDR (127.0.0.2) sharing $D/users and the Maildirs, where
# only a secured connection may log in.  A second instance because
# disable_plaintext_auth is per login process, not per listener, and a local
# block would match the address in the PROXY header, not the real one.
# Dovecot takes a connection as secured when it is TLS, comes from its own
# address or from login_trusted_networks, or (haproxy) carries the SSL TLV:
# here the client connects from 127.0.0.1 to 127.0.0.2 and nothing is
# trusted, so only the TLV (or STARTTLS) lets a LOGIN through.
_ms_dovecot_secure_conf() {
	local D2=$1 D=$2 uid gid
	uid=$(id -u "$MS_MAIL_USER") gid=$(id -g "$MS_MAIL_USER")
	mkdir -p "$D2/run" "$D2/state"
	cat >"$D2/dovecot.conf" <<EOF
# private test instance (tests/lib/mailservers.bash): secured logins only
instance_name = mailproxy-test-secure-${MAILSERVERS_DIR##*.}
base_dir = $D2/run
state_dir = $D2/state
protocols = imap pop3
listen = $DOVECOT_SECURE_ADDR
ssl = yes
ssl_cert = <$CERTS_RSA_CRT
ssl_key = <$CERTS_RSA_KEY
disable_plaintext_auth = yes
login_trusted_networks =
haproxy_trusted_networks = 127.0.0.1/32
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
  inet_listener imap_secure {
    address = $DOVECOT_SECURE_ADDR
    port = $DOVECOT_IMAP_SECURE_PORT
    haproxy = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
  inet_listener pop3_secure {
    address = $DOVECOT_SECURE_ADDR
    port = $DOVECOT_POP3_SECURE_PORT
    haproxy = yes
  }
}
$(_ms_dovecot_shared "$D" "$uid" "$gid")
EOF
	chmod 644 "$D2/dovecot.conf"
}

# _ms_dovecot_trusted_conf D3 D: write $D3/dovecot.conf, a third instance
# on $DOVECOT_TRUSTED_ADDR (127.0.0.3) sharing $D/users and the Maildirs,
# that trusts the proxy's address (login_trusted_networks): what Dovecot
# needs to take the client's address from a proxy's IMAP ID or POP3
# XCLIENT.  Its own instance: login_trusted_networks is the login
# processes', not a listener's, and the first instance trusts nobody.
_ms_dovecot_trusted_conf() {
	local D3=$1 D=$2 uid gid
	uid=$(id -u "$MS_MAIL_USER") gid=$(id -g "$MS_MAIL_USER")
	mkdir -p "$D3/run" "$D3/state"
	cat >"$D3/dovecot.conf" <<EOF
# private test instance (tests/lib/mailservers.bash): trusts 127.0.0.1
instance_name = mailproxy-test-trusted-${MAILSERVERS_DIR##*.}
base_dir = $D3/run
state_dir = $D3/state
protocols = imap pop3
listen = $DOVECOT_TRUSTED_ADDR
ssl = no
disable_plaintext_auth = no
login_trusted_networks = 127.0.0.1/32
service imap-login {
  inet_listener imap {
    address = $DOVECOT_TRUSTED_ADDR
    port = $DOVECOT_IMAP_TRUSTED_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = $DOVECOT_TRUSTED_ADDR
    port = $DOVECOT_POP3_TRUSTED_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
$(_ms_dovecot_shared "$D" "$uid" "$gid")
EOF
	chmod 644 "$D3/dovecot.conf"
}

# mail_servers_start_trusted: in setup_file, after mail_servers_start: the
# third Dovecot (above).  Fails, or records a skip, as mail_servers_start.
mail_servers_start_trusted() {
	local D3=$MAILSERVERS_DIR/dovecot-trusted c
	[[ -z ${MAIL_SERVERS_SKIP:-} ]] || return 0
	export DOVECOT_TRUSTED_ADDR=127.0.0.3 DOVECOT_IMAP_TRUSTED_PORT DOVECOT_POP3_TRUSTED_PORT
	read -r -d '' DOVECOT_IMAP_TRUSTED_PORT DOVECOT_POP3_TRUSTED_PORT < <(free_port 2) || :
	_ms_dovecot_trusted_conf "$D3" "$MAILSERVERS_DIR/dovecot"
	if ! dovecot -c "$D3/dovecot.conf" >"$MAILSERVERS_DIR/dovecot-trusted.start" 2>&1; then
		_ms_fail "dovecot (trusted) did not start: $(cat "$MAILSERVERS_DIR/dovecot-trusted.start" "$DOVECOT_LOG" | tail -n 5)"
		return
	fi
	for c in $DOVECOT_IMAP_TRUSTED_PORT $DOVECOT_POP3_TRUSTED_PORT; do
		wait_port "$c" 10 || { _ms_fail "dovecot (trusted) does not listen on $c: $(tail -20 "$DOVECOT_LOG")"; return; }
	done
}

# _ms_postfix_conf: write $P/main.cf and $P/master.cf.
_ms_postfix_conf() {
	local P=$1 D=$2
	local Q=$MAILSERVERS_DIR/postfix-queue d
	# The queue as "post-install create-missing" makes it (postfix-files),
	# made here because that script takes 2 s; "quick-start" then lets
	# "postfix start" skip its 3 s of integrity checks (postfix-script).
	mkdir -p "$Q" "$MAILSERVERS_DIR/postfix-data"
	chown postfix "$MAILSERVERS_DIR/postfix-data"
	for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
		install -d -o postfix -g root -m 700 "$Q/$d"
	done
	install -d -o postfix -g postdrop -m 730 "$Q/maildrop"
	install -d -o postfix -g postdrop -m 710 "$Q/public"
	install -d -o root -g root -m 755 "$Q/pid"
	touch "$Q/quick-start"
	: >"$POSTFIX_LOG"
	cat >"$P/main.cf" <<EOF
# private test instance (tests/lib/mailservers.bash)
compatibility_level = 3.6
queue_directory = $MAILSERVERS_DIR/postfix-queue
data_directory = $MAILSERVERS_DIR/postfix-data
maillog_file = $POSTFIX_LOG
maillog_file_prefixes = $MAILSERVERS_DIR
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4, ipv6
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtpd_peername_lookup = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $D/run/auth-postfix
smtpd_sasl_authenticated_header = yes
smtpd_relay_restrictions =
smtpd_recipient_restrictions = permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.test
virtual_transport = dovecot
dovecot_destination_recipient_limit = 1
smtputf8_enable = no
# TLS only on the ports that set a level (master.cf): POSTFIX_TLS_PORT and
# POSTFIX_SMTPS_PORT; they ask for (never require) a client cert and trust
# CERTS_CLIENT_CA's
smtpd_tls_security_level = none
smtpd_tls_cert_file = $CERTS_RSA_CRT
smtpd_tls_key_file = $CERTS_RSA_KEY
smtpd_tls_CAfile = $CERTS_CLIENT_CA
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
EOF
	cat >"$P/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
127.0.0.1:$POSTFIX_HAPROXY_PORT inet n - n - - smtpd
  -o smtpd_upstream_proxy_protocol=haproxy
  -o smtpd_authorized_xclient_hosts=0.0.0.0/0,[::]/0
127.0.0.1:$POSTFIX_NOXCLIENT_PORT inet n - n - - smtpd
  -o smtpd_authorized_xclient_hosts=
127.0.0.1:$POSTFIX_PORTLOG_PORT inet n - n - - smtpd
  -o smtpd_client_port_logging=yes
127.0.0.1:$POSTFIX_LOGIN_PORT inet n - n - - smtpd
  -o smtpd_sasl_mechanism_filter=login
  -o smtpd_client_port_logging=yes
127.0.0.1:$POSTFIX_TLS_PORT inet n - n - - smtpd
  -o smtpd_tls_security_level=may
  -o smtpd_tls_ask_ccert=yes
127.0.0.1:$POSTFIX_SMTPS_PORT inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_ask_ccert=yes
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
dovecot   unix  -       n       n       -       -       pipe
  flags=DRhu user=$MS_MAIL_USER:$(id -gn "$MS_MAIL_USER")
  argv=/usr/lib/dovecot/dovecot-lda -c $D/dovecot.conf -o log_path=$D/lda.log -o info_log_path=$D/lda.log -f \${sender} -d \${user}
EOF
	# Postfix re-reads a main.cf younger than 1 s, 300 ms at a time, until it
	# is older (dict_load_file): date both files back to save ~2 s per start.
	touch -d '-1 minute' "$P/main.cf" "$P/master.cf"
}

# mail_servers_start: start private Dovecot and Postfix; exports the ports,
# MAILSERVERS_DIR, ALICE_MAILDIR, BOB_MAILDIR, DOVECOT_LOG, POSTFIX_LOG.
mail_servers_start() {
	local c D P D2
	export MAIL_SERVERS_SKIP=
	for c in postfix postconf dovecot doveconf /usr/lib/dovecot/dovecot-lda \
		/usr/lib/postfix/sbin/postlogd; do
		command -v "$c" >/dev/null || { _ms_fail "$c not installed (packages postfix, dovecot-core, dovecot-imapd, dovecot-pop3d)"; return; }
	done
	for c in postfix dovecot dovenull "$MS_MAIL_USER"; do
		id "$c" >/dev/null 2>&1 || { _ms_fail "no system user $c"; return; }
	done
	export MAILSERVERS_DIR
	MAILSERVERS_DIR=$(mktemp -d /tmp/mailproxy-ms.XXXXXX) || { _ms_fail "mktemp"; return; }
	chmod 755 "$MAILSERVERS_DIR"
	D=$MAILSERVERS_DIR/dovecot P=$MAILSERVERS_DIR/postfix D2=$MAILSERVERS_DIR/dovecot-secure
	mkdir -p "$D" "$P" "$D2"
	export DOVECOT_CONF=$D/dovecot.conf POSTFIX_CONFIG_DIR=$P
	export DOVECOT_LOG=$MAILSERVERS_DIR/dovecot.log POSTFIX_LOG=$MAILSERVERS_DIR/maillog
	export ALICE_MAILDIR=$MAILSERVERS_DIR/mail/alice/Maildir BOB_MAILDIR=$MAILSERVERS_DIR/mail/bob/Maildir
	export DOVECOT_IMAP_PORT DOVECOT_POP3_PORT DOVECOT_IMAP_HAPROXY_PORT DOVECOT_POP3_HAPROXY_PORT
	export POSTFIX_PORT POSTFIX_HAPROXY_PORT POSTFIX_NOXCLIENT_PORT
	export DOVECOT_IMAPS_PORT DOVECOT_POP3S_PORT DOVECOT_IMAP_SECURE_PORT DOVECOT_POP3_SECURE_PORT
	export POSTFIX_TLS_PORT POSTFIX_SMTPS_PORT DOVECOT_SECURE_ADDR=127.0.0.2
	export POSTFIX_PORTLOG_PORT POSTFIX_LOGIN_PORT
	read -r -d '' DOVECOT_IMAP_PORT DOVECOT_POP3_PORT DOVECOT_IMAP_HAPROXY_PORT \
		DOVECOT_POP3_HAPROXY_PORT POSTFIX_PORT POSTFIX_HAPROXY_PORT \
		POSTFIX_NOXCLIENT_PORT DOVECOT_IMAPS_PORT DOVECOT_POP3S_PORT \
		DOVECOT_IMAP_SECURE_PORT DOVECOT_POP3_SECURE_PORT POSTFIX_TLS_PORT \
		POSTFIX_SMTPS_PORT POSTFIX_PORTLOG_PORT POSTFIX_LOGIN_PORT < <(free_port 15) || :
	[[ -n $POSTFIX_LOGIN_PORT ]] || { _ms_fail "no free ports"; return; }
	# the certs: the test file's own when it made them, else made here
	if [[ -z ${CERTS_DIR:-} || ! -e $CERTS_DIR/.complete ]]; then
		certs_make "${BATS_FILE_TMPDIR:+$BATS_FILE_TMPDIR/certs}" ||
			{ _ms_fail "certs_make failed"; return; }
	fi

	_ms_dovecot_conf "$D"
	_ms_dovecot_secure_conf "$D2" "$D"
	if ! dovecot -c "$D/dovecot.conf" >"$MAILSERVERS_DIR/dovecot.start" 2>&1; then
		_ms_fail "dovecot did not start: $(cat "$MAILSERVERS_DIR/dovecot.start" "$DOVECOT_LOG" | tail -n 5)"
		return
	fi
	if ! dovecot -c "$D2/dovecot.conf" >"$MAILSERVERS_DIR/dovecot-secure.start" 2>&1; then
		_ms_fail "dovecot (secure) did not start: $(cat "$MAILSERVERS_DIR/dovecot-secure.start" "$DOVECOT_LOG" | tail -n 5)"
		return
	fi
	for c in $DOVECOT_IMAP_PORT $DOVECOT_POP3_PORT $DOVECOT_IMAP_HAPROXY_PORT $DOVECOT_POP3_HAPROXY_PORT \
		$DOVECOT_IMAPS_PORT $DOVECOT_POP3S_PORT $DOVECOT_IMAP_SECURE_PORT $DOVECOT_POP3_SECURE_PORT; do
		wait_port "$c" 10 || { _ms_fail "dovecot does not listen on $c: $(tail -20 "$DOVECOT_LOG")"; return; }
	done
	wait_for_file "$D/run/auth-postfix" 10 || { _ms_fail "no dovecot auth socket: $(tail -20 "$DOVECOT_LOG")"; return; }

	_ms_postfix_conf "$P" "$D"
	if ! postfix -c "$P" start >"$MAILSERVERS_DIR/postfix.start" 2>&1; then
		# Its errors went to syslog (postlogd was not up yet): ask again on a pty.
		_ms_fail "postfix did not start: $(cat "$MAILSERVERS_DIR/postfix.start" "$POSTFIX_LOG"
			script -qec "postfix -c '$P' check" /dev/null 2>&1 | tail -n 5)"
		return
	fi
	for c in $POSTFIX_PORT $POSTFIX_HAPROXY_PORT $POSTFIX_NOXCLIENT_PORT $POSTFIX_TLS_PORT $POSTFIX_SMTPS_PORT \
		$POSTFIX_PORTLOG_PORT $POSTFIX_LOGIN_PORT; do
		wait_port "$c" 10 || { _ms_fail "postfix does not listen on $c: $(tail -20 "$POSTFIX_LOG")"; return; }
	done
}

# _ms_masters: pids of the masters recorded under $MAILSERVERS_DIR.
_ms_masters() {
	local f
	for f in "$MAILSERVERS_DIR/dovecot/run/master.pid" "$MAILSERVERS_DIR/dovecot-secure/run/master.pid" \
		"$MAILSERVERS_DIR/dovecot-trusted/run/master.pid" \
		"$MAILSERVERS_DIR/postfix-queue/pid/master.pid"; do
		if [[ -s $f ]]; then tr -dc '0-9\n' <"$f"; echo; fi
	done
	return 0
}

# mail_servers_stop: stop both servers, kill what is left, remove the dir.
mail_servers_stop() {
	local pid all= f
	[[ -n ${MAILSERVERS_DIR:-} && -d $MAILSERVERS_DIR ]] || return 0
	for pid in $(_ms_masters); do all+=" $pid $(_descendants "$pid")"; done
	# and anything else running from our directory (a master without pid file)
	all+=" $(grep -laF -- "$MAILSERVERS_DIR/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3)"
	# "postfix stop" only signals; "dovecot stop" would wait ~1 s: signal it.
	if [[ -f $MAILSERVERS_DIR/postfix/main.cf ]]; then
		postfix -c "$MAILSERVERS_DIR/postfix" stop >/dev/null 2>&1 || :
	fi
	for pid in $all; do kill -TERM "$pid" 2>/dev/null || :; done
	# shellcheck disable=SC2086
	wait_gone 5 $all
	if [[ ${MAILSERVERS_KEEP:-} == 1 ]]; then
		echo "mail_servers_stop: kept $MAILSERVERS_DIR" >&2
	else
		rm -rf "$MAILSERVERS_DIR"
	fi
	return 0
}

# maildir_find MAILDIR REGEX [SECS]: wait until a message in MAILDIR (new/ or
# cur/) has a line matching the ERE; print its path.
maildir_find() {
	local end=$((SECONDS + ${3:-$WAIT_TIMEOUT})) f
	while :; do
		f=$(grep -lE -- "$2" "$1"/new/* "$1"/cur/* 2>/dev/null | head -n 1)
		[[ -n $f ]] && { echo "$f"; return 0; }
		((SECONDS < end)) || { echo "maildir_find: no /$2/ in $1" >&2; return 1; }
		sleep 0.1
	done
}
