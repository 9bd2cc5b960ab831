/*
 * The command splitter of SMTP and POP3: pure, nothing here reads,
 * writes or remembers.
 */
#include <string.h>
#include <strings.h>

#include "cmd_parse.h"

/*
 * Splits "VERB arg arg ..." at spaces; the verb is looked up in any case.
 * A verb marked rest takes the whole rest of the line after the one space
 * as its argument (a POP3 user name or password may hold spaces).
 * Returns 0, or -1 for a line that is no command at all (NUL or another
 * control byte but tab, more than maxargs arguments).  An unknown verb
 * is not an error here: it parses as verb 0.
 */
int
cmd_parse(const char *line, size_t len, const struct cmd_verb *verbs,
    size_t nverbs, int maxargs, struct cmd *cmd)
{
	size_t	i, start, vlen;
	int	rest = 0;

	memset(cmd, 0, sizeof(*cmd));
	cmd->line = line;
	cmd->len = len;
	if (maxargs > CMD_MAXARGS)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = line[i];

		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return -1;
	}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	for (i = 0; i < nverbs; i++)
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(verbs[i].name, line, vlen) == 0) {
			cmd->verb = verbs[i].verb;
			rest = verbs[i].rest;
		}
	if (rest) {
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
		if (cmd->nargs == maxargs)
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
