/*
 * XCLIENT commands.  Values are xtext (RFC 3461): '!'..'~' but '+' and '='
 * as they are, every other byte as "+XX".  The commands are split to stay
 * within 512 bytes; attributes marked last (ADDR, NAME, LOGIN) go together
 * in the final command: after ADDR or NAME the backend may no longer take
 * XCLIENT from us, and Postfix forgets a LOGIN that a later XCLIENT does
 * not repeat (as it does a HELO, which the client's own EHLO after XCLIENT
 * sets again).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../session.h"
#include "xclient.h"

/* Returns the encoded length, or -1 when it exceeds outcap or 255. */
int
xtext_encode(const char *in, size_t inlen, char *out, size_t outcap)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, n = 0;

	for (i = 0; i < inlen; i++) {
		unsigned char ch = in[i];

		if (ch >= '!' && ch <= '~' && ch != '+' && ch != '=') {
			if (n + 1 >= outcap)
				return -1;
			out[n++] = ch;
		} else {
			if (n + 3 >= outcap)
				return -1;
			out[n++] = '+';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	if (n > XCLIENT_VALUE_MAX)
		return -1;
	out[n] = '\0';
	return n;
}

static int
append(char *out, size_t outcap, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > outcap)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

/*
 * Writes one or more "XCLIENT a=v ...\r\n" commands into out.  Everything
 * goes on one line when it fits, in the given order; otherwise the other
 * attributes are packed first and the "last" ones end the sequence, in
 * one command of their own.  Returns the number of commands; -1 for a
 * value too long or out too small, XCLIENT_LAST_TOOLONG when the last
 * ones do not fit in one command.
 */
int
xclient_build(const struct xattr *a, size_t n, char *out, size_t outcap)
{
	char	enc[XCLIENT_VALUE_MAX + 1];
	size_t	len = 0, linestart = 0, i, total = 8;
	int	pass, first, final, lines = 0, e;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((e = xtext_encode(a[i].value, a[i].len, enc,
		    sizeof(enc))) == -1)
			return -1;
		total += 1 + strlen(a[i].name) + 1 + e;
	}
	first = total + 2 <= XCLIENT_LINE_MAX ? 2 : 0;
	final = first == 2 ? 2 : 1;
	for (pass = first; pass <= final; pass++) {
		for (i = 0; i < n; i++) {
			size_t	attrlen;

			if ((pass == 0 && a[i].last) || (pass == 1 && !a[i].last))
				continue;
			e = xtext_encode(a[i].value, a[i].len, enc, sizeof(enc));
			attrlen = 1 + strlen(a[i].name) + 1 + e;
			if (len > linestart && len - linestart + attrlen + 2 >
			    XCLIENT_LINE_MAX) {
				if (pass == 1)
					return XCLIENT_LAST_TOOLONG;
				if (append(out, outcap, &len, "\r\n", 2) == -1)
					return -1;
				linestart = len;
			}
			if (len == linestart) {
				if (append(out, outcap, &len, "XCLIENT", 7) == -1)
					return -1;
				lines++;
			}
			if (append(out, outcap, &len, " ", 1) == -1 ||
			    append(out, outcap, &len, a[i].name,
			    strlen(a[i].name)) == -1 ||
			    append(out, outcap, &len, "=", 1) == -1 ||
			    append(out, outcap, &len, enc, e) == -1)
				return -1;
		}
		if (pass == 0 && len > linestart) {
			/* the last attributes start a command of their own */
			if (append(out, outcap, &len, "\r\n", 2) == -1)
				return -1;
			linestart = len;
		}
	}
	if (len > linestart && append(out, outcap, &len, "\r\n", 2) == -1)
		return -1;
	return lines;
}

/* Is name among the space-separated words of offer? */
static int
offered(const char *offer, const char *name)
{
	size_t	n = strlen(name), w;

	while (*offer != '\0') {
		offer += strspn(offer, " ");
		w = strcspn(offer, " ");
		if (w == n && strncasecmp(offer, name, n) == 0)
			return 1;
		offer += w;
	}
	return 0;
}

/* An address as XCLIENT takes it: "IPV6:" before a v6 one. */
static void
xaddr(const struct endpoint *e, char *out, size_t outcap)
{
	if (!e->known)
		strlcpy(out, XCLIENT_UNAVAILABLE, outcap);
	else
		snprintf(out, outcap, "%s%s",
		    e->family == AF_INET6 ? "IPV6:" : "", e->ip);
}

static void
xport(const struct endpoint *e, char *out, size_t outcap)
{
	if (!e->known)
		strlcpy(out, XCLIENT_UNAVAILABLE, outcap);
	else
		snprintf(out, outcap, "%u", e->port);
}

/*
 * The attributes for a backend: ADDR, LOGIN (login NULL: none) and NAME
 * as nginx sends them, to any backend that lists them or lists none;
 * then PORT, PROTO, HELO, REVERSE_NAME, DESTADDR and DESTPORT, each only
 * when offer (the names after XCLIENT in its EHLO; NULL or "": none)
 * lists it.  An unknown value is [UNAVAILABLE], as is a HELO too long
 * for XCLIENT once encoded (Postfix refuses the whole command else).
 * The values live in v.  Returns the number of attributes in a.
 */
size_t
xclient_attrs(const struct client *cl, const struct smtp_state *smtp,
    const char *login, size_t loginlen, const char *offer,
    struct xclient_vals *v, struct xattr a[XCLIENT_ATTRS_MAX])
{
	char		 enc[XCLIENT_VALUE_MAX + 1];
	const char	*helo = smtp->helo, *proto;
	size_t		 n = 0, k = 0, i;
	int		 all = offer == NULL || offer[0] == '\0';
	struct xattr	 t[XCLIENT_ATTRS_MAX];

	xaddr(&cl->remote, v->addr, sizeof(v->addr));
	xport(&cl->remote, v->port, sizeof(v->port));
	xaddr(&cl->local, v->destaddr, sizeof(v->destaddr));
	xport(&cl->local, v->destport, sizeof(v->destport));
	proto = helo[0] == '\0' ? XCLIENT_UNAVAILABLE :
	    smtp->esmtp ? "ESMTP" : "SMTP";
	if (helo[0] == '\0' ||
	    xtext_encode(helo, strlen(helo), enc, sizeof(enc)) == -1)
		helo = XCLIENT_UNAVAILABLE;

	/* nginx's three; then the rest, listed only (.last: 2) */
	t[n++] = (struct xattr){ "ADDR", v->addr, strlen(v->addr), 1 };
	if (login != NULL)
		t[n++] = (struct xattr){ "LOGIN", login, loginlen, 1 };
	t[n++] = (struct xattr){ "NAME", cl->name, strnlen(cl->name,
	    sizeof(cl->name)), 1 };
	t[n++] = (struct xattr){ "PORT", v->port, strlen(v->port), 2 };
	t[n++] = (struct xattr){ "PROTO", proto, strlen(proto), 2 };
	t[n++] = (struct xattr){ "HELO", helo, strlen(helo), 2 };
	t[n++] = (struct xattr){ "REVERSE_NAME", cl->name, strnlen(cl->name,
	    sizeof(cl->name)), 2 };
	t[n++] = (struct xattr){ "DESTADDR", v->destaddr,
	    strlen(v->destaddr), 2 };
	t[n++] = (struct xattr){ "DESTPORT", v->destport,
	    strlen(v->destport), 2 };
	for (i = 0; i < n; i++) {
		if (all ? t[i].last == 2 : !offered(offer, t[i].name))
			continue;
		a[k] = t[i];
		a[k].last = t[i].last == 1;
		k++;
	}
	return k;
}
