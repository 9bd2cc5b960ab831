/*
 * TLS towards the client, as nginx's mail ssl module sets it up: the
 * certificates (RSA and ECDSA, several names chosen by SNI), protocols,
 * ciphers, groups, ALPN, client certificates; then the handshake and
 * nginx's check of the client certificate.
 *
 * Everything is loaded when the first TLS of the session is asked for
 * (implicit TLS, or STARTTLS before its reply), so that a certificate
 * that cannot be used gets the protocol's temporary failure.  One
 * handshake per process: there is nothing to cache between them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "options.h"
#include "proto/proto.h"
#include "session.h"
#include "tls.h"
#include "tls_lib.h"

#define TLS_PAIRS	8	/* certificate and key pairs */
#define TLS_PASSES	16	/* lines of ssl_password_file */
#define TLS_PASS_MAX	1024

struct pair {
	X509		*leaf;
	STACK_OF(X509)	*chain;
	EVP_PKEY	*key;
	int		 type;		/* EVP_PKEY_RSA, EVP_PKEY_EC, ... */
};

struct tls_server {
	SSL_CTX		*ctx;
	struct pair	 pair[TLS_PAIRS];
	size_t		 npairs;
	const char	*alpn;		/* the protocol's ALPN name */
};

/* The passphrases of ssl_password_file, tried in turn as nginx does. */
struct passes {
	char		 raw[TLS_PASSES * TLS_PASS_MAX];	/* the file */
	char		 pass[TLS_PASSES][TLS_PASS_MAX];
	size_t		 n;
	size_t		 cur;
};

/* OpenSSL asks for a key's passphrase here: the current one. */
static int
pass_cb(char *buf, int size, int rwflag, void *arg)
{
	const struct passes	*p = arg;
	size_t			 n;

	(void)rwflag;
	if (p == NULL || p->cur >= p->n || size <= 0)
		return -1;
	n = strlen(p->pass[p->cur]);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, p->pass[p->cur], n);
	return (int)n;
}

static int
passes_read(const char *file, struct passes *p, char *err, size_t errlen)
{
	char	*line, *end, *nl;
	ssize_t	 n = 0, r;
	int	 fd;

	p->n = p->cur = 0;
	if (file == NULL)
		return 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "--ssl-password-file: %s: %s", file,
		    strerror(errno));
		return -1;
	}
	/* read(2) into our own buffer: no stdio copy of the passphrases */
	while (n < (ssize_t)sizeof(p->raw) - 1 &&
	    (r = read(fd, p->raw + n, sizeof(p->raw) - 1 - n)) > 0)
		n += r;
	close(fd);
	p->raw[n] = '\0';
	/* a line each, LF or CRLF; the last may lack its end */
	for (line = p->raw, end = p->raw + n; line < end && p->n < TLS_PASSES;
	    line = nl + 1) {
		if ((nl = memchr(line, '\n', end - line)) == NULL)
			nl = end;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strlen(line) < TLS_PASS_MAX)
			strlcpy(p->pass[p->n++], line, TLS_PASS_MAX);
	}
	return 0;
}

