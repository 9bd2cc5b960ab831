/* POP3 commands from the client and replies from the backend: pure parsers. */
#ifndef POP3_PARSE_H
#define POP3_PARSE_H

#include <stddef.h>

#include "cmd_parse.h"

enum pop3_verb {
	POP3_UNKNOWN, POP3_USER, POP3_PASS, POP3_APOP, POP3_AUTH, POP3_CAPA,
	POP3_NOOP, POP3_QUIT, POP3_STLS
};

#define POP3_MAXARGS	2	/* APOP name digest, AUTH mechanism response */

/*
 * The longest command line, CRLF included.  RFC 2449 asks for 255; this
 * takes USER, PASS and APOP with credentials of CRED_MAX bytes, and an
 * AUTH PLAIN initial response of such.
 */
#define POP3_LINE_MAX	2048

/* pop3_reply_status results */
enum { POP3_OK, POP3_ERR };

int	pop3_cmd_parse(const char *line, size_t len, struct cmd *);
int	pop3_reply_status(const char *line, size_t len);

struct client;
#define POP3_XCLIENT_MAX	128	/* XCLIENT ADDR= PORT= SESSION= */
int	pop3_greeting_xclient(const char *line, size_t len);
int	pop3_capa_is(const char *line, size_t len, const char *keyword);
int	pop3_xclient_build(const struct client *, char *out, size_t outcap);

#endif
