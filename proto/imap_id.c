/*
 * The ID command for the backend, as Dovecot's own proxy sends it: the
 * client's fields (already IMAP strings, the x- ones the proxy owns
 * dropped by the client side, so a client cannot forge ours), then ours,
 * which a backend that trusts us (login_trusted_networks) takes for the
 * client's address and the session id.  Pure: no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "../session.h"
#include "imap_id.h"
#include "imap_parse.h"

static int
put(char *out, size_t outcap, size_t *len, const char *s, size_t n)
{
	if (n >= outcap - *len)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

/* one field, after a space when it is not the first */
static int
field(char *out, size_t outcap, size_t *len, int *first, const char *name,
    const char *value)
{
	char	buf[128];
	int	n;

	n = snprintf(buf, sizeof(buf), "%s\"%s\" \"%s\"", *first ? "" : " ",
	    name, value);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	*first = 0;
	return put(out, outcap, len, buf, n);
}

static int
endpoint_fields(char *out, size_t outcap, size_t *len, int *first,
    const char *ipname, const char *portname, const struct endpoint *e)
{
	char	port[16];

	if (!e->known)
		return 0;
	snprintf(port, sizeof(port), "%u", e->port);
	if (field(out, outcap, len, first, ipname, e->ip) == -1 ||
	    field(out, outcap, len, first, portname, port) == -1)
		return -1;
	return 0;
}

/*
 * The length of the first max pairs of fields, as imap_id_parse wrote
 * them: "name" "value" or "name" NIL, one space between the items.
 */
static size_t
fields_cut(const char *f, size_t flen, int max)
{
	size_t	i = 0;
	int	items = 0;

	while (i < flen && items < 2 * max) {
		if (items > 0)
			i++;		/* the space before an item */
		if (i < flen && f[i] == '"') {
			for (i++; i < flen && f[i] != '"'; i++)
				if (f[i] == '\\')
					i++;
			i++;		/* the closing quote */
		} else
			i += 3;		/* NIL */
		items++;
	}
	return i < flen ? i : flen;
}

/*
 * "<tag> ID (<fields> <ours>)\r\n", ours when asked (--proxy-imap-id),
 * each address only when known; "<tag> ID NIL\r\n" when there is
 * nothing to say.  Returns the length, or -1 when out is too small.
 */
int
imap_id_build(const char *tag, const char *fields, size_t flen,
    const struct client *cl, int ours, char *out, size_t outcap)
{
	size_t	len = 0, open;
	int	first = 1;

	if (outcap == 0)
		return -1;
	out[0] = '\0';
	if (put(out, outcap, &len, tag, strlen(tag)) == -1 ||
	    put(out, outcap, &len, " ID (", 5) == -1)
		return -1;
	open = len;
	/*
	 * RFC 2971: 30 pairs at most, ours included; the client's last ones
	 * give way (fuzz_imap_id, crash-id-thirty-pairs: a client's 30 and
	 * ours made 35, an ID the backend may refuse, as we would).
	 */
	if (ours)
		flen = fields_cut(fields, flen, IMAP_ID_PAIRS -
		    2 * cl->remote.known - 2 * cl->local.known -
		    (cl->id[0] != '\0'));
	if (flen > 0) {
		if (put(out, outcap, &len, fields, flen) == -1)
			return -1;
		first = 0;
	}
	if (ours && (endpoint_fields(out, outcap, &len, &first,
	    "x-originating-ip", "x-originating-port", &cl->remote) == -1 ||
	    endpoint_fields(out, outcap, &len, &first, "x-connected-ip",
	    "x-connected-port", &cl->local) == -1 ||
	    (cl->id[0] != '\0' && field(out, outcap, &len, &first,
	    "x-session-id", cl->id) == -1)))
		return -1;
	if (len == open) {
		len = open - 1;		/* the "(" */
		return put(out, outcap, &len, "NIL\r\n", 5) == -1 ? -1 :
		    (int)len;
	}
	return put(out, outcap, &len, ")\r\n", 3) == -1 ? -1 : (int)len;
}
