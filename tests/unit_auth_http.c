/*
 * Unit tests of the auth_http request and response: byte-exact, no sockets.
 */
#include <stddef.h>
#include <stdlib.h>

#include "unit.h"
#include "../auth.h"
#include "../options.h"
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

/* The URL of the service: nginx's forms, and https */
static void
test_auth_http_url(void)
{
	struct auth_url	u;
	char		long_path[200];

	ok(auth_http_url("http://127.0.0.1:9000/auth", &u) == 0 &&
	    u.kind == AUTH_URL_HTTP && strcmp(u.hostport, "127.0.0.1:9000") ==
	    0 && strcmp(u.host, "127.0.0.1") == 0 && strcmp(u.uri, "/auth") == 0,
	    "auth_http_url: http://HOST:PORT/URI");
	ok(auth_http_url("auth.test", &u) == 0 && u.kind == AUTH_URL_HTTP &&
	    strcmp(u.hostport, "auth.test:80") == 0 && strcmp(u.uri, "/") == 0,
	    "auth_http_url: a bare host: port 80, URI /");
	ok(auth_http_url("https://auth.test/a", &u) == 0 &&
	    u.kind == AUTH_URL_HTTPS && strcmp(u.hostport, "auth.test:443") ==
	    0 && strcmp(u.name, "auth.test") == 0 &&
	    strcmp(u.host, "auth.test") == 0 && strcmp(u.uri, "/a") == 0,
	    "auth_http_url: https://HOST/URI: port 443, HOST verified");
	ok(auth_http_url("HTTPS://[::1]:8443", &u) == 0 &&
	    u.kind == AUTH_URL_HTTPS && strcmp(u.hostport, "[::1]:8443") == 0 &&
	    strcmp(u.name, "::1") == 0 && strcmp(u.host, "[::1]") == 0,
	    "auth_http_url: https://[v6]:PORT: the address verified");
	ok(auth_http_url("unix:/run/auth.sock:/auth", &u) == 0 &&
	    u.kind == AUTH_URL_UNIX && strcmp(u.path, "/run/auth.sock") == 0 &&
	    strcmp(u.uri, "/auth") == 0 && strcmp(u.host, "localhost") == 0,
	    "auth_http_url: unix:/PATH:/URI, Host: localhost, as nginx");
	ok(auth_http_url("http://unix:/run/a.sock", &u) == 0 &&
	    u.kind == AUTH_URL_UNIX && strcmp(u.path, "/run/a.sock") == 0 &&
	    strcmp(u.uri, "/") == 0 && auth_http_url("unix:/run/a:", &u) == 0 &&
	    strcmp(u.path, "/run/a") == 0 && strcmp(u.uri, "/") == 0,
	    "auth_http_url: http://unix:/PATH and unix:/PATH: URI /");
	memset(long_path, 'a', sizeof(long_path));
	memcpy(long_path, "unix:/", 6);
	long_path[5 + AUTH_URL_PATH_MAX - 1] = '\0';
	ok(auth_http_url(long_path, &u) == 0 &&
	    strlen(u.path) == AUTH_URL_PATH_MAX - 1,
	    "auth_http_url: a path of 107 bytes fits sun_path");
	long_path[5 + AUTH_URL_PATH_MAX - 1] = 'a';
	long_path[5 + AUTH_URL_PATH_MAX] = '\0';
	ok(auth_http_url(long_path, &u) == -1,
	    "auth_http_url: a path over sun_path is refused");
	ok(auth_http_url("unix:", &u) == -1 &&
	    auth_http_url("unix::/auth", &u) == -1 &&
	    auth_http_url("unix:/run/a:auth", &u) == -1 &&
	    auth_http_url("https://unix:/run/a", &u) == -1 &&
	    auth_http_url("ftp://h/", &u) == -1 &&
	    auth_http_url("https://h:0/", &u) == -1 &&
	    auth_http_url("https://", &u) == -1 &&
	    auth_http_url("http://h/a b", &u) == -1,
	    "auth_http_url: no path, a URI without /, https unix, bad URLs");
}

