/*
 * "VERB arg arg ..." command lines, as SMTP and POP3 send them: one
 * splitter, pure, over a line the reader has bounded and stripped of its
 * CRLF.  Each protocol brings its own verb table.
 */
#ifndef CMD_PARSE_H
#define CMD_PARSE_H

#include <stddef.h>

#define CMD_MAXARGS	10

struct cmd_arg {
	const char	*p;
	size_t		 len;
};

struct cmd {
	const char	*line;		/* the whole command */
	size_t		 len;
	int		 verb;		/* 0 when the table has none */
	int		 nargs;
	struct cmd_arg	 arg[CMD_MAXARGS];
};

struct cmd_verb {
	const char	*name;
	int		 verb;
	int		 rest;		/* one argument: the rest of the line */
};

int	cmd_parse(const char *line, size_t len, const struct cmd_verb *,
	    size_t nverbs, int maxargs, struct cmd *);

#endif
