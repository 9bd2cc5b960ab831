/*
 * The auth_http response: a strict, bounded parser, which tells a
 * service talking garbage from one that is not done yet, and says what
 * was wrong.  Nothing here does I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../options.h"
#include "auth_http.h"

static int
field(const char *name, size_t namelen, const char *want)
{
	return namelen == strlen(want) && strncasecmp(name, want, namelen) == 0;
}

static int
copy(char *dst, size_t cap, const char *v, size_t n, size_t *len)
{
	if (n >= cap)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	if (len != NULL)
		*len = n;
	return 0;
}

/* A value that reaches the client, the log or a number: text only. */
static int
text(char *dst, size_t cap, const char *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
			return -1;
	return copy(dst, cap, v, n, NULL);
}

/*
 * Auth-Port as nginx reads it (ngx_atoi, then 1 to 65535): digits only.
 * strtonum(3) would also take a sign or leading blanks ("+17110", " 1").
 * The port, or -1.
 */
int
auth_http_port(const char *s, size_t n)
{
	size_t	 i;
	long	 port = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		port = port * 10 + (s[i] - '0');
		if (port > 65535)
			return -1;
	}
	return port == 0 ? -1 : (int)port;
}

/*
 * One Auth-Status line: it may raise the verdict, never lower it, so
 * that "OK" cannot undo a refusal that came before it or after it (the
 * text of the last refusal is the one the client gets, as in nginx).  An
 * empty status is neither a yes nor a reason to show: malformed.
 */
static int
response_status(const char *v, size_t n, struct auth_resp *r)
{
	enum auth_verdict	 this;

	if (n == 2 && memcmp(v, "OK", 2) == 0)
		this = AUTH_HTTP_OK;
	else if (n == 4 && memcmp(v, "WAIT", 4) == 0)
		this = AUTH_HTTP_WAIT;
	else if (n == 0 || text(r->status, sizeof(r->status), v, n) == -1)
		return -1;
	else
		this = AUTH_HTTP_REFUSED;
	if (this > r->verdict)
		r->verdict = this;
	return 0;
}

/*
 * Auth-Proxy-SSL: a word we do not know is malformed, so that the
 * service's "encrypt this one" can never silently mean plaintext.
 */
static int
proxy_ssl(const char *v, size_t n, struct auth_resp *r)
{
	if (n == 2 && strncasecmp(v, "on", 2) == 0)
		r->proxy_ssl = AUTH_PROXY_SSL_ON;
	else if (n == 3 && strncasecmp(v, "off", 3) == 0)
		r->proxy_ssl = AUTH_PROXY_SSL_OFF;
	else if (n == 8 && strncasecmp(v, "starttls", 8) == 0)
		r->proxy_ssl = AUTH_PROXY_SSL_STARTTLS;
	else
		return -1;
	return 0;
}

/*
 * A word of a per-session choice: the value of the one that matches, -1
 * when none does (the caller makes the response malformed).
 */
struct word {
	const char	*word;
	int		 value;
};

static int
word(const char *v, size_t n, const struct word *w, size_t nw)
{
	size_t	i;

	for (i = 0; i < nw; i++)
		if (n == strlen(w[i].word) && strncasecmp(v, w[i].word, n) == 0)
			return w[i].value;
	return -1;
}

#define WORD(v, n, table)	word(v, n, table, sizeof(table) / sizeof(table[0]))

static const struct word proxy_words[] = {
	{ "off", PROXYPROTO_OFF }, { "v1", PROXYPROTO_V1 },
	{ "v2", PROXYPROTO_V2 },
};
static const struct word onoff_words[] = { { "off", 0 }, { "on", 1 } };
static const struct word smtp_auth_words[] = {
	{ "off", 0 }, { "plain", AUTH_PLAIN }, { "login", AUTH_LOGIN },
};

static int
choice(int *dst, int value)
{
	*dst = value;
	return value == -1 ? -1 : 0;
}

/*
 * Auth-Error-SASL (Angie's): the text a failed XOAUTH2 or OAUTHBEARER
 * client is sent as the server's last challenge, base64 as it goes on
 * the wire: whole quads of the alphabet, '=' only as padding at the end.
 * Anything else, or more than AUTH_HTTP_SASL_ERROR_MAX, is malformed.
 */
