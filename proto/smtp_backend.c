/*
 * SMTP: the dialogue with the backend, once the client has given
 * its credentials: from the backend's greeting to the login's answer,
 * which the client gets as the answer to its own.
 */
#include <sys/param.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../backend.h"
#include "../options.h"
#include "../resolve.h"
#include "../session.h"
#include "proto.h"
#include "sasl.h"
#include "smtp_parse.h"
#include "xclient.h"

#define REPLY_AUTH_OK	"235 2.0.0 OK\r\n"

/*
 * The backend dialogue.  Each step sends one command and names the replies
 * it accepts; the steps that apply follow from the options and from what
 * the client did.
 */
enum be_step {
	BE_GREETING,		/* read the greeting */
	BE_TLS_EHLO,		/* proxy_starttls: EHLO, which must offer it */
	BE_STARTTLS,		/* STARTTLS, then the handshake */
	BE_EHLO,		/* our EHLO (or HELO) with server_name */
	BE_XCLIENT,		/* who the client is */
	BE_CLIENT_HELO,		/* the client's own EHLO/HELO after XCLIENT */
	BE_AUTH,		/* proxy_smtp_auth: AUTH PLAIN */
	BE_MAIL,		/* smtp_auth none: the replayed envelope */
	BE_RCPT,
	BE_DONE
};

static const char *const be_step_names[] = {
	"greeting", "EHLO before STARTTLS", "STARTTLS", "EHLO", "XCLIENT", "client's HELO", "AUTH", "MAIL FROM",
	"RCPT TO", "done"
};

struct be_reply {
	int	code;
	char	text[2048];	/* the whole reply, CRLF-terminated lines */
	size_t	len;
	int	xclient;	/* EHLO: the backend offers XCLIENT */
	int	starttls;	/* and STARTTLS */
	char	xattrs[256];	/* its attribute names, space-separated */
};

/* Reads one whole (multi-line) reply; -1 on timeout, EOF or garbage. */
static int
be_read(struct session *s, struct be_reply *r)
{
	char	*line;
	size_t	 len;
	int	 code, last = 0, rc;

	r->len = 0;
	r->text[0] = '\0';
	r->code = 0;
	while (!last) {
		rc = conn_getline(&s->be, s->opt->timeout, &line, &len);
		if (rc == LINE_TIMEOUT) {
			session_outcome(s, "backend %s timed out", s->backend);
			return -1;
		}
		if (rc != LINE_OK) {
			session_outcome(s, "backend %s closed the connection",
			    s->backend);
			return -1;
		}
		if (smtp_reply_line(line, len, &code, &last) == -1 ||
		    (r->code != 0 && code != r->code)) {
			session_outcome(s, "backend %s sent a malformed reply",
			    s->backend);
			return -1;
		}
		r->code = code;
		if (smtp_ehlo_has(line, len, "STARTTLS", NULL))
			r->starttls = 1;
		if (smtp_ehlo_has(line, len, "XCLIENT", NULL)) {
			r->xclient = 1;
			if (len > 12)
				strlcpy(r->xattrs, line + 12,
				    MIN(sizeof(r->xattrs), len - 12 + 1));
		}
		if (r->len + len + 3 <= sizeof(r->text)) {
			memcpy(r->text + r->len, line, len);
			memcpy(r->text + r->len + len, "\r\n", 3);
			r->len += len + 2;
		}
	}
	return 0;
}

static int
be_next(const struct session *s, int step)
{
	const struct options *o = s->opt;

	switch (step) {
	case BE_GREETING:
		if (backend_tls_mode(s) == BACKEND_STARTTLS)
			return BE_TLS_EHLO;
		return BE_EHLO;
	case BE_TLS_EHLO:
		return BE_STARTTLS;
	case BE_STARTTLS:
		return BE_EHLO;
	case BE_EHLO:
		if (o->xclient)
			return BE_XCLIENT;
		/* FALLTHROUGH */
	case BE_XCLIENT:
		if (o->xclient && s->smtp.helo[0] != '\0')
			return BE_CLIENT_HELO;
		/* FALLTHROUGH */
	case BE_CLIENT_HELO:
		if (s->creds.method == AUTH_NONE)
			return BE_MAIL;
		if (o->proxy_smtp_auth)
			return BE_AUTH;
		return BE_DONE;
	case BE_MAIL:
		return BE_RCPT;
	default:
		return BE_DONE;
	}
}

/*
 * ADDR, LOGIN (when we vouch for it) and NAME, as nginx sends them.  A
 * backend whose EHLO lists XCLIENT attributes gets only those; one that
 * lists none gets them all, and its answer decides (the directive page:
 * XCLIENT is sent whenever xclient is on).
 */