/* Where each header nginx does not send goes, and nginx's PROXY ones */
static void
test_auth_http_ours(void)
{
	struct auth_req		q;
	struct tls_facts	t;
	char			out[AUTH_HTTP_REQUEST_MAX];

	req_base(&q);
	q.client_port = 40000;
	q.server_addr = "192.0.2.1";
	q.server_port = 143;
	ok(req_is(&q, REQ_HEAD "X-Extra: 1\r\nClient-Port: 40000\r\n"
	    "Server-Addr: 192.0.2.1\r\nServer-Port: 143\r\n\r\n"),
	    "auth_http: Client-Port, Server-Addr, Server-Port after the extra "
	    "headers");
	q.headers = NULL;
	q.server_addr = NULL;
	q.server_port = 0;
	ok(req_is(&q, REQ_HEAD "Client-Port: 40000\r\n\r\n"),
	    "auth_http: each of ours only when known");
	facts_base(&t, 0, "NONE");
	strcpy(t.sni, "imap.example.org");
	q.tls = &t;
	q.client_port = 0;
	ok(req_is(&q, REQ_HEAD SSL_ON "\r\n"),
	    "auth_http: no Auth-SSL-Server-Name when the SNI is not known");
	q.sni = t.sni;
	ok(req_is(&q, REQ_HEAD SSL_ON "Auth-SSL-Server-Name: imap.example.org"
	    "\r\n\r\n"), "auth_http: the SNI name last, apart from Auth-SSL-*");
	q.sni = "x\r\nAuth-Status: OK";
	ok(auth_http_request(&q, out, sizeof(out)) == AUTH_HTTP_EFACT,
	    "auth_http: a control byte in the SNI name fails the request");

	/* nginx's place for the PROXY header's: after Client-Host */
	req_base(&q);
	q.protocol = "smtp";
	q.method = "none";
	q.user = q.pass = "";
	q.userlen = q.passlen = 0;
	q.client_host = "[UNAVAILABLE]";
	q.smtp_helo = "client.test";
	q.smtp_from = "MAIL FROM:<a@b>";
	q.smtp_to = "RCPT TO:<c@d>";
	q.pp_addr = "198.51.100.7";
	q.pp_port = 5555;
	q.pp_server_addr = "203.0.113.9";
	q.pp_server_port = 25;
	q.client_port = 5555;
	q.tls = &t;
	facts_base(&t, 0, "NONE");
	ok(req_is(&q, "GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Auth-Method: none\r\nAuth-User: \r\nAuth-Pass: \r\n"
	    "Auth-Protocol: smtp\r\nAuth-Login-Attempt: 1\r\n"
	    "Client-IP: 192.0.2.7\r\nClient-Host: [UNAVAILABLE]\r\n"
	    "Proxy-Protocol-Addr: 198.51.100.7\r\n"
	    "Proxy-Protocol-Port: 5555\r\n"
	    "Proxy-Protocol-Server-Addr: 203.0.113.9\r\n"
	    "Proxy-Protocol-Server-Port: 25\r\n"
	    "Auth-SMTP-Helo: client.test\r\nAuth-SMTP-From: MAIL FROM:<a@b>\r\n"
	    "Auth-SMTP-To: RCPT TO:<c@d>\r\n" SSL_ON "X-Extra: 1\r\n"
	    "Client-Port: 5555\r\n\r\n"),
	    "auth_http: Proxy-Protocol-* after Client-Host, before "
	    "Auth-SMTP-*, as nginx");
	q.pp_server_addr = NULL;
	q.tls = NULL;
	q.client_port = 0;
	ok(req_is(&q, "GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Auth-Method: none\r\nAuth-User: \r\nAuth-Pass: \r\n"
	    "Auth-Protocol: smtp\r\nAuth-Login-Attempt: 1\r\n"
	    "Client-IP: 192.0.2.7\r\nClient-Host: [UNAVAILABLE]\r\n"
	    "Auth-SMTP-Helo: client.test\r\nAuth-SMTP-From: MAIL FROM:<a@b>\r\n"
	    "Auth-SMTP-To: RCPT TO:<c@d>\r\nX-Extra: 1\r\n\r\n"),
	    "auth_http: no Proxy-Protocol-* without both of its addresses");
}

static void
endpoint_set(struct endpoint *e, const char *ip, unsigned port)
{
	e->known = 1;
	e->family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	strlcpy(e->ip, ip, sizeof(e->ip));
	e->port = port;
}

/*
 * From the session to the request: what front.c and launch.c filled in
 * struct client, and the client's TLS, each header in its place.
 */
