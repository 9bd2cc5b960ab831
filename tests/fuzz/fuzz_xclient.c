/*
 * XCLIENT (proto/xclient.c) as a round trip.  xtext_encode: any bytes
 * encode to valid xtext (RFC 3461: '!'..'~' but '+' and '=', else +XX)
 * that decodes to exactly them, or are refused for their length.  Then
 * the input split into attribute values (some of them "last"), through
 * xclient_build: every command "XCLIENT NAME=xtext ...\r\n" within
 * Postfix's 512 bytes, each attribute once, decoding to its value, in
 * order, the last ones together in the final command.  And the
 * attributes of a session whose HELO, PTR name and EHLO offer come from
 * the input (xclient_attrs) build as well.
 */
#include "fuzz.h"
#include "../../session.h"
#include "../../proto/xclient.h"

static const char *const names[XCLIENT_ATTRS_MAX] = {
	"ADDR", "LOGIN", "NAME", "PORT", "PROTO", "HELO", "REVERSE_NAME",
	"DESTADDR", "DESTPORT",
};

static int
unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : -1;
}

/* valid xtext to bytes: the length, or -1 */
static int
xtext_decode(const char *in, size_t n, char *out)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '+') {
			if (i + 2 >= n || unhex(in[i + 1]) < 0 || unhex(in[i + 2]) < 0)
				return -1;
			out[o++] = unhex(in[i + 1]) << 4 | unhex(in[i + 2]);
			i += 2;
		} else if (in[i] >= '!' && in[i] <= '~' && in[i] != '=')
			out[o++] = in[i];
		else
			return -1;
	}
	return (int)o;
}

/* the encoded length, the slow way */
static size_t
enc_len(const char *in, size_t n)
{
	size_t	i, e = 0;

	for (i = 0; i < n; i++)
		e += in[i] >= '!' && in[i] <= '~' && in[i] != '+' &&
		    in[i] != '=' ? 1 : 3;
	return e;
}

static void
encode(const char *in, size_t n, size_t cap)
{
	char	*out, dec[XCLIENT_VALUE_MAX + 1];
	int	 e;

	if ((out = malloc(cap)) == NULL)
		abort();
	e = xtext_encode(in, n, out, cap);
	if (enc_len(in, n) > XCLIENT_VALUE_MAX || enc_len(in, n) >= cap)
		FUZZ_CHECK(e == -1);
	else {
		FUZZ_CHECK(e >= 0 && (size_t)e == enc_len(in, n));
		FUZZ_CHECK(strlen(out) == (size_t)e);
		FUZZ_CHECK(xtext_decode(out, e, dec) == (int)n &&
		    memcmp(dec, in, n) == 0);
	}
	free(out);
}

/*
 * The commands of xclient_build, against the attributes they carry: in
 * their order when all fit in one command, else the others first and
 * the last ones after them, in the final command.
 */
static void
check_build(const struct xattr *a, size_t n, const char *out, int lines)
{
	const char	*p = out, *eol, *tok, *eq, *sp;
	char		 dec[XCLIENT_VALUE_MAX + 1];
	size_t		 order[XCLIENT_ATTRS_MAX], total = 8, k = 0, i, j;
	int		 line = 0, d, pass;

	for (i = 0; i < n; i++)
		total += 1 + strlen(a[i].name) + 1 +
		    enc_len(a[i].value, a[i].len);
	if (total + 2 <= XCLIENT_LINE_MAX)
		for (i = 0; i < n; i++)
			order[i] = i;
	else
		for (pass = 0, j = 0; pass < 2; pass++)
			for (i = 0; i < n; i++)
				if (!a[i].last == !pass)
					order[j++] = i;
	for (; *p != '\0'; p = eol + 2, line++) {
		eol = strstr(p, "\r\n");
		FUZZ_CHECK(eol != NULL && eol - p + 2 <= XCLIENT_LINE_MAX);
		FUZZ_CHECK(strncmp(p, "XCLIENT ", 8) == 0);
		for (tok = p + 7; tok < eol; tok = sp, k++) {
			FUZZ_CHECK(*tok == ' ' && k < n);
			tok++;
			sp = memchr(tok, ' ', eol - tok);
			if (sp == NULL)
				sp = eol;
			eq = memchr(tok, '=', sp - tok);
			i = order[k];
			FUZZ_CHECK(eq != NULL &&
			    strlen(a[i].name) == (size_t)(eq - tok) &&
			    memcmp(a[i].name, tok, eq - tok) == 0);
			d = xtext_decode(eq + 1, sp - eq - 1, dec);
			FUZZ_CHECK(d >= 0 && (size_t)d == a[i].len &&
			    memcmp(dec, a[i].value, d) == 0);
			/* a last one: only in the final command */
			if (a[i].last)
				FUZZ_CHECK(strcmp(eol, "\r\n") == 0);
		}
	}
	FUZZ_CHECK(k == n && line == lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct xattr		 a[XCLIENT_ATTRS_MAX];
	struct xclient_vals	 v;
	struct client		 cl;
	struct smtp_state	 st;
	char			*in, *out, *offer;
	size_t			 n = 0, start, i, e;
	int			 rc, toolong = 0, lastlen = 7;

	in = fuzz_dup(data, len);
	/* room for it and its NUL, one byte less, and some other room */
	encode(in, len, XCLIENT_VALUE_MAX + 1);
	encode(in, len, enc_len(in, len) + 1);
	if (enc_len(in, len) > 0)
		encode(in, len, enc_len(in, len));
	encode(in, len, len > 0 ? data[0] % 64 + 1 : 1);

	/* the values: the input cut at each NUL, each named in turn */
	for (start = 0, i = 0; i <= len && n < XCLIENT_ATTRS_MAX; i++) {
		if (i < len && in[i] != '\0')
			continue;
		a[n].name = names[n];
		a[n].value = in + start;
		a[n].len = i - start;
		a[n].last = len > 0 && (data[0] >> n & 1);
		e = enc_len(a[n].value, a[n].len);
		toolong |= e > XCLIENT_VALUE_MAX;
		if (a[n].last)
			lastlen += 1 + strlen(names[n]) + 1 + e;
		n++;
		start = i + 1;
	}
	if ((out = malloc(8192)) == NULL)
		abort();
	rc = xclient_build(a, n, out, 8192);
	if (toolong)
		FUZZ_CHECK(rc == -1);
	else if (lastlen + 2 > XCLIENT_LINE_MAX)
		FUZZ_CHECK(rc == XCLIENT_LAST_TOOLONG);
	else {
		FUZZ_CHECK(rc >= 1);
		check_build(a, n, out, rc);
	}

	/* a session: HELO, PTR name, EHLO's XCLIENT list from the input */
	memset(&cl, 0, sizeof(cl));
	memset(&st, 0, sizeof(st));
	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 50000 };
	strlcpy(cl.name, n > 0 ? a[0].value : "", sizeof(cl.name));
	strlcpy(st.helo, n > 1 ? a[1].value : "", sizeof(st.helo));
	st.esmtp = len > 0 && (data[0] & 0x80);
	offer = n > 2 ? (char *)a[2].value : NULL;
	n = xclient_attrs(&cl, &st, n > 3 ? a[3].value : NULL,
	    n > 3 ? a[3].len : 0, offer, &v, a);
	FUZZ_CHECK(n <= XCLIENT_ATTRS_MAX);
	rc = xclient_build(a, n, out, 8192);
	if (rc >= 0 && n > 0)
		check_build(a, n, out, rc);
	free(out);
	free(in);
	return 0;
}
