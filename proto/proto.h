/*
 * What the session asks of a protocol: run the client's side until it has
 * authenticated (or left), then log in at the backend and hand the client
 * over to the relay.  Each protocol is one table of functions.
 */
#ifndef PROTO_H
#define PROTO_H

struct session;

enum {
	PROTO_LOGIN,		/* credentials ready: go to the backend */
	PROTO_DONE,		/* the client left, or was sent away */
	PROTO_RELAY,		/* backend logged in: start relaying */
	PROTO_FAIL,		/* the backend failed; the client was told */
	PROTO_NEXT		/* (s->be_more) it failed at its greeting, for
				   now: nothing sent to it, the client told
				   nothing, the next backend may serve */
};

struct proto {
	const char	*name;
	/* called again after a refused attempt: greets only the first time */
	int		(*client)(struct session *);
	int		(*backend)(struct session *);
	/* a temporary failure before or after the handshake; closes */
	const char	*tempfail;
	const char	*internal_error;
	/* a client line over its bound, a silent client: both close */
	const char	*toolong;
	const char	*timeout;
	/* ssl_verify_client: a certificate that failed, one that is missing */
	const char	*cert_error;
	const char	*no_cert;
	/* the auth service said no: tell the client, in its protocol */
	void		(*denied)(struct session *, const char *text,
			    const char *code);
};

extern const struct proto smtp_proto;
extern const struct proto pop3_proto;
extern const struct proto imap_proto;

const struct proto	*proto_find(int);

/* each protocol's backend dialogue, proto/<name>_backend.c */
int	smtp_backend(struct session *);
int	pop3_backend(struct session *);
int	imap_backend(struct session *);

#endif
