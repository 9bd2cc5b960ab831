/*
 * The auth_http response parser (proto/auth_http.c), over what a
 * service (or whatever answers at its address) sends: every value it
 * keeps fits its field, NUL-terminated, and those that reach the
 * client, the log or a number hold no control byte; read in pieces, a
 * response comes to the same answer.  Then the request, with a user and
 * a password taken from the input: each escaped into one header line
 * that unescapes to exactly it, no line injected.
 */
#include "fuzz.h"
#include "../../proto/auth_http.h"

static void
text_field(const char *s, size_t cap)
{
	size_t	n = strnlen(s, cap), i;

	FUZZ_CHECK(n < cap);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= ' ' && s[i] != 0x7f);
}

static void
raw_field(const char *s, size_t len, size_t cap)
{
	FUZZ_CHECK(len < cap && s[len] == '\0');
	FUZZ_CHECK(memchr(s, '\0', len) == NULL);
	FUZZ_CHECK(memchr(s, '\r', len) == NULL);
	FUZZ_CHECK(memchr(s, '\n', len) == NULL);
}

static void
check_resp(const struct auth_resp *r)
{
	size_t	i, n;

	FUZZ_CHECK(r->verdict >= AUTH_HTTP_NONE &&
	    r->verdict <= AUTH_HTTP_REFUSED);
	text_field(r->status, sizeof(r->status));
	text_field(r->server, sizeof(r->server));
	text_field(r->port, sizeof(r->port));
	text_field(r->errcode, sizeof(r->errcode));
	text_field(r->proxy_ssl_name, sizeof(r->proxy_ssl_name));
	raw_field(r->user, r->userlen, sizeof(r->user));
	raw_field(r->pass, r->passlen, sizeof(r->pass));
	FUZZ_CHECK(r->portnum <= 65535);
	if (r->portnum != 0)
		FUZZ_CHECK(auth_http_port(r->port, strlen(r->port)) ==
		    (int)r->portnum);
	FUZZ_CHECK(r->wait >= -1 && r->wait <= 3600);
	FUZZ_CHECK(r->proxy_ssl >= AUTH_PROXY_SSL_DEFAULT &&
	    r->proxy_ssl <= AUTH_PROXY_SSL_STARTTLS);
	FUZZ_CHECK(r->xclient >= -1 && r->xclient <= 1);
	n = strnlen(r->sasl_error, sizeof(r->sasl_error));
	FUZZ_CHECK(n < sizeof(r->sasl_error) && n % 4 == 0);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789+/=", r->sasl_error[i]) != NULL);
}

/* a prefix of a response can only be "more" or what the whole is */
static void
prefixes(const char *buf, size_t len, int whole, struct auth_resp *r)
{
	size_t	k, step = len / 61 + 1;
	int	rc;

	for (k = 0; k < len; k += step) {
		rc = auth_http_response(buf, k, r);
		if (whole == 1)
			FUZZ_CHECK(rc == 0 || rc == 1);
		else if (whole == 0)
			FUZZ_CHECK(rc == 0);
		else
			FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 1)
			check_resp(r);
	}
}

static int
unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : -1;
}

/* the value of header name in req, unescaped into out */
static size_t
header_value(const char *req, const char *name, char *out, size_t cap)
{
	const char	*p, *e;
	size_t		 n = 0;

	p = strstr(req, name);
	FUZZ_CHECK(p != NULL && p[-1] == '\n');
	p += strlen(name);
	e = strstr(p, "\r\n");
	FUZZ_CHECK(e != NULL);
	for (; p < e; p++) {
		FUZZ_CHECK(n < cap);
		/* a blank, a control byte and '%' only as %XX */
		if (*p == '%')
			FUZZ_CHECK(unhex(p[1]) >= 0 && unhex(p[2]) >= 0);
		else
			FUZZ_CHECK((unsigned char)*p > ' ');
		if (*p == '%') {
			out[n++] = unhex(p[1]) << 4 | unhex(p[2]);
			p += 2;
		} else
			out[n++] = *p;
	}
	return n;
}

static void
request(const char *in, size_t len)
{
	struct auth_req	 q;
	char		*out, *v;
	size_t		 i, lines = 0, ulen = len / 3, n;
	int		 rc;

	memset(&q, 0, sizeof(q));
	q.host = "localhost";
	q.uri = "/auth";
	q.method = "plain";
	q.user = in;
	q.userlen = ulen;
	q.pass = in + ulen;
	q.passlen = len - ulen;
	q.protocol = "smtp";
	q.attempt = 1;
	q.client_ip = "192.0.2.1";
	if ((out = malloc(AUTH_HTTP_REQUEST_MAX)) == NULL ||
	    (v = malloc(3 * len + 1)) == NULL)
		abort();
	rc = auth_http_request(&q, out, AUTH_HTTP_REQUEST_MAX);
	FUZZ_CHECK(rc > 0 && (size_t)rc < AUTH_HTTP_REQUEST_MAX);
	FUZZ_CHECK(strlen(out) == (size_t)rc);
	for (i = 0; i < (size_t)rc; i++) {
		FUZZ_CHECK(out[i] != '\r' || out[i + 1] == '\n');
		FUZZ_CHECK(out[i] != '\n' || (i > 0 && out[i - 1] == '\r'));
		lines += out[i] == '\n';
	}
	/* GET, Host, Method, User, Pass, Protocol, Attempt, Client-IP, "" */
	FUZZ_CHECK(lines == 9);
	n = header_value(out, "Auth-User: ", v, 3 * len + 1);
	FUZZ_CHECK(n == q.userlen && memcmp(v, q.user, n) == 0);
	n = header_value(out, "Auth-Pass: ", v, 3 * len + 1);
	FUZZ_CHECK(n == q.passlen && memcmp(v, q.pass, n) == 0);
	free(v);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct auth_resp	 r;
	char			*buf;
	int			 rc;

	buf = fuzz_copy(data, len);
	rc = auth_http_response(buf, len, &r);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (len > AUTH_HTTP_RESPONSE_MAX)
		FUZZ_CHECK(rc == -1);
	if (rc == 1)
		check_resp(&r);
	if (len <= AUTH_HTTP_RESPONSE_MAX)
		prefixes(buf, len, rc, &r);
	/* a user name and a password of CRED_MAX at most, as the session's */
	if (len <= 3 * 512 / 2)
		request(buf, len);
	free(buf);
	return 0;
}
