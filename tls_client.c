/*
 * TLS towards the backend, as nginx's proxy_ssl_* directives set it up,
 * and verified by default (nginx's is off): the chain against
 * --proxy-ssl-trusted-certificate or the system's store, the depth, and
 * the name: --proxy-ssl-name, else the host of the backend's address.  A
 * DNS name is checked as a host name and sent as SNI; an IP address (as
 * auth_http's Auth-Server mostly is) is checked against the
 * certificate's IP addresses, and no SNI is sent (RFC 6066 has none for
 * an address).  An https auth_http service is verified the same way, for
 * its URL's host (tls_client_conn).
 *
 * A certificate that does not verify ends the handshake there: the
 * backend gets no credentials, and the session's outcome names the
 * reason, X509_verify_cert_error_string's.  One handshake per
 * connection: the context is built for it and freed after it.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "conn.h"
#include "options.h"
#include "session.h"
#include "tls.h"
#include "tls_lib.h"

/* What the handshake's info callback needs and leaves (the ctx's app data). */
struct tls_client {
	const char	*sni;		/* the name to send, or NULL */
	long		 verify;	/* the SSL's verify result at its last exit */
};

/*
 * OpenSSL has no context-wide SNI, and tls_handshake makes the SSL: the
 * name is set when the handshake starts, before the ClientHello is
 * built.  At each exit of SSL_connect the verify result is kept: after
 * a failed handshake the SSL is gone, and the reason with it.
 */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_client	*t;

	(void)ret;
	t = sym_SSL_CTX_get_ex_data(sym_SSL_get_SSL_CTX(ssl), 0);
	if (t == NULL)
		return;
	if ((where & SSL_CB_HANDSHAKE_START) && t->sni != NULL)
		sym_SSL_ctrl((SSL *)ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
		    TLSEXT_NAMETYPE_host_name, (void *)t->sni);
	if (where & SSL_CB_EXIT)
		t->verify = sym_SSL_get_verify_result(ssl);
}

static int
is_address(const char *host)
{
	unsigned char	a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* What the certificate must name: an address, or a host also sent as SNI. */
static int
verify_name(const struct options *o, SSL_CTX *ctx, const char *name,
    struct tls_client *t, char *err, size_t errlen)
{
	X509_VERIFY_PARAM	*param = sym_SSL_CTX_get0_param(ctx);
	char			 e[256];
	int			 ip = is_address(name);

	if (!ip)
		t->sni = name;
	if (!o->proxy_ssl_verify)
		return 0;
	if (ip ? sym_X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1 :
	    sym_X509_VERIFY_PARAM_set1_host(param, name, 0) != 1) {
		snprintf(err, errlen, "TLS: cannot verify the name \"%s\": %s",
		    name, tls_error(e, sizeof(e)));
		return -1;
	}
	if (!ip)
		sym_X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return 0;
}

/* The trust, the depth, our own certificate, as the options say. */
static int
ctx_load(const struct options *o, SSL_CTX *ctx, char *err, size_t errlen)
{
	const char	*file;
	char		 e[256];

	if (o->proxy_ssl_verify) {
		sym_SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		sym_SSL_CTX_set_verify_depth(ctx, o->proxy_ssl_verify_depth);
		if ((file = o->proxy_ssl_trusted_certificate) != NULL ?
		    sym_SSL_CTX_load_verify_locations(ctx, file, NULL) != 1 :
		    sym_SSL_CTX_set_default_verify_paths(ctx) != 1) {
			snprintf(err, errlen, "--proxy-ssl-trusted-certificate: "
			    "%s: %s", file != NULL ? file : "the system's store",
			    tls_error(e, sizeof(e)));
			return -1;
		}
	} else
		sym_SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((file = o->proxy_ssl_certificate) == NULL)
		return 0;
	if (sym_SSL_CTX_use_certificate_chain_file(ctx, file) != 1) {
		snprintf(err, errlen, "--proxy-ssl-certificate: %s: %s", file,
		    tls_error(e, sizeof(e)));
		return -1;
	}
	file = o->proxy_ssl_certificate_key;
	if (sym_SSL_CTX_use_PrivateKey_file(ctx, file, SSL_FILETYPE_PEM) != 1 ||
	    sym_SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "--proxy-ssl-certificate-key: %s: %s",
		    file, tls_error(e, sizeof(e)));
		return -1;
	}
	return 0;
}

