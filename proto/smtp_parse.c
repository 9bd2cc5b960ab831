/*
 * SMTP parsing, pure: nothing here reads, writes or remembers.  The line
 * has already been bounded and stripped of its CRLF by the reader.
 */
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

static const struct cmd_verb verbs[] = {
	{ "HELO", SMTP_HELO, 0 },
	{ "EHLO", SMTP_EHLO, 0 },
	{ "AUTH", SMTP_AUTH, 0 },
	{ "MAIL", SMTP_MAIL, 0 },
	{ "RCPT", SMTP_RCPT, 0 },
	{ "RSET", SMTP_RSET, 0 },
	{ "NOOP", SMTP_NOOP, 0 },
	{ "QUIT", SMTP_QUIT, 0 },
	{ "STARTTLS", SMTP_STARTTLS, 0 },
};

/* An unknown verb parses as SMTP_UNKNOWN; -1 is no command at all. */
int
smtp_cmd_parse(const char *line, size_t len, struct cmd *cmd)
{
	return cmd_parse(line, len, verbs, sizeof(verbs) / sizeof(verbs[0]),
	    SMTP_MAXARGS, cmd);
}

/*
 * One line of a backend reply: "250-text" (more follow) or "250 text" or
 * "250".  Returns 0 with the code and whether this was the last line.
 */
int
smtp_reply_line(const char *line, size_t len, int *code, int *last)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	*last = len == 3 || line[3] == ' ';
	return 0;
}

/*
 * Does this EHLO reply line ("250-XCLIENT NAME ADDR") offer keyword, and
 * param among its parameters (param NULL: the keyword alone)?
 */
int
smtp_ehlo_has(const char *line, size_t len, const char *keyword,
    const char *param)
{
	size_t	i, start, klen = strlen(keyword);

	if (len < 4 + klen || strncasecmp(line + 4, keyword, klen) != 0 ||
	    (len > 4 + klen && line[4 + klen] != ' '))
		return 0;
	if (param == NULL)
		return 1;
	for (i = 4 + klen; i < len; ) {
		while (i < len && line[i] == ' ')
			i++;
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		if (i > start && i - start == strlen(param) &&
		    strncasecmp(line + start, param, i - start) == 0)
			return 1;
	}
	return 0;
}
