/*
 * nginx's auth_http protocol: the request we send and the response we
 * read.  Pure functions over byte buffers; the exchange itself is in
 * auth.c.
 */
#ifndef AUTH_HTTP_H
#define AUTH_HTTP_H

#include <stddef.h>

#define AUTH_HTTP_RESPONSE_MAX	4096	/* nginx reads at most 1024 */
#define AUTH_HTTP_SASL_ERROR_MAX 1023	/* Auth-Error-SASL's base64 */

/*
 * The client certificate, escaped, as Auth-SSL-Cert may carry it: the
 * leaf of a 4096-bit RSA key is about 2 KiB of PEM, so 8 KiB leaves room
 * for long names and extensions; a larger one fails the login rather
 * than be cut.  The request holds it and the rest: 8 KiB as before TLS
 * (logins, envelope, extra headers) and 4 KiB for the other Auth-SSL-*
 * lines (two DNs of TLS_DN_MAX, serial, fingerprint, protocol, cipher).
 */
#define AUTH_HTTP_CERT_MAX	8192
/* and an OAuth bearer token (PASS_MAX: a b64token, never escaped) */
#define AUTH_HTTP_REQUEST_MAX	(8192 + 4096 + AUTH_HTTP_CERT_MAX + 12288)

/* auth_http_request's failures, so the caller can name the reason */
#define AUTH_HTTP_ETOOLONG	-1	/* the request does not fit */
#define AUTH_HTTP_ECERT		-2	/* the certificate is over CERT_MAX */
#define AUTH_HTTP_EFACT		-3	/* a TLS fact holds a control byte */

struct tls_facts;

/*
 * Where the service is, as --auth-http names it: nginx's
 * "[http://]host[:port][/uri]" and "[http://]unix:/path[:/uri]", and
 * ours, "https://host[:port][/uri]".
 */
enum { AUTH_URL_HTTP, AUTH_URL_HTTPS, AUTH_URL_UNIX };

#define AUTH_URL_PATH_MAX	108	/* sun_path, its NUL included */

struct auth_url {
	int		 kind;		/* AUTH_URL_* */
	char		 hostport[300];	/* HOST:PORT to connect to (not unix) */
	char		 host[256];	/* the Host header ("localhost": unix) */
	char		 name[256];	/* https: the name verified, as SNI */
	char		 path[AUTH_URL_PATH_MAX];	/* unix: the socket */
	const char	*uri;		/* in the URL, or "/" */
};

struct auth_req {
	const char	*host;		/* the Host header: the URL's host */
	const char	*uri;
	const char	*method;	/* plain, apop, cram-md5, external, none */
	const char	*user;
	size_t		 userlen;
	const char	*pass;		/* the password, or the digest */
	size_t		 passlen;
	const char	*salt;		/* apop and cram-md5, else NULL */
	const char	*protocol;	/* smtp, pop3, imap */
	unsigned	 attempt;
	const char	*client_ip;
	const char	*client_host;	/* NULL until resolved */
	/* the PROXY header's addresses, as nginx sends them; NULL without */
	const char	*pp_addr;
	unsigned	 pp_port;
	const char	*pp_server_addr;
	unsigned	 pp_server_port;
	const char	*smtp_helo;	/* SMTP only, else NULL */
	const char	*smtp_from;
	const char	*smtp_to;
	const struct tls_facts *tls;	/* the client's TLS, NULL in plaintext */
	int		 ssl_verify;	/* ssl_verify_client is not off */
	int		 pass_cert;	/* auth_http_pass_client_cert */
	const char	*headers;	/* extra "Name: value" lines, '\n'-separated,
					   as options.c made them */
	/* ours, after nginx's: each NULL or 0 when not known */
	unsigned	 client_port;	/* Client-Port */
	const char	*server_addr;	/* Server-Addr */
	unsigned	 server_port;	/* Server-Port */
	const char	*sni;		/* Auth-SSL-Server-Name */
};

/*
 * What the Auth-Status lines of a response say together, weakest first:
 * each line can only raise it, so a refusal anywhere is final, whatever
 * the other lines say and in whichever order (nginx: an error message,
 * once set, wins over OK and WAIT).
 */
enum auth_verdict {
	AUTH_HTTP_NONE,		/* no Auth-Status at all */
	AUTH_HTTP_OK,		/* Auth-Status: OK */
	AUTH_HTTP_WAIT,		/* Auth-Status: WAIT: ask again */
	AUTH_HTTP_REFUSED,	/* any other Auth-Status: status says why */
};

struct auth_resp {
	enum auth_verdict verdict;
	char		status[256];	/* the last refusal's text */
	char		server[256];	/* Auth-Server: an address or a name */
	char		port[8];	/* Auth-Port, as sent */
	unsigned	portnum;	/* and as a port: 0 when not one */
	char		user[513];	/* Auth-User, for the backend login */
	size_t		userlen;
	char		pass[513];	/* Auth-Pass */
	size_t		passlen;
	long long	wait;		/* Auth-Wait seconds, -1 when absent */
	char		errcode[32];	/* Auth-Error-Code (SMTP) */
	int		proxy_ssl;	/* Auth-Proxy-SSL: AUTH_PROXY_SSL_* */
	char		proxy_ssl_name[256];	/* Auth-Proxy-SSL-Name */
	int		proxy_protocol;	/* Auth-Proxy-Protocol: PROXYPROTO_*, -1 */
	int		xclient;	/* Auth-XCLIENT: 1, 0, -1 */
	int		smtp_auth;	/* Auth-Proxy-SMTP-Auth: AUTH_PLAIN,
					   AUTH_LOGIN, 0 (off), -1 */
	char		sasl_error[AUTH_HTTP_SASL_ERROR_MAX + 1]; /* Auth-Error-SASL */
	char		malformed[64];	/* what made it so, for the log */
};

/*
 * Ours, beyond nginx: the service may choose for one session TLS to the
 * backend, "Auth-Proxy-SSL: on|off|starttls" (the options' choice when
 * absent) and the name to verify, "Auth-Proxy-SSL-Name: NAME"; the PROXY
 * header, "Auth-Proxy-Protocol: off|v1|v2"; XCLIENT, "Auth-XCLIENT:
 * on|off"; proxy_smtp_auth, "Auth-Proxy-SMTP-Auth: plain|login|off".  A
 * service that knows nothing of them sends none, and a word we do not
 * know makes the response malformed.
 */
enum {
	AUTH_PROXY_SSL_DEFAULT = -1,
	AUTH_PROXY_SSL_OFF,
	AUTH_PROXY_SSL_ON,
	AUTH_PROXY_SSL_STARTTLS
};

int	auth_http_url(const char *url, struct auth_url *);
int	auth_http_request(const struct auth_req *, char *out, size_t outcap);
size_t	auth_http_escaped_len(const char *, size_t);
int	auth_http_response(const char *buf, size_t len, struct auth_resp *);
int	auth_http_port(const char *s, size_t n);

#endif
