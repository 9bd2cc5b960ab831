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
#include "base64.h"
#include "proto.h"
#include "sasl.h"
#include "smtp_parse.h"
#include "xclient.h"

#define REPLY_AUTH_OK	"235 2.0.0 OK\r\n"
/* a reply of more lines than this is hostile (Postfix's EHLO has 12) */
#define REPLY_LINES_MAX	100

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
	BE_AUTH_LOGIN,		/* or AUTH LOGIN, its 334 */
	BE_LOGIN_USER,		/* the user name, its 334 */
	BE_LOGIN_PASS,		/* the password */
	BE_MAIL,		/* smtp_auth none: the replayed envelope */
	BE_RCPT,
	BE_DONE,
	BE_NOMECH		/* proxy_smtp_auth, but no mechanism we have */
};

static const char *const be_step_names[] = {
	"greeting", "EHLO before STARTTLS", "STARTTLS", "EHLO", "XCLIENT",
	"client's HELO", "AUTH", "AUTH LOGIN", "AUTH LOGIN's user name",
	"AUTH LOGIN's password", "MAIL FROM", "RCPT TO", "done"
};

struct be_reply {
	int	code;
	char	text[2048];	/* the whole reply, CRLF-terminated lines */
	size_t	len;
	int	xclient;	/* EHLO: the backend offers XCLIENT */
	int	starttls;	/* and STARTTLS */
	char	xattrs[256];	/* its attribute names, space-separated */
	int	auth;		/* it lists AUTH, */
	int	auth_plain;	/* with PLAIN, */
	int	auth_login;	/* with LOGIN */
};

/* XCLIENT on for this session: the auth service's choice, or the option */
static int
be_xclient_on(const struct session *s)
{
	return s->be_xclient >= 0 ? s->be_xclient : s->opt->xclient;
}

/* proxy_smtp_auth on for this session: likewise */
static int
be_smtp_auth_on(const struct session *s)
{
	return s->be_smtp_auth >= 0 ? s->be_smtp_auth != 0 :
	    s->opt->proxy_smtp_auth;
}

/*
 * proxy_smtp_auth's mechanism: the auth service's, else PLAIN when the
 * backend lists it or lists no AUTH at all (as nginx, which sends PLAIN
 * whatever the backend says), else LOGIN when it lists that; 0: neither.
 */
static int
be_smtp_auth_mech(const struct session *s, const struct be_reply *ehlo)
{
	if (s->be_smtp_auth == AUTH_PLAIN || s->be_smtp_auth == AUTH_LOGIN)
		return s->be_smtp_auth;
	if (!ehlo->auth || ehlo->auth_plain)
		return AUTH_PLAIN;
	return ehlo->auth_login ? AUTH_LOGIN : 0;
}

/*
 * Reads one whole (multi-line) reply: 0, -1 on timeout or EOF (it went
 * away: another backend may serve), -2 on garbage (it is no SMTP server).
 */