static int
sasl_error(const char *v, size_t n, struct auth_resp *r)
{
	size_t	i, pad = 0;

	if (n == 0 || n % 4 != 0 || n >= sizeof(r->sasl_error))
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = v[i];

		if (ch == '=' && i >= n - 2)
			pad++;
		else if (pad > 0 || !(((ch | 0x20) >= 'a' && (ch | 0x20) <=
		    'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
			return -1;
	}
	return copy(r->sasl_error, sizeof(r->sasl_error), v, n, NULL);
}

/*
 * One "Name: value" header into r; -1 when malformed or out of bounds.
 * Auth-User and Auth-Pass are taken as they come (a password may hold a
 * tab, and nginx passes it on as it is); header_line kept NUL, CR and LF
 * out of them.
 */
static int
response_header(const char *name, size_t namelen, const char *v, size_t n,
    struct auth_resp *r)
{
	const char	*errstr;
	char		 num[16];
	int		 port;

	if (field(name, namelen, "Auth-Status"))
		return response_status(v, n, r);
	else if (field(name, namelen, "Auth-Server"))
		return text(r->server, sizeof(r->server), v, n);
	else if (field(name, namelen, "Auth-Port")) {
		/* a bad port matters only with OK: auth.c says so then */
		port = auth_http_port(v, n);
		r->portnum = port == -1 ? 0 : port;
		return text(r->port, sizeof(r->port), v, n);
	} else if (field(name, namelen, "Auth-User"))
		return copy(r->user, sizeof(r->user), v, n, &r->userlen);
	else if (field(name, namelen, "Auth-Pass"))
		return copy(r->pass, sizeof(r->pass), v, n, &r->passlen);
	else if (field(name, namelen, "Auth-Error-Code"))
		return text(r->errcode, sizeof(r->errcode), v, n);
	else if (field(name, namelen, "Auth-Proxy-SSL"))
		return proxy_ssl(v, n, r);
	else if (field(name, namelen, "Auth-Proxy-SSL-Name"))
		return text(r->proxy_ssl_name, sizeof(r->proxy_ssl_name), v, n);
	else if (field(name, namelen, "Auth-Proxy-Protocol"))
		return choice(&r->proxy_protocol, WORD(v, n, proxy_words));
	else if (field(name, namelen, "Auth-XCLIENT"))
		return choice(&r->xclient, WORD(v, n, onoff_words));
	else if (field(name, namelen, "Auth-Proxy-SMTP-Auth"))
		return choice(&r->smtp_auth, WORD(v, n, smtp_auth_words));
	else if (field(name, namelen, "Auth-Error-SASL"))
		return sasl_error(v, n, r);
	else if (field(name, namelen, "Auth-Wait")) {
		/* one nginx cannot read it ignores: the refusal then closes */
		if (copy(num, sizeof(num), v, n, NULL) == -1)
			return 0;
		r->wait = strtonum(num, 0, 3600, &errstr);
		if (errstr != NULL)
			r->wait = -1;
	}
	return 0;
}

/*
 * Could p..e be (the start of) a header line: a name of letters, digits
 * and '-', a colon, a value without NUL or CR?  *colon is NULL when the
 * colon has not come yet.
 */
static int
header_line(const char *p, const char *e, const char **colon)
{
	const char	*q;

	for (q = p; q < e && *q != ':'; q++) {
		unsigned char ch = *q;

		if (!((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') &&
		    !(ch >= '0' && ch <= '9') && ch != '-')
			return 0;
	}
	if (q == e) {
		*colon = NULL;
		return 1;
	}
	if (q == p)
		return 0;
	*colon = q;
	for (q++; q < e; q++)
		if (*q == '\0' || *q == '\r')
			return 0;
	return 1;
}

/*
 * The status line, "HTTP/1.x " and more, comes first.  Its code is
 * ignored, as nginx ignores it (the answer is in Auth-Status), but a
 * response without one is no HTTP response: malformed, so that a service
 * talking something else fails closed.  Returns 1 with the line's length
 * (its LF included) in *linelen, 0 when more is needed, -1 when malformed.
 */
static int
status_line(const char *p, size_t len, size_t *linelen)
{
	static const char	 want[] = "HTTP/1.x ";	/* x: a digit */
	const char		*q, *end = p + len;
	size_t			 i;

	for (i = 0; i < len && i < sizeof(want) - 1; i++)
		if (want[i] == 'x' ? p[i] < '0' || p[i] > '9' :
		    p[i] != want[i])
			return -1;
	for (q = p + i; q < end && *q != '\n'; q++)
		if (*q == '\0' || (*q == '\r' && q + 1 < end && q[1] != '\n'))
			return -1;
	if (q == end)
		return 0;
	*linelen = q - p + 1;
	return 1;
}

/*
 * Says what was wrong: why, then the header's name when there is one
 * (one we know, so short and printable; snprintf cuts it to fit).
 * Returns -1.
 */
static int
malformed(struct auth_resp *r, const char *why, const char *name,
    size_t namelen)
{
	snprintf(r->malformed, sizeof(r->malformed), "%s%.*s", why,
	    (int)namelen, name != NULL ? name : "");
	return -1;
}

/*
 * Parses a whole response: the status line, headers, an empty line.
 * Returns 1 when complete, 0 when more is needed, -1 when malformed (as
 * soon as a line cannot be a header, even before its end: a service
 * talking garbage is told from one that hangs up in the middle), with
 * what was wrong in r->malformed.
 */
int
auth_http_response(const char *buf, size_t len, struct auth_resp *r)
{
	const char	*p = buf, *end = buf + len, *nl, *colon, *v, *ve;
	size_t		 n;
	int		 rc;

	memset(r, 0, sizeof(*r));
	r->wait = -1;
	r->proxy_ssl = AUTH_PROXY_SSL_DEFAULT;
	r->proxy_protocol = r->xclient = r->smtp_auth = -1;
	if (len > AUTH_HTTP_RESPONSE_MAX)
		return malformed(r, "longer than the buffer", NULL, 0);
	if ((rc = status_line(p, len, &n)) != 1)
		return rc == 0 ? 0 : malformed(r, "no HTTP/1.x status line",
		    NULL, 0);
	p += n;
	for (;;) {
		nl = memchr(p, '\n', end - p);
		ve = nl != NULL ? nl : end;
		if (ve > p && ve[-1] == '\r')
			ve--;
		if (nl != NULL && ve == p)
			return 1;
		if (!header_line(p, ve, &colon))
			return malformed(r, "no header: a NUL, a bare CR "
			    "or a byte no name holds", NULL, 0);
		if (nl == NULL)
			return 0;
		if (colon == NULL)
			return malformed(r, "a header without a colon", NULL, 0);
		for (v = colon + 1; v < ve && *v == ' '; v++)
			;
		while (ve > v && ve[-1] == ' ')
			ve--;
		if (response_header(p, colon - p, v, ve - v, r) == -1)
			return malformed(r, "a bad value of ", p, colon - p);
		p = nl + 1;
	}
}
