/*
 * The command splitter of SMTP and POP3 (proto/cmd_parse.c), against a
 * splitter of its own here: the first byte picks maxargs (past
 * CMD_MAXARGS too, which must be refused), the lines follow.  A line
 * either is refused (a control byte, too many arguments) or splits into
 * exactly the words the reference finds, each inside the line.
 */
#include "fuzz.h"
#include "../../proto/cmd_parse.h"

static const struct cmd_verb verbs[] = {
	{ "HELO", 1, 0 }, { "USER", 2, 1 }, { "PASS", 3, 1 },
	{ "AUTH", 4, 0 }, { "X", 5, 0 }, { "", 6, 0 },
};

static int
has_ctl(const char *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (((unsigned char)l[i] < ' ' && l[i] != '\t') || l[i] == 0x7f)
			return 1;
	return 0;
}

static void
check(const char *l, size_t n, int maxargs)
{
	struct cmd	c;
	size_t		vlen, i, start;
	int		rc, k, verb = 0, rest = 0;

	rc = cmd_parse(l, n, verbs, sizeof(verbs) / sizeof(verbs[0]),
	    maxargs, &c);
	FUZZ_CHECK(c.line == l && c.len == n);
	if (maxargs > CMD_MAXARGS || has_ctl(l, n)) {
		FUZZ_CHECK(rc == -1);
		return;
	}
	for (vlen = 0; vlen < n && l[vlen] != ' '; vlen++)
		;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(verbs[i].name, l, vlen) == 0) {
			verb = verbs[i].verb;
			rest = verbs[i].rest;
		}
	if (rest) {
		FUZZ_CHECK(rc == 0 && c.verb == verb);
		if (vlen + 1 < n)
			FUZZ_CHECK(c.nargs == 1 && c.arg[0].p == l + vlen + 1 &&
			    c.arg[0].len == n - vlen - 1);
		else
			FUZZ_CHECK(c.nargs == 0);
		return;
	}
	/* the words after the verb, one space or more between them */
	for (k = 0, i = vlen; i < n; k++) {
		while (i < n && l[i] == ' ')
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && l[i] != ' ')
			i++;
		if (k < maxargs)
			FUZZ_CHECK(rc == -1 || (k < c.nargs &&
			    c.arg[k].p == l + start && c.arg[k].len == i - start));
	}
	if (k > maxargs) {
		FUZZ_CHECK(rc == -1);
		return;
	}
	FUZZ_CHECK(rc == 0 && c.verb == verb && c.nargs == k);
	FUZZ_CHECK(c.nargs <= maxargs && c.nargs <= CMD_MAXARGS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*line;
	char		*l;
	size_t		 pos = 1, n;
	int		 maxargs;

	if (len == 0)
		return 0;
	maxargs = data[0] % (CMD_MAXARGS + 2);
	while (fuzz_line(data, len, &pos, &line, &n)) {
		l = fuzz_copy(line, n);
		check(l, n, maxargs);
		free(l);
	}
	return 0;
}