static int
be_read(struct session *s, struct be_reply *r)
{
	char	*line;
	size_t	 len;
	int	 code, last = 0, rc, n = 0;

	r->len = 0;
	r->text[0] = '\0';
	r->code = 0;
	while (!last) {
		/* each line has its deadline: an endless reply needs a bound */
		if (n++ == REPLY_LINES_MAX) {
			session_outcome(s, "backend %s sent a reply of over %d "
			    "lines", s->backend, REPLY_LINES_MAX);
			return -2;
		}
		rc = conn_getline(&s->be, s->opt->timeout, &line, &len);
		if (rc == LINE_TIMEOUT) {
			session_outcome(s, "backend %s timed out", s->backend);
			return -1;
		}
		if (rc == LINE_TOOLONG) {
			session_outcome(s, "backend %s sent a line longer than "
			    "proxy_buffer", s->backend);
			return -2;
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
			return -2;
		}
		r->code = code;
		if (smtp_ehlo_has(line, len, "STARTTLS", NULL))
			r->starttls = 1;
		if (smtp_ehlo_has(line, len, "AUTH", NULL)) {
			r->auth = 1;
			r->auth_plain |= smtp_ehlo_has(line, len, "AUTH",
			    "PLAIN");
			r->auth_login |= smtp_ehlo_has(line, len, "AUTH",
			    "LOGIN");
		}
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
be_next(const struct session *s, int step, const struct be_reply *ehlo)
{
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
		if (be_xclient_on(s))
			return BE_XCLIENT;
		/* FALLTHROUGH */
	case BE_XCLIENT:
		if (be_xclient_on(s) && s->smtp.helo[0] != '\0')
			return BE_CLIENT_HELO;
		/* FALLTHROUGH */
	case BE_CLIENT_HELO:
		if (s->creds.method == AUTH_NONE)
			return BE_MAIL;
		if (!be_smtp_auth_on(s))
			return BE_DONE;
		switch (be_smtp_auth_mech(s, ehlo)) {
		case AUTH_PLAIN:
			return BE_AUTH;
		case AUTH_LOGIN:
			return BE_AUTH_LOGIN;
		}
		return BE_NOMECH;
	case BE_AUTH_LOGIN:
		return BE_LOGIN_USER;
	case BE_LOGIN_USER:
		return BE_LOGIN_PASS;
	case BE_MAIL:
		return BE_RCPT;
	default:
		return BE_DONE;
	}
}

/* The XCLIENT commands, sent one at a time. */
struct be_xcmds {
	char	buf[4 * XCLIENT_LINE_MAX];
	size_t	off;		/* the next one */
	size_t	len;
};

/*
 * The next XCLIENT command, once the one before was answered: each resets
 * the backend's session, and Postfix logs "improper command pipelining"
 * for what follows XCLIENT unasked.
 */
static int
be_xclient_next(struct session *s, struct be_xcmds *x)
{
	const char	*end = strstr(x->buf + x->off, "\r\n");
	size_t		 n = end - (x->buf + x->off) + 2;

	if (backend_send(s, x->buf + x->off, n) == -1)
		return -1;
	x->off += n;
	return 0;
}

/*
 * Who the client is (xclient_attrs: nginx's ADDR, LOGIN when we vouch for
 * it, NAME; the others where the backend lists them), in as many
 * commands as the 512-byte limit needs, ADDR, LOGIN and NAME in the last.
 * When those three do not fit in one command (a long login and a long
 * name), NAME goes as [UNAVAILABLE]: the one choice that keeps the login
 * and the address, and says nothing untrue.
 */
static int
be_xclient(struct session *s, const struct be_reply *ehlo, struct be_xcmds *x)
{
	struct xclient_vals	 v;
	struct xattr		 a[XCLIENT_ATTRS_MAX];
	size_t			 n, i;
	int			 rc;

	resolve_client(s);
	n = xclient_attrs(&s->client, &s->smtp,
	    s->creds.method != AUTH_NONE && !be_smtp_auth_on(s) ?
	    s->creds.user : NULL, s->creds.userlen,
	    ehlo->xclient ? ehlo->xattrs : NULL, &v, a);
	if ((rc = xclient_build(a, n, x->buf, sizeof(x->buf))) ==
	    XCLIENT_LAST_TOOLONG) {
		log_warnx("XCLIENT: the client's name and login do not fit in "
		    "one command: NAME=%s sent", XCLIENT_UNAVAILABLE);
		for (i = 0; i < n; i++)
			if (strcmp(a[i].name, "NAME") == 0) {
				a[i].value = XCLIENT_UNAVAILABLE;
				a[i].len = strlen(XCLIENT_UNAVAILABLE);
			}
		rc = xclient_build(a, n, x->buf, sizeof(x->buf));
	}
	if (rc < 0) {
		session_outcome(s, "XCLIENT attribute too long");
		return -1;
	}
	x->len = strlen(x->buf);
	x->off = 0;
	return be_xclient_next(s, x);
}

/* One step of AUTH LOGIN: a credential, base64, wiped once sent. */
static int
be_login_part(struct session *s, const char *v, size_t n)
{
	char	b64[BASE64_LEN(CRED_MAX) + 1];
	int	rc;

	if (base64_encode(v, n, b64, sizeof(b64)) == -1)
		return -1;
	rc = backend_sendf(s, "%s\r\n", b64);
	explicit_bzero(b64, sizeof(b64));
	return rc;
}

static int
be_command(struct session *s, int step, const struct be_reply *ehlo,
    struct be_xcmds *x)
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
		    be_xclient_on(s) ? "EHLO" : "HELO", s->server_name);
	case BE_XCLIENT:
		return be_xclient(s, ehlo, x);
	case BE_CLIENT_HELO:
		return backend_sendf(s, "%s %s\r\n", s->smtp.esmtp ? "EHLO" : "HELO",
		    s->smtp.helo);
	case BE_AUTH:
		if (sasl_plain_encode(&s->creds, b64, sizeof(b64)) == -1)
			return -1;
		rc = backend_sendf(s, "AUTH PLAIN %s\r\n", b64);
		explicit_bzero(b64, sizeof(b64));
		return rc;
	case BE_AUTH_LOGIN:
		return backend_sendf(s, "AUTH LOGIN\r\n");
	case BE_LOGIN_USER:
		return be_login_part(s, s->creds.user, s->creds.userlen);
	case BE_LOGIN_PASS:
		return be_login_part(s, s->creds.pass, s->creds.passlen);
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
	case BE_LOGIN_PASS:
		return code == 235;
	case BE_AUTH_LOGIN:
	case BE_LOGIN_USER:
		return code == 334;
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
	struct be_xcmds	x;
	int		step = BE_GREETING, rc;

	memset(&ehlo, 0, sizeof(ehlo));
	memset(&x, 0, sizeof(x));
	for (;;) {
		memset(&r, 0, sizeof(r));
		if ((rc = be_read(s, &r)) != 0)
			return step == BE_GREETING && rc == -1 && s->be_more ?
			    PROTO_NEXT : be_fail(s, NULL);
		if (step == BE_GREETING && r.code == 220)
			backend_greeted(s);
		if (!be_accepts(step, r.code)) {
			session_outcome(s, "backend %s refused %s: %.*s%s",
			    s->backend, be_step_names[step],
			    (int)strcspn(r.text, "\r\n"), r.text,
			    step == BE_XCLIENT ? " (list us in its "
			    "smtpd_authorized_xclient_hosts, or set "
			    "--xclient=off)" : "");
			/* 4xx, 421 too: for now; a 554 greeting is for good */
			if (step == BE_GREETING && r.code / 100 == 4 &&
			    s->be_more)
				return PROTO_NEXT;
			/* 535: the credentials (RFC 4954) */
			if (step == BE_AUTH && r.code == 535)
				backend_refused(s, r.text, r.len);
			/* a refused STARTTLS is ours, not the client's */
			return be_fail(s, step == BE_TLS_EHLO ||
			    step == BE_STARTTLS ? NULL : &r);
		}
		if (step == BE_XCLIENT && x.off < x.len) {
			if (be_xclient_next(s, &x) == -1)
				return be_fail(s, NULL);
			continue;
		}
		if (step == BE_TLS_EHLO && !r.starttls) {
			session_outcome(s, "backend %s does not offer STARTTLS "
			    "(--proxy-starttls)", s->backend);
			return be_fail(s, NULL);
		}
		/* the dialogue starts again in TLS, with EHLO */
		if (step == BE_STARTTLS && backend_tls(s) == -1)
			return be_fail(s, NULL);
		/* the last EHLO's reply says which AUTH it takes */
		if (step == BE_EHLO || (step == BE_CLIENT_HELO && s->smtp.esmtp))
			ehlo = r;
		if (step == BE_RCPT) {
			client_reply(s, r.text);
			return PROTO_RELAY;
		}
		if ((step = be_next(s, step, &ehlo)) == BE_DONE)
			break;
		if (step == BE_NOMECH) {
			session_outcome(s, "backend %s offers neither AUTH PLAIN "
			    "nor AUTH LOGIN (--proxy-smtp-auth)", s->backend);
			return be_fail(s, NULL);
		}
		if (be_command(s, step, &ehlo, &x) == -1)
			return be_fail(s, NULL);
	}
	client_reply(s, REPLY_AUTH_OK);
	return PROTO_RELAY;
}
