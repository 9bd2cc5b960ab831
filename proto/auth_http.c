/*
 * The auth_http request, as nginx writes it, and a strict, bounded parser
 * of the response.  Nothing here does I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../addr.h"
#include "../options.h"
#include "../tls.h"
#include "auth_http.h"

/*
 * nginx's "unix:/path[:/uri]" (ngx_parse_unix_domain_url): the path runs
 * to the first ':', the URI follows it, and the Host header is
 * "localhost".  A URI that does not begin with '/' (nginx would send it
 * as it is) is refused: "GET auth HTTP/1.0" is no request.
 */
static int
url_unix(const char *p, struct auth_url *u)
{
	size_t	n = strcspn(p, ":");

	if (n == 0 || n >= sizeof(u->path))
		return -1;
	memcpy(u->path, p, n);
	u->path[n] = '\0';
	u->uri = p[n] == '\0' || p[n + 1] == '\0' ? "/" : p + n + 1;
	if (u->uri[0] != '/')
		return -1;
	u->kind = AUTH_URL_UNIX;
	strlcpy(u->host, "localhost", sizeof(u->host));
	return 0;
}

/*
 * "[http://]host[:port][/uri]", "[http://]unix:/path[:/uri]" or
 * "https://host[:port][/uri]", into u.  The URL goes into the request as
 * it is: no blanks or control bytes, and a port, when given, is a number.
 */
int
auth_http_url(const char *url, struct auth_url *u)
{
	struct hostport	 hp;
	const char	*p;
	size_t		 n;
	int		 w, port = 80;

	memset(u, 0, sizeof(*u));
	u->kind = AUTH_URL_HTTP;
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -1;
	if (strncasecmp(url, "http://", 7) == 0)
		url += 7;
	else if (strncasecmp(url, "https://", 8) == 0) {
		url += 8;
		u->kind = AUTH_URL_HTTPS;
		port = 443;
	}
	if (u->kind == AUTH_URL_HTTP && strncasecmp(url, "unix:", 5) == 0)
		return url_unix(url + 5, u);
	n = strcspn(url, "/");
	u->uri = url[n] == '\0' ? "/" : url + n;
	/* a bare IPv6 address would swallow the port: brackets only */
	if (hostport_parse(url, n, &hp) == -1 || (hp.v6 && !hp.bracketed))
		return -1;
	if (strlcpy(u->name, hp.host, sizeof(u->name)) >= sizeof(u->name))
		return -1;
	w = snprintf(u->host, sizeof(u->host), hp.v6 ? "[%s]" : "%s", hp.host);
	if (w < 0 || (size_t)w >= sizeof(u->host))
		return -1;
	w = snprintf(u->hostport, sizeof(u->hostport), "%s:%u", u->host,
	    hp.port ? hp.port : (unsigned)port);
	return w < 0 || (size_t)w >= sizeof(u->hostport) ? -1 : 0;
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

/* "Name: 25": a port, as nginx's "%d" */
static void
header_port(struct buf *b, const char *name, unsigned port)
{
	char	n[16];

	snprintf(n, sizeof(n), "%u", port);
	header(b, name, n);
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
 * Ours, after all of nginx's and the extra headers, each only when known,
 * so that a service written for nginx sees its request unchanged up to
 * them: the client's port, the address and port it connected to (the
 * true ends, a trusted PROXY header's or a launcher's), and the name the
 * client asked for in its TLS ClientHello (SNI).
 */
static int
our_headers(struct buf *b, const struct auth_req *r)
{
	if (r->client_port != 0)
		header_port(b, "Client-Port", r->client_port);
	if (r->server_addr != NULL && r->server_addr[0] != '\0')
		header(b, "Server-Addr", r->server_addr);
	if (r->server_port != 0)
		header_port(b, "Server-Port", r->server_port);
	if (r->sni != NULL && r->sni[0] != '\0') {
		if (!fact_clean(r->sni))
			return AUTH_HTTP_EFACT;
		header(b, "Auth-SSL-Server-Name", r->sni);
	}
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
	/*
	 * As nginx 1.19.8 and later, after Client-Host: the addresses of a
	 * PROXY header read from the front, trusted or not (Client-IP is the
	 * one to believe); none after "PROXY UNKNOWN" or a v2 LOCAL.
	 */
	if (r->pp_addr != NULL && r->pp_server_addr != NULL) {
		header(&b, "Proxy-Protocol-Addr", r->pp_addr);
		header_port(&b, "Proxy-Protocol-Port", r->pp_port);
		header(&b, "Proxy-Protocol-Server-Addr", r->pp_server_addr);
		header_port(&b, "Proxy-Protocol-Server-Port", r->pp_server_port);
	}
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
	if ((rc = our_headers(&b, r)) != 0)
		return rc;
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
