/*
 * Logging: one line per session on stderr, which the journal takes under
 * systemd.  Under inetd stderr is the client's own socket: then syslog, for
 * everything (option errors and warnings too), so that the client gets
 * nothing but the protocol's replies.
 * Text from the network is made printable first; passwords never get here.
 */
#include <sys/stat.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "session.h"

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
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
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

	printable(user, sizeof(user), s->user);
	printable(text, sizeof(text), why);
	endpoint_str(client, sizeof(client), &s->client.remote);
	snprintf(line, sizeof(line), "%s client=%s user=\"%s\" login refused: "
	    "%s", protocol_names[s->opt->protocol], client, user, text);
	log_line(LOG_NOTICE, line);
}

void
log_session(const struct session *s)
{
	char		 line[2048], user[256], tls[200] = "";
	char		 client[INET6_ADDRSTRLEN + 16];
	long long	 ms = now_ms() - s->start_ms;
	size_t		 n = 0;

	printable(user, sizeof(user), s->user);
	endpoint_str(client, sizeof(client), &s->client.remote);
	snprintf(line, sizeof(line), "%s client=%s user=\"%s\" backend=%s "
	    "in=%llu out=%llu time=%lld.%03llds outcome=\"%s\"",
	    protocol_names[s->opt->protocol], client, user,
	    s->backend[0] ? s->backend : "-", s->cli.rbytes, s->cli.wbytes,
	    ms / 1000, ms % 1000, s->outcome[0] ? s->outcome : "ok");
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
	log_line(LOG_INFO, line);
}
