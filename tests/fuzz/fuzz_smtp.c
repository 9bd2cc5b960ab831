/*
 * SMTP lines (proto/smtp_parse.c), each as a client command and as a
 * backend reply line, in a buffer of exactly its size: a command's
 * arguments lie inside it and hold no space, a reply's code is one of
 * 200..599, and the EHLO keyword test reads nothing past the line.
 */
#include "fuzz.h"
#include "../../proto/smtp_parse.h"

static void
check(const char *l, size_t n)
{
	struct cmd	c;
	int		i, code, last;

	if (smtp_cmd_parse(l, n, &c) == 0) {
		FUZZ_CHECK(c.verb >= SMTP_UNKNOWN && c.verb <= SMTP_STARTTLS);
		FUZZ_CHECK(c.nargs >= 0 && c.nargs <= SMTP_MAXARGS);
		for (i = 0; i < c.nargs; i++) {
			FUZZ_CHECK(c.arg[i].p > l && c.arg[i].len > 0 &&
			    c.arg[i].p + c.arg[i].len <= l + n);
			FUZZ_CHECK(memchr(c.arg[i].p, ' ', c.arg[i].len) == NULL);
		}
	}
	if (smtp_reply_line(l, n, &code, &last) == 0) {
		FUZZ_CHECK(code >= 200 && code <= 599 && n >= 3);
		FUZZ_CHECK(last == (n == 3 || l[3] == ' '));
	}
	(void)smtp_ehlo_has(l, n, "XCLIENT", "ADDR");
	(void)smtp_ehlo_has(l, n, "XCLIENT", NULL);
	(void)smtp_ehlo_has(l, n, "STARTTLS", NULL);
	(void)smtp_ehlo_has(l, n, "AUTH", "PLAIN");
	(void)smtp_ehlo_has(l, n, "", "X");
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
