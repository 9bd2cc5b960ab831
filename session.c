/*
 * What every protocol does with the session the same way: answer the
 * client, count its errors against max_errors.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/base64.h"
#include "proto/proto.h"
#include "proto/sasl.h"
#include "session.h"

int
client_reply(struct session *s, const char *r)
{
	return conn_puts(&s->cli, r, s->opt->timeout);
}

int
client_replyf(struct session *s, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = conn_vprintf(&s->cli, s->opt->timeout, fmt, ap);
	va_end(ap);
	return rc;
}

/* STARTTLS as the options have it: offered now, or required first. */
int
client_tls_offered(const struct session *s)
{
	return s->opt->starttls != STARTTLS_OFF && !s->tls.on;
}

int
client_tls_required(const struct session *s)
{
	return s->opt->starttls == STARTTLS_ONLY && !s->tls.on;
}

/*
 * Of the methods configured, the SASL mechanisms this session can take:
 * EXTERNAL once a client certificate verified, and only with an auth
 * service to say whom that certificate may log in as.
 */
unsigned
client_sasl_offered(const struct session *s, unsigned methods)
{
	unsigned	have = 0;

	if (s->opt->auth_http != NULL)
		have |= SASL_NEEDS_SERVICE;
	if (s->tls.on && s->tls.cert && s->tls.verify == 0)
		have |= SASL_NEEDS_CERT;
	return sasl_offered(methods, have);
}

/*
 * STARTTLS, once the protocol has said go ahead: the handshake, with
 * what the client pipelined behind its command dropped unread (the
 * CVE-2011-0411 class).  The session starts afresh in TLS: nothing
 * said before it counts.  0, or -1: the session is over.
 */
int
client_starttls(struct session *s)
{
	creds_wipe(&s->creds);
	if (tls_server(s) == -1) {
		session_result(s, RESULT_TLS_ERROR);
		return -1;
	}
	return 0;
}

/* A command for the backend; a failure is recorded for the log. */
int
backend_send(struct session *s, const char *p, size_t len)
{
	if (conn_writeall(&s->be, p, len, s->opt->timeout) == -1) {
		session_outcome(s, "backend %s went away", s->backend);
		return -1;
	}
	return 0;
}

int
backend_sendf(struct session *s, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = conn_vprintf(&s->be, s->opt->timeout, fmt, ap);
	va_end(ap);
	if (rc == -1)
		session_outcome(s, "backend %s went away", s->backend);
	return rc;
}

/*
 * max_commands: every line the client sends before its login is handed
 * on counts, SASL responses too, as freenginx counts what its one command
 * reader reads; past the limit the client is told and the session ends.
 */
static int
client_counted(struct session *s)
{
	static const char *const reply[] = { "",
	    "421 4.7.0 Too many commands, closing connection\r\n",
	    "-ERR too many commands\r\n", "* BYE too many commands\r\n" };

	if (++s->commands <= s->opt->max_commands)
		return 0;
	client_reply(s, reply[s->opt->protocol]);
	session_outcome(s, "too many commands (max_commands %d)",
	    s->opt->max_commands);
	session_result(s, RESULT_CLIENT_ERROR);
	return -1;
}

/*
 * The next line from the client (n < 0), or the next n bytes (an IMAP
 * literal, which may be empty).  A command line is bounded by the
 * protocol's client buffer, a SASL response by SASL_LINE_MAX.  A line
 * over its bound and a silent client get the protocol's reply; then, as
 * at EOF, the dialogue ends: -1.
 */
int
client_read(struct session *s, ssize_t n, char **line, size_t *len)
{
	static const char *const bound[] = { "", "smtp_client_buffer",
	    "the POP3 line limit", "imap_client_buffer" };
	int	rc;

	s->cli.linemax = s->sasl.mech != NULL ? SASL_LINE_MAX : s->cmdmax;
	if (n >= 0) {
		rc = conn_getn(&s->cli, n, s->opt->timeout, line);
		*len = n;
	} else
		rc = conn_getline(&s->cli, s->opt->timeout, line, len);
	switch (rc) {
	case LINE_OK:
		return n < 0 ? client_counted(s) : 0;
	case LINE_TOOLONG:
		client_reply(s, s->proto->toolong);
		session_outcome(s, "client sent a line longer than %s (%zu)",
		    s->sasl.mech != NULL ? "the SASL line limit" :
		    bound[s->opt->protocol], s->cli.linemax);
		session_result(s, RESULT_CLIENT_ERROR);
		break;
	case LINE_TIMEOUT:
		client_reply(s, s->proto->timeout);
		session_outcome(s, "client timed out");
		session_result(s, RESULT_TIMEOUT);
		break;
	default:
		session_outcome(s, "client closed the connection");
		session_result(s, RESULT_CLIENT_QUIT);
		break;
	}
	return -1;
}

