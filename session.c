/*
 * What every protocol does with the session the same way: answer the
 * client, count its errors against max_errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
 * The next line from the client (n < 0), or the next n bytes (an IMAP
 * literal, which may be empty).
 * A line longer than the buffer and a silent client get the protocol's
 * reply; then, as at EOF, the dialogue ends: -1.
 */
int
client_read(struct session *s, ssize_t n, char **line, size_t *len,
    const char *toolong, const char *timeout)
{
	static const char *const bound[] = { "", "smtp_client_buffer",
	    "the client buffer", "imap_client_buffer" };
	int	rc;

	if (n >= 0) {
		rc = conn_getn(&s->cli, n, s->opt->timeout, line);
		*len = n;
	} else
		rc = conn_getline(&s->cli, s->opt->timeout, line, len);
	switch (rc) {
	case LINE_OK:
		return 0;
	case LINE_TOOLONG:
		client_reply(s, toolong);
		session_outcome(s, "client sent a line longer than %s (%zu)",
		    bound[s->opt->protocol], s->cli.cap);
		break;
	case LINE_TIMEOUT:
		client_reply(s, timeout);
		session_outcome(s, "client timed out");
		break;
	default:
		session_outcome(s, "client closed the connection");
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
		return 1;
	}
	return 0;
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

/* The CRAM-MD5 challenge, base64 of the salt, after prefix ("334 ", "+ "). */
int
client_challenge(struct session *s, const char *prefix)
{
	const char	*salt = session_salt(s);
	char		 b64[sizeof(s->salt) * 2];

	if (salt == NULL || b64_encode((const unsigned char *)salt,
	    strlen(salt), b64, sizeof(b64)) == -1)
		return -1;
	return client_replyf(s, "%s%s\r\n", prefix, b64);
}
