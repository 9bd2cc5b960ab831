/*
 * IMAP parsing, pure: nothing here reads, writes or remembers beyond the
 * parser struct the caller owns.  Lines have been bounded and stripped of
 * their CRLF by the reader; literals arrive as byte counts the caller read.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap_parse.h"

enum { P_TAG, P_ARGS };	/* before and after the verb */

static const struct {
	const char	*name;
	int		 verb;
} verbs[] = {
	{ "CAPABILITY", IMAP_CAPABILITY },
	{ "NOOP", IMAP_NOOP },
	{ "LOGOUT", IMAP_LOGOUT },
	{ "ID", IMAP_ID },
	{ "LOGIN", IMAP_LOGIN },
	{ "AUTHENTICATE", IMAP_AUTHENTICATE },
	{ "STARTTLS", IMAP_STARTTLS },
};

/*
 * RFC 3501 tag: ASTRING-CHAR except "+", so no CTL, SP or 8-bit byte and
 * none of ( ) { % * " \ +.
 */
static int
tag_char(unsigned char ch)
{
	return ch > ' ' && ch < 0x7f && strchr("(){%*\"\\+", ch) == NULL;
}

int
imap_tag_valid(const char *tag, size_t len)
{
	size_t	i;

	if (len == 0 || len > IMAP_TAG_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!tag_char(tag[i]))
			return 0;
	return 1;
}

/*
 * Atoms as clients send them: RFC 3501's ATOM-CHAR plus "%", "*", "]" and
 * 8-bit bytes (some clients send UTF-8 user names unquoted); never CTL,
 * SP or the bytes that start or end another token.
 */
static int
atom_char(unsigned char ch)
{
	return ch > ' ' && ch != 0x7f && strchr("(){\"\\", ch) == NULL;
}

void
imap_parse_init(struct imap_parser *p, size_t limit)
{
	/*
	 * All but the store (32 KiB, the last field): an argument's bytes
	 * are NUL-terminated from its start, and imap_cmd_wipe wipes them.
	 */
	explicit_bzero(p, offsetof(struct imap_parser, cmd));
	explicit_bzero(&p->cmd, offsetof(struct imap_cmd, store));
	p->limit = limit;
	p->state = P_TAG;
}

/*
 * The command's arguments wiped, only the bytes they were given (every
 * byte written to the store is within an argument's len and its NUL),
 * and forgotten; the tag stays, for the reply to a refused command.
 */
void
imap_cmd_wipe(struct imap_cmd *c)
{
	int	i;

	for (i = 0; i < c->nargs && i < IMAP_MAXARGS; i++) {
		explicit_bzero(c->arg[i].p, c->arg[i].len + 1);
		c->arg[i].len = 0;
	}
	c->nargs = 0;
}

static int
fail(struct imap_parser *p, int why)
{
	p->error = why;
	return IMAP_PARSE_ERROR;
}

/* A new argument at the top level; NULL when there are too many. */
static struct imap_arg *
new_arg(struct imap_parser *p, int type)
{
	struct imap_arg	*a;

	if (p->cmd.nargs == IMAP_MAXARGS)
		return NULL;
	a = &p->cmd.arg[p->cmd.nargs];
	a->type = type;
	a->p = p->cmd.store[p->cmd.nargs];
	a->p[0] = '\0';
	a->len = 0;
	p->cmd.nargs++;
	return a;
}

/* Appends to an argument; a is NULL when nothing is kept. */
static int
arg_add(struct imap_arg *a, char ch)
{
	if (a == NULL)
		return 0;
	if (a->len == IMAP_ARG_MAX)
		return -1;
	a->p[a->len++] = ch;
	a->p[a->len] = '\0';
	return 0;
}

/* A byte of a string inside a list, escaped as in a quoted string. */
static int
arg_addq(struct imap_arg *a, char ch)
{
	if ((ch == '"' || ch == '\\') && arg_add(a, '\\') == -1)
		return -1;
	return arg_add(a, ch);
}

/*
 * A list's next item starts: a space after the one before it (none
 * after its own "(").  Lists keep their items, re-quoted, for ID.
 */
static int
list_item(struct imap_arg *l)
{
	if (l == NULL || l->len == 0 || l->p[l->len - 1] == '(')
		return 0;
	return arg_add(l, ' ');
}

