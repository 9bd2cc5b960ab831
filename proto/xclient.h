/* XCLIENT (Postfix): built from a list of attributes, not a fixed format. */
#ifndef XCLIENT_H
#define XCLIENT_H

#include <stddef.h>

#define XCLIENT_LINE_MAX	512	/* with CRLF, Postfix's limit */
#define XCLIENT_VALUE_MAX	255	/* after encoding */
#define XCLIENT_LAST_TOOLONG	(-2)	/* xclient_build: see there */

struct xattr {
	const char	*name;		/* ADDR, LOGIN, NAME, ... */
	const char	*value;
	size_t		 len;
	int		 last;		/* must go in the final command */
};

/* what XCLIENT says for a value we do not know */
#define XCLIENT_UNAVAILABLE	"[UNAVAILABLE]"
#define XCLIENT_ATTRS_MAX	9	/* ADDR LOGIN NAME PORT PROTO HELO ... */

struct client;
struct smtp_state;

/* the values xclient_attrs formats, which its attributes point into */
struct xclient_vals {
	char	addr[64];	/* "IPV6:" and an address */
	char	port[16];
	char	destaddr[64];
	char	destport[16];
};

int	xtext_encode(const char *in, size_t inlen, char *out, size_t outcap);
int	xclient_build(const struct xattr *, size_t n, char *out, size_t outcap);
size_t	xclient_attrs(const struct client *, const struct smtp_state *,
	    const char *login, size_t loginlen, const char *offer,
	    struct xclient_vals *, struct xattr[XCLIENT_ATTRS_MAX]);

#endif