static void
test_auth_http_session(void)
{
	static struct options	o;
	static struct session	s;
	struct auth_req		q;

	o.protocol = PROTO_IMAP;
	s.opt = &o;
	s.creds.method = AUTH_PLAIN;
	strcpy(s.creds.user, "alice");
	s.creds.userlen = 5;
	strcpy(s.creds.pass, "p w%");
	s.creds.passlen = 4;
	s.attempt = 1;
	endpoint_set(&s.client.remote, "192.0.2.7", 40000);
	endpoint_set(&s.client.local, "192.0.2.1", 143);
	auth_request(&s, &q, "127.0.0.1", "/auth");
	ok(req_is(&q, REQ_HEAD "Client-Port: 40000\r\n"
	    "Server-Addr: 192.0.2.1\r\nServer-Port: 143\r\n\r\n"),
	    "auth_http: the session's true ends as Client-Port, Server-*");

	/* a PROXY header was read: nginx's four, from its addresses */
	s.client.proxied = 1;
	endpoint_set(&s.client.pp_remote, "2001:db8::7", 5555);
	endpoint_set(&s.client.pp_local, "2001:db8::1", 993);
	endpoint_set(&s.client.peer, "10.0.0.2", 61000);
	s.tls.on = 1;
	strcpy(s.tls.protocol, "TLSv1.3");
	strcpy(s.tls.cipher, "TLS_AES_256_GCM_SHA384");
	strcpy(s.tls.sni, "imap.example.org");
	auth_request(&s, &q, "127.0.0.1", "/auth");
	ok(req_is(&q, REQ_HEAD "Proxy-Protocol-Addr: 2001:db8::7\r\n"
	    "Proxy-Protocol-Port: 5555\r\n"
	    "Proxy-Protocol-Server-Addr: 2001:db8::1\r\n"
	    "Proxy-Protocol-Server-Port: 993\r\n" SSL_ON
	    "Client-Port: 40000\r\nServer-Addr: 192.0.2.1\r\n"
	    "Server-Port: 143\r\n"
	    "Auth-SSL-Server-Name: imap.example.org\r\n\r\n"),
	    "auth_http: the session's PROXY header, its TLS and SNI name");

	/* "PROXY UNKNOWN", a v2 LOCAL: read, but no addresses */
	s.client.pp_remote.known = s.client.pp_local.known = 0;
	s.client.remote.known = s.client.local.known = 0;
	s.tls.sni[0] = '\0';
	auth_request(&s, &q, "127.0.0.1", "/auth");
	ok(req_is(&q, "GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Auth-Method: plain\r\nAuth-User: alice\r\n"
	    "Auth-Pass: p%20w%25\r\nAuth-Protocol: imap\r\n"
	    "Auth-Login-Attempt: 1\r\nClient-IP: unknown\r\n" SSL_ON
	    "\r\n"), "auth_http: no addresses known: none of them sent");
}

/* A response of base (AH_OK, AH_NO) and one more header line */
static int
resp_with(const char *base, const char *line, struct auth_resp *r)
{
	char	buf[1024];

	snprintf(buf, sizeof(buf), "HTTP/1.0 200 OK\r\n%s%s\r\n\r\n", base,
	    line);
	return auth_resp_of(buf, r);
}

#define CHOICE(f)	offsetof(struct auth_resp, f)

