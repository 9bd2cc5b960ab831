/*
 * IMAP (proto/imap_parse.c): the input is what a client sends, lines and
 * after each "{n}" or "{n+}" the n bytes of the literal, fed to the
 * parser as proto/imap.c feeds it, the first byte choosing the command's
 * limit (imap_client_buffer).  Each line is also read as a backend
 * response and for a literal's suffix.  Then the LOGIN we build
 * (imap_quote, literals for the rest) from a user and a password taken
 * from the input must parse back to exactly them.
 */
#include "fuzz.h"
#include "../../proto/imap_parse.h"

static const size_t limits[] = { 4096, 8192, 64, 1024, 65536 };

/* what a parsed command may hold */
static void
check_cmd(const struct imap_parser *p)
{
	const struct imap_cmd	*c = &p->cmd;
	int			 i;

	FUZZ_CHECK(imap_tag_valid(c->tag, strlen(c->tag)));
	FUZZ_CHECK(c->verb > IMAP_UNKNOWN && c->verb <= IMAP_STARTTLS);
	FUZZ_CHECK(c->nargs >= 0 && c->nargs <= IMAP_MAXARGS);
	FUZZ_CHECK(p->depth == 0 && p->used <= p->limit);
	for (i = 0; i < c->nargs; i++) {
		FUZZ_CHECK(c->arg[i].p == c->store[i]);
		FUZZ_CHECK(c->arg[i].len <= IMAP_ARG_MAX);
		FUZZ_CHECK(c->arg[i].p[c->arg[i].len] == '\0');
		/* no NUL gets in, so the C string is the whole argument */
		FUZZ_CHECK(strlen(c->arg[i].p) == c->arg[i].len);
	}
}

/*
 * One command from data[*pos..): 1 parsed, 0 refused, -1 the input
 * ended within it.
 */
static int
command(struct imap_parser *p, size_t limit, const uint8_t *data, size_t len,
    size_t *pos)
{
	const char	*line;
	char		*l;
	size_t		 n;
	int		 rc;

	imap_parse_init(p, limit);
	for (;;) {
		if (!fuzz_line(data, len, pos, &line, &n))
			return -1;
		l = fuzz_copy(line, n);
		rc = imap_parse_line(p, l, n);
		free(l);
		while (rc == IMAP_PARSE_LITERAL) {
			FUZZ_CHECK(p->literal <= p->limit);
			/* what is left, when the client stops short */
			n = len - *pos < p->literal ? len - *pos : p->literal;
			l = fuzz_copy(data + *pos, n);
			*pos += n;
			rc = imap_parse_literal(p, l, n);
			free(l);
			FUZZ_CHECK(rc == IMAP_PARSE_MORE || rc == IMAP_PARSE_ERROR);
			if (rc == IMAP_PARSE_MORE)
				break;
		}
		if (rc == IMAP_PARSE_DONE) {
			check_cmd(p);
			return 1;
		}
		if (rc == IMAP_PARSE_ERROR) {
			FUZZ_CHECK(p->error >= IMAP_ERR_TAG &&
			    p->error <= IMAP_ERR_TOOLONG);
			return 0;
		}
		FUZZ_CHECK(rc == IMAP_PARSE_MORE);
	}
}

/* each line as the backend's: a status, and a literal at its end */
static void
responses(const uint8_t *data, size_t len)
{
	const char	*line;
	char		*l;
	size_t		 pos = 0, n, lit;
	int		 st, tagged, sync;

	while (fuzz_line(data, len, &pos, &line, &n)) {
		l = fuzz_copy(line, n);
		st = imap_resp_parse(l, n, "mp1", &tagged);
		FUZZ_CHECK(st >= IMAP_MALFORMED && st <= IMAP_PREAUTH);
		FUZZ_CHECK(!tagged || (n >= 4 && memcmp(l, "mp1 ", 4) == 0));
		if (tagged && st != IMAP_MALFORMED)
			FUZZ_CHECK(st == IMAP_OK || st == IMAP_NO ||
			    st == IMAP_BAD);
		(void)imap_resp_parse(l, n, "", &tagged);
		FUZZ_CHECK(!tagged);
		if (imap_literal_suffix(l, n, &lit, &sync))
			FUZZ_CHECK(n >= 3 && l[n - 1] == '}' &&
			    memchr(l, '{', n) != NULL);
		free(l);
	}
}

/* LOGIN as imap_login_build writes it, fed back through the parser */
static void
login_round_trip(const uint8_t *data, size_t len)
{
	struct imap_login	*lg;
	struct imap_parser	*p;
	size_t			 ulen = len / 2, plen = len - len / 2;
	const char		*user = (const char *)data;
	const char		*pass = (const char *)data + ulen;
	size_t			 at = 0, end, k;
	int			 rc = -1;

	if (ulen > IMAP_LOGIN_MAX || plen > IMAP_LOGIN_MAX)
		return;
	if ((lg = malloc(sizeof(*lg))) == NULL ||
	    (p = malloc(sizeof(*p))) == NULL)
		abort();
	FUZZ_CHECK(imap_login_build("a1", user, ulen, pass, plen, lg) == 0);
	FUZZ_CHECK(lg->len >= 2 && lg->len < sizeof(lg->buf) &&
	    memcmp(lg->buf + lg->len - 2, "\r\n", 2) == 0);
	imap_parse_init(p, 1 << 20);
	/* the parts, each a line ending in "{n}\r\n" but the last */
	for (k = 0; k <= (size_t)lg->nbreaks; k++) {
		end = k < (size_t)lg->nbreaks ? lg->breaks[k] : lg->len;
		FUZZ_CHECK(end >= at + 2 && lg->buf[end - 2] == '\r' &&
		    lg->buf[end - 1] == '\n');
		rc = imap_parse_line(p, lg->buf + at, end - 2 - at);
		if (k == (size_t)lg->nbreaks)
			break;
		/* a NUL is the one byte a literal cannot carry */
		if (rc == IMAP_PARSE_ERROR)
			break;
		FUZZ_CHECK(rc == IMAP_PARSE_LITERAL && p->sync);
		FUZZ_CHECK(end + p->literal <= lg->len);
		rc = imap_parse_literal(p, lg->buf + end, p->literal);
		if (rc == IMAP_PARSE_ERROR)
			break;
		at = end + p->literal;
	}
	if (memchr(data, '\0', len) != NULL)
		FUZZ_CHECK(rc == IMAP_PARSE_ERROR);
	else {
		FUZZ_CHECK(rc == IMAP_PARSE_DONE);
		FUZZ_CHECK(p->cmd.verb == IMAP_LOGIN && p->cmd.nargs == 2);
		FUZZ_CHECK(p->cmd.arg[0].len == ulen &&
		    memcmp(p->cmd.arg[0].p, user, ulen) == 0);
		FUZZ_CHECK(p->cmd.arg[1].len == plen &&
		    memcmp(p->cmd.arg[1].p, pass, plen) == 0);
	}
	free(p);
	free(lg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct imap_parser	*p;
	size_t			 pos = 1, limit;

	if (len == 0)
		return 0;
	limit = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	if ((p = malloc(sizeof(*p))) == NULL)
		abort();
	while (command(p, limit, data, len, &pos) != -1)
		;
	free(p);
	responses(data + 1, len - 1);
	login_round_trip(data + 1, len - 1);
	return 0;
}
