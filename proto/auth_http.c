/*
 * The auth_http request, as nginx writes it, and a strict, bounded parser
 * of the response.  Nothing here does I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../addr.h"
#include "../tls.h"
#include "auth_http.h"

/*
 * "[http://]host[:port][/uri]": hostport to connect to, host for Host:.
 * The URL goes into the request as it is: no blanks or control bytes,
 * and a port, when given, is a number (so "https://..." is refused).
 */
int
auth_http_url(const char *url, char *hostport, size_t hpcap, char *host,
    size_t hostcap, const char **uri)
{
	struct hostport	 hp;
	const char	*p;
	size_t		 n;
	int		 w;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -1;
	if (strncasecmp(url, "http://", 7) == 0)
		url += 7;
	n = strcspn(url, "/");
	*uri = url[n] == '\0' ? "/" : url + n;
	/* a bare IPv6 address would swallow the port: brackets only */
	if (hostport_parse(url, n, &hp) == -1 || (hp.v6 && !hp.bracketed))
		return -1;
	w = snprintf(host, hostcap, hp.v6 ? "[%s]" : "%s", hp.host);
	if (w < 0 || (size_t)w >= hostcap)
		return -1;
	w = snprintf(hostport, hpcap, "%s:%u", host, hp.port ? hp.port : 80);
	return w < 0 || (size_t)w >= hpcap ? -1 : 0;
}

struct buf {
	char	*p;
	size_t	 cap, len;
	int	 full;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->full || b->len + n >= b->cap) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
header(struct buf *b, const char *name, const char *value)
{
	puts_(b, name);
	puts_(b, ": ");
	puts_(b, value);
	put(b, "\r\n", 2);
}

/*
 * nginx's NGX_ESCAPE_MAIL_AUTH (its "memcached" table): 0x00-0x1F,
 * space and '%' as %XX in capitals; DEL and bytes above 0x7F as they are.
 */
static int
mail_auth_escapes(unsigned char ch)
{
	return ch <= ' ' || ch == '%';
}

/* The length of s once escaped: for the certificate's bound. */
size_t
auth_http_escaped_len(const char *s, size_t n)
{
	size_t	i, len = n;

	for (i = 0; i < n; i++)
		if (mail_auth_escapes((unsigned char)s[i]))
			len += 2;
	return len;
}

static void
escaped(struct buf *b, const char *name, const char *s, size_t n)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			e[3];
	size_t			i;

	puts_(b, name);
	puts_(b, ": ");
	for (i = 0; i < n; i++) {
		unsigned char ch = s[i];

		if (mail_auth_escapes(ch)) {
			e[0] = '%';
			e[1] = hex[ch >> 4];
			e[2] = hex[ch & 15];
			put(b, e, 3);
		} else
			put(b, s + i, 1);
	}
	put(b, "\r\n", 2);
}

/* A header whose value is sent only when known, as nginx's "if (x.len)". */
static void
header_if(struct buf *b, const char *name, const char *value)
{
	if (value[0] != '\0')
		header(b, name, value);
}

/*
 * nginx copies the TLS facts into the request unescaped: OpenSSL's
 * RFC 2253 names escape control bytes (ESC_CTRL), hex and cipher names
 * have none.  A control byte here would start a header of its own, so it
 * fails the request rather than be sent or altered.
 */
static int
fact_clean(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < ' ' || *v == 0x7f)
			return 0;
	return 1;
}

static int
tls_facts_clean(const struct tls_facts *t)
{
	return fact_clean(t->protocol) && fact_clean(t->cipher) &&
	    fact_clean(t->verify_text) && fact_clean(t->subject) &&
	    fact_clean(t->issuer) && fact_clean(t->serial) &&
	    fact_clean(t->fingerprint);
}

/*
 * The Auth-SSL-* lines, as ngx_mail_auth_http_create_request (nginx
 * 1.21.2 and later) writes them, after Auth-SMTP-* and before the extra
 * headers:
 *
 *   Auth-SSL: on            on a TLS connection (implicit or after
 *                           STARTTLS), else no Auth-SSL-* line at all
 *   Auth-SSL-Protocol       $ssl_protocol, "TLSv1.3"
 *   Auth-SSL-Cipher         $ssl_cipher, OpenSSL's name
 *
 * and only when ssl_verify_client is not off (on, optional,
 * optional_no_ca), each when not empty:
 *
 *   Auth-SSL-Verify         $ssl_client_verify: SUCCESS, FAILED:reason,
 *                           or NONE without a certificate
 *   Auth-SSL-Subject        $ssl_client_s_dn, RFC 2253, not escaped
 *   Auth-SSL-Issuer         $ssl_client_i_dn, RFC 2253, not escaped
 *   Auth-SSL-Serial         $ssl_client_serial, hex
 *   Auth-SSL-Fingerprint    $ssl_client_fingerprint, SHA-1, lowercase hex
 *   Auth-SSL-Cert           with auth_http_pass_client_cert on and a
 *                           certificate: its PEM (ngx_ssl_get_raw_
 *                           certificate) escaped as Auth-User is, so
 *                           "-----BEGIN%20CERTIFICATE-----%0AMII...%0A"
 *                           (NGX_ESCAPE_MAIL_AUTH, not the URI-component
 *                           escaping of $ssl_client_escaped_cert)
 *
 * 0, AUTH_HTTP_ECERT or AUTH_HTTP_EFACT.
 */
