/*
 * TLS, both ways: the client's connection (STARTTLS or implicit) and the
 * backend's.  OpenSSL is loaded by the sessions that use TLS, and by no
 * other (tls_lib.c); a plaintext session never maps it.
 *
 * A connection in TLS keeps its struct conn: conn.c reads and writes
 * through tls_read/tls_write, which leave in c->rwant and c->wwant the
 * readiness a stalled read or write waits for, so the protocols and the
 * relay do not change.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/types.h>

struct conn;
struct options;
struct session;
struct tls_server;

/* X509 names are bounded here: a longer one is cut, and marked so */
#define TLS_DN_MAX	1024

/*
 * What the client's TLS negotiated, filled once after its handshake:
 * for auth_http (Auth-SSL-*), the PROXY v2 SSL TLV and the log.  The
 * strings are as nginx's $ssl_* variables give them; "" when unknown.
 */
struct tls_facts {
	int		 on;		/* the connection is TLS */
	int		 front;		/* ended by the launcher's TLS front
					   (s6-tlsd, stunnel): facts from its
					   environment, not a handshake of ours */
	char		 protocol[16];	/* "TLSv1.3" */
	char		 cipher[64];	/* OpenSSL's name: "TLS_AES_256_GCM_SHA384" */
	char		 sni[256];	/* the name the client asked for */
	char		 alpn[16];	/* the protocol ALPN agreed on, or "" */
	int		 resumed;	/* a resumed session (a ticket) */
	int		 cert;		/* the client sent a certificate */
	long		 verify;	/* X509_V_OK (0) or the error */
	char		 verify_text[128]; /* SUCCESS, FAILED:reason, NONE */
	char		 subject[TLS_DN_MAX];	/* RFC 2253 */
	char		 issuer[TLS_DN_MAX];
	char		 serial[128];	/* hex, as nginx */
	char		 fingerprint[41]; /* SHA-1, lowercase hex */
	char		 cn[256];	/* the subject's CN */
	char		 sig_alg[64];	/* our own certificate's, as HAProxy */
	char		 key_alg[64];	/* names them: "RSA-SHA256", "EC256" */
	char		*cert_pem;	/* the certificate, PEM, malloc'd; or NULL */
};

/* c->rwant, c->wwant: what a stalled TLS read or write waits for */
#define TLS_WANT_READ	1
#define TLS_WANT_WRITE	2

/*
 * The server side: the context from the options (certificates, SNI,
 * ALPN, client verification), then the handshake on s->cli within the
 * login's deadline.  0, or -1 with the reason as the session's outcome.
 */
int	tls_server(struct session *);
/* The context alone, before STARTTLS is answered: 0, or -1 (logged). */
int	tls_server_ready(struct session *);
/* Frees the context and the certificates (after the SSL is gone). */
void	tls_server_free(struct tls_server *);

/*
 * The client side, towards the backend: verified against the options'
 * trust unless --proxy-ssl-verify=off, by host name or IP address.
 * 0, or -1 with the reason as the session's outcome.
 */
int	tls_client(struct session *, const char *name);
/* The same on another connection (the auth service's), peer for the log. */
int	tls_client_conn(struct session *, struct conn *, const char *name,
	    const char *peer, long long timeout_ms);

/* Every file of the TLS options readable (at start): 0, or -1 and err. */
int	tls_files_check(const struct options *, char *err, size_t errlen);
/* A ticket key file of nginx's 80 or 48 bytes: 0, or -1 and err. */
int	tls_ticket_file_check(const char *file, char *err, size_t errlen);
/* Loads and checks every certificate and key of the options: --check. */
int	tls_check(const struct options *, char *err, size_t errlen);

/* I/O on a connection in TLS, as read(2)/write(2): -1 and EAGAIN when
 * it must wait (c->rwant, c->wwant say for what), 0 at EOF. */
ssize_t	tls_read(struct conn *, void *, size_t);
ssize_t	tls_write(struct conn *, const void *, size_t);
size_t	tls_pending(const struct conn *);
/* Sends close_notify: 1 done, 0 must wait (c->wwant), -1 failed. */
int	tls_shutdown(struct conn *);
void	tls_free(struct conn *);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384": what a connection in TLS agreed */
void	tls_describe(struct conn *, char *, size_t);

/* The peer's facts after a handshake, and the wipe of their PEM. */
void	tls_facts_fill(struct conn *, struct tls_facts *);
void	tls_facts_free(struct tls_facts *);

/*
 * ALPN: finds name in a client's protocol list (RFC 7301 wire format):
 * 0 with *out pointing at it in the list, -1 when absent or malformed.
 */
int	alpn_select(const unsigned char *, size_t, const char *name,
	    const unsigned char **out, unsigned char *outlen);

#endif
