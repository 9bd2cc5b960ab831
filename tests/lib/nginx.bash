# nginx.bash - a private nginx (mail module) on 127.0.0.1 in front of the
# fake auth_http service (tests/lib/fake_auth_http.py), so tests can compare
# mailproxy with the real thing.  Needs common.bash (free_port, spawn,
# wait_port, wait_for_file, stop_pid).
#
#   setup() {
#       common_setup
#       nginx_start || return 1     # per test (or in setup_file, per file)
#       nginx_require                # skip when nginx is unusable (not in CI)
#       auth_start --users "$T/users" --backend "127.0.0.1:$BE"
#   }
#   teardown() { nginx_stop; common_teardown; }
#
# nginx_start writes $NGINX_DIR/nginx.conf (default $T/nginx) and runs
# /usr/sbin/nginx -p $NGINX_DIR with `daemon off` under spawn(); nothing under
# /etc, /run or /var/log is read for configuration or written (pid, lock and
# error log live in $NGINX_DIR; there is no http{} block, so no temp paths).
# It exports NGINX_SMTP_PORT, NGINX_POP3_PORT, NGINX_IMAP_PORT, AUTH_PORT (the
# auth_http port it points nginx at: set it beforehand to choose it),
# NGINX_DIR, NGINX_PID and NGINX_ERROR_LOG.
#
# Knobs (environment, read by nginx_start):
#   NGINX_AUTH_TIMEOUT   auth_http_timeout (default 5s)
#   NGINX_SMTP_AUTH      smtp_auth methods (default "login plain cram-md5";
#                        "none" lets mail through without AUTH, the auth
#                        request then carries Auth-SMTP-Helo/-From/-To)
#   NGINX_POP3_AUTH      pop3_auth (default "plain apop cram-md5")
#   NGINX_IMAP_AUTH      imap_auth (default "login plain cram-md5")
#   NGINX_MAIL_EXTRA     directives added to mail{} (e.g. "resolver
#                        127.0.0.1:53 ipv6=off; resolver_timeout 1s;")
#   NGINX_SMTP_EXTRA, NGINX_POP3_EXTRA, NGINX_IMAP_EXTRA
#                        directives added to that protocol's server{}
#   NGINX_BIN, NGINX_MAIL_MODULE   the binary and the dynamic mail module
#
# Without a `resolver`, nginx 1.22 does not look the client up: SMTP gets
# Client-Host: [UNAVAILABLE] and the greeting at once (see
# tests/nginx_harness.bats for what a resolver changes).
#
# When nginx cannot start: under CI=true nginx_start fails loudly; otherwise
# it records NGINX_SKIP and returns 0, and nginx_require skips the test.
# Directives from the knobs that nginx rejects always fail (a test bug).

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
NGINX_MAIL_MODULE=${NGINX_MAIL_MODULE:-/usr/lib/nginx/modules/ngx_mail_module.so}

# _nginx_fail MSG: give up starting (loud under CI=true, else a skip reason).
_nginx_fail() {
	echo "nginx_start: $*" >&2
	if [[ -n ${NGINX_DIR:-} && -s $NGINX_DIR/error.log ]]; then
		echo "--- $NGINX_DIR/error.log:" >&2
		tail -n 20 "$NGINX_DIR/error.log" >&2
	fi
	nginx_stop
	if [[ ${CI:-} == true ]]; then
		return 1
	fi
	export NGINX_SKIP="nginx unavailable: $*"
	return 0
}

# nginx_require: in setup(), after nginx_start: skip if nginx did not start.
nginx_require() {
	if [[ -n ${NGINX_SKIP:-} ]]; then skip "$NGINX_SKIP"; fi
	if [[ -z ${NGINX_PID:-} ]]; then
		echo "nginx_require: nginx_start was not called" >&2
		return 1
	fi
}