/* A chain file: the leaf first, then its CAs, as nginx takes it. */
static int
chain_read(const char *file, struct pair *pr, char *err, size_t errlen)
{
	BIO	*b;
	X509	*x;
	char	 e[256];

	if ((b = sym_BIO_new_file(file, "r")) == NULL ||
	    (pr->leaf = sym_PEM_read_bio_X509_AUX(b, NULL, NULL, NULL)) ==
	    NULL) {
		snprintf(err, errlen, "--ssl-certificate: %s: %s", file,
		    tls_error(e, sizeof(e)));
		if (b != NULL)
			sym_BIO_free(b);
		return -1;
	}
	pr->chain = (STACK_OF(X509) *)sym_OPENSSL_sk_new_null();
	while ((x = sym_PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sym_OPENSSL_sk_push((OPENSSL_STACK *)pr->chain, x);
	/* the end of the file reads as an error: not one */
	sym_ERR_clear_error();
	sym_BIO_free(b);
	return 0;
}

static int
key_read(const char *file, struct pair *pr, struct passes *ps, char *err,
    size_t errlen)
{
	BIO	*b;
	char	 e[256];

	for (ps->cur = 0; ; ps->cur++) {
		if ((b = sym_BIO_new_file(file, "r")) == NULL)
			break;
		pr->key = sym_PEM_read_bio_PrivateKey(b, NULL, pass_cb, ps);
		sym_BIO_free(b);
		if (pr->key != NULL || ps->cur + 1 >= ps->n)
			break;
		sym_ERR_clear_error();
	}
	if (pr->key == NULL) {
		snprintf(err, errlen, "--ssl-certificate-key: %s: %s%s", file,
		    tls_error(e, sizeof(e)), ps->n > 0 ?
		    " (no passphrase of --ssl-password-file fits)" : "");
		return -1;
	}
	if (sym_X509_check_private_key(pr->leaf, pr->key) != 1) {
		snprintf(err, errlen, "--ssl-certificate-key: %s does not "
		    "belong to its certificate", file);
		sym_ERR_clear_error();
		return -1;
	}
	pr->type = sym_EVP_PKEY_get_base_id(pr->key);
	return 0;
}

static int
pairs_read(const struct options *o, struct tls_server *t, char *err,
    size_t errlen)
{
	struct passes	*ps;
	const char	*certs = o->ssl_certificate, *keys = o->ssl_certificate_key;
	char		 crt[PATH_MAX], key[PATH_MAX];	/* > any value */
	int		 rc = 0;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (passes_read(o->ssl_password_file, ps, err, errlen) == -1)
		rc = -1;
	while (rc == 0 && options_value_next(&certs, crt, sizeof(crt)) > 0 &&
	    options_value_next(&keys, key, sizeof(key)) > 0) {
		if (t->npairs == TLS_PAIRS) {
			snprintf(err, errlen, "--ssl-certificate: at most %d",
			    TLS_PAIRS);
			rc = -1;
		} else if (chain_read(crt, &t->pair[t->npairs], err,
		    errlen) == -1 || key_read(key, &t->pair[t->npairs++], ps,
		    err, errlen) == -1)
			rc = -1;
	}
	explicit_bzero(ps, sizeof(*ps));
	free(ps);
	return rc;
}

/*
 * For each key type, the first certificate that names the client's
 * SNI; with none that does (or no SNI), the first of each type.
 */
static int
cert_cb(SSL *ssl, void *arg)
{
	struct tls_server	*t = arg;
	const char		*sni;
	int			 done[TLS_PAIRS] = { 0 }, any = 0, pass;
	size_t			 i, j;

	sni = sym_SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	for (pass = sni != NULL ? 0 : 1; pass < 2 && !any; pass++)
		for (i = 0; i < t->npairs; i++) {
			for (j = 0; j < i; j++)
				if (done[j] && t->pair[j].type ==
				    t->pair[i].type)
					break;
			if (j < i)
				continue;
			if (pass == 0 && sym_X509_check_host(t->pair[i].leaf,
			    sni, 0, 0, NULL) != 1)
				continue;
			if (sym_SSL_use_cert_and_key(ssl, t->pair[i].leaf,
			    t->pair[i].key, t->pair[i].chain, 1) != 1)
				return 0;
			done[i] = any = 1;
		}
	return any;
}

/*
 * ALPN (the ALPACA attack): a client that offers protocols must offer
 * ours, or it is speaking to the wrong server; one that offers none is
 * a mail client of before ALPN.  The list is the client's: bounded by
 * its own length bytes.
 */
int
alpn_select(const unsigned char *in, size_t inlen, const char *name,
    const unsigned char **out, unsigned char *outlen)
{
	size_t	i = 0, n, len = strlen(name);

	while (i < inlen) {
		n = in[i++];
		if (n == 0 || n > inlen - i)
			return -1;
		if (n == len && memcmp(in + i, name, len) == 0) {
			*out = in + i;
			*outlen = (unsigned char)n;
			return 0;
		}
		i += n;
	}
	return -1;
}

static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct tls_server	*t = arg;

	(void)ssl;
	return alpn_select(in, inlen, t->alpn, out, outlen) == 0 ?
	    SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* nginx's verify callback: the handshake goes on, the result is checked
   after it (tls_server_verify), where the protocol can say why */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* The CAs that verify a client, the CRL, the depth. */
static int
verify_setup(const struct options *o, SSL_CTX *ctx, char *err, size_t errlen)
{
	STACK_OF(X509_NAME)	*names;
	X509_CRL		*crl;
	BIO			*b;
	char			 e[256];
	const char		*file;

	if (o->ssl_verify_client == VERIFY_OFF)
		return 0;
	sym_SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	sym_SSL_CTX_set_verify_depth(ctx, o->ssl_verify_depth);
	if ((file = o->ssl_client_certificate) != NULL) {
		if (sym_SSL_CTX_load_verify_locations(ctx, file, NULL) != 1 ||
		    (names = sym_SSL_load_client_CA_file(file)) == NULL) {
			snprintf(err, errlen, "--ssl-client-certificate: %s: %s",
			    file, tls_error(e, sizeof(e)));
			return -1;
		}
		sym_SSL_CTX_set_client_CA_list(ctx, names);
	}
	if ((file = o->ssl_trusted_certificate) != NULL &&
	    sym_SSL_CTX_load_verify_locations(ctx, file, NULL) != 1) {
		snprintf(err, errlen, "--ssl-trusted-certificate: %s: %s", file,
		    tls_error(e, sizeof(e)));
		return -1;
	}
	if ((file = o->ssl_crl) == NULL)
		return 0;
	if ((b = sym_BIO_new_file(file, "r")) == NULL) {
		snprintf(err, errlen, "--ssl-crl: %s: %s", file,
		    tls_error(e, sizeof(e)));
		return -1;
	}
	while ((crl = sym_PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		sym_X509_STORE_add_crl(sym_SSL_CTX_get_cert_store(ctx), crl);
		sym_X509_CRL_free(crl);
	}
	sym_ERR_clear_error();
	sym_BIO_free(b);
	sym_X509_STORE_set_flags(sym_SSL_CTX_get_cert_store(ctx),
	    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

static const char *
alpn_name(int protocol)
{
	return protocol == PROTO_SMTP ? "smtp" : protocol == PROTO_POP3 ?
	    "pop3" : "imap";
}

/*
 * The context, from the options.  Tickets only with a key of the
 * operator's: each session is its own process, and a ticket sealed with
 * a key of its own could never be opened again.
 */
static int
ctx_build(const struct options *o, struct tls_server *t, char *err,
    size_t errlen)
{
	SSL_CTX		*ctx;
	char		 e[256];

	if ((ctx = t->ctx = tls_ctx_new(1, o->ssl_protocols, o->ssl_ciphers,
	    "ssl-ciphers", err, errlen)) == NULL)
		return -1;
	sym_SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	sym_SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_OFF,
	    NULL);
	if (strcmp(o->ssl_ecdh_curve, "auto") != 0 &&
	    sym_SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS_LIST, 0,
	    (void *)o->ssl_ecdh_curve) != 1) {
		snprintf(err, errlen, "--ssl-ecdh-curve: %s: %s",
		    o->ssl_ecdh_curve, tls_error(e, sizeof(e)));
		return -1;
	}
	if (o->ssl_session_tickets && o->ssl_session_ticket_key != NULL) {
		if (tls_ticket_setup(o, ctx, err, errlen) == -1)
			return -1;
	} else {
		sym_SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		sym_SSL_CTX_set_num_tickets(ctx, 0);
	}
	t->alpn = alpn_name(o->protocol);
	sym_SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, t);
	sym_SSL_CTX_set_cert_cb(ctx, cert_cb, t);
	if (verify_setup(o, ctx, err, errlen) == -1)
		return -1;
	return pairs_read(o, t, err, errlen);
}

void
tls_server_free(struct tls_server *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->npairs; i++) {
		sym_X509_free(t->pair[i].leaf);
		sym_OPENSSL_sk_pop_free((OPENSSL_STACK *)t->pair[i].chain,
		    (void (*)(void *))sym_X509_free);
		sym_EVP_PKEY_free(t->pair[i].key);
	}
	if (t->ctx != NULL)
		sym_SSL_CTX_free(t->ctx);
	free(t);
}

/*
 * Builds what the options ask for: the whole context, every certificate
 * and key loaded.  For --check as for a session.  0, or -1 with err.
 */
static struct tls_server *
tls_server_new(const struct options *o, char *err, size_t errlen)
{
	struct tls_server	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ctx_build(o, t, err, errlen) == -1) {
		tls_server_free(t);
		return NULL;
	}
	return t;
}

