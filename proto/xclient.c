/*
 * XCLIENT commands.  Values are xtext (RFC 3461): '!'..'~' but '+' and '='
 * as they are, every other byte as "+XX".  The commands are split to stay
 * within 512 bytes; attributes marked last (ADDR, NAME) go in the final
 * command, since after ADDR the backend may no longer accept XCLIENT from us.
 */
#include <string.h>

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
 * attributes are packed first and the "last" ones end the sequence.
 * Returns the number of commands, or -1 (a value too long, out too small).
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
