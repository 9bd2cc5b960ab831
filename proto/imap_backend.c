/*
 * IMAP: the dialogue with the backend, once the client has given
 * its credentials: from the backend's greeting to the login's answer,
 * which the client gets as the answer to its own.
 */
#include <sys/param.h>
#include <sys/uio.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../backend.h"
#include "../options.h"
#include "../session.h"
#include "imap_id.h"
#include "imap_parse.h"
#include "proto.h"
#include "sasl.h"

/* Our STARTTLS's tag: the client's tag is for its own LOGIN */
#define STARTTLS_TAG	"mp1"

/*
 * The backend dialogue: read the greeting, (proxy_starttls) STARTTLS
 * under a tag of ours and the handshake, (--proxy-imap-id, or a client
 * that sent ID) ID under another tag of ours, then LOGIN under the client's
 * tag, sent in parts when a value needs a synchronizing literal (each
 * part after the backend's "+").  Untagged responses to LOGIN (a
 * CAPABILITY, an ALERT) are kept and passed to the client before the
 * tagged OK, as nginx passes on what the backend said.
 */
enum be_step {
	BE_GREETING,		/* read "* OK" */
	BE_STARTTLS,		/* "<our tag> STARTTLS", then the handshake */
	BE_ID,			/* "<our tag> ID (...)": who the client is */
	BE_LOGIN,		/* LOGIN, up to its first literal */
	BE_LITERAL,		/* the backend said "+": the next part */
	BE_DONE
};

static const char *const be_step_names[] = {
	"the greeting", "STARTTLS", "ID", "LOGIN", "LOGIN after a literal", "done"
};

struct be_resp {
	int	 status;	/* enum imap_status */
	int	 tagged;
	char	*line;		/* in the backend's buffer, no CRLF */
	size_t	 len;
};

/* more untagged responses than this before a step's answer is hostile */
#define UNTAGGED_MAX	100

/* Untagged responses to LOGIN, for the client. */
struct be_untagged {
	char	 buf[4096];
	size_t	 len;
	size_t	 dropped;	/* bytes that did not fit */
};

/* 0; (logged) -1 when the backend went away or timed out, -2 garbage */
static int
be_getline(struct session *s, int step, char **line, size_t *len)
{
	switch (conn_getline(&s->be, s->opt->timeout, line, len)) {
	case LINE_OK:
		return 0;
	case LINE_TIMEOUT:
		session_outcome(s, "backend %s timed out (%s)", s->backend,
		    be_step_names[step]);
		return -1;
	case LINE_TOOLONG:
		session_outcome(s, "backend %s sent a line longer than "
		    "proxy_buffer (%s)", s->backend, be_step_names[step]);
		return -2;
	default:
		session_outcome(s, "backend %s closed the connection (%s)",
		    s->backend, be_step_names[step]);
		return -1;
	}
}

/* Appends p and end when they fit; 1 when they do not (nothing added). */
static int
untagged_add(struct be_untagged *u, const char *p, size_t len,
    const char *end, size_t *size)
{
	size_t	elen = strlen(end);

	*size += len + elen;
	if (u->len + len + elen > sizeof(u->buf))
		return 1;
	memcpy(u->buf + u->len, p, len);
	memcpy(u->buf + u->len + len, end, elen);
	u->len += len + elen;
	return 0;
}

/*
 * Keeps one untagged response, with the literals a data response may
 * carry ("{n}" at the end of a line: n bytes and another line follow; in
 * a status response it is only text).  A response that does not fit is
 * dropped whole, never cut.
 */
static int
be_untagged(struct session *s, int step, struct be_untagged *u,
    const struct be_resp *r)
{
	char	*line = r->line;
	size_t	 len = r->len;
	size_t	 start = u->len, size = 0, n;
	char	*data;
	int	 over;

	over = untagged_add(u, line, len, "\r\n", &size);
	while (r->status == IMAP_DATA && imap_literal_suffix(line, len, &n, NULL)) {
		if (conn_getn(&s->be, n, s->opt->timeout, &data) != LINE_OK) {
			session_outcome(s, "backend %s sent a bad literal (%s)",
			    s->backend, be_step_names[step]);
			return -1;
		}
		over |= untagged_add(u, data, n, "", &size);
		if (be_getline(s, step, &line, &len) != 0)
			return -1;
		over |= untagged_add(u, line, len, "\r\n", &size);
	}
	if (over) {
		u->len = start;
		u->dropped += size;
	}
	return 0;
}