/* The tag and the verb, up to the first argument; returns where it ends. */
static int
parse_head(struct imap_parser *p, const char *line, size_t len, size_t *pos)
{
	size_t	i, t, v;

	for (t = 0; t < len && line[t] != ' '; t++)
		;
	if (!imap_tag_valid(line, t))
		return fail(p, IMAP_ERR_TAG);
	memcpy(p->cmd.tag, line, t);
	p->cmd.tag[t] = '\0';
	for (i = t; i < len && line[i] == ' '; i++)
		;
	for (v = i; i < len && line[i] != ' '; i++)
		;
	p->cmd.verb = IMAP_UNKNOWN;
	for (t = 0; t < sizeof(verbs) / sizeof(verbs[0]); t++)
		if (strlen(verbs[t].name) == i - v &&
		    strncasecmp(verbs[t].name, line + v, i - v) == 0)
			p->cmd.verb = verbs[t].verb;
	if (p->cmd.verb == IMAP_UNKNOWN)
		return fail(p, IMAP_ERR_COMMAND);
	*pos = i;
	return 0;
}

/*
 * A quoted string from line[*pos] (the opening quote), into a as its
 * bytes, or re-quoted when it is an item of a list.
 */
static int
parse_quoted(const char *line, size_t len, size_t *pos, struct imap_arg *a,
    int quote)
{
	size_t		i;
	unsigned char	ch;

	if (quote && arg_add(a, '"') == -1)
		return -1;
	for (i = *pos + 1; i < len; i++) {
		ch = line[i];
		if (ch == '"') {
			*pos = i + 1;
			return quote ? arg_add(a, '"') : 0;
		}
		if (ch == '\\') {
			if (++i == len || (line[i] != '"' && line[i] != '\\'))
				return -1;
			ch = line[i];
		} else if (ch == '\0' || ch == '\r' || ch == '\n')
			return -1;
		if ((quote ? arg_addq(a, ch) : arg_add(a, ch)) == -1)
			return -1;
	}
	return -1;
}

static int
parse_atom(const char *line, size_t len, size_t *pos, struct imap_arg *a)
{
	size_t	i;

	for (i = *pos; i < len && line[i] != ' ' && line[i] != ')'; i++)
		if (!atom_char(line[i]) || arg_add(a, line[i]) == -1)
			return -1;
	*pos = i;
	return 0;
}

/* "{n}" or "{n+}" ending the line: the announcement of a literal. */
static int
parse_literal_head(struct imap_parser *p, const char *line, size_t len,
    size_t pos)
{
	size_t	n = 0, i, end;

	if (line[len - 1] != '}')
		return fail(p, IMAP_ERR_SYNTAX);
	end = len - 1;
	p->sync = line[end - 1] != '+';
	if (!p->sync)
		end--;
	if (end == pos + 1)
		return fail(p, IMAP_ERR_SYNTAX);
	for (i = pos + 1; i < end; i++) {
		if (line[i] < '0' || line[i] > '9')
			return fail(p, IMAP_ERR_SYNTAX);
		if (n <= p->limit)	/* no overflow: "too big" will do */
			n = n * 10 + (line[i] - '0');
	}
	p->literal = n;
	/*
	 * Only LOGIN takes a literal as an argument, and only ID a list that
	 * may hold one: any other is refused before the client sends it.
	 */
	if (p->cmd.verb != (p->depth == 0 ? IMAP_LOGIN : IMAP_ID))
		return fail(p, IMAP_ERR_SYNTAX);
	if (n > p->limit || p->used + n > p->limit ||
	    (p->depth == 0 && n > IMAP_LITERAL_MAX))
		return fail(p, IMAP_ERR_LITERAL);
	if (p->depth == 0 && p->cmd.nargs == IMAP_MAXARGS)
		return fail(p, IMAP_ERR_SYNTAX);
	return IMAP_PARSE_LITERAL;
}

/*
 * The arguments: atoms, quoted strings, parenthesized lists (ID's), and
 * literals.  Only top-level arguments are kept.
 */
