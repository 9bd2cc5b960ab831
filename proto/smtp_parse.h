/* SMTP commands from the client and replies from the backend: pure parsers. */
#ifndef SMTP_PARSE_H
#define SMTP_PARSE_H

#include <stddef.h>

#include "cmd_parse.h"

enum smtp_verb {
	SMTP_UNKNOWN, SMTP_HELO, SMTP_EHLO, SMTP_AUTH, SMTP_MAIL, SMTP_RCPT,
	SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_STARTTLS
};

#define SMTP_MAXARGS	10

int	smtp_cmd_parse(const char *line, size_t len, struct cmd *);
int	smtp_reply_line(const char *line, size_t len, int *code, int *last);
int	smtp_ehlo_has(const char *line, size_t len, const char *keyword,
	    const char *param);

#endif
