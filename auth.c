/*
 * The auth_http exchange: one HTTP/1.0 request over a fresh connection,
 * one bounded response, all within auth_http_timeout.  The service checks
 * the login and names the backend, exactly as it does for nginx.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "backend.h"
#include "proto/auth_http.h"
#include "resolve.h"
#include "session.h"
#include "tls.h"

static const char *
auth_method(unsigned m)
{
	switch (m) {
	case AUTH_APOP:
		return "apop";
	case AUTH_CRAM_MD5:
		return "cram-md5";
	case AUTH_EXTERNAL:
		return "external";
	case AUTH_XOAUTH2:
		return "xoauth2";
	case AUTH_OAUTHBEARER:
		return "oauthbearer";
	case AUTH_NONE:
		return "none";
	default:
		return "plain";		/* PLAIN, LOGIN and USER/PASS alike */
	}
}

/*
 * The request's facts from the session: nginx's, the PROXY header's when
 * one was read (front.c), then ours from the client's true ends and TLS.
 */
void
auth_request(struct session *s, struct auth_req *q, const char *host,
    const char *uri)
{
	static const char *const names[] = { "", "smtp", "pop3", "imap" };

	memset(q, 0, sizeof(*q));
	q->host = host;
	q->uri = uri;
	q->method = auth_method(s->creds.method);
	q->user = s->creds.user;
	q->userlen = s->creds.userlen;
	q->pass = s->creds.pass;
	q->passlen = s->creds.passlen;
	if (s->creds.method == AUTH_APOP || s->creds.method == AUTH_CRAM_MD5)
		q->salt = s->salt;
	q->protocol = names[s->opt->protocol];
	q->attempt = s->attempt;
	q->client_ip = s->client.remote.known ? s->client.remote.ip : "unknown";
	if (s->client.proxied && s->client.pp_remote.known &&
	    s->client.pp_local.known) {
		q->pp_addr = s->client.pp_remote.ip;
		q->pp_port = s->client.pp_remote.port;
		q->pp_server_addr = s->client.pp_local.ip;
		q->pp_server_port = s->client.pp_local.port;
	}
	q->headers = s->opt->auth_http_header;
	/* ours, after nginx's */
	if (s->client.remote.known)
		q->client_port = s->client.remote.port;
	if (s->client.local.known) {
		q->server_addr = s->client.local.ip;
		q->server_port = s->client.local.port;
	}
	if (s->tls.on)
		q->sni = s->tls.sni;
	/* the client's TLS, implicit or after STARTTLS (Auth-SSL-*) */
	if (s->tls.on) {
		q->tls = &s->tls;
		q->ssl_verify = s->opt->ssl_verify_client != VERIFY_OFF;
		q->pass_cert = s->opt->auth_http_pass_client_cert;
	}
	if (s->opt->protocol == PROTO_SMTP) {
		/* nginx resolves SMTP clients only, and says so */
		resolve_client(s);
		q->client_host = s->client.name;
		/* the envelope, for a session without AUTH only */
		if (s->creds.method == AUTH_NONE) {
			q->smtp_helo = s->smtp.helo;
			q->smtp_from = s->smtp.from;
			q->smtp_to = s->smtp.to;
		}
	}
}

/*
 * Auth-Server: an address, as in nginx, or (ours) a host name, resolved
 * as --backend's is when the backend is connected.  Anything else is
 * refused before it reaches a resolver or the log's backend=.
 */
static int
auth_backend(struct session *s, const struct auth_resp *r)
{
	unsigned char	 bin[16];
	int		 w;

	if (r->server[0] == '\0' || r->port[0] == '\0') {
		session_outcome(s, "auth service said OK without Auth-Server "
		    "and Auth-Port");
		return -1;
	}
	if (r->portnum == 0) {
		session_outcome(s, "auth service sent a bad Auth-Port \"%s\"",
		    r->port);
		return -1;
	}
	if (inet_pton(AF_INET6, r->server, bin) == 1)
		w = snprintf(s->backend, sizeof(s->backend), "[%s]:%s",
		    r->server, r->port);
	else if (inet_pton(AF_INET, r->server, bin) == 1 ||
	    hostname_valid(r->server, strlen(r->server)))
		w = snprintf(s->backend, sizeof(s->backend), "%s:%s",
		    r->server, r->port);
	else {
		session_outcome(s, "auth service sent a bad Auth-Server \"%s\": "
		    "it must be an IP address or a host name", r->server);
		return -1;
	}
	if (w < 0 || (size_t)w >= sizeof(s->backend)) {
		s->backend[0] = '\0';
		session_outcome(s, "auth service sent an Auth-Server too long");
		return -1;
	}
	return 0;
}

