/*
 * nginx's auth_http protocol: the request we send and the response we
 * read.  Pure functions over byte buffers; the exchange itself is in
 * auth.c.
 */
#ifndef AUTH_HTTP_H
#define AUTH_HTTP_H

#include <stddef.h>

#define AUTH_HTTP_RESPONSE_MAX	4096	/* nginx reads at most 1024 */

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
	const char	*smtp_helo;	/* SMTP only, else NULL */
	const char	*smtp_from;
	const char	*smtp_to;
	const char	*headers;	/* extra "Name: value", '\n'-separated */
};

struct auth_resp {
	int		ok;		/* Auth-Status: OK */
	int		again;		/* Auth-Status: WAIT: ask again */
	char		status[256];	/* any other Auth-Status: the error */
	char		server[64];	/* Auth-Server */
	char		port[8];	/* Auth-Port */
	char		user[513];	/* Auth-User, for the backend login */
	size_t		userlen;
	char		pass[513];	/* Auth-Pass */
	size_t		passlen;
	long long	wait;		/* Auth-Wait seconds, -1 when absent */
	char		errcode[32];	/* Auth-Error-Code (SMTP) */
};

int	auth_http_url(const char *url, char *hostport, size_t hpcap,
	    char *host, size_t hostcap, const char **uri);
int	auth_http_request(const struct auth_req *, char *out, size_t outcap);
int	auth_http_response(const char *buf, size_t len, struct auth_resp *);

#endif