static int
parse_args(struct imap_parser *p, const char *line, size_t len, size_t i,
    int sep)
{
	struct imap_arg	*a;

	while (i < len) {
		if (line[i] == ' ') {
			i++;
			sep = 0;
			continue;
		}
		if (line[i] == ')') {
			if (p->depth == 0)
				return fail(p, IMAP_ERR_SYNTAX);
			if (--p->depth == 0)
				p->list = NULL;
			else if (arg_add(p->list, ')') == -1)
				return fail(p, IMAP_ERR_SYNTAX);
			i++;
			sep = 1;
			continue;
		}
		if (sep)	/* two tokens without a space between */
			return fail(p, IMAP_ERR_SYNTAX);
		a = p->list;
		if (p->depth == 0 && line[i] != '{' &&
		    (a = new_arg(p, line[i] == '(' ? IMAP_LIST :
		    line[i] == '"' ? IMAP_STRING : IMAP_ATOM)) == NULL)
			return fail(p, IMAP_ERR_SYNTAX);
		if (p->depth > 0 && line[i] != '{' && list_item(a) == -1)
			return fail(p, IMAP_ERR_SYNTAX);
		switch (line[i]) {
		case '(':
			if (p->depth++ == 0)
				p->list = a;
			else if (arg_add(a, '(') == -1)
				return fail(p, IMAP_ERR_SYNTAX);
			i++;
			continue;	/* "(" may touch the first item */
		case '"':
			if (parse_quoted(line, len, &i, a, p->depth > 0) == -1)
				return fail(p, IMAP_ERR_SYNTAX);
			break;
		case '{':
			return parse_literal_head(p, line, len, i);
		default:
			if (parse_atom(line, len, &i, a) == -1)
				return fail(p, IMAP_ERR_SYNTAX);
			break;
		}
		sep = 1;
	}
	if (p->depth != 0)
		return fail(p, IMAP_ERR_SYNTAX);
	return IMAP_PARSE_DONE;
}

/*
 * One line of a command: the first, or the one after a literal.  Returns
 * IMAP_PARSE_DONE, IMAP_PARSE_LITERAL (p->literal bytes follow; p->sync
 * when the client waits for a continuation first) or IMAP_PARSE_ERROR.
 */
int
imap_parse_line(struct imap_parser *p, const char *line, size_t len)
{
	size_t	i = 0;

	if (memchr(line, '\0', len) != NULL) {
		if (p->state == P_TAG) {
			/* the tag alone may still be good for the answer */
			for (i = 0; i < len && line[i] != ' '; i++)
				;
			if (imap_tag_valid(line, i)) {
				memcpy(p->cmd.tag, line, i);
				p->cmd.tag[i] = '\0';
				return fail(p, IMAP_ERR_COMMAND);
			}
			return fail(p, IMAP_ERR_TAG);
		}
		return fail(p, IMAP_ERR_SYNTAX);
	}
	p->used += len;
	if (p->used > p->limit)
		return fail(p, IMAP_ERR_TOOLONG);
	if (p->state == P_TAG && parse_head(p, line, len, &i) != 0)
		return IMAP_PARSE_ERROR;
	p->state = P_ARGS;
	/* the verb, or the literal before this line, is a token */
	return parse_args(p, line, len, i, 1);
}

/* The n bytes of a literal announced by the line before. */
int
imap_parse_literal(struct imap_parser *p, const char *data, size_t len)
{
	struct imap_arg	*a;
	size_t		 i;

	if (len != p->literal || memchr(data, '\0', len) != NULL)
		return fail(p, IMAP_ERR_SYNTAX);
	p->used += len;
	if (p->depth > 0) {
		/* an item of ID's list: kept quoted, so no CR or LF in it */
		if (memchr(data, '\r', len) != NULL ||
		    memchr(data, '\n', len) != NULL ||
		    list_item(p->list) == -1 || arg_add(p->list, '"') == -1)
			return fail(p, IMAP_ERR_SYNTAX);
		for (i = 0; i < len; i++)
			if (arg_addq(p->list, data[i]) == -1)
				return fail(p, IMAP_ERR_SYNTAX);
		if (arg_add(p->list, '"') == -1)
			return fail(p, IMAP_ERR_SYNTAX);
		return IMAP_PARSE_MORE;
	}
	if ((a = new_arg(p, IMAP_STRING)) == NULL)
		return fail(p, IMAP_ERR_SYNTAX);
	memcpy(a->p, data, len);
	a->p[len] = '\0';
	a->len = len;
	return IMAP_PARSE_MORE;
}

/*
 * A backend response line: its status (enum imap_status) and whether it
 * carries our tag.  Any other tag, or bytes that are no IMAP, is
 * IMAP_MALFORMED.
 */
