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
	char	buf[2048];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	n = conn_writeall(&s->cli, buf, n, s->opt->timeout);
	explicit_bzero(buf, sizeof(buf));
	return n;
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
