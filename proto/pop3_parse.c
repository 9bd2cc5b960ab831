/*
 * POP3 parsing, pure: nothing here reads, writes or remembers.  The line
 * has already been bounded and stripped of its CRLF by the reader.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../session.h"
#include "pop3_parse.h"

/* USER and PASS take the rest of the line: RFC 1939 and Dovecot read it so */
static const struct cmd_verb verbs[] = {
	{ "USER", POP3_USER, 1 },
	{ "PASS", POP3_PASS, 1 },
	{ "APOP", POP3_APOP, 0 },
	{ "AUTH", POP3_AUTH, 0 },
	{ "CAPA", POP3_CAPA, 0 },
	{ "NOOP", POP3_NOOP, 0 },
	{ "QUIT", POP3_QUIT, 0 },
	{ "STLS", POP3_STLS, 0 },
};

/* An unknown verb parses as POP3_UNKNOWN; -1 is no command at all. */
int
pop3_cmd_parse(const char *line, size_t len, struct cmd *cmd)
{
	return cmd_parse(line, len, verbs, sizeof(verbs) / sizeof(verbs[0]),
	    POP3_MAXARGS, cmd);
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

/* Does this line of a CAPA answer name capability keyword (RFC 2449)? */
int
pop3_capa_is(const char *line, size_t len, const char *keyword)
{
	size_t	n = strlen(keyword);

	return len >= n && strncasecmp(line, keyword, n) == 0 &&
	    (len == n || line[n] == ' ');
}

/*
 * Dovecot's pop3-login says it takes XCLIENT from us (a peer in its
 * login_trusted_networks) in its greeting, "+OK [XCLIENT] ...", not in CAPA.
 */
int
pop3_greeting_xclient(const char *line, size_t len)
{
	return len >= 13 && strncasecmp(line, "+OK [XCLIENT]", 13) == 0 &&
	    (len == 13 || line[13] == ' ');
}

/*
 * "XCLIENT ADDR=.. PORT=.. SESSION=..\r\n" as Dovecot's pop3-login takes
 * it (from a login_trusted_networks peer): the client's address and port
 * when known, and the session id, which Dovecot logs as session=<..>.
 * Returns the length, 0 when there is nothing to say, -1 when out is too
 * small.
 */
int
pop3_xclient_build(const struct client *cl, char *out, size_t outcap)
{
	int	n;

	if (!cl->remote.known && cl->id[0] == '\0')
		return 0;
	if (cl->remote.known)
		n = snprintf(out, outcap, "XCLIENT ADDR=%s PORT=%u%s%s\r\n",
		    cl->remote.ip, cl->remote.port,
		    cl->id[0] != '\0' ? " SESSION=" : "", cl->id);
	else
		n = snprintf(out, outcap, "XCLIENT SESSION=%s\r\n", cl->id);
	if (n < 0 || (size_t)n >= outcap)
		return -1;
	return n;
}
