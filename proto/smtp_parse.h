/* SMTP commands from the client and replies from the backend: pure parsers. */
#ifndef SMTP_PARSE_H
#define SMTP_PARSE_H

#include <stddef.h>

enum smtp_verb {
	SMTP_UNKNOWN, SMTP_HELO, SMTP_EHLO, SMTP_AUTH, SMTP_MAIL, SMTP_RCPT,
	SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_STARTTLS
};

#define SMTP_MAXARGS	10

struct smtp_arg {
	const char	*p;
	size_t		 len;
};

struct smtp_cmd {
	const char	*line;		/* the whole command */
	size_t		 len;
	int		verb;
	int		nargs;
	struct smtp_arg	arg[SMTP_MAXARGS];
};

int	smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *);
int	smtp_reply_line(const char *line, size_t len, int *code, int *last);
int	smtp_ehlo_has(const char *line, size_t len, const char *keyword,
	    const char *param);

#endif
