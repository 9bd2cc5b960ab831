/*
 * The one SASL engine: PLAIN, LOGIN, CRAM-MD5 and EXTERNAL (RFC 4616, the
 * LOGIN draft, RFC 2195, RFC 4422) as a state machine over the client's response lines.
 * The protocols only frame it: how a challenge is written ("334 ", "+ "),
 * and the reply to each outcome.  Pure: no I/O, no globals.
 */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>

struct creds;

/*
 * The longest SASL response line, CRLF included, in all three protocols:
 * its own limit, apart from the command buffers, so that a bearer token
 * of several KiB fits.
 */
#define SASL_LINE_MAX	16384

/* sasl_start and sasl_response results */
enum sasl_status {
	SASL_CHALLENGE,		/* send a->challenge, read the next response */
	SASL_DONE,		/* the credentials are complete */
	SASL_CANCELLED,		/* the client sent "*" */
	SASL_BASE64,		/* the response is no base64 */
	SASL_INVALID,		/* it decodes, but not to what the mechanism wants */
	SASL_ERROR		/* ours: the challenge does not fit */
};

/* a mechanism's flags */
#define SASL_SERVER_FIRST	0x01	/* challenge first: no initial response */
#define SASL_NEEDS_SERVICE	0x02	/* only an auth service can check it
					   (and hand us the password) */
#define SASL_NEEDS_CERT		0x04	/* a verified client certificate */
#define SASL_NEEDS		(SASL_NEEDS_SERVICE | SASL_NEEDS_CERT)

struct sasl;

struct sasl_mech {
	const char	*name;
	unsigned	 method;	/* AUTH_* of options.h */
	unsigned	 flags;
	int		(*step)(struct sasl *, const unsigned char *, size_t);
};

/* One exchange; the credentials it fills are the session's. */
struct sasl {
	const struct sasl_mech	*mech;		/* NULL: no exchange */
	struct creds		*creds;
	const char		*salt;		/* CRAM-MD5's challenge */
	int			 step;		/* responses taken */
	char			 challenge[512];	/* base64, NUL-terminated */
};

const struct sasl_mech *sasl_find(const char *name, size_t len,
	    unsigned methods);
unsigned sasl_offered(unsigned methods, unsigned have);
int	sasl_list(unsigned methods, const char *before, const char *after,
	    char *out, size_t outcap);
int	sasl_start(struct sasl *, const struct sasl_mech *, struct creds *,
	    const char *salt, const char *ir, size_t irlen);
int	sasl_response(struct sasl *, const char *line, size_t len);

void	creds_wipe(struct creds *);

int	sasl_plain_encode(const struct creds *, char *out, size_t outcap);
int	sasl_salt(char *out, size_t outcap, unsigned long rnd, long long t,
	    const char *server_name);
int	sasl_digest_valid(const char *, size_t);

#endif
