/*
 * Logging: one line per session on stderr, which the journal takes under
 * systemd.  Under inetd stderr is the client's own socket: then syslog, for
 * everything (option errors and warnings too), so that the client gets
 * nothing but the protocol's replies.  When stderr is the journal's stream
 * the session's line goes to the journal itself, with its fields
 * (journal.c), and to stderr only when that fails.
 * Every line of a session begins with its id; the session line says its
 * result in one word (man/mailproxy.8, LOGGING).
 * Text from the network is made printable first; passwords never get here.
 */
#include <sys/stat.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "journal.h"
#include "session.h"

/*
 * The session's id, for every line once main() has made it: as
 * openlog(3)'s ident, set once, so that a warning from any file carries
 * it without every caller passing the session.
 */
static const char	*log_id;

void
log_session_id(const char *id)
{
	log_id = id;
}

/* "session=ID " before a line, once there is a session */
static size_t
log_prefix(char *dst, size_t cap)
{
	int	n;

	if (log_id == NULL || log_id[0] == '\0') {
		dst[0] = '\0';
		return 0;
	}
	n = snprintf(dst, cap, "session=%s ", log_id);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* inetd hands the connection over as fds 0, 1 and 2 alike */
static int
stderr_is_client(void)
{
	struct stat	in, err;

	return fstat(STDIN_FILENO, &in) == 0 &&
	    fstat(STDERR_FILENO, &err) == 0 && S_ISSOCK(err.st_mode) &&
	    in.st_dev == err.st_dev && in.st_ino == err.st_ino;
}

void
log_init(void)
{
	if (stderr_is_client())
		openlog("mailproxy", LOG_PID, LOG_MAIL);
}

static void
log_line(int prio, const char *line)
{
	if (stderr_is_client())
		syslog(prio, "%s", line);
	else
		fprintf(stderr, "mailproxy[%ld]: %s\n", (long)getpid(), line);
}

/*
 * An option error, before any session: "mailproxy: MSG" on stderr, as any
 * command says it; syslog under inetd, where stderr would be the client.
 */
void
log_usage(const char *msg)
{
	if (stderr_is_client())
		syslog(LOG_ERR, "%s", msg);
	else
		fprintf(stderr, "mailproxy: %s\n", msg);
}

/* Bytes from the wire, made printable: \xHH for anything else. */
static void
printable(char *dst, size_t dstcap, const char *src)
{
	size_t	n = 0;

	for (; *src != '\0' && n + 5 < dstcap; src++) {
		unsigned char ch = *src;

		if (ch >= ' ' && ch < 0x7f && ch != '\\' && ch != '"')
			dst[n++] = ch;
		else
			n += snprintf(dst + n, dstcap - n, "\\x%02x", ch);
	}
	dst[n] = '\0';
}

void
log_warnx(const char *fmt, ...)
{
	char	buf[1024];
	size_t	n;
	va_list	ap;

	n = log_prefix(buf, sizeof(buf));
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	log_line(LOG_WARNING, buf);
}

/* The first reason given is the one that ended the session. */
void
session_outcome(struct session *s, const char *fmt, ...)
{
	char	buf[sizeof(s->outcome)];
	va_list	ap;

	if (s->outcome[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printable(s->outcome, sizeof(s->outcome), buf);
}

/*
 * The session's result: the first one set stands, as the outcome's
 * first reason does.  A deadline overrides both (mailproxy.c).
 */
void
session_result(struct session *s, enum result r)
{
	if (s->result == RESULT_NONE)
		s->result = r;
}

static const struct {
	const char	*word;
	int		 prio;
} results[] = {
	[RESULT_NONE] =			{ "internal", LOG_ERR }, /* a bug */
	[RESULT_OK] =			{ "ok", LOG_INFO },
	[RESULT_REFUSED] =		{ "refused", LOG_NOTICE },
	[RESULT_CLIENT_QUIT] =		{ "client-quit", LOG_INFO },
	[RESULT_CLIENT_ERROR] =		{ "client-error", LOG_WARNING },
	[RESULT_TIMEOUT] =		{ "timeout", LOG_WARNING },
	[RESULT_TLS_ERROR] =		{ "tls-error", LOG_WARNING },
	[RESULT_AUTH_ERROR] =		{ "auth-error", LOG_ERR },
	[RESULT_BACKEND_ERROR] =	{ "backend-error", LOG_ERR },
	[RESULT_RELAY_ERROR] =		{ "relay-error", LOG_WARNING },
	[RESULT_USAGE] =		{ "usage", LOG_ERR },
	[RESULT_INTERNAL] =		{ "internal", LOG_ERR },
};

static void
endpoint_str(char *dst, size_t cap, const struct endpoint *e)
{
	if (!e->known)
		strlcpy(dst, "unknown", cap);
	else if (e->family == AF_INET6)
		snprintf(dst, cap, "[%s]:%u", e->ip, e->port);
	else
		snprintf(dst, cap, "%s:%u", e->ip, e->port);
}

static const char *const protocol_names[] = { "-", "smtp", "pop3", "imap" };

/* Each login the auth service refuses: what fail2ban and friends read. */
void
log_refused(const struct session *s, const char *why)
{
	char	line[1024], user[256], text[512];
	char	client[INET6_ADDRSTRLEN + 16];
	size_t	n;

	printable(user, sizeof(user), s->user);
	printable(text, sizeof(text), why);
	endpoint_str(client, sizeof(client), &s->client.remote);
	n = log_prefix(line, sizeof(line));
	snprintf(line + n, sizeof(line) - n, "%s client=%s user=\"%s\" login "
	    "refused: %s", protocol_names[s->opt->protocol], client, user, text);
	log_line(LOG_NOTICE, line);
}

/* The session line's fields for the journal, and its text as MESSAGE. */
static int
log_journal(const struct session *s, const char *line, const char *client,
    const char *user, long long ms)
{
	struct journal_entry	e;

	e.priority = results[s->result].prio;
	e.message = line;
	e.session_id = s->client.id;
	e.protocol = protocol_names[s->opt->protocol];
	e.client = client;
	e.user = user;
	e.backend = s->backend;
	e.tls_version = s->tls.on ? s->tls.protocol : "";
	e.tls_cipher = s->tls.on ? s->tls.cipher : "";
	e.backend_tls = s->be_tls;
	e.result = results[s->result].word;
	e.outcome = s->outcome[0] ? s->outcome : "ok";
	e.launcher = s->client.launcher != NULL ? s->client.launcher : "";
	e.bytes_in = s->cli.rbytes;
	e.bytes_out = s->cli.wbytes;
	e.duration_ms = ms;
	return journal_send(&e);
}

/*
 * The session line, once the client has had its last reply: to the
 * journal when stderr is its stream (never losing the line if that
 * fails), else stderr or syslog, at its result's priority.
 */
void
log_session(const struct session *s)
{
	char		 line[2048], user[256], tls[200] = "";
	char		 client[INET6_ADDRSTRLEN + 16];
	char		 via[INET6_ADDRSTRLEN + 16];
	long long	 ms = now_ms() - s->start_ms;
	size_t		 n;

	printable(user, sizeof(user), s->user);
	endpoint_str(client, sizeof(client), &s->client.remote);
	n = log_prefix(line, sizeof(line));
	snprintf(line + n, sizeof(line) - n, "%s client=%s user=\"%s\" "
	    "backend=%s in=%llu out=%llu time=%lld.%03llds result=%s "
	    "outcome=\"%s\"", protocol_names[s->opt->protocol], client, user,
	    s->backend[0] ? s->backend : "-", s->cli.rbytes, s->cli.wbytes,
	    ms / 1000, ms % 1000, results[s->result].word,
	    s->outcome[0] ? s->outcome : "ok");
	n = 0;
	/* who started us: whose word the client's address is */
	if (s->client.launcher != NULL) {
		strlcat(line, " launcher=", sizeof(line));
		strlcat(line, s->client.launcher, sizeof(line));
	}
	/* what TLS each side agreed, when it is TLS */
	if (s->tls.on)
		n = snprintf(tls, sizeof(tls), " tls=%s/%s",
		    s->tls.protocol[0] ? s->tls.protocol : "unknown",
		    s->tls.cipher[0] ? s->tls.cipher : "unknown");
	if (s->be_tls[0] != '\0' && n < sizeof(tls))
		snprintf(tls + n, sizeof(tls) - n, " backend_tls=%s", s->be_tls);
	strlcat(line, tls, sizeof(line));
	/* the load balancer whose PROXY header named the client */
	if (s->client.peer.known) {
		endpoint_str(via, sizeof(via), &s->client.peer);
		strlcat(line, " via=", sizeof(line));
		strlcat(line, via, sizeof(line));
	}
	if (journal_stream() && log_journal(s, line, client, user, ms) == 0)
		return;
	log_line(results[s->result].prio, line);
}
