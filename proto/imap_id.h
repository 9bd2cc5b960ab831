/* The IMAP ID command we send the backend (RFC 2971), pure. */
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

int	imap_id_build(const char *tag, const char *fields, size_t flen,
	    const struct client *, int ours, char *out, size_t outcap);

#endif
