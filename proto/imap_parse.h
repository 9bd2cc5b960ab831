/*
 * IMAP commands from the client, responses from the backend, and the LOGIN
 * command we send: pure parsers and builders (no I/O, no globals).
 */
#ifndef IMAP_PARSE_H
#define IMAP_PARSE_H

#include <stddef.h>

enum imap_verb {
	IMAP_UNKNOWN, IMAP_CAPABILITY, IMAP_NOOP, IMAP_LOGOUT, IMAP_ID,
	IMAP_LOGIN, IMAP_AUTHENTICATE, IMAP_STARTTLS
};

#define IMAP_TAG_MAX	64	/* longest tag we accept */
#define IMAP_MAXARGS	2	/* LOGIN user pass, AUTHENTICATE mech ir */
/* longest argument: AUTHENTICATE's initial response, a bearer token */
#define IMAP_ARG_MAX	16384
/* longest literal argument: LOGIN's, whose values are 512 bytes at most */
#define IMAP_LITERAL_MAX	2048

enum imap_arg_type { IMAP_ATOM, IMAP_STRING, IMAP_LIST };

struct imap_arg {
	int		 type;		/* enum imap_arg_type */
	char		*p;		/* NUL-terminated; a list's items as
					   quoted strings and atoms, without
					   its parentheses (imap_id_parse) */
	size_t		 len;
};

struct imap_cmd {
	char		 tag[IMAP_TAG_MAX + 1];	/* "" until parsed */
	int		 verb;
	int		 nargs;
	struct imap_arg	 arg[IMAP_MAXARGS];
	/* the arguments' bytes, which may hold a password (imap_cmd_wipe);
	   last, so that imap_parse_init clears all before it */
	char		 store[IMAP_MAXARGS][IMAP_ARG_MAX + 1];
};

/* imap_parse_line, imap_parse_literal results */
enum {
	IMAP_PARSE_DONE,	/* the command is complete */
	IMAP_PARSE_LITERAL,	/* read p->literal bytes, then the next line */
	IMAP_PARSE_MORE,	/* the literal is in: read the next line */
	IMAP_PARSE_ERROR	/* p->error says why; drop the rest */
};

/* why a command was refused */
enum {
	IMAP_ERR_TAG = 1,	/* no valid tag: the answer is untagged */
	IMAP_ERR_COMMAND,	/* unknown command, or bytes that are none */
	IMAP_ERR_SYNTAX,	/* bad arguments */
	IMAP_ERR_LITERAL,	/* a literal over the limit, not read */
	IMAP_ERR_TOOLONG	/* lines and literals together over it */
};

/*
 * A command arrives as a line, and after each literal {n} (or LITERAL+'s
 * {n+}) announced at the end of a line, n bytes and another line.  The
 * parser copies what it needs, so the caller's buffers may be reused.
 */
struct imap_parser {
	size_t		 limit;		/* the whole command, literals too */
	size_t		 used;
	int		 state;		/* tag and verb, then the arguments */
	int		 depth;		/* parenthesis nesting */
	struct imap_arg	*list;		/* the top-level list being read */
	size_t		 literal;	/* bytes announced */
	int		 sync;		/* {n}: the client waits for "+" */
	int		 error;
	struct imap_cmd	 cmd;
};

void	imap_parse_init(struct imap_parser *, size_t limit);
void	imap_cmd_wipe(struct imap_cmd *);
int	imap_parse_line(struct imap_parser *, const char *line, size_t len);
int	imap_parse_literal(struct imap_parser *, const char *data, size_t len);
int	imap_tag_valid(const char *tag, size_t len);

/* A response from the backend. */
enum imap_status {
	IMAP_MALFORMED,
	IMAP_CONTINUE,		/* "+ ..." */
	IMAP_DATA,		/* untagged, not a status: "* CAPABILITY ..." */
	IMAP_OK, IMAP_NO, IMAP_BAD, IMAP_BYE, IMAP_PREAUTH
};

int	imap_resp_parse(const char *line, size_t len, const char *tag,
	    int *tagged);
int	imap_literal_suffix(const char *line, size_t len, size_t *n,
	    int *sync);

/*
 * "<tag> LOGIN <user> <pass>\r\n", each value quoted or as a literal.
 * After each literal's "{n}\r\n" the sender waits for the backend's "+":
 * breaks[] holds where the command is split for that.
 */
#define IMAP_LOGIN_BREAKS	2
#define IMAP_LOGIN_MAX		512	/* longest user name or password */

struct imap_login {
	/* a value quoted with every byte escaped is the longest form */
	char		 buf[IMAP_TAG_MAX + 16 + 2 * (2 * IMAP_LOGIN_MAX + 3)];
	size_t		 len;
	size_t		 breaks[IMAP_LOGIN_BREAKS];
	int		 nbreaks;
};

int	imap_quote(const char *in, size_t len, char *out, size_t outcap);
int	imap_login_build(const char *tag, const char *user, size_t userlen,
	    const char *pass, size_t passlen, struct imap_login *);

#endif
