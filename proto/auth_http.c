/*
 * The auth_http service's URL, and the request as nginx writes it (the
 * response is read in auth_http_response.c).  Nothing here does I/O.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../addr.h"
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