# _nginx_conf: print the configuration for the exported ports.
_nginx_conf() {
	cat <<EOF
# private test instance (tests/lib/nginx.bash)
load_module $NGINX_MAIL_MODULE;
daemon off;
master_process on;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
lock_file $NGINX_DIR/nginx.lock;
error_log $NGINX_ERROR_LOG info;
events { worker_connections 256; }
mail {
    server_name mx.test;
    auth_http 127.0.0.1:$AUTH_PORT/auth;
    auth_http_timeout ${NGINX_AUTH_TIMEOUT:-5s};
    proxy_pass_error_message on;
    ${NGINX_MAIL_EXTRA:-}
    server {
        listen 127.0.0.1:$NGINX_SMTP_PORT;
        protocol smtp;
        smtp_auth ${NGINX_SMTP_AUTH:-login plain cram-md5};
        xclient on;
        ${NGINX_SMTP_EXTRA:-}
    }
    server {
        listen 127.0.0.1:$NGINX_POP3_PORT;
        protocol pop3;
        pop3_auth ${NGINX_POP3_AUTH:-plain apop cram-md5};
        ${NGINX_POP3_EXTRA:-}
    }
    server {
        listen 127.0.0.1:$NGINX_IMAP_PORT;
        protocol imap;
        imap_auth ${NGINX_IMAP_AUTH:-login plain cram-md5};
        ${NGINX_IMAP_EXTRA:-}
    }
}
EOF
}

# nginx_start: write the configuration, check it, run nginx, wait until the
# three ports listen.
nginx_start() {
	unset NGINX_SKIP NGINX_PID
	: "${T:=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}}"
	export NGINX_DIR=${NGINX_DIR:-$T/nginx}
	export NGINX_ERROR_LOG=$NGINX_DIR/error.log
	[[ -x $NGINX_BIN ]] || { _nginx_fail "no $NGINX_BIN"; return; }
	[[ -f $NGINX_MAIL_MODULE ]] || { _nginx_fail "no $NGINX_MAIL_MODULE"; return; }
	mkdir -p "$NGINX_DIR" || { _nginx_fail "cannot create $NGINX_DIR"; return; }
	[[ -n ${AUTH_PORT:-} ]] || AUTH_PORT=$(free_port) || { _nginx_fail "no free port"; return; }
	if ! { NGINX_SMTP_PORT=$(free_port) && NGINX_POP3_PORT=$(free_port) &&
		NGINX_IMAP_PORT=$(free_port); }; then
		_nginx_fail "no free port"
		return
	fi
	export AUTH_PORT NGINX_SMTP_PORT NGINX_POP3_PORT NGINX_IMAP_PORT
	_nginx_conf >"$NGINX_DIR/nginx.conf"
	# -e: the error log before the configuration is read (the compiled-in
	# default is stderr here, but never rely on it pointing at /var/log).
	if ! "$NGINX_BIN" -t -q -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		-e "$NGINX_ERROR_LOG" >"$NGINX_DIR/test.out" 2>&1; then
		cat "$NGINX_DIR/test.out" >&2
		# Without the knobs it works: the test's own directives are wrong,
		# which is a bug to report, never a reason to skip.
		if (unset NGINX_MAIL_EXTRA NGINX_SMTP_EXTRA NGINX_POP3_EXTRA NGINX_IMAP_EXTRA \
			NGINX_SMTP_AUTH NGINX_POP3_AUTH NGINX_IMAP_AUTH NGINX_AUTH_TIMEOUT
		_nginx_conf >"$NGINX_DIR/plain.conf" &&
			"$NGINX_BIN" -t -q -p "$NGINX_DIR" -c "$NGINX_DIR/plain.conf" \
				-e "$NGINX_ERROR_LOG" >/dev/null 2>&1); then
			echo "nginx_start: the NGINX_* directives are rejected ($NGINX_DIR/nginx.conf)" >&2
			return 1
		fi
		_nginx_fail "configuration test failed ($NGINX_DIR/nginx.conf)"
		return
	fi
	spawn nginx "$NGINX_BIN" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		-e "$NGINX_ERROR_LOG" || { _nginx_fail "spawn failed"; return; }
	export NGINX_PID=$SPAWNED_PID
	local p
	for p in "$NGINX_SMTP_PORT" "$NGINX_POP3_PORT" "$NGINX_IMAP_PORT"; do
		if ! wait_port "$p" 5; then
			_nginx_fail "nginx does not listen on $p"
			return
		fi
	done
}