static int
be_xclient(struct session *s, const struct be_reply *ehlo)
{
	const struct client	*cl = &s->client;
	char			 addr[INET6_ADDRSTRLEN + 8], offer[300];
	char			 buf[4 * XCLIENT_LINE_MAX];
	struct xattr		 a[3];
	size_t			 n = 0, k = 0, i, offerlen;
	int			 lines;

	resolve_client(s);
	if (!cl->remote.known)
		strlcpy(addr, "[UNAVAILABLE]", sizeof(addr));
	else
		snprintf(addr, sizeof(addr), "%s%s",
		    cl->remote.family == AF_INET6 ? "IPV6:" : "", cl->remote.ip);
	a[n++] = (struct xattr){ "ADDR", addr, strlen(addr), 1 };
	if (s->creds.method != AUTH_NONE && !s->opt->proxy_smtp_auth)
		a[n++] = (struct xattr){ "LOGIN", s->creds.user,
		    s->creds.userlen, 0 };
	a[n++] = (struct xattr){ "NAME", cl->name, strlen(cl->name), 1 };

	offerlen = snprintf(offer, sizeof(offer), "250-XCLIENT %s",
	    ehlo->xattrs);
	for (i = 0; i < n; i++)
		if (!ehlo->xclient || ehlo->xattrs[0] == '\0' ||
		    smtp_ehlo_has(offer, offerlen, "XCLIENT", a[i].name))
			a[k++] = a[i];
	if ((lines = xclient_build(a, k, buf, sizeof(buf))) < 0) {
		session_outcome(s, "XCLIENT attribute too long");
		return -1;
	}
	return backend_send(s, buf, strlen(buf)) == -1 ? -1 : lines;
}

static int
be_command(struct session *s, int step, const struct be_reply *ehlo)
{
	char	b64[2 * 4 * CRED_MAX / 3 + 16];
	int	rc;

	switch (step) {
	case BE_TLS_EHLO:
		return backend_sendf(s, "EHLO %s\r\n", s->server_name);
	case BE_STARTTLS:
		return backend_sendf(s, "STARTTLS\r\n");
	case BE_EHLO:
		return backend_sendf(s, "%s %s\r\n", s->smtp.esmtp ||
		    s->opt->xclient ? "EHLO" : "HELO", s->server_name);
	case BE_XCLIENT:
		return be_xclient(s, ehlo);
	case BE_CLIENT_HELO:
		return backend_sendf(s, "%s %s\r\n", s->smtp.esmtp ? "EHLO" : "HELO",
		    s->smtp.helo);
	case BE_AUTH:
		if (sasl_plain_encode(&s->creds, b64, sizeof(b64)) == -1)
			return -1;
		rc = backend_sendf(s, "AUTH PLAIN %s\r\n", b64);
		explicit_bzero(b64, sizeof(b64));
		return rc;
	case BE_MAIL:
		return backend_sendf(s, "%s\r\n", s->smtp.from);
	case BE_RCPT:
		return backend_sendf(s, "%s\r\n", s->smtp.to);
	}
	return -1;
}

static int
be_accepts(int step, int code)
{
	switch (step) {
	case BE_GREETING:
	case BE_STARTTLS:
		return code == 220;
	case BE_XCLIENT:
		return code / 100 == 2;
	case BE_AUTH:
		return code == 235;
	case BE_RCPT:
		return 1;		/* the client gets it, whatever it is */
	default:
		return code == 250;
	}
}

/* A failed step: the backend's reply, or the internal error. */
static int
be_fail(struct session *s, const struct be_reply *r)
{
	if (s->opt->proxy_pass_error_message && r != NULL && r->len > 0)
		client_reply(s, r->text);
	else
		client_reply(s, s->proto->internal_error);
	return PROTO_FAIL;
}

int
smtp_backend(struct session *s)
{
	struct be_reply	r, ehlo;
	int		step = BE_GREETING, lines = 1;

	memset(&ehlo, 0, sizeof(ehlo));
	for (;;) {
		while (lines-- > 0) {
			memset(&r, 0, sizeof(r));
			if (be_read(s, &r) == -1)
				return be_fail(s, NULL);
			if (!be_accepts(step, r.code)) {
				session_outcome(s, "backend %s refused %s: %.*s%s",
				    s->backend, be_step_names[step],
				    (int)strcspn(r.text, "\r\n"), r.text,
				    step == BE_XCLIENT ? " (list us in its "
				    "smtpd_authorized_xclient_hosts, or set "
				    "--xclient=off)" : "");
				/* a refused STARTTLS is ours, not the client's */
				return be_fail(s, step == BE_TLS_EHLO ||
				    step == BE_STARTTLS ? NULL : &r);
			}
		}
		if (step == BE_TLS_EHLO && !r.starttls) {
			session_outcome(s, "backend %s does not offer STARTTLS "
			    "(--proxy-starttls)", s->backend);
			return be_fail(s, NULL);
		}
		/* the dialogue starts again in TLS, with EHLO */
		if (step == BE_STARTTLS && backend_tls(s) == -1)
			return be_fail(s, NULL);
		if (step == BE_EHLO)
			ehlo = r;
		if (step == BE_RCPT) {
			client_reply(s, r.text);
			return PROTO_RELAY;
		}
		if ((step = be_next(s, step)) == BE_DONE)
			break;
		if ((lines = be_command(s, step, &ehlo)) == -1)
			return be_fail(s, NULL);
		if (step != BE_XCLIENT)
			lines = 1;
	}
	client_reply(s, REPLY_AUTH_OK);
	return PROTO_RELAY;
}
