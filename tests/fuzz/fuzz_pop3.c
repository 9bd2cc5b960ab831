/*
 * POP3 lines (proto/pop3_parse.c), each as a client command and as a
 * backend line (status, CAPA, the greeting's [XCLIENT]), in a buffer of
 * exactly its size.  USER and PASS take the rest of the line, spaces
 * and all; the other verbs' arguments hold none.
 */
#include "fuzz.h"
#include "../../proto/pop3_parse.h"

static void
check(const char *l, size_t n)
{
	struct cmd	c;
	int		i, st;

	if (pop3_cmd_parse(l, n, &c) == 0) {
		FUZZ_CHECK(c.verb >= POP3_UNKNOWN && c.verb <= POP3_STLS);
		FUZZ_CHECK(c.nargs >= 0 && c.nargs <= POP3_MAXARGS);
		for (i = 0; i < c.nargs; i++) {
			FUZZ_CHECK(c.arg[i].p > l && c.arg[i].len > 0 &&
			    c.arg[i].p + c.arg[i].len <= l + n);
			if (c.verb != POP3_USER && c.verb != POP3_PASS)
				FUZZ_CHECK(memchr(c.arg[i].p, ' ',
				    c.arg[i].len) == NULL);
		}
		if (c.verb == POP3_USER || c.verb == POP3_PASS)
			FUZZ_CHECK(c.nargs <= 1);
	}
	st = pop3_reply_status(l, n);
	FUZZ_CHECK(st == -1 || (st == POP3_OK && n >= 3 && l[0] == '+') ||
	    (st == POP3_ERR && n >= 4 && l[0] == '-'));
	(void)pop3_capa_is(l, n, "STLS");
	(void)pop3_capa_is(l, n, "XCLIENT");
	(void)pop3_capa_is(l, n, "SASL");
	(void)pop3_capa_is(l, n, "");
	(void)pop3_greeting_xclient(l, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*line;
	char		*l;
	size_t		 pos = 0, n;

	while (fuzz_line(data, len, &pos, &line, &n)) {
		l = fuzz_copy(line, n);
		check(l, n);
		free(l);
	}
	return 0;
}
