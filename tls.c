/*
 * A connection in TLS: the handshake, reads and writes as read(2) and
 * write(2) give them (EAGAIN with what the operation waits for in
 * c->rwant or c->wwant: the two directions of the relay share one SSL,
 * and a read stalled on a write must not make the write wait for input),
 * close_notify.  Both sides use it; what differs between a
 * server and a client is in tls_server.c and tls_client.c.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "conn.h"
#include "options.h"
#include "session.h"
#include "tls.h"
#include "tls_lib.h"

/*
 * What one SSL_* call left: the bytes, 0 at EOF, or -1 with errno
 * EAGAIN and *want set when it must wait, EPROTO when TLS failed.
 */
static ssize_t
tls_result(struct conn *c, int r, int *want)
{
	int	e;

	if (r > 0) {
		*want = 0;
		return r;
	}
	switch ((e = sym_SSL_get_error(c->tls, r))) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		*want = e == SSL_ERROR_WANT_READ ? TLS_WANT_READ :
		    TLS_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a bare
		   EOF: mail protocols end their own sessions */
		*want = 0;
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			errno = EIO;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

ssize_t
tls_read(struct conn *c, void *p, size_t n)
{
	sym_ERR_clear_error();
	errno = 0;
	return tls_result(c, sym_SSL_read(c->tls, p, n > INT_MAX ? INT_MAX :
	    (int)n), &c->rwant);
}

ssize_t
tls_write(struct conn *c, const void *p, size_t n)
{
	sym_ERR_clear_error();
	errno = 0;
	return tls_result(c, sym_SSL_write(c->tls, p, n > INT_MAX ? INT_MAX :
	    (int)n), &c->wwant);
}

size_t
tls_pending(const struct conn *c)
{
	int	n = sym_SSL_pending(c->tls);

	return n > 0 ? (size_t)n : 0;
}

int
tls_shutdown(struct conn *c)
{
	int	r;

	sym_ERR_clear_error();
	/* 0: ours sent, the peer's not yet read; enough to pass EOF on */
	if ((r = sym_SSL_shutdown(c->tls)) >= 0)
		return 1;
	if (tls_result(c, r, &c->wwant) == -1 && errno == EAGAIN)
		return 0;
	return -1;
}

void
tls_free(struct conn *c)
{
	if (c->tls != NULL)
		sym_SSL_free(c->tls);
	c->tls = NULL;
	c->rwant = c->wwant = 0;
}

/*
 * Puts c in TLS with a new SSL of ctx and runs the handshake, within
 * timeout_ms and the connection's deadline.  Whatever was read ahead in
 * plaintext was the caller's to drop; the handshake reads the socket.
 * 0, or -1 with the reason in why.
 */
int
tls_handshake(struct conn *c, SSL_CTX *ctx, int server, long long timeout_ms,
    char *why, size_t whylen)
{
	SSL	*ssl;
	int	 r, w, want = 0;

	sym_ERR_clear_error();
	if ((ssl = sym_SSL_new(ctx)) == NULL) {
		tls_error(why, whylen);
		return -1;
	}
	if ((c->rfd == c->wfd ? sym_SSL_set_fd(ssl, c->rfd) :
	    sym_SSL_set_rfd(ssl, c->rfd) && sym_SSL_set_wfd(ssl, c->wfd)) != 1) {
		tls_error(why, whylen);
		sym_SSL_free(ssl);
		return -1;
	}
	c->tls = ssl;
	c->rwant = c->wwant = 0;
	for (;;) {
		sym_ERR_clear_error();
		errno = 0;
		r = server ? sym_SSL_accept(ssl) : sym_SSL_connect(ssl);
		if (r == 1)
			break;
		if (tls_result(c, r, &want) == -1 && errno == EAGAIN) {
			if ((w = conn_wait(c, want, timeout_ms)) == 1)
				continue;
			strlcpy(why, w == 0 ? "TLS handshake timed out" :
			    "TLS handshake: poll failed", whylen);
		} else if (errno == EPROTO) {
			char e[256];

			snprintf(why, whylen, "TLS handshake: %s",
			    tls_error(e, sizeof(e)));
		} else
			/* a bare EOF is a ZERO_RETURN (IGNORE_UNEXPECTED_EOF),
			   errno left 0: not "Success" */
			snprintf(why, whylen, "TLS handshake: %s", errno == EIO ||
			    errno == 0 ? "the peer closed the connection" :
			    strerror(errno));
		/* no close_notify for a handshake that never was */
		tls_free(c);
		return -1;
	}
	return 0;
}

/* The OpenSSL option bits that leave only the versions listed. */
long
tls_protocol_mask(const char *list)
{
	static const struct { const char *name; long op; } v[] = {
		{ "SSLv3", SSL_OP_NO_SSLv3 }, { "TLSv1", SSL_OP_NO_TLSv1 },
		{ "TLSv1.1", SSL_OP_NO_TLSv1_1 }, { "TLSv1.2", SSL_OP_NO_TLSv1_2 },
		{ "TLSv1.3", SSL_OP_NO_TLSv1_3 },
	};
	char	 item[16];
	long	 mask = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
		    SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3;
	size_t	 i;

	while (options_list_next(&list, item, sizeof(item)) > 0)
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			if (strcmp(item, v[i].name) == 0)
				mask &= ~v[i].op;
	return mask;
}

/* "TLSv1.3/TLS_AES_256_GCM_SHA384", for the log. */
void
tls_describe(struct conn *c, char *buf, size_t len)
{
	const char	*v = sym_SSL_get_version(c->tls);
	const char	*n = sym_SSL_CIPHER_get_name(sym_SSL_get_current_cipher(
			    c->tls));

	snprintf(buf, len, "%s/%s", v != NULL ? v : "?", n != NULL ? n : "?");
}

/* --check, as nginx -t: both sides' contexts, every file loaded. */
int
tls_check(const struct options *o, char *err, size_t errlen)
{
	if (tls_server_check(o, err, errlen) == -1)
		return -1;
	return tls_client_check(o, err, errlen);
}

/*
 * A context as both sides want it: the versions listed, no renegotiation
 * and no compression, a bare EOF taken as one (mail protocols end their
 * own sessions), partial writes that conn.c finishes, the TLSv1.2
 * ciphers, and the decrypted bytes wiped once read (OpenSSL decrypts in
 * place, and the login passes through there).  Loads OpenSSL first.
 * NULL with err, naming opt.
 */
SSL_CTX *
tls_ctx_new(int server, const char *protocols, const char *ciphers,
    const char *opt, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	char	 e[256];

	if (tls_load() == -1) {
		snprintf(err, errlen, "tls: cannot load OpenSSL (install "
		    "Debian's libssl3)");
		return NULL;
	}
	if ((ctx = sym_SSL_CTX_new(server ? sym_TLS_server_method() :
	    sym_TLS_client_method())) == NULL) {
		snprintf(err, errlen, "tls: %s", tls_error(e, sizeof(e)));
		return NULL;
	}
	sym_SSL_CTX_set_options(ctx, tls_protocol_mask(protocols) |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CLEANSE_PLAINTEXT);
	sym_SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS,
	    NULL);
	if (sym_SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		snprintf(err, errlen, "--%s: %s: %s", opt, ciphers,
		    tls_error(e, sizeof(e)));
		sym_SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
