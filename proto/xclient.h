/* XCLIENT (Postfix): built from a list of attributes, not a fixed format. */
#ifndef XCLIENT_H
#define XCLIENT_H

#include <stddef.h>

#define XCLIENT_LINE_MAX	512	/* with CRLF, Postfix's limit */
#define XCLIENT_VALUE_MAX	255	/* after encoding */

struct xattr {
	const char	*name;		/* ADDR, LOGIN, NAME, ... */
	const char	*value;
	size_t		 len;
	int		 last;		/* must go in the final command */
};

int	xtext_encode(const char *in, size_t inlen, char *out, size_t outcap);
int	xclient_build(const struct xattr *, size_t n, char *out, size_t outcap);

#endif