/*
 * The context: the trust, the depth, our own certificate, as the options
 * say.  No tickets: a session is one process, it never resumes.  NULL
 * with err.
 */
static SSL_CTX *
ctx_new(const struct options *o, char *err, size_t errlen)
{
	SSL_CTX		*ctx;

	if ((ctx = tls_ctx_new(0, o->proxy_ssl_protocols, o->proxy_ssl_ciphers,
	    "proxy-ssl-ciphers", err, errlen)) == NULL)
		return NULL;
	sym_SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (ctx_load(o, ctx, err, errlen) == -1) {
		sym_SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}


/* --check: the backend's side loads as a session would load it. */
int
tls_client_check(const struct options *o, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if (!o->proxy_ssl && !o->proxy_starttls && o->auth_http == NULL &&
	    o->proxy_ssl_certificate == NULL &&
	    o->proxy_ssl_trusted_certificate == NULL)
		return 0;
	if ((ctx = ctx_new(o, err, errlen)) == NULL)
		return -1;
	sym_SSL_CTX_free(ctx);
	return 0;
}

/*
 * The handshake on c towards name, verified as the backend is, within
 * timeout_ms (and c's deadline); peer names the other end for the log,
 * "backend HOST:PORT".  0, or -1 with the reason as the session's
 * outcome.
 */
int
tls_client_conn(struct session *s, struct conn *c, const char *name,
    const char *peer, long long timeout_ms)
{
	const struct options	*o = s->opt;
	struct tls_client	 t = { NULL, X509_V_OK };
	SSL_CTX			*ctx;
	char			 err[512];
	long			 v;
	int			 rc;

	if ((ctx = ctx_new(o, err, sizeof(err))) == NULL ||
	    verify_name(o, ctx, name, &t, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		session_outcome(s, "%s: %s", peer, err);
		if (ctx != NULL)
			sym_SSL_CTX_free(ctx);
		return -1;
	}
	sym_SSL_CTX_set_ex_data(ctx, 0, &t);
	sym_SSL_CTX_set_info_callback(ctx, info_cb);
	rc = tls_handshake(c, ctx, 0, timeout_ms, err, sizeof(err));
	/* the SSL keeps the context: nothing of ours may stay in it */
	sym_SSL_CTX_set_info_callback(ctx, NULL);
	sym_SSL_CTX_set_ex_data(ctx, 0, NULL);
	sym_SSL_CTX_free(ctx);
	if (rc == -1 && o->proxy_ssl_verify && t.verify != X509_V_OK)
		session_outcome(s, "%s: TLS certificate: %s", peer,
		    sym_X509_verify_cert_error_string(t.verify));
	else if (rc == -1)
		session_outcome(s, "%s: %s", peer, err);
	else if (o->proxy_ssl_verify && (v = sym_SSL_get_verify_result(
	    c->tls)) != X509_V_OK) {
		/* not reached with SSL_VERIFY_PEER; kept as the last word */
		session_outcome(s, "%s: TLS certificate: %s", peer,
		    sym_X509_verify_cert_error_string(v));
		tls_free(c);
		return -1;
	}
	return rc;
}

/*
 * The handshake on s->be, towards name (NULL: the backend's host).
 * Plaintext the backend sent ahead (after its STARTTLS reply) is dropped
 * first.  0, or -1 with the reason as the session's outcome; the caller
 * tells the client.
 */
int
tls_client(struct session *s, const char *name)
{
	struct hostport		 hp;
	char			 peer[NAME_MAX_LEN + 32];

	if (name == NULL) {
		if (hostport_parse(s->backend, strlen(s->backend), &hp) == -1) {
			session_outcome(s, "bad backend address \"%s\"",
			    s->backend);
			return -1;
		}
		name = hp.host;
	}
	snprintf(peer, sizeof(peer), "backend %s", s->backend);
	conn_discard(&s->be);
	if (tls_client_conn(s, &s->be, name, peer, s->opt->timeout) == -1)
		return -1;
	tls_describe(&s->be, s->be_tls, sizeof(s->be_tls));
	return 0;
}
