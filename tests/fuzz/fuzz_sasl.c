/*
 * The SASL engine (proto/sasl.c) over a client's response lines.  The
 * first byte picks the mechanism (its low 3 bits, mod 6), whether the
 * first line is an initial response (8), and whether the lines go in as
 * they are (base64 or not) or are base64-encoded here first (16), so
 * that the mechanisms' own parsers see any bytes at all.  An exchange
 * that ends with credentials has them bounded and NUL-free; one that
 * ends otherwise has them wiped.
 */
#include "fuzz.h"
#include "../../options.h"
#include "../../session.h"
#include "../../proto/base64.h"
#include "../../proto/sasl.h"

static const char *const names[] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "EXTERNAL", "XOAUTH2", "OAUTHBEARER",
};

#define ALL	(AUTH_PLAIN | AUTH_LOGIN | AUTH_CRAM_MD5 | AUTH_EXTERNAL | \
		 AUTH_XOAUTH2 | AUTH_OAUTHBEARER)

static int
is_zero(const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void
check_done(const struct sasl_mech *m, const struct creds *c)
{
	size_t	i;

	FUZZ_CHECK(c->method == m->method);
	FUZZ_CHECK(c->userlen <= CRED_MAX && c->user[c->userlen] == '\0');
	FUZZ_CHECK(memchr(c->user, '\0', c->userlen) == NULL);
	FUZZ_CHECK(c->passlen <= PASS_MAX && c->pass[c->passlen] == '\0');
	FUZZ_CHECK(memchr(c->pass, '\0', c->passlen) == NULL);
	if (m->method == AUTH_PLAIN || m->method == AUTH_LOGIN)
		FUZZ_CHECK(c->userlen > 0);
	if (m->method == AUTH_CRAM_MD5)
		FUZZ_CHECK(c->passlen == 32 &&
		    sasl_digest_valid(c->pass, c->passlen));
	/* a token goes into Auth-Pass unescaped: no blank, no CR or LF */
	if (m->method == AUTH_XOAUTH2 || m->method == AUTH_OAUTHBEARER) {
		FUZZ_CHECK(c->userlen > 0 && c->passlen > 0);
		for (i = 0; i < c->passlen; i++)
			FUZZ_CHECK(c->pass[i] > ' ' && c->pass[i] < 0x7f);
	}
}

/* a challenge is base64 and fits its buffer */
static void
check_challenge(const struct sasl *a)
{
	unsigned char	buf[sizeof(a->challenge)];
	size_t		n, len = strnlen(a->challenge, sizeof(a->challenge));

	FUZZ_CHECK(len < sizeof(a->challenge));
	FUZZ_CHECK(base64_decode(a->challenge, len, buf, sizeof(buf), &n) == 0);
}

/* one line, as it is or encoded here */
static int
respond(struct sasl *a, const struct sasl_mech *m, struct creds *c,
    int first, int ir, int encode, const char *line, size_t n)
{
	char	*l;
	size_t	 cap = BASE64_LEN(n) + 1;
	int	 rc;

	if (encode) {
		if ((l = malloc(cap)) == NULL)
			abort();
		n = base64_encode(line, n, l, cap);
	} else
		l = fuzz_copy(line, n);
	if (first)
		rc = sasl_start(a, m, c, "<1896.697170952@mail.example>",
		    ir ? l : NULL, n);
	else
		rc = sasl_response(a, l, n);
	free(l);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct sasl_mech	*m;
	struct sasl		 a;
	struct creds		*c;
	const char		*line = "";
	size_t			 pos = 1, n = 0;
	int			 rc, ir, encode;
	char			 list[256];

	if (len == 0)
		return 0;
	m = sasl_find(names[(data[0] & 7) % 6],
	    strlen(names[(data[0] & 7) % 6]), ALL);
	FUZZ_CHECK(m != NULL);
	ir = data[0] & 0x08;
	encode = data[0] & 0x10;
	if ((c = malloc(sizeof(*c))) == NULL)
		abort();
	memset(c, 0x55, sizeof(*c));	/* sasl_start must wipe it first */
	if (ir)
		(void)fuzz_line(data, len, &pos, &line, &n);
	rc = respond(&a, m, c, 1, ir, encode, line, n);
	while (rc == SASL_CHALLENGE) {
		check_challenge(&a);
		if (!fuzz_line(data, len, &pos, &line, &n))
			break;
		rc = respond(&a, m, c, 0, 0, encode, line, n);
	}
	if (rc == SASL_DONE)
		check_done(m, c);
	else if (rc != SASL_CHALLENGE) {
		FUZZ_CHECK(rc >= SASL_CANCELLED && rc <= SASL_ERROR);
		FUZZ_CHECK(is_zero(c, sizeof(*c)));
		FUZZ_CHECK(a.mech == NULL);
	}
	if (rc != SASL_CHALLENGE)
		FUZZ_CHECK(sasl_response(&a, "x", 1) == SASL_ERROR);
	free(c);

	FUZZ_CHECK((sasl_offered(data[0], 0) & ~(unsigned)data[0]) == 0);
	(void)sasl_list(data[0], " ", "", list, sizeof(list));
	return 0;
}