/*
 * The backend's answer to a step.  After the greeting, untagged data and
 * warnings ("* OK", "* NO", "* BAD") are kept for the client and the next
 * line is read; a BYE, a continuation or a tagged line answers the step.
 */
static int
be_reply(struct session *s, int step, struct be_untagged *u,
    struct be_resp *r)
{
	const char	*tag = step == BE_STARTTLS ? STARTTLS_TAG :
	    step == BE_ID ? IMAP_ID_TAG : s->imap.tag;
	int		 n, rc;

	/* each line has its deadline: an endless stream needs a bound */
	for (n = 0;; n++) {
		if (n == UNTAGGED_MAX) {
			session_outcome(s, "backend %s sent over %d untagged "
			    "responses (%s)", s->backend, UNTAGGED_MAX,
			    be_step_names[step]);
			return -2;
		}
		if ((rc = be_getline(s, step, &r->line, &r->len)) != 0)
			return rc;
		r->status = imap_resp_parse(r->line, r->len, tag, &r->tagged);
		if (step == BE_GREETING || r->tagged ||
		    (r->status != IMAP_DATA && r->status != IMAP_OK &&
		    r->status != IMAP_NO && r->status != IMAP_BAD))
			return 0;
		if (be_untagged(s, step, u, r) == -1)
			return -1;
	}
}

/*
 * The client's own ID fields, then ours (--proxy-imap-id).  Without the
 * option, a client's ID still goes on alone, as it asked to be known.
 */
static int
be_id(struct session *s)
{
	char	buf[IMAP_ID_CMD_MAX];
	int	n;

	n = imap_id_build(IMAP_ID_TAG, s->imap.id, s->imap.id_sent ?
	    MIN(s->imap.idlen, sizeof(s->imap.id)) : 0, &s->client,
	    s->opt->proxy_imap_id, buf, sizeof(buf));
	if (n == -1) {
		session_outcome(s, "ID for the backend too long");
		return -1;
	}
	return backend_send(s, buf, n);
}

/* ID goes to the backend when we have something to say */
static int
be_id_wanted(const struct session *s)
{
	return s->opt->proxy_imap_id || s->imap.id_sent;
}

/* Sends part k of LOGIN: up to its k-th literal's "{n}\r\n", or the end. */
static int
be_command(struct session *s, int step, const struct imap_login *l, int k)
{
	size_t	from, to;

	if (step == BE_GREETING)
		return 0;
	if (step == BE_STARTTLS)
		return backend_sendf(s, "%s STARTTLS\r\n", STARTTLS_TAG);
	if (step == BE_ID)
		return be_id(s);
	from = k == 0 ? 0 : l->breaks[k - 1];
	to = k < l->nbreaks ? l->breaks[k] : l->len;
	return backend_send(s, l->buf + from, to - from);
}

/* more: a literal follows what was sent, so "+" is the answer we want. */
static int
be_accepts(int step, int more, const struct be_resp *r)
{
	if (step == BE_GREETING)
		return !r->tagged && r->status == IMAP_OK;
	if (step == BE_ID)		/* any answer: ID is advice */
		return r->tagged;
	if (more)
		return !r->tagged && r->status == IMAP_CONTINUE;
	return r->tagged && r->status == IMAP_OK;
}

/* The next step; more: a part of LOGIN after a literal is still to go. */
static int
be_next(const struct session *s, int step, int more)
{
	if (step == BE_GREETING && backend_tls_mode(s) == BACKEND_STARTTLS)
		return BE_STARTTLS;
	if ((step == BE_GREETING || step == BE_STARTTLS) && be_id_wanted(s))
		return BE_ID;
	if (step == BE_GREETING || step == BE_STARTTLS || step == BE_ID)
		return BE_LOGIN;
	return more ? BE_LITERAL : BE_DONE;
}

/* A status line that says no: a tagged NO or BAD, a BYE, an untagged NO. */
static int
be_refusal(const struct be_resp *r)
{
	if (r->tagged)
		return r->status == IMAP_NO || r->status == IMAP_BAD;
	return r->status == IMAP_BYE || r->status == IMAP_NO;
}

/*
 * A failed step: with proxy_pass_error_message the backend's own refusal
 * (its tagged NO or BAD, or a BYE), else nginx's internal error.
 */
