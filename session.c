/*
 * What every protocol does with the session the same way: answer the
 * client, count its errors against max_errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