/* The backend login uses Auth-User and Auth-Pass when the service sends them. */
static int
auth_creds(struct session *s, const struct auth_resp *r)
{
	if (r->userlen > 0) {
		memcpy(s->creds.user, r->user, r->userlen + 1);
		s->creds.userlen = r->userlen;
	}
	if (r->passlen > 0) {
		memcpy(s->creds.pass, r->pass, r->passlen + 1);
		s->creds.passlen = r->passlen;
	} else if (s->creds.method & (AUTH_APOP | AUTH_CRAM_MD5 |
	    AUTH_XOAUTH2 | AUTH_OAUTHBEARER)) {
		/* we hold a digest or a token: no backend takes it as a password */
		session_outcome(s, "auth service sent no Auth-Pass after %s",
		    auth_method(s->creds.method));
		return -1;
	}
	return 0;
}

/*
 * The connection to the service, TLS done for an https URL, within the
 * exchange's deadline: 0, or -1 with the outcome set.  libssl is loaded
 * only here, for https: a plaintext service costs a session nothing.
 */
static int
auth_connect(struct session *s, const struct auth_url *u, const char *peer,
    struct conn *c, long long deadline)
{
	char	 err[256];
	int	 fd;

	if (u->kind == AUTH_URL_UNIX)
		fd = unix_connect(u->path, deadline - now_ms(), err,
		    sizeof(err));
	else
		fd = backend_connect(u->hostport, deadline - now_ms(), err,
		    sizeof(err));
	if (fd == -1) {
		/* err names the address as "backend HOST:PORT: why" */
		session_outcome(s, "auth service %s", strncmp(err, "backend ",
		    8) == 0 ? err + 8 : err);
		return -1;
	}
	conn_init(c, fd, fd, NULL, 0);
	c->deadline = deadline;
	if (u->kind == AUTH_URL_HTTPS &&
	    tls_client_conn(s, c, u->name, peer, deadline - now_ms()) == -1) {
		conn_close(c);
		return -1;
	}
	return 0;
}

/*
 * One request and its response, all within auth_http_timeout (and the
 * login's deadline).  A TLS read may stall on a partial record, or want
 * to write: it waits for what it wants, never takes that for the end.
 */
static int
auth_exchange(struct session *s, const struct auth_url *u, const char *req,
    size_t reqlen, struct auth_resp *r)
{
	char		 buf[AUTH_HTTP_RESPONSE_MAX + 1], peer[320];
	struct conn	 c;
	long long	 timeout = login_left(s, s->opt->auth_http_timeout);
	long long	 deadline = now_ms() + timeout;
	int		 rc = 0, want = 0;
	ssize_t		 n;

	snprintf(peer, sizeof(peer), "auth service %s%s",
	    u->kind == AUTH_URL_UNIX ? "unix:" : "",
	    u->kind == AUTH_URL_UNIX ? u->path : u->hostport);
	if (auth_connect(s, u, peer, &c, deadline) == -1)
		return -1;
	if (conn_writeall(&c, req, reqlen, deadline - now_ms()) == -1) {
		session_outcome(s, "%s: cannot send", peer);
		conn_close(&c);
		return -1;
	}
	c.rbytes = 0;
	while (rc == 0) {
		size_t have = c.rbytes;

		if (have == sizeof(buf) - 1 || now_ms() >= deadline ||
		    (want != 0 ? conn_wait(&c, want, deadline - now_ms()) :
		    conn_wait_readable(&c, deadline - now_ms())) != 1) {
			session_outcome(s, "%s %s", peer,
			    have == sizeof(buf) - 1 ? "sent too much" :
			    "timed out");
			rc = -1;
			break;
		}
		n = conn_read(&c, buf + have, sizeof(buf) - 1 - have);
		if (n == -1 && errno == EAGAIN && c.tls != NULL) {
			want = c.rwant;
			continue;
		}
		want = 0;
		if (n <= 0) {
			rc = auth_http_response(buf, have, r);
			if (rc != 1) {
				session_outcome(s, "%s closed the connection "
				    "%s", peer, have == 0 ?
				    "without answering" : "mid-response");
				rc = -1;
			}
			break;
		}
		if ((rc = auth_http_response(buf, c.rbytes, r)) == -1)
			session_outcome(s, "%s sent a malformed response: %s",
			    peer, r->malformed);
	}
	explicit_bzero(buf, sizeof(buf));
	conn_close(&c);
	return rc == 1 ? 0 : -1;
}

