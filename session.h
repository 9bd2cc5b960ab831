/*
 * The one session struct, passed explicitly.  It says who the client is
 * (filled once, at the edge, by launch.c), holds the credentials of the
 * current attempt, and the two connections.
 */
#ifndef SESSION_H
#define SESSION_H

#include <sys/socket.h>
#include <netinet/in.h>

#include "conn.h"
#include "options.h"
#include "proto/sasl.h"
#include "tls.h"

#define NAME_MAX_LEN	255	/* a DNS name, and the longest XCLIENT value */
#define CRED_MAX	512	/* longest user name or password we accept */
/* longest secret: an OAuth bearer token, all a SASL line decodes to */
#define PASS_MAX	(SASL_LINE_MAX / 4 * 3)
#define SESSION_ID_LEN	16	/* letters and digits: about 95 random bits */
#define IMAP_ID_MAX	2048	/* the client's ID fields we pass on */

struct endpoint {
	int		known;
	int		family;			/* AF_INET, AF_INET6 */
	char		ip[INET6_ADDRSTRLEN];
	unsigned	port;
};

/*
 * Who the client is: filled once at the edge (launch.c, front.c), then
 * read by every backend dialogue, XCLIENT, PROXY, auth_http and the log.
 * remote and local are the client's true ends: a trusted PROXY header's
 * or a launcher's addresses when they say more than the socket does.
 */
struct client {
	struct endpoint	remote;
	struct endpoint	local;
	struct endpoint	peer;			/* the socket's peer, when a PROXY
						   header replaced it (via=) */
	int		proxied;		/* a PROXY header was read */
	struct endpoint	pp_remote;		/* its addresses, trusted or not */
	struct endpoint	pp_local;		/* (auth_http Proxy-Protocol-*) */
	char		name[NAME_MAX_LEN + 1];	/* [UNAVAILABLE] until resolved */
	int		resolved;		/* resolve_client ran */
	const char	*launcher;		/* systemd, inetd, tcpserver, ... */
	char		id[SESSION_ID_LEN + 1];	/* this session's id */
};

/* One authentication attempt; wiped with explicit_bzero when it ends. */
struct creds {
	unsigned	method;			/* AUTH_* */
	char		user[CRED_MAX + 1];
	size_t		userlen;
	char		pass[PASS_MAX + 1];	/* a password, digest or token */
	size_t		passlen;
};

/* The client's SMTP envelope, for XCLIENT and smtp_auth none. */
struct smtp_state {
	int		esmtp;			/* the client said EHLO */
	char		helo[NAME_MAX_LEN + 1];
	char		from[1024];		/* whole MAIL FROM line */
	char		to[1024];		/* whole RCPT TO line */
};

/*
 * IMAP: the tag of the client's LOGIN or AUTHENTICATE, kept for the
 * backend, and the client's own ID fields ("name" "value" pairs in IMAP
 * syntax, without the parentheses; the proxy's own x- fields filtered
 * out), passed on in the backend's ID.
 */
struct imap_state {
	char		tag[NAME_MAX_LEN + 1];
	int		id_sent;		/* the client sent ID */
	char		id[IMAP_ID_MAX];
	size_t		idlen;
};

/*
 * What decided the session's fate: the log line's result= and the
 * journal's MAILPROXY_RESULT (log.c has the words, man/mailproxy.8
 * their meaning), so that fail2ban and friends match a word, not prose.
 */
enum result {
	RESULT_NONE,		/* not decided yet */
	RESULT_OK,		/* logged in and relayed, ended by a close */
	RESULT_REFUSED,		/* the auth service or the backend said no */
	RESULT_CLIENT_QUIT,	/* left before logging in */
	RESULT_CLIENT_ERROR,	/* bad commands, max_errors, too long */
	RESULT_TIMEOUT,		/* a deadline or an idle limit */
	RESULT_TLS_ERROR,	/* the client's TLS did not come up */
	RESULT_AUTH_ERROR,	/* the auth service failed */
	RESULT_BACKEND_ERROR,	/* the backend failed, or refused a step */
	RESULT_RELAY_ERROR,	/* a connection broke during the relay */
	RESULT_USAGE,		/* the options do not fit the session */
	RESULT_INTERNAL		/* out of memory */
};

struct proto;
struct tls_server;

struct session {
	const struct options	*opt;
	const struct proto	*proto;
	const char		*server_name;
	struct client		 client;
	struct conn		 cli;
	struct conn		 be;
	struct tls_facts	 tls;		/* the client's TLS, if any */
	struct tls_server	*tlss;		/* its context, once asked for */
	struct creds		 creds;
	struct sasl		 sasl;		/* the exchange under way */
	size_t			 cmdmax;	/* longest command line */
	struct smtp_state	 smtp;
	struct imap_state	 imap;
	int			 errors;	/* invalid commands, for max_errors */
	int			 commands;	/* before the login, for max_commands */
	unsigned		 attempt;	/* logins tried, for auth_http */
	char			 salt[NAME_MAX_LEN + 64]; /* APOP, CRAM-MD5 */
	char			 backend[NAME_MAX_LEN + 8]; /* HOST:PORT, for the log */
	/* another --backend follows this one: a temporary failure at the
	   greeting is PROTO_NEXT, the client told nothing */
	int			 be_more;
	char			 be_tls[96];	/* the backend's TLS, for the log */
	int			 be_ssl;	/* the auth service's AUTH_PROXY_SSL_* */
	char			 be_ssl_name[NAME_MAX_LEN + 1];	/* and its name */
	/* the auth service's choices for this session; -1: the options' */
	int			 be_proxy_protocol;	/* PROXYPROTO_* */
	int			 be_xclient;		/* 0 or 1 */
	int			 be_smtp_auth;		/* AUTH_PLAIN, AUTH_LOGIN, 0 */
	char			 sasl_error[1024];	/* Auth-Error-SASL, base64 */
	char			 user[CRED_MAX + 1];	/* for the log */
	char			 outcome[256];		/* for the log */
	enum result		 result;		/* and its word */
	long long		 start_ms;
};

/* session.c */
int	client_read(struct session *, ssize_t, char **, size_t *);
int	client_sasl_start(struct session *, const struct sasl_mech *,
	    const char *ir, size_t irlen);
int	client_sasl_error(struct session *);
int	client_reply(struct session *, const char *);
int	client_replyf(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	client_error(struct session *, const char *);
int	backend_send(struct session *, const char *, size_t);
int	backend_sendf(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *session_salt(struct session *);
void	session_id(char *, size_t);
int	client_tls_offered(const struct session *);
int	client_tls_required(const struct session *);
unsigned client_sasl_offered(const struct session *, unsigned);
int	client_starttls(struct session *);
void	backend_refused(struct session *, const char *, size_t);
long long login_left(const struct session *, long long);
void	login_sleep(const struct session *, long long);

/* log.c */
void	log_init(void);
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_usage(const char *);
void	log_session_id(const char *);
void	session_outcome(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	session_result(struct session *, enum result);
void	log_session(const struct session *);
void	log_refused(const struct session *, const char *);


#endif
