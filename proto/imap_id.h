/*
 * IMAP ID (RFC 2971), pure: the client's list read, the command we send
 * the backend built.
 */
#ifndef IMAP_ID_H
#define IMAP_ID_H

#include <stddef.h>

struct client;

#define IMAP_ID_TAG	"mp2"	/* our ID's tag, as STARTTLS_TAG */

/*
 * The longest command: the tag, the client's fields (IMAP_ID_MAX), ours
 * (four addresses and ports, the session id: about 200 bytes).
 */
#define IMAP_ID_CMD_MAX	(IMAP_ID_MAX + 512)

/*
 * RFC 2971's ID list, as the parser keeps it: the pairs we may pass on,
 * as "name" "value" ... in IMAP syntax.  Its limits: 30 pairs, names of
 * 30 bytes, values of 1024.
 */
#define IMAP_ID_PAIRS		30
#define IMAP_ID_NAME_MAX	30
#define IMAP_ID_VALUE_MAX	1024

int	imap_id_parse(const char *list, size_t len, char *out, size_t outcap,
	    size_t *outlen);
int	imap_id_reserved(const char *name, size_t len);

int	imap_id_build(const char *tag, const char *fields, size_t flen,
	    const struct client *, int ours, char *out, size_t outcap);

#endif
