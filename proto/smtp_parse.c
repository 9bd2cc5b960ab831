/*
 * SMTP parsing, pure: nothing here reads, writes or remembers.  The line
 * has already been bounded and stripped of its CRLF by the reader.
 */
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

static const struct {
	const char	*name;
	int		 verb;
} verbs[] = {
	{ "HELO", SMTP_HELO },
	{ "EHLO", SMTP_EHLO },
	{ "AUTH", SMTP_AUTH },
	{ "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT },
	{ "RSET", SMTP_RSET },
	{ "NOOP", SMTP_NOOP },
	{ "QUIT", SMTP_QUIT },
	{ "STARTTLS", SMTP_STARTTLS },
};

/*
 * Splits "VERB arg arg ..." at spaces.  Returns 0, or -1 for a line that is
 * no command at all (NUL or other control bytes, too many arguments).  An
 * unknown verb is not an error here: it parses as SMTP_UNKNOWN.
 */
int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t	i, start, vlen;

	memset(cmd, 0, sizeof(*cmd));
	cmd->line = line;
	cmd->len = len;
	for (i = 0; i < len; i++) {
		unsigned char ch = line[i];

		if (ch < ' ' && ch != '\t')
			return -1;
		if (ch == 0x7f)
			return -1;
	}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	cmd->verb = SMTP_UNKNOWN;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(verbs[i].name, line, vlen) == 0)
			cmd->verb = verbs[i].verb;
	for (i = vlen; i < len; ) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		if (cmd->nargs == SMTP_MAXARGS)
			return -1;
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		cmd->arg[cmd->nargs].p = line + start;
		cmd->arg[cmd->nargs].len = i - start;
		cmd->nargs++;
	}
	return 0;
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