static int
tls_headers(struct buf *b, const struct auth_req *r)
{
	const struct tls_facts	*t = r->tls;
	const char		*pem;

	if (t == NULL || !t->on)
		return 0;
	if (!tls_facts_clean(t))
		return AUTH_HTTP_EFACT;
	pem = r->ssl_verify && r->pass_cert && t->cert_pem != NULL ?
	    t->cert_pem : "";
	if (auth_http_escaped_len(pem, strlen(pem)) > AUTH_HTTP_CERT_MAX)
		return AUTH_HTTP_ECERT;
	header(b, "Auth-SSL", "on");
	header_if(b, "Auth-SSL-Protocol", t->protocol);
	header_if(b, "Auth-SSL-Cipher", t->cipher);
	if (!r->ssl_verify)
		return 0;
	header_if(b, "Auth-SSL-Verify", t->verify_text);
	header_if(b, "Auth-SSL-Subject", t->subject);
	header_if(b, "Auth-SSL-Issuer", t->issuer);
	header_if(b, "Auth-SSL-Serial", t->serial);
	header_if(b, "Auth-SSL-Fingerprint", t->fingerprint);
	if (pem[0] != '\0')
		escaped(b, "Auth-SSL-Cert", pem, strlen(pem));
	return 0;
}

/*
 * Returns the request's length, or AUTH_HTTP_ETOOLONG when it does not
 * fit, AUTH_HTTP_ECERT or AUTH_HTTP_EFACT (tls_headers).
 *
 * SASL EXTERNAL, as nginx (ngx_mail_auth_external) sends it:
 * "Auth-Method: external", Auth-User the decoded authorization identity
 * (empty when the client sent "=" for the certificate's own), and an
 * empty "Auth-Pass: " line; the service decides from Auth-SSL-*.
 */
int
auth_http_request(const struct auth_req *r, char *out, size_t outcap)
{
	struct buf	 b = { out, outcap, 0, 0 };
	const char	*h, *nl;
	char		 n[16];
	int		 rc;

	puts_(&b, "GET ");
	puts_(&b, r->uri);
	puts_(&b, " HTTP/1.0\r\n");
	header(&b, "Host", r->host);
	header(&b, "Auth-Method", r->method);
	escaped(&b, "Auth-User", r->user, r->userlen);
	escaped(&b, "Auth-Pass", r->pass, r->passlen);
	if (r->salt != NULL)
		header(&b, "Auth-Salt", r->salt);
	header(&b, "Auth-Protocol", r->protocol);
	snprintf(n, sizeof(n), "%u", r->attempt);
	header(&b, "Auth-Login-Attempt", n);
	header(&b, "Client-IP", r->client_ip);
	if (r->client_host != NULL)
		header(&b, "Client-Host", r->client_host);
	if (r->smtp_helo != NULL) {
		/* whole command lines, as nginx sends them: no CR or LF here */
		header(&b, "Auth-SMTP-Helo", r->smtp_helo);
		header(&b, "Auth-SMTP-From", r->smtp_from);
		header(&b, "Auth-SMTP-To", r->smtp_to);
	}
	if ((rc = tls_headers(&b, r)) != 0)
		return rc;
	/*
	 * --auth-http-header, either form, as options.c wrote it: "Name:
	 * value" lines with a token for a name and no CR, LF or NUL.
	 */
	for (h = r->headers; h != NULL && *h != '\0'; h = nl + (*nl != '\0')) {
		nl = h + strcspn(h, "\n");
		if (nl > h) {
			put(&b, h, nl - h);
			put(&b, "\r\n", 2);
		}
	}
	put(&b, "\r\n", 2);
	return b.full ? AUTH_HTTP_ETOOLONG : (int)b.len;
}

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
 * Parses a whole response: the status line, headers, an empty line.
 * Returns 1 when complete, 0 when more is needed, -1 when malformed (as
 * soon as a line cannot be a header, even before its end: a service
 * talking garbage is told from one that hangs up in the middle).
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
	if (len > AUTH_HTTP_RESPONSE_MAX)
		return -1;
	if ((rc = status_line(p, len, &n)) != 1)
		return rc;
	p += n;
	for (;;) {
		nl = memchr(p, '\n', end - p);
		ve = nl != NULL ? nl : end;
		if (ve > p && ve[-1] == '\r')
			ve--;
		if (nl != NULL && ve == p)
			return 1;
		if (!header_line(p, ve, &colon))
			return -1;
		if (nl == NULL)
			return 0;
		if (colon == NULL)
			return -1;
		for (v = colon + 1; v < ve && *v == ' '; v++)
			;
		while (ve > v && ve[-1] == ' ')
			ve--;
		if (response_header(p, colon - p, v, ve - v, r) == -1)
			return -1;
		p = nl + 1;
	}
}
