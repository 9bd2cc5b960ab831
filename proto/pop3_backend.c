/*
 * POP3: the dialogue with the backend, once the client has given
 * its credentials: from the backend's greeting to the login's answer,
 * which the client gets as the answer to its own.
 */
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../backend.h"
#include "../options.h"
#include "../session.h"
#include "pop3_parse.h"
#include "proto.h"
#include "sasl.h"

/*
 * The backend dialogue: read the greeting, (proxy_starttls) STLS and the
 * handshake, send USER, send PASS; every step wants "+OK".  The backend's answer to PASS goes to the client as
 * the answer to its own login, and the relay starts.
 */
enum be_step {
	BE_GREETING,
	BE_STLS,
	BE_USER,
	BE_PASS,
	BE_DONE
};

static const char *const be_step_names[] = { "greeting", "STLS", "USER", "PASS" };

/* Reads one status line: POP3_OK, POP3_ERR, or -1 (logged). */
static int
be_read(struct session *s, int step, char **line, size_t *len)
{
	int	rc, st;

	rc = conn_getline(&s->be, s->opt->timeout, line, len);
	if (rc == LINE_TIMEOUT) {
		session_outcome(s, "backend %s timed out waiting for the %s "
		    "reply", s->backend, be_step_names[step]);
		return -1;
	}
	if (rc == LINE_TOOLONG) {
		session_outcome(s, "backend %s sent a %s reply longer than "
		    "proxy_buffer", s->backend, be_step_names[step]);
		return -1;
	}
	if (rc != LINE_OK) {
		session_outcome(s, "backend %s closed the connection before "
		    "the %s reply", s->backend, be_step_names[step]);
		return -1;
	}
	if ((st = pop3_reply_status(*line, *len)) == -1) {
		session_outcome(s, "backend %s sent a malformed %s reply: %s",
		    s->backend, be_step_names[step], *line);
		return -1;
	}
	return st;
}

static int
be_command(struct session *s, int step)
{
	if (step == BE_STLS)
		return backend_sendf(s, "STLS\r\n");
	if (step == BE_USER)
		return backend_sendf(s, "USER %s\r\n", s->creds.user);
	return backend_sendf(s, "PASS %s\r\n", s->creds.pass);
}

static int
be_next(const struct session *s, int step)
{
	if (step == BE_GREETING && backend_tls_mode(s) == BACKEND_STARTTLS)
		return BE_STLS;
	if (step == BE_GREETING)
		return BE_USER;
	return step + 1;
}

/* One of the backend's lines, passed on to the client as it came. */
static int
client_line(struct session *s, const char *line, size_t len)
{
	struct iovec	v[2] = { { (void *)line, len }, { "\r\n", 2 } };

	return conn_writev(&s->cli, v, 2, s->opt->timeout);
}

/* A failed step: the backend's -ERR line, or the internal error. */
static int
be_fail(struct session *s, const char *line, size_t len)
{
	if (s->opt->proxy_pass_error_message && line != NULL)
		client_line(s, line, len);
	else
		client_reply(s, s->proto->internal_error);
	return PROTO_FAIL;
}

int
pop3_backend(struct session *s)
{
	char	*line = NULL;
	size_t	 len = 0;
	int	 step, st;

	for (step = BE_GREETING; step != BE_DONE; step = be_next(s, step)) {
		if (step != BE_GREETING && be_command(s, step) == -1)
			return be_fail(s, NULL, 0);
		if ((st = be_read(s, step, &line, &len)) == -1)
			return be_fail(s, NULL, 0);
		if (st != POP3_OK) {
			session_outcome(s, "backend %s refused %s: %s%s",
			    s->backend, be_step_names[step], line,
			    step == BE_STLS ? " (it offers no TLS: "
			    "--proxy-starttls)" : "");
			/* a refused STLS is ours, not the client's */
			return step == BE_STLS ? be_fail(s, NULL, 0) :
			    be_fail(s, line, len);
		}
		if (step == BE_STLS && backend_tls(s) == -1)
			return be_fail(s, NULL, 0);
	}
	if (client_line(s, line, len) == -1) {
		session_outcome(s, "client went away while logging in");
		return PROTO_FAIL;
	}
	return PROTO_RELAY;
}
