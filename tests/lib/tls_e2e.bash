# tls_e2e.bash - helpers for tests/tls_e2e.bats: drive the real
# `openssl s_client` in lockstep, and read only what a log gained.
# Needs common.bash and certs.bash's CERTS_CA.

# s_chat PROTO ARGS...: run `openssl s_client -quiet -crlf` (verifying
# against CERTS_CA, the name mx.test, sent as SNI) with ARGS (-connect,
# -starttls ...), then send each stdin line once the reply to the previous
# one is complete: SMTP a "NNN " line, POP3 one line or, for a multi-line
# command that succeeds, up to ".", IMAP the line of the command's tag;
# after SMTP's 354 the lines up to "." are sent without waiting.
# After the last line it reads until the server hangs up.  Prints every line
# received (CR removed); s_client's stderr goes to $T/s_client.err.  Fails
# when a reply does not come within S_CHAT_TIMEOUT (10) seconds, or when
# s_client fails (a failed verification, a refused STARTTLS).
s_chat() {
	local proto=$1 line reply tag rc=0 to=${S_CHAT_TIMEOUT:-10} multi first
	shift
	local -a script=()
	local data=
	mapfile -t script
	# FIFOs, not a coprocess: bash closes a coprocess's fds when it is
	# reaped, which can be before its last reply has been read
	local fifo=$T/.s_chat.$RANDOM pid in out
	mkfifo "$fifo.in" "$fifo.out" || return 1
	timeout 30 openssl s_client -quiet -nocommands -crlf \
	    -CAfile "$CERTS_CA" -verify_return_error -verify_hostname mx.test \
	    -servername mx.test "$@" <"$fifo.in" >"$fifo.out" 2>>"$T/s_client.err" 3>&- &
	pid=$!
	exec {in}>"$fifo.in" {out}<"$fifo.out"
	rm -f "$fifo.in" "$fifo.out"
	# a client that gave up (verification failed) makes printf fail, not
	# kill the shell with SIGPIPE
	local pipe_trap
	pipe_trap=$(trap -p PIPE)
	trap '' PIPE
	for line in "${script[@]}"; do
		printf '%s\n' "$line" >&"$in" || { rc=1; break; }
		# SMTP DATA: the lines up to "." get no reply
		if [[ -n $data ]]; then
			[[ $line == . ]] || continue
			data=
		fi
		tag=${line%% *} multi=
		if [[ $proto == pop3 ]]; then
			case ${line^^} in
			LIST | UIDL | CAPA | RETR\ * | TOP\ *) multi=1 ;;
			esac
		fi
		first=1
		while :; do
			if ! IFS= read -r -t "$to" reply <&"$out"; then
				echo "s_chat: no reply to '$line'" >&2
				rc=1
				break 2
			fi
			reply=${reply%$'\r'}
			printf '%s\n' "$reply"
			case $proto in
			smtp)
				[[ $reply == '354 '* ]] && data=1
				[[ $reply =~ ^[0-9]{3}( |$) ]] && break
				;;
			imap) [[ $reply == "$tag "* ]] && break ;;
			pop3)
				if ((first)); then
					[[ -z $multi || $reply == -ERR* ]] && break
				elif [[ $reply == . ]]; then
					break
				fi
				;;
			esac
			first=0
		done
	done
	# the rest, until the server hangs up (QUIT, LOGOUT) or the bound
	exec {in}>&-
	while IFS= read -r -t "$to" reply <&"$out"; do printf '%s\n' "${reply%$'\r'}"; done
	exec {out}<&-
	wait "$pid" || rc=1
	eval "${pipe_trap:-trap - PIPE}"
	return "$rc"
}

# log_lines FILE: how many lines FILE has now (0 if none): a mark for
# wait_log_since.
log_lines() {
	if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi
}

# wait_log_since FILE MARK REGEX [SECS]: wait until a line of FILE after
# line MARK matches the ERE: what this test caused, not an earlier one.
wait_log_since() {
	local end=$((SECONDS + ${4:-$WAIT_TIMEOUT}))
	until tail -n "+$(($2 + 1))" "$1" 2>/dev/null | grep -qE -- "$3"; do
		if ((SECONDS >= end)); then
			echo "wait_log_since: /$3/ not in $1 after line $2 (${4:-$WAIT_TIMEOUT}s); it has:" >&2
			tail -n "+$(($2 + 1))" "$1" | tail -n 30 >&2
			return 1
		fi
		sleep 0.1
	done
}

# none_since FILE MARK REGEX: true if no line of FILE after MARK matches.
none_since() {
	! tail -n "+$(($2 + 1))" "$1" 2>/dev/null | grep -qE -- "$3"
}