int
imap_resp_parse(const char *line, size_t len, const char *tag, int *tagged)
{
	static const struct {
		const char	*word;
		int		 status;
		int		 tagged;	/* may come tagged */
	} st[] = {
		{ "OK", IMAP_OK, 1 }, { "NO", IMAP_NO, 1 },
		{ "BAD", IMAP_BAD, 1 }, { "BYE", IMAP_BYE, 0 },
		{ "PREAUTH", IMAP_PREAUTH, 0 },
	};
	size_t	taglen = strlen(tag), i, w, n;

	*tagged = 0;
	if (memchr(line, '\0', len) != NULL)
		return IMAP_MALFORMED;
	if (len >= 1 && line[0] == '+' && (len == 1 || line[1] == ' '))
		return IMAP_CONTINUE;
	if (len >= 2 && line[0] == '*' && line[1] == ' ')
		i = 2;
	else if (taglen > 0 && len > taglen && line[taglen] == ' ' &&
	    memcmp(line, tag, taglen) == 0) {
		i = taglen + 1;
		*tagged = 1;
	} else
		return IMAP_MALFORMED;
	for (w = i; w < len && line[w] != ' '; w++)
		;
	if (w == i)
		return IMAP_MALFORMED;
	for (n = 0; n < sizeof(st) / sizeof(st[0]); n++)
		if (strlen(st[n].word) == w - i &&
		    strncasecmp(st[n].word, line + i, w - i) == 0)
			return *tagged && !st[n].tagged ? IMAP_MALFORMED :
			    st[n].status;
	return *tagged ? IMAP_MALFORMED : IMAP_DATA;
}

/*
 * Does the line end with a literal's "{n}" or "{n+}"?  1 and n, and in
 * sync whether the sender waits for a continuation first (NULL: not
 * asked); or 0.
 */
int
imap_literal_suffix(const char *line, size_t len, size_t *n, int *sync)
{
	size_t	i, end;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	end = len - 1;
	if (sync != NULL)
		*sync = line[end - 1] != '+';
	if (line[end - 1] == '+')
		end--;
	for (i = end; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9'; i--)
		;
	if (i == end || i == 0 || line[i - 1] != '{')
		return 0;
	if (end - i > 9) {
		*n = (size_t)-1;	/* more than anyone will read */
		return 1;
	}
	for (*n = 0; i < end; i++)
		*n = *n * 10 + (line[i] - '0');
	return 1;
}

/*
 * A value as a quoted string, when it can be one: printable 7-bit, with
 * '"' and '\' escaped.  Returns its length, or -1 when it needs a literal
 * (CTL or 8-bit bytes) or does not fit.
 */
int
imap_quote(const char *in, size_t len, char *out, size_t outcap)
{
	size_t	i, n = 0;

	if (outcap < 3)
		return -1;
	out[n++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char ch = in[i];

		if (ch < ' ' || ch >= 0x7f)
			return -1;
		if (n + 4 > outcap)
			return -1;
		if (ch == '"' || ch == '\\')
			out[n++] = '\\';
		out[n++] = ch;
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

/* One LOGIN argument: quoted, or a synchronizing literal. */
static int
login_value(struct imap_login *l, const char *v, size_t len)
{
	int	n;

	n = imap_quote(v, len, l->buf + l->len, sizeof(l->buf) - l->len);
	if (n != -1) {
		l->len += n;
		return 0;
	}
	n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "{%zu}\r\n",
	    len);
	if (n < 0 || (size_t)n + len >= sizeof(l->buf) - l->len ||
	    l->nbreaks == IMAP_LOGIN_BREAKS)
		return -1;
	l->len += n;
	l->breaks[l->nbreaks++] = l->len;
	memcpy(l->buf + l->len, v, len);
	l->len += len;
	return 0;
}

int
imap_login_build(const char *tag, const char *user, size_t userlen,
    const char *pass, size_t passlen, struct imap_login *l)
{
	size_t	taglen = strlen(tag);

	explicit_bzero(l, sizeof(*l));
	if (!imap_tag_valid(tag, taglen) || userlen > IMAP_LOGIN_MAX ||
	    passlen > IMAP_LOGIN_MAX)
		return -1;
	memcpy(l->buf, tag, taglen);
	memcpy(l->buf + taglen, " LOGIN ", 7);
	l->len = taglen + 7;
	if (login_value(l, user, userlen) == -1)
		return -1;
	l->buf[l->len++] = ' ';
	if (login_value(l, pass, passlen) == -1 ||
	    l->len + 3 > sizeof(l->buf))
		return -1;
	memcpy(l->buf + l->len, "\r\n", 3);
	l->len += 2;
	return 0;
}
