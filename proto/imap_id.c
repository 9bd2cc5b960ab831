/*
 * IMAP ID (RFC 2971), pure: no I/O.  The client's list is read and the
 * fields a proxy owns are dropped from it, so a client cannot forge
 * ours.  The command for the backend is built as Dovecot's own proxy
 * sends it: the client's fields, then ours, which a backend that trusts
 * us (login_trusted_networks) takes for the client's address and the
 * session id.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../session.h"
#include "imap_id.h"
#include "imap_parse.h"

/*
 * The names a client must not set in the ID we pass on, since the
 * backend trusts them from its proxy: Dovecot's imap-login keys (2.3:
 * x-originating-ip/-port, x-connected-ip/-port, x-proxy-ttl,
 * x-session-id, x-session-ext-id, and the x-forward- prefix; 2.4 adds
 * x-multiplex), matched here by their prefixes, so that a key a later
 * Dovecot adds to those families is covered too.
 */
int
imap_id_reserved(const char *name, size_t len)
{
	static const char *const prefix[] = { "x-originating-",
	    "x-connected-", "x-session-", "x-proxy-", "x-forward-",
	    "x-multiplex" };
	size_t	i, n;

	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		n = strlen(prefix[i]);
		if (len >= n && strncasecmp(name, prefix[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * One item of a list as the parser keeps it: a quoted string (1, its
 * bytes into buf), NIL (2), the end (0), or anything else (-1: an atom
 * other than NIL, a nested list, a string over cap).
 */
static int
id_item(const char **pp, const char *end, char *buf, size_t cap, size_t *n)
{
	const char	*p = *pp;

	while (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0;
	if (end - p >= 3 && strncasecmp(p, "NIL", 3) == 0 &&
	    (end - p == 3 || p[3] == ' ')) {
		*pp = p + 3;
		return 2;
	}
	if (*p++ != '"')
		return -1;
	for (*n = 0; p < end && *p != '"'; p++) {
		if (*p == '\\' && ++p == end)
			return -1;
		if (*n == cap)
			return -1;
		buf[(*n)++] = *p;
	}
	if (p == end)
		return -1;
	*pp = p + 1;
	return 1;
}

/* Printable 7-bit: what a quoted string can carry to any backend. */
static int
id_printable(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * RFC 2971's ID list: pairs of a string name and a string or NIL value,
 * at most IMAP_ID_PAIRS, names of 1 to IMAP_ID_NAME_MAX bytes, values up
 * to IMAP_ID_VALUE_MAX; anything else is malformed (-1, the client gets
 * BAD).  Into out go the pairs we may pass on, as "name" "value" ... :
 * not the proxy's own fields (imap_id_reserved), nor a pair with a
 * control or 8-bit byte (it would need a literal), nor one that does not
 * fit in outcap.  Returns the pairs kept.
 */
int
imap_id_parse(const char *list, size_t len, char *out, size_t outcap,
    size_t *outlen)
{
	const char	*p = list, *end = list + len;
	char		 name[IMAP_ID_NAME_MAX], value[IMAP_ID_VALUE_MAX];
	char		 qn[2 * IMAP_ID_NAME_MAX + 3];
	char		 qv[2 * IMAP_ID_VALUE_MAX + 3];
	size_t		 nlen, vlen = 0, o = 0;
	int		 pairs = 0, kept = 0, rc, ql, qvl;

	*outlen = 0;
	if (outcap > 0)
		out[0] = '\0';
	for (;;) {
		if ((rc = id_item(&p, end, name, sizeof(name), &nlen)) == 0)
			break;
		if (rc != 1 || nlen == 0 || ++pairs > IMAP_ID_PAIRS)
			return -1;
		if ((rc = id_item(&p, end, value, sizeof(value), &vlen)) <= 0)
			return -1;
		if (imap_id_reserved(name, nlen) || !id_printable(name, nlen) ||
		    (rc == 1 && !id_printable(value, vlen)))
			continue;
		ql = imap_quote(name, nlen, qn, sizeof(qn));
		qvl = rc == 2 ? (int)strlcpy(qv, "NIL", sizeof(qv)) :
		    imap_quote(value, vlen, qv, sizeof(qv));
		if (ql == -1 || qvl == -1 ||
		    o + (o > 0) + ql + 1 + qvl + 1 > outcap)
			continue;
		o += snprintf(out + o, outcap - o, "%s%s %s", o > 0 ? " " : "",
		    qn, qv);
		kept++;
	}
	*outlen = o;
	return kept;
}

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
