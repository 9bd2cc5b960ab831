/*
 * IMAP ID (RFC 2971): the client's ID command through the parser
 * (proto/imap_parse.c, literals in the list too), its list through
 * imap_id_parse, which keeps the pairs we may pass on, and those through
 * imap_id_build (proto/imap_id.c), the ID we send the backend with our
 * own x- fields after them.  That command must parse again as an ID
 * of 30 pairs at most whose fields, ours dropped as a client's would
 * be, are the ones kept (the first of them, when ours had to have
 * room): no field of the client's can pass for ours, and nothing
 * the client sent breaks the command we write.
 */
#include "fuzz.h"
#include "../../session.h"
#include "../../proto/imap_id.h"
#include "../../proto/imap_parse.h"

/* one command from data[*pos..): the parser, with its literals */
static int
parse(struct imap_parser *p, const uint8_t *data, size_t len, size_t *pos)
{
	const char	*line;
	char		*l;
	size_t		 n;
	int		 rc;

	imap_parse_init(p, 8192);
	for (;;) {
		if (!fuzz_line(data, len, pos, &line, &n))
			return IMAP_PARSE_ERROR;
		l = fuzz_copy(line, n);
		rc = imap_parse_line(p, l, n);
		free(l);
		if (rc != IMAP_PARSE_LITERAL)
			return rc;
		n = len - *pos < p->literal ? len - *pos : p->literal;
		l = fuzz_copy(data + *pos, n);
		*pos += n;
		rc = imap_parse_literal(p, l, n);
		free(l);
		if (rc != IMAP_PARSE_MORE)
			return rc;
	}
}

static void
client(struct client *cl, int which)
{
	memset(cl, 0, sizeof(*cl));
	if (which & 1) {
		cl->remote = (struct endpoint){ 1, AF_INET, "192.0.2.1", 49152 };
		cl->local = (struct endpoint){ 1, AF_INET6, "2001:db8::25", 143 };
	}
	if (which & 2)
		strlcpy(cl->id, "Ab3dE6gH9jK2mN5p", sizeof(cl->id));
}

/* the built command, parsed as a client's: back to the fields kept */
static void
round_trip(const char *fields, size_t flen, int kept, int which)
{
	struct imap_parser	*p;
	struct client		 cl;
	char			*cmd, *again;
	size_t			 n, alen;
	int			 rc;

	if ((p = malloc(sizeof(*p))) == NULL ||
	    (cmd = malloc(IMAP_ID_CMD_MAX)) == NULL ||
	    (again = malloc(IMAP_ID_MAX)) == NULL)
		abort();
	client(&cl, which);
	rc = imap_id_build(IMAP_ID_TAG, fields, flen, &cl, which & 4, cmd,
	    IMAP_ID_CMD_MAX);
	FUZZ_CHECK(rc > 2 && (size_t)rc < IMAP_ID_CMD_MAX);
	n = rc;
	FUZZ_CHECK(strlen(cmd) == n && memcmp(cmd + n - 2, "\r\n", 2) == 0);
	FUZZ_CHECK(memchr(cmd, '\r', n - 2) == NULL &&
	    memchr(cmd, '\n', n - 2) == NULL);
	imap_parse_init(p, IMAP_ID_CMD_MAX);
	FUZZ_CHECK(imap_parse_line(p, cmd, n - 2) == IMAP_PARSE_DONE);
	FUZZ_CHECK(p->cmd.verb == IMAP_ID && p->cmd.nargs == 1 &&
	    strcmp(p->cmd.tag, IMAP_ID_TAG) == 0);
	if (p->cmd.arg[0].type == IMAP_ATOM) {
		FUZZ_CHECK(strcmp(p->cmd.arg[0].p, "NIL") == 0 && kept == 0);
	} else {
		FUZZ_CHECK(p->cmd.arg[0].type == IMAP_LIST);
		rc = imap_id_parse(p->cmd.arg[0].p, p->cmd.arg[0].len, again,
		    IMAP_ID_MAX, &alen);
		/* 30 pairs at most with ours, the client's first ones kept */
		FUZZ_CHECK(rc >= 0 && alen <= flen &&
		    memcmp(again, fields, alen) == 0);
		if (!(which & 4))
			FUZZ_CHECK(rc == kept && alen == flen);
		else if (kept <= IMAP_ID_PAIRS - 5)
			FUZZ_CHECK(rc == kept && alen == flen);
	}
	free(again);
	free(cmd);
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct imap_parser	*p;
	struct imap_arg		*a;
	char			*out, *again;
	size_t			 pos = 1, olen, alen;
	int			 kept;

	if (len == 0)
		return 0;
	if ((p = malloc(sizeof(*p))) == NULL ||
	    (out = malloc(IMAP_ID_MAX)) == NULL ||
	    (again = malloc(IMAP_ID_MAX)) == NULL)
		abort();
	while (pos < len) {
		if (parse(p, data, len, &pos) != IMAP_PARSE_DONE ||
		    p->cmd.verb != IMAP_ID || p->cmd.nargs != 1 ||
		    p->cmd.arg[0].type != IMAP_LIST)
			continue;
		a = &p->cmd.arg[0];
		/* as proto/imap.c keeps them: into IMAP_ID_MAX */
		kept = imap_id_parse(a->p, a->len, out, IMAP_ID_MAX, &olen);
		FUZZ_CHECK(kept >= -1 && kept <= IMAP_ID_PAIRS);
		if (kept == -1)
			continue;
		FUZZ_CHECK(olen < IMAP_ID_MAX && strlen(out) == olen);
		/* what is kept is kept again: nothing reserved, all fits */
		FUZZ_CHECK(imap_id_parse(out, olen, again, IMAP_ID_MAX,
		    &alen) == kept && alen == olen &&
		    memcmp(again, out, olen) == 0);
		round_trip(out, olen, kept, data[0]);
	}
	free(again);
	free(out);
	free(p);
	return 0;
}