# nginx_stop: stop nginx (TERM: fast shutdown of master and workers; KILL
# after 3 s) and the fake auth service if auth_start started it.  Safe to
# call twice or when nginx_start failed.
nginx_stop() {
	if [[ -n ${NGINX_PID:-} ]]; then
		stop_pid "$NGINX_PID"
		unset NGINX_PID
	fi
	if [[ -n ${AUTH_PID:-} ]]; then
		stop_pid "$AUTH_PID"
		unset AUTH_PID
	fi
	return 0
}

# auth_start ARGS...: the fake auth_http service on $AUTH_PORT (nginx_start
# picks it), every request appended to $AUTH_REQUESTS ($T/auth.requests),
# events in $T/auth.log; ARGS go to fake_auth_http.py (--users, --backend,
# --mode ...).  Returns once it listens.  Call it again (after auth_stop) to
# change the mode; nginx needs no restart.
auth_start() {
	: "${T:=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}}"
	[[ -n ${AUTH_PORT:-} ]] || AUTH_PORT=$(free_port) || return 1
	export AUTH_PORT AUTH_REQUESTS=${AUTH_REQUESTS:-$T/auth.requests}
	rm -f "$T/auth.ready"
	spawn auth "$PYTHON" "$TESTLIB/fake_auth_http.py" "$AUTH_PORT" \
		--requests "$AUTH_REQUESTS" --ready "$T/auth.ready" \
		--log "$T/auth.log" "$@" || return 1
	export AUTH_PID=$SPAWNED_PID
	wait_for_file "$T/auth.ready"
}

# auth_stop: stop the fake auth_http service.
auth_stop() {
	if [[ -n ${AUTH_PID:-} ]]; then
		stop_pid "$AUTH_PID"
		unset AUTH_PID
	fi
}

# auth_count: how many requests the auth service has recorded.
auth_count() {
	local n
	n=$(grep -c '^=====$' "${AUTH_REQUESTS:-$T/auth.requests}" 2>/dev/null) || n=0
	echo "$n"
}

# auth_request [N]: print the Nth recorded request (1-based; default the
# last), byte for byte, without the separator.
auth_request() {
	"$PYTHON" - "${AUTH_REQUESTS:-$T/auth.requests}" "${1:-0}" <<'PY'
import sys
data = open(sys.argv[1], "rb").read() if __import__("os").path.exists(sys.argv[1]) else b""
reqs = [r for r in data.split(b"=====\n") if r]
n = int(sys.argv[2])
if not reqs or n > len(reqs):
    sys.exit("auth_request: no request %d (have %d)" % (n, len(reqs)))
sys.stdout.buffer.write(reqs[n - 1] if n > 0 else reqs[-1])
PY
}

# auth_header NAME [N]: the value of header NAME in the Nth (default last)
# request; fails if absent.
auth_header() {
	local v
	v=$(auth_request "${2:-0}" | tr -d '\r' | grep -i -m1 "^$1: ") || return 1
	printf '%s\n' "${v#*: }"
}

# wait_auth_count N [SECS]: wait until the auth service has N requests.
wait_auth_count() {
	local end=$((SECONDS + ${2:-$WAIT_TIMEOUT}))
	until (($(auth_count) >= $1)); do
		((SECONDS < end)) || { echo "wait_auth_count: $(auth_count) < $1 requests" >&2; return 1; }
		sleep 0.05
	done
}
