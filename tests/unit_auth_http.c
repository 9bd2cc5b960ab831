/*
 * Unit tests of the auth_http request and response: byte-exact, no sockets.
 */
#include <stdlib.h>

#include "unit.h"
#include "../proto/auth_http.h"
#include "../session.h"
#include "../tls.h"

/* auth_http_response over a C string */
static int
auth_resp_of(const char *s, struct auth_resp *r)
{
	return auth_http_response(s, strlen(s), r);
}

#define AH_OK	"Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n" \
		"Auth-Port: 17110\r\n"
#define AH_NO	"Auth-Status: Invalid login or password\r\n"

/* An IMAP LOGIN's request, before any TLS fact or option */
static void
req_base(struct auth_req *q)
{
	memset(q, 0, sizeof(*q));
	q->host = "127.0.0.1";
	q->uri = "/auth";
	q->method = "plain";
	q->user = "alice";
	q->userlen = 5;
	q->pass = "p w%";
	q->passlen = 4;
	q->protocol = "imap";
	q->attempt = 1;
	q->client_ip = "192.0.2.7";
	q->headers = "X-Extra: 1";
}

#define REQ_HEAD "GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n" \
		"Auth-Method: plain\r\nAuth-User: alice\r\n" \
		"Auth-Pass: p%20w%25\r\nAuth-Protocol: imap\r\n" \
		"Auth-Login-Attempt: 1\r\nClient-IP: 192.0.2.7\r\n"
#define REQ_TAIL "X-Extra: 1\r\n\r\n"
#define SSL_ON	"Auth-SSL: on\r\nAuth-SSL-Protocol: TLSv1.3\r\n" \
		"Auth-SSL-Cipher: TLS_AES_256_GCM_SHA384\r\n"

/* A TLSv1.3 connection; with cert, the client's, as nginx prints it */
static void
facts_base(struct tls_facts *t, int cert, const char *verify)
{
	memset(t, 0, sizeof(*t));
	t->on = 1;
	strcpy(t->protocol, "TLSv1.3");
	strcpy(t->cipher, "TLS_AES_256_GCM_SHA384");
	strcpy(t->verify_text, verify);
	if (!cert)
		return;
	t->cert = 1;
	strcpy(t->subject, "CN=client.example,O=Test\\, Inc.");
	strcpy(t->issuer, "CN=Test CA");
	strcpy(t->serial, "1A2B3C");
	strcpy(t->fingerprint, "0123456789abcdef0123456789abcdef01234567");
	t->cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB+w==\n"
	    "-----END CERTIFICATE-----\n";
}

#define SSL_CERT "Auth-SSL-Subject: CN=client.example,O=Test\\, Inc.\r\n" \
		"Auth-SSL-Issuer: CN=Test CA\r\nAuth-SSL-Serial: 1A2B3C\r\n" \
		"Auth-SSL-Fingerprint: " \
		"0123456789abcdef0123456789abcdef01234567\r\n"

/* The request of q is want, byte for byte */
static int
req_is(const struct auth_req *q, const char *want)
{
	static char	out[AUTH_HTTP_REQUEST_MAX];
	int		n = auth_http_request(q, out, sizeof(out));

	if (n < 0 || (size_t)n != strlen(want) || memcmp(out, want, n) != 0) {
		fprintf(stderr, "# got %d:\n%s# want:\n%s", n,
		    n < 0 ? "" : out, want);
		return 0;
	}
	return 1;
}