int
tls_server_ready(struct session *s)
{
	char	err[512];

	if (s->tlss != NULL)
		return 0;
	if ((s->tlss = tls_server_new(s->opt, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		session_outcome(s, "TLS unavailable: %s", err);
		return -1;
	}
	return 0;
}

/* nginx's errors ssl_verify_client optional_no_ca lets pass */
static int
verify_optional(long rc)
{
	return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	    rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

/* After the handshake, as nginx's ngx_mail_verify_cert: -1 sends away. */
static int
tls_server_verify(struct session *s)
{
	const struct tls_facts	*f = &s->tls;
	int			 mode = s->opt->ssl_verify_client;

	if (mode == VERIFY_OFF)
		return 0;
	if (f->cert && f->verify != X509_V_OK &&
	    !(mode == VERIFY_OPTIONAL_NO_CA && verify_optional(f->verify))) {
		session_outcome(s, "client certificate: %s", f->verify_text);
		client_reply(s, s->proto->cert_error);
		return -1;
	}
	if (mode == VERIFY_ON && !f->cert) {
		session_outcome(s, "client sent no required certificate");
		client_reply(s, s->proto->no_cert);
		return -1;
	}
	return 0;
}

int
tls_server(struct session *s)
{
	char	why[256];

	if (tls_server_ready(s) == -1)
		return -1;
	/* plaintext the client sent ahead of the handshake is not run */
	conn_discard(&s->cli);
	if (tls_handshake(&s->cli, s->tlss->ctx, 1, s->opt->timeout, why,
	    sizeof(why)) == -1) {
		session_outcome(s, "client %s", why);
		return -1;
	}
	tls_facts_fill(&s->cli, &s->tls);
	return tls_server_verify(s);
}

/* One file of the options, readable by us now: 0, or -1 with err. */
static int
readable(const char *opt, const char *file, char *err, size_t errlen)
{
	int	fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "--%s: %s: %s", opt, file,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int
readable_all(const char *opt, const char *list, char *err, size_t errlen)
{
	char	file[PATH_MAX];

	while (options_value_next(&list, file, sizeof(file)) > 0)
		if (readable(opt, file, err, errlen) == -1)
			return -1;
	return 0;
}

/*
 * At start, before any client is answered: every file TLS will read is
 * there and ours to read, so that a typo is an exit 64, not a session
 * that fails later.  Opening them is cheap; loading is for TLS sessions.
 */
int
tls_files_check(const struct options *o, char *err, size_t errlen)
{
	const struct { const char *opt, *list; } f[] = {
		{ "ssl-certificate", o->ssl_certificate },
		{ "ssl-certificate-key", o->ssl_certificate_key },
		{ "ssl-password-file", o->ssl_password_file },
		{ "ssl-client-certificate", o->ssl_client_certificate },
		{ "ssl-trusted-certificate", o->ssl_trusted_certificate },
		{ "ssl-crl", o->ssl_crl },
		{ "proxy-ssl-trusted-certificate",
		    o->proxy_ssl_trusted_certificate },
		{ "proxy-ssl-certificate", o->proxy_ssl_certificate },
		{ "proxy-ssl-certificate-key", o->proxy_ssl_certificate_key },
	};
	const char	*keys = o->ssl_session_ticket_key;
	char		 file[PATH_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (readable_all(f[i].opt, f[i].list, err, errlen) == -1)
			return -1;
	while (options_value_next(&keys, file, sizeof(file)) > 0)
		if (tls_ticket_file_check(file, err, errlen) == -1)
			return -1;
	return 0;
}

int
tls_server_check(const struct options *o, char *err, size_t errlen)
{
	struct tls_server	*t;

	if (!o->ssl && o->starttls == STARTTLS_OFF)
		return 0;
	if ((t = tls_server_new(o, err, errlen)) == NULL)
		return -1;
	tls_server_free(t);
	return 0;
}
