/*
 * POP3 parsing, pure: nothing here reads, writes or remembers.  The line
 * has already been bounded and stripped of its CRLF by the reader.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pop3_parse.h"

static const struct {
	const char	*name;
	int		 verb;
} verbs[] = {
	{ "USER", POP3_USER },
	{ "PASS", POP3_PASS },
	{ "APOP", POP3_APOP },
	{ "AUTH", POP3_AUTH },
	{ "CAPA", POP3_CAPA },
	{ "NOOP", POP3_NOOP },
	{ "QUIT", POP3_QUIT },
	{ "STLS", POP3_STLS },
};

/*
 * Splits "VERB arg ..." at spaces.  USER and PASS take the whole rest of
 * the line after the one space as their argument, since a user name or a
 * password may hold spaces (RFC 1939 and Dovecot read it so).  Returns 0,
 * or -1 for a line that is no command at all (NUL or other control bytes,
 * too many arguments).  An unknown verb parses as POP3_UNKNOWN.
 */
int
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
	size_t	i, start, vlen;

	memset(cmd, 0, sizeof(*cmd));
	for (i = 0; i < len; i++) {
		unsigned char ch = line[i];

		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return -1;
	}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	cmd->verb = POP3_UNKNOWN;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(verbs[i].name, line, vlen) == 0)
			cmd->verb = verbs[i].verb;
	if (cmd->verb == POP3_USER || cmd->verb == POP3_PASS) {
		if (vlen + 1 < len) {
			cmd->arg[0].p = line + vlen + 1;
			cmd->arg[0].len = len - vlen - 1;
			cmd->nargs = 1;
		}
		return 0;
	}
	for (i = vlen; i < len; ) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		if (cmd->nargs == POP3_MAXARGS)
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
 * A backend's status line: "+OK" or "-ERR", alone or followed by a space
 * and text.  Returns POP3_OK, POP3_ERR, or -1 for anything else.
 */
int
pop3_reply_status(const char *line, size_t len)
{
	if (len >= 3 && strncmp(line, "+OK", 3) == 0 &&
	    (len == 3 || line[3] == ' '))
		return POP3_OK;
	if (len >= 4 && strncmp(line, "-ERR", 4) == 0 &&
	    (len == 4 || line[4] == ' '))
		return POP3_ERR;
	return -1;
}