static void
test_auth_http_tls(void)
{
	static char		big[AUTH_HTTP_CERT_MAX + 64];
	struct auth_req		q;
	struct tls_facts	t;
	char			out[AUTH_HTTP_REQUEST_MAX];

	req_base(&q);
	ok(req_is(&q, REQ_HEAD REQ_TAIL), "auth_http: plaintext: no Auth-SSL");
	facts_base(&t, 1, "SUCCESS");
	t.on = 0;
	q.tls = &t;
	q.ssl_verify = q.pass_cert = 1;
	ok(req_is(&q, REQ_HEAD REQ_TAIL),
	    "auth_http: facts of no TLS connection: no Auth-SSL");

	/* ssl_verify_client off: the certificate is not looked at */
	t.on = 1;
	q.ssl_verify = 0;
	ok(req_is(&q, REQ_HEAD SSL_ON REQ_TAIL),
	    "auth_http: TLS, verify off: Auth-SSL, protocol and cipher only");
	facts_base(&t, 0, "NONE");
	q.ssl_verify = 1;
	q.pass_cert = 0;
	ok(req_is(&q, REQ_HEAD SSL_ON "Auth-SSL-Verify: NONE\r\n" REQ_TAIL),
	    "auth_http: verify optional, no certificate: Verify NONE alone");
	facts_base(&t, 1, "SUCCESS");
	ok(req_is(&q, REQ_HEAD SSL_ON "Auth-SSL-Verify: SUCCESS\r\n" SSL_CERT
	    REQ_TAIL), "auth_http: a verified certificate");
	facts_base(&t, 1, "FAILED:certificate has expired");
	t.verify = 10;
	ok(req_is(&q, REQ_HEAD SSL_ON
	    "Auth-SSL-Verify: FAILED:certificate has expired\r\n" SSL_CERT
	    REQ_TAIL), "auth_http: a failed verification, as nginx says it");
	facts_base(&t, 1, "SUCCESS");
	q.pass_cert = 1;
	ok(req_is(&q, REQ_HEAD SSL_ON "Auth-SSL-Verify: SUCCESS\r\n" SSL_CERT
	    "Auth-SSL-Cert: -----BEGIN%20CERTIFICATE-----%0AMIIB+w==%0A"
	    "-----END%20CERTIFICATE-----%0A\r\n" REQ_TAIL),
	    "auth_http: pass_client_cert: the PEM, escaped as Auth-User");
	q.ssl_verify = 0;
	ok(req_is(&q, REQ_HEAD SSL_ON REQ_TAIL),
	    "auth_http: pass_client_cert without verification: no Cert");

	/* EXTERNAL: the authorization identity, an empty password */
	q.ssl_verify = 1;
	q.pass_cert = 0;
	q.method = "external";
	q.user = "";
	q.userlen = 0;
	q.pass = "";
	q.passlen = 0;
	ok(req_is(&q, "GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Auth-Method: external\r\nAuth-User: \r\nAuth-Pass: \r\n"
	    "Auth-Protocol: imap\r\nAuth-Login-Attempt: 1\r\n"
	    "Client-IP: 192.0.2.7\r\n" SSL_ON "Auth-SSL-Verify: SUCCESS\r\n"
	    SSL_CERT REQ_TAIL), "auth_http: EXTERNAL, as nginx sends it");

	/* the bounds: fail closed, nothing cut */
	req_base(&q);
	facts_base(&t, 1, "SUCCESS");
	q.tls = &t;
	q.ssl_verify = q.pass_cert = 1;
	memset(big, 'A', AUTH_HTTP_CERT_MAX);
	t.cert_pem = big;
	ok(auth_http_request(&q, out, sizeof(out)) > AUTH_HTTP_CERT_MAX &&
	    auth_http_escaped_len(big, strlen(big)) == AUTH_HTTP_CERT_MAX,
	    "auth_http: a certificate of CERT_MAX escaped fits");
	big[0] = '\n';
	ok(auth_http_request(&q, out, sizeof(out)) == AUTH_HTTP_ECERT,
	    "auth_http: a certificate over CERT_MAX escaped fails closed");
	q.pass_cert = 0;
	ok(auth_http_request(&q, out, sizeof(out)) > 0,
	    "auth_http: ... and is not looked at without pass_client_cert");
	facts_base(&t, 1, "SUCCESS");
	strcpy(t.subject, "CN=x\r\nAuth-Status: OK");
	ok(auth_http_request(&q, out, sizeof(out)) == AUTH_HTTP_EFACT,
	    "auth_http: a CR LF in a DN fails the request");
	facts_base(&t, 1, "SUCCESS");
	ok(auth_http_request(&q, out, 200) == AUTH_HTTP_ETOOLONG,
	    "auth_http: a request over its buffer fails");
}

