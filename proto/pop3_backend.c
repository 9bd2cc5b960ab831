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
 * handshake, (--proxy-pop3-xclient) XCLIENT with the client's address and
 * the session id when the backend offers it: Dovecot in its greeting
 * ("+OK [XCLIENT]", and then its own proxy asks no CAPA either), others in
 * CAPA, asked otherwise; send USER, send PASS; every step wants "+OK".  The backend's answer to PASS goes to the client as
 * the answer to its own login, and the relay starts.
 */
enum be_step {
	BE_GREETING,
	BE_STLS,
	BE_CAPA,
	BE_XCLIENT,
	BE_USER,
	BE_PASS,
	BE_DONE
};

static const char *const be_step_names[] = {
	"greeting", "STLS", "CAPA", "XCLIENT", "USER", "PASS"
};

#define CAPA_LINES_MAX	100	/* a CAPA answer longer than this is hostile */

/*
 * Reads one status line: POP3_OK, POP3_ERR, or (logged) -1 when the
 * backend went away or timed out, -2 when what it sent is no POP3.
 */
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
		return -2;
	}
	if (rc != LINE_OK) {
		session_outcome(s, "backend %s closed the connection before "
		    "the %s reply", s->backend, be_step_names[step]);
		return -1;
	}
	if ((st = pop3_reply_status(*line, *len)) == -1) {
		session_outcome(s, "backend %s sent a malformed %s reply: %s",
		    s->backend, be_step_names[step], *line);
		return -2;
	}
	return st;
}

/* XCLIENT: 0 sent, 1 nothing to tell, -1 the backend went away */
static int
be_xclient(struct session *s)
{
	char	buf[POP3_XCLIENT_MAX];
	int	n;

	if ((n = pop3_xclient_build(&s->client, buf, sizeof(buf))) <= 0)
		return n == 0 ? 1 : -1;
	return backend_send(s, buf, n);
}

static int
be_command(struct session *s, int step)
{
	if (step == BE_STLS)
		return backend_sendf(s, "STLS\r\n");
	if (step == BE_CAPA)
		return backend_sendf(s, "CAPA\r\n");
	if (step == BE_XCLIENT)
		return be_xclient(s);
	if (step == BE_USER)
		return backend_sendf(s, "USER %s\r\n", s->creds.user);
	return backend_sendf(s, "PASS %s\r\n", s->creds.pass);
}

/*
 * The rest of CAPA's answer, up to its ".": 1 when it lists XCLIENT, 0
 * when not, -1 (logged) when the backend fails us.
 */
static int
be_capa(struct session *s)
{
	char	*line;
	size_t	 len;
	int	 i, rc, xclient = 0;

	for (i = 0; i < CAPA_LINES_MAX; i++) {
		rc = conn_getline(&s->be, s->opt->timeout, &line, &len);
		if (rc != LINE_OK) {
			session_outcome(s, "backend %s failed us in its CAPA "
			    "answer", s->backend);
			return -1;
		}
		if (len == 1 && line[0] == '.')
			return xclient;
		if (pop3_capa_is(line, len, "XCLIENT"))
			xclient = 1;
	}
	session_outcome(s, "backend %s sent a CAPA answer of over %d lines",
	    s->backend, CAPA_LINES_MAX);
	return -1;
}

static int
be_next(const struct session *s, int step, int xclient)
{
	if (step == BE_GREETING && backend_tls_mode(s) == BACKEND_STARTTLS)
		return BE_STLS;
	if ((step == BE_GREETING || step == BE_STLS) &&
	    s->opt->proxy_pop3_xclient)
		return xclient ? BE_XCLIENT : BE_CAPA;
	if (step == BE_GREETING || step == BE_STLS)
		return BE_USER;
	if (step == BE_CAPA)
		return xclient ? BE_XCLIENT : BE_USER;
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
	int	 step, st, rc, xclient = 0;

	for (step = BE_GREETING; step != BE_DONE;
	    step = be_next(s, step, xclient)) {
		/*
		 * Bytes the backend sent unasked would pass for the answer
		 * to this command (a "+OK" to PASS, say): it is out of step.
		 */
		if (step != BE_GREETING && conn_pending(&s->be) > 0) {
			session_outcome(s, "backend %s sent lines it was not "
			    "asked for, before %s", s->backend,
			    be_step_names[step]);
			return be_fail(s, NULL, 0);
		}
		if (step != BE_GREETING && (rc = be_command(s, step)) != 0) {
			if (rc == 1)	/* XCLIENT with nothing to say */
				continue;
			return be_fail(s, NULL, 0);
		}
		if ((st = be_read(s, step, &line, &len)) < 0)
			return step == BE_GREETING && st == -1 && s->be_more ?
			    PROTO_NEXT : be_fail(s, NULL, 0);
		if (step == BE_GREETING && st == POP3_OK)
			backend_greeted(s);
		if (st != POP3_OK && step == BE_CAPA) {
			log_warnx("backend %s: no CAPA, so no XCLIENT: it does "
			    "not learn the client's address (%s)", s->backend,
			    s->client.id);
			continue;
		}
		if (st != POP3_OK) {
			session_outcome(s, "backend %s refused %s: %s%s",
			    s->backend, be_step_names[step], line,
			    step == BE_STLS ? " (it offers no TLS: "
			    "--proxy-starttls)" : step == BE_XCLIENT ?
			    " (list us in its login_trusted_networks, or set "
			    "--proxy-pop3-xclient=off)" : "");
			/* -ERR for a greeting: POP3's only way to say "busy" */
			if (step == BE_GREETING && s->be_more)
				return PROTO_NEXT;
			/* the credentials, unless its own trouble (RFC 3206) */
			if ((step == BE_USER || step == BE_PASS) &&
			    strstr(line, "[SYS/") == NULL)
				backend_refused(s, line, len);
			/* a refused STLS or XCLIENT is ours, not the client's */
			return step == BE_STLS || step == BE_XCLIENT ?
			    be_fail(s, NULL, 0) : be_fail(s, line, len);
		}
		if (step == BE_CAPA) {
			if ((xclient = be_capa(s)) == -1)
				return be_fail(s, NULL, 0);
			if (!xclient)
				log_warnx("backend %s offers no XCLIENT in its "
				    "greeting or CAPA (list us in its "
				    "login_trusted_networks): it does not learn "
				    "the client's address", s->backend);
		}
		if (step == BE_GREETING)
			xclient = pop3_greeting_xclient(line, len);
		if (step == BE_STLS && backend_tls(s) == -1)
			return be_fail(s, NULL, 0);
	}
	if (client_line(s, line, len) == -1) {
		session_outcome(s, "client went away while logging in");
		return PROTO_FAIL;
	}
	return PROTO_RELAY;
}