/* The per-session choices and Auth-Error-SASL */
static void
test_auth_http_choices(void)
{
	static const struct {
		const char	*line;
		size_t		 off;		/* the field it sets */
		int		 want;
		int		 refused;	/* with AH_NO, else AH_OK */
	} good[] = {
		{ "Auth-Proxy-Protocol: v1", CHOICE(proxy_protocol),
		    PROXYPROTO_V1, 0 },
		{ "auth-proxy-protocol: V2", CHOICE(proxy_protocol),
		    PROXYPROTO_V2, 0 },
		{ "Auth-Proxy-Protocol: off", CHOICE(proxy_protocol),
		    PROXYPROTO_OFF, 0 },
		{ "Auth-XCLIENT: on", CHOICE(xclient), 1, 0 },
		{ "Auth-XCLIENT: off", CHOICE(xclient), 0, 0 },
		{ "Auth-Proxy-SMTP-Auth: login", CHOICE(smtp_auth), AUTH_LOGIN,
		    0 },
		{ "Auth-Proxy-SMTP-Auth: plain", CHOICE(smtp_auth), AUTH_PLAIN,
		    0 },
		{ "Auth-Proxy-SMTP-Auth: off", CHOICE(smtp_auth), 0, 0 },
		/* read in a refusal too, though only an OK applies them */
		{ "Auth-XCLIENT: off", CHOICE(xclient), 0, 1 },
	};
	/* words we do not know, none, and Auth-Error-SASL that is no base64 */
	static const char *const bad[] = {
		"Auth-Proxy-Protocol: v3", "Auth-Proxy-Protocol: on",
		"Auth-Proxy-Protocol: ", "Auth-XCLIENT: yes",
		"Auth-XCLIENT: on x", "Auth-Proxy-SMTP-Auth: cram-md5",
		"Auth-Error-SASL: YWJ", "Auth-Error-SASL: Y=Jj",
		"Auth-Error-SASL: YW=j", "Auth-Error-SASL: ====",
		"Auth-Error-SASL: YW j", "Auth-Error-SASL: YW-_",
		"Auth-Error-SASL:",
	};
	struct auth_resp	r;
	char			resp[2048], name[300];
	size_t			i;

	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.proxy_protocol == -1 && r.xclient == -1 && r.smtp_auth == -1 &&
	    r.sasl_error[0] == '\0',
	    "auth_http: none of ours: -1 each, the options decide");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(name, sizeof(name), "auth_http: \"%s\" taken",
		    good[i].line);
		ok(resp_with(good[i].refused ? AH_NO : AH_OK, good[i].line,
		    &r) == 1 && *(int *)((char *)&r + good[i].off) ==
		    good[i].want, name);
	}
	ok(resp_with(AH_NO, "Auth-Error-SASL: eyJzdGF0dXMiOiI0MDEifQ==", &r) ==
	    1 && r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.sasl_error, "eyJzdGF0dXMiOiI0MDEifQ==") == 0,
	    "auth_http: Auth-Error-SASL, base64, kept with the refusal");
	ok(resp_with(AH_NO, "Auth-Error-SASL: YWJj", &r) == 1 &&
	    strcmp(r.sasl_error, "YWJj") == 0 &&
	    resp_with(AH_NO, "Auth-Error-SASL: YW+/Yg==", &r) == 1,
	    "auth_http: Auth-Error-SASL without padding, with + and /");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "auth_http: \"%s\" is malformed",
		    bad[i]);
		ok(resp_with(AH_OK, bad[i], &r) == -1 &&
		    resp_with(AH_NO, bad[i], &r) == -1 &&
		    strncmp(r.malformed, "a bad value of Auth-", 20) == 0, name);
	}
	snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\n" AH_NO
	    "Auth-Error-SASL: %0*d\r\n\r\n", AUTH_HTTP_SASL_ERROR_MAX - 3, 0);
	ok(auth_resp_of(resp, &r) == 1 &&
	    strlen(r.sasl_error) == AUTH_HTTP_SASL_ERROR_MAX - 3,
	    "auth_http: Auth-Error-SASL of 1020 bytes fits");
	snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\n" AH_NO
	    "Auth-Error-SASL: %0*d\r\n\r\n", AUTH_HTTP_SASL_ERROR_MAX + 1, 0);
	ok(auth_resp_of(resp, &r) == -1,
	    "auth_http: Auth-Error-SASL over the bound is malformed");

	/* Auth-Server: a host name of 253 bytes is kept whole */
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Server: %s\r\nAuth-Port: 25\r\n\r\n", name);
	ok(auth_resp_of(resp, &r) == 1 && strcmp(r.server, name) == 0,
	    "auth_http: Auth-Server, a name of 253 bytes, kept whole");
}

void
test_auth_http(void)
{
	struct auth_resp	r;

	test_auth_http_tls();
	test_auth_http_url();
	test_auth_http_ours();
	test_auth_http_session();
	test_auth_http_choices();

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
	/* the log says what was wrong */
	ok(auth_resp_of("HTTP/2 200 OK\r\n", &r) == -1 &&
	    strcmp(r.malformed, "no HTTP/1.x status line") == 0,
	    "auth_http: malformed, why: the status line");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Wait 3\r\n", &r) == -1 &&
	    strcmp(r.malformed, "no header: a NUL, a bare CR or a byte no "
	    "name holds") == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\nX-A: b\rc\r\n", &r) == -1 &&
	    strncmp(r.malformed, "no header:", 10) == 0,
	    "auth_http: malformed, why: a line that is no header");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status\r\n", &r) == -1 &&
	    strcmp(r.malformed, "a header without a colon") == 0,
	    "auth_http: malformed, why: no colon");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-XCLIENT: yes\r\n", &r) ==
	    -1 && strcmp(r.malformed, "a bad value of Auth-XCLIENT") == 0,
	    "auth_http: malformed, why: the header, by name");
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