static int
be_fail(struct session *s, const struct be_resp *r)
{
	struct iovec	v[2];

	if (s->opt->proxy_pass_error_message && r != NULL && be_refusal(r)) {
		v[0] = (struct iovec){ r->line, r->len };
		v[1] = (struct iovec){ "\r\n", 2 };
		conn_writev(&s->cli, v, 2, s->opt->timeout);
	} else
		client_reply(s, s->proto->internal_error);
	return PROTO_FAIL;
}

static int
be_refused(struct session *s, int step, const struct be_resp *r)
{
	const char	*what = be_refusal(r) ? "a refusal" :
	    r->status == IMAP_PREAUTH ? "PREAUTH (a login was expected)" :
	    "a malformed reply";

	session_outcome(s, "backend %s answered %s with %s: %.*s%s",
	    s->backend, be_step_names[step], what,
	    (int)(r->len > 120 ? 120 : r->len), r->line,
	    step == BE_STARTTLS ? " (it offers no TLS: --proxy-starttls)" : "");
	/* NO to the credentials, unless its own trouble (RFC 5530) */
	if ((step == BE_LOGIN || step == BE_LITERAL) && r->status == IMAP_NO &&
	    memmem(r->line, r->len, "[UNAVAILABLE]", 13) == NULL &&
	    memmem(r->line, r->len, "[SERVERBUG]", 11) == NULL)
		backend_refused(s, r->line, r->len);
	/* a refused STARTTLS, under our tag, is not the client's answer */
	return be_fail(s, step == BE_STARTTLS ? NULL : r);
}

/* The client gets what the backend answered its LOGIN, under its tag. */
static void
be_logged_in(struct session *s, const struct be_untagged *u,
    const struct be_resp *r)
{
	struct iovec	v[3] = {
		{ (void *)u->buf, u->len },
		{ r->line, r->len },
		{ "\r\n", 2 },
	};

	if (u->dropped > 0)
		log_warnx("backend %s: %zu bytes of untagged responses to "
		    "LOGIN dropped", s->backend, u->dropped);
	conn_writev(&s->cli, v, 3, s->opt->timeout);
}

int
imap_backend(struct session *s)
{
	struct imap_login	l;
	struct be_untagged	u, idu;
	struct be_resp		r;
	int			step, k = 0, more = 0, got = 0, rc = PROTO_FAIL;

	memset(&u, 0, sizeof(u));
	memset(&idu, 0, sizeof(idu));
	if (imap_login_build(s->imap.tag, s->creds.user, s->creds.userlen,
	    s->creds.pass, s->creds.passlen, &l) == -1) {
		session_outcome(s, "LOGIN for the backend too long");
		be_fail(s, NULL);
		goto done;
	}
	for (step = BE_GREETING; step != BE_DONE;
	    step = be_next(s, step, more)) {
		if (step == BE_LITERAL)
			k++;
		/* the backend's "* ID (...)" answers us, not the client */
		if (be_command(s, step, &l, k) == -1 ||
		    (got = be_reply(s, step, step == BE_ID ? &idu : &u,
		    &r)) != 0) {
			if (step == BE_GREETING && got == -1 && s->be_more)
				rc = PROTO_NEXT;
			else
				be_fail(s, NULL);
			goto done;
		}
		more = step != BE_GREETING && step != BE_STARTTLS &&
		    step != BE_ID && k < l.nbreaks;
		if (!be_accepts(step, more, &r)) {
			/* a BYE for a greeting: busy, or going down */
			if (step == BE_GREETING && r.status == IMAP_BYE &&
			    s->be_more) {
				session_outcome(s, "backend %s greeted with "
				    "BYE: %.*s", s->backend, (int)(r.len > 120 ?
				    120 : r.len), r.line);
				rc = PROTO_NEXT;
				goto done;
			}
			be_refused(s, step, &r);
			goto done;
		}
		if (step == BE_GREETING)
			backend_greeted(s);
		if (step == BE_ID && r.status != IMAP_OK)
			log_warnx("backend %s answered ID with: %.*s (the "
			    "client's address did not reach it)", s->backend,
			    (int)(r.len > 120 ? 120 : r.len), r.line);
		if (step == BE_STARTTLS) {
			/* nothing said in plaintext reaches the client */
			memset(&u, 0, sizeof(u));
			if (backend_tls(s) == -1) {
				be_fail(s, NULL);
				goto done;
			}
		}
	}
	rc = PROTO_RELAY;
	be_logged_in(s, &u, &r);
done:
	explicit_bzero(&l, sizeof(l));
	return rc;
}