/* Sends an error reply; 1 when max_errors is reached and we must close. */
int
client_error(struct session *s, const char *r)
{
	client_reply(s, r);
	if (++s->errors >= s->opt->max_errors) {
		session_outcome(s, "too many invalid commands");
		session_result(s, RESULT_CLIENT_ERROR);
		return 1;
	}
	return 0;
}

/*
 * The session's id, in the log line, the PROXY v2 UNIQUE_ID, IMAP ID's
 * x-session-id and POP3 XCLIENT's SESSION, so that one session can be
 * followed through our log and the backend's.  Letters and digits only,
 * so it needs no quoting or escaping anywhere; 62^16 is about 2^95.
 */
void
session_id(char *id, size_t cap)
{
	static const char	 alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t			 i;

	for (i = 0; i + 1 < cap && i < SESSION_ID_LEN; i++)
		id[i] = alnum[arc4random_uniform(sizeof(alnum) - 1)];
	id[i] = '\0';
}

/* The APOP timestamp, also the CRAM-MD5 challenge: made once a session. */
const char *
session_salt(struct session *s)
{
	if (s->salt[0] == '\0' && sasl_salt(s->salt, sizeof(s->salt),
	    arc4random(), (long long)time(NULL), s->server_name) == -1) {
		s->salt[0] = '\0';
		return NULL;
	}
	return s->salt;
}

/*
 * Starts a SASL exchange with the session's credentials; a mechanism
 * whose challenge is the salt gets it.  A salt that cannot be made (a
 * server_name too long for it) is logged here.
 */
int
client_sasl_start(struct session *s, const struct sasl_mech *m,
    const char *ir, size_t irlen)
{
	const char	*salt = NULL;
	int		 rc;

	if ((m->flags & SASL_SERVER_FIRST) && ir == NULL)
		salt = session_salt(s);
	rc = sasl_start(&s->sasl, m, &s->creds, salt, ir, irlen);
	if (rc == SASL_ERROR) {
		session_outcome(s, "server_name too long for a %s challenge",
		    m->name);
		session_result(s, RESULT_USAGE);
	}
	return rc;
}

/*
 * The backend refused the login itself (with a fixed backend, or an auth
 * service that leaves the password to it): a refusal as the auth
 * service's are, with the line fail2ban reads, and the session's result.
 */
void
backend_refused(struct session *s, const char *text, size_t len)
{
	char	why[512];
	size_t	i;

	/* the reply's first line, at most len bytes */
	for (i = 0; i < len && text[i] != '\0' && text[i] != '\r' &&
	    text[i] != '\n'; i++)
		;
	len = i;
	snprintf(why, sizeof(why), "backend %s: %.*s", s->backend,
	    (int)(len > 300 ? 300 : len), text);
	log_refused(s, why);
	session_result(s, RESULT_REFUSED);
}

/* What is left of a wait of ms once the login's deadline bounds it. */
long long
login_left(const struct session *s, long long ms)
{
	long long	left;

	if (s->cli.deadline == 0)
		return ms;
	left = s->cli.deadline - now_ms();
	return left < 0 ? 0 : left < ms ? left : ms;
}

/* Auth-Wait and WAIT: a pause that the login's deadline cuts short. */
void
login_sleep(const struct session *s, long long ms)
{
	long long	end = now_ms() + login_left(s, ms);

	while (now_ms() < end)
		poll(NULL, 0, (int)(end - now_ms()));
}

/*
 * Auth-Error-SASL (RFC 7628 section 3.2.2): the refused token's error is
 * sent as a challenge, and the client ends the exchange with one more
 * line, "AQ==" (a lone \x01) or anything else base64, even empty: 0, and
 * the caller sends the refusal.  A line that is no base64 gets the
 * protocol's invalid-command reply instead: 1, or -1 when the session is
 * over (it left, or that was one error too many).
 */
int
client_sasl_error(struct session *s)
{
	static const char *const challenge[] = { "", "334 ", "+ ", "+ " };
	static const char *const invalid[] = { "",
	    "500 5.5.1 Invalid command\r\n", "-ERR invalid command\r\n",
	    "%s BAD invalid command\r\n" };
	unsigned char	 buf[SASL_LINE_MAX / 4 * 3];
	char		*line, reply[NAME_MAX_LEN + 64];
	size_t		 len, n;
	int		 rc;

	if (client_replyf(s, "%s%s\r\n", challenge[s->opt->protocol],
	    s->sasl_error) == -1 || client_read(s, -1, &line, &len) == -1)
		return -1;
	rc = base64_decode(line, len, buf, sizeof(buf), &n);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(line, len);
	if (rc == 0)
		return 0;
	snprintf(reply, sizeof(reply), invalid[s->opt->protocol], s->imap.tag);
	if (client_error(s, reply)) {
		if (s->opt->protocol == PROTO_IMAP)
			client_reply(s, "* BYE too many invalid commands\r\n");
		return -1;
	}
	return 1;
}