/*
 * Why no request was sent: fail closed, as nginx would not cut a header
 * either.  The password is in req, so the log names sizes only.
 */
static void
auth_request_failed(struct session *s, int why)
{
	const char	*pem = s->tls.cert_pem;

	if (why == AUTH_HTTP_ECERT)
		session_outcome(s, "client certificate too large for "
		    "auth_http: %zu bytes escaped, at most %d",
		    auth_http_escaped_len(pem, strlen(pem)),
		    AUTH_HTTP_CERT_MAX);
	else if (why == AUTH_HTTP_EFACT)
		session_outcome(s, "client TLS facts hold a control byte: "
		    "no auth_http request");
	else
		session_outcome(s, "auth_http request too large (over %d "
		    "bytes)", AUTH_HTTP_REQUEST_MAX);
}

/* The service's choices for this session, once it said OK. */
static void
auth_choices(struct session *s, const struct auth_resp *r)
{
	s->be_ssl = r->proxy_ssl;
	strlcpy(s->be_ssl_name, r->proxy_ssl_name, sizeof(s->be_ssl_name));
	s->be_proxy_protocol = r->proxy_protocol;
	s->be_xclient = r->xclient;
	s->be_smtp_auth = r->smtp_auth;
}

int
auth_ask(struct session *s, struct auth_resp *r)
{
	struct auth_url	 u;
	struct auth_req	 q;
	char		 req[AUTH_HTTP_REQUEST_MAX];
	int		 n, rc = AUTH_ERROR, tries;

	_Static_assert(sizeof(s->sasl_error) >= sizeof(r->sasl_error),
	    "Auth-Error-SASL fits the session's");
	if (auth_http_url(s->opt->auth_http, &u) == -1) {
		session_outcome(s, "bad --auth-http URL");
		return AUTH_ERROR;
	}
	auth_request(s, &q, u.host, u.uri);
	if ((n = auth_http_request(&q, req, sizeof(req))) < 0) {
		auth_request_failed(s, n);
		explicit_bzero(req, sizeof(req));
		return AUTH_ERROR;
	}
	/*
	 * "Auth-Status: WAIT" asks us to come back: a few times at most, and
	 * never at once (nginx asks again at once without Auth-Wait).
	 */
	for (tries = 0; tries < 5; tries++) {
		if (auth_exchange(s, &u, req, n, r) == -1)
			break;
		/* Angie's: the SASL failure text, with a refusal mostly */
		strlcpy(s->sasl_error, r->sasl_error, sizeof(s->sasl_error));
		if (r->verdict == AUTH_HTTP_WAIT) {
			if (tries == 4)
				session_outcome(s, "auth service answered "
				    "WAIT %d times", tries + 1);
			else
				login_sleep(s, r->wait > 0 ?
				    r->wait * 1000 : 1000);
			continue;
		}
		/*
		 * A refusal anywhere in the response is final (the parser
		 * lets no later OK undo it).  nginx takes a response without
		 * Auth-Status as OK; a broken service must not let logins
		 * through, so that is a failure here.
		 */
		if (r->verdict == AUTH_HTTP_REFUSED)
			rc = AUTH_DENIED;
		else if (r->verdict == AUTH_HTTP_NONE)
			session_outcome(s, "auth service sent no Auth-Status");
		else if (r->sasl_error[0] != '\0')
			/* Angie: a SASL error with OK is a broken service */
			session_outcome(s, "auth service returned a SASL error "
			    "(Auth-Error-SASL) with Auth-Status: OK");
		else if (auth_backend(s, r) == 0 && auth_creds(s, r) == 0) {
			auth_choices(s, r);
			rc = AUTH_OK;
		}
		break;
	}
	explicit_bzero(req, sizeof(req));
	return rc;
}