void
test_auth_http(void)
{
	struct auth_resp	r;

	test_auth_http_tls();

	/* a refusal anywhere is final: the bypass of issue 13 */
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK AH_NO "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: OK then a refusal is a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_NO AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: a refusal then OK is a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: WAIT\r\n" AH_NO
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_NO "Auth-Status: WAIT\r\n"
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED,
	    "auth_http: WAIT and a refusal, either order: a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: Go away\r\n" AH_OK
	    AH_NO "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: two refusals: the last text, as in nginx");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Status: WAIT\r\n"
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_WAIT,
	    "auth_http: OK and WAIT: WAIT, as in nginx");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_OK && strcmp(r.server, "127.0.0.1") == 0 &&
	    strcmp(r.port, "17110") == 0 && r.portnum == 17110,
	    "auth_http: OK alone");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Server: 127.0.0.1\r\n\r\n",
	    &r) == 1 && r.verdict == AUTH_HTTP_NONE,
	    "auth_http: no Auth-Status is no verdict");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status:  \r\n\r\n", &r) ==
	    -1 && auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Status:\r\n"
	    "\r\n", &r) == -1, "auth_http: an empty Auth-Status is malformed");

	/* the status line must be there; its code is ignored */
	ok(auth_resp_of("HTTP/1.1 500 Oops\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_OK &&
	    auth_resp_of("HTTP/1.0 200\n" AH_OK "\n", &r) == 1,
	    "auth_http: the status code is ignored, LF alone ends lines");
	ok(auth_resp_of(AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("\r\n" AH_OK "\r\n", &r) == -1,
	    "auth_http: no status line is malformed");
	ok(auth_resp_of("HTTP/2 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.0\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("http/1.0 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.x 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.0 200\rOK\r\n" AH_OK "\r\n", &r) == -1,
	    "auth_http: HTTP/1.x and a blank, else malformed");
	ok(auth_resp_of("", &r) == 0 && auth_resp_of("HTT", &r) == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK", &r) == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK, &r) == 0 &&
	    auth_resp_of("HTX", &r) == -1,
	    "auth_http: a partial response needs more, garbage does not");

	/* Auth-Port: digits only, 1 to 65535 */
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: +17110\r\n\r\n", &r) == 1 && r.portnum == 0 &&
	    strcmp(r.port, "+17110") == 0, "auth_http: Auth-Port +17110 is no "
	    "port");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: 0x10\r\n\r\n", &r) == 1 && r.portnum == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: 1 2\r\n\r\n", &r) == 1 && r.portnum == 0,
	    "auth_http: Auth-Port 0x10 and \"1 2\" are no ports");
	ok(auth_http_port("17110", 5) == 17110 &&
	    auth_http_port("65535", 5) == 65535 &&
	    auth_http_port("00025", 5) == 25 && auth_http_port("1", 1) == 1,
	    "auth_http_port: digits");
	ok(auth_http_port("+17110", 6) == -1 && auth_http_port(" 1", 2) == -1 &&
	    auth_http_port("1 ", 2) == -1 && auth_http_port("0x10", 4) == -1 &&
	    auth_http_port("-1", 2) == -1 && auth_http_port("", 0) == -1 &&
	    auth_http_port("0", 1) == -1 && auth_http_port("65536", 5) == -1 &&
	    auth_http_port("99999999999999999999", 20) == -1,
	    "auth_http_port: sign, blanks, hex, 0 and too big refused");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.proxy_ssl == AUTH_PROXY_SSL_DEFAULT && r.proxy_ssl_name[0] == '\0',
	    "auth_http: no Auth-Proxy-SSL: the options decide");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Proxy-SSL: on\r\n"
	    "Auth-Proxy-SSL-Name: mx.test\r\n\r\n", &r) == 1 &&
	    r.proxy_ssl == AUTH_PROXY_SSL_ON &&
	    strcmp(r.proxy_ssl_name, "mx.test") == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "auth-proxy-ssl: STARTTLS"
	    "\r\n\r\n", &r) == 1 && r.proxy_ssl == AUTH_PROXY_SSL_STARTTLS &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Proxy-SSL: off"
	    "\r\n\r\n", &r) == 1 && r.proxy_ssl == AUTH_PROXY_SSL_OFF,
	    "auth_http: Auth-Proxy-SSL on, starttls, off, and its name");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Proxy-SSL: yes"
	    "\r\n\r\n", &r) == -1,
	    "auth_http: an Auth-Proxy-SSL word we do not know is malformed");
}
