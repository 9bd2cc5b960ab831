/*
 * IMAP: the client's side before login (greeting, CAPABILITY, ID, LOGIN
 * with atoms, quoted strings and literals, AUTHENTICATE PLAIN, LOGIN and,
 * with an auth service, CRAM-MD5), then LOGIN at the backend under the
 * client's own tag, as nginx's mail proxy does it.
 */
#include <sys/uio.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../options.h"
#include "../session.h"
#include "imap_id.h"
#include "imap_parse.h"
#include "proto.h"
#include "sasl.h"

#define REPLY_GREETING	"* OK IMAP4 ready\r\n"
#define REPLY_NEXT	"+ OK\r\n"	/* send the literal */
#define REPLY_BYE	"* BYE\r\n"
#define REPLY_ID	"* ID NIL\r\n"
#define REPLY_TOOLONG	"* BYE line too long\r\n"
#define REPLY_TOOMANY	"* BYE too many invalid commands\r\n"
#define REPLY_LITERAL	"* BYE literal too long\r\n"
#define REPLY_TIMEOUT	"* BYE timeout, closing connection\r\n"
#define REPLY_TEMPFAIL	"* BYE internal server error\r\n"
#define REPLY_INTERNAL	"* BAD internal server error\r\n"
#define REPLY_NO_CERT	"* BYE No required SSL certificate\r\n"
#define REPLY_CERT_ERROR	"* BYE SSL certificate error\r\n"

/* what follows "<tag> " */
#define TEXT_OK		"OK completed"
#define TEXT_INVALID	"BAD invalid command"
#define TEXT_ARGUMENTS	"BAD invalid arguments"
#define TEXT_LITERAL	"BAD literal too long"
#define TEXT_TOOLONG	"BAD command too long"
#define TEXT_CANCELLED	"BAD authentication cancelled"
#define TEXT_BASE64	"BAD cannot decode response"
#define TEXT_CREDENTIALS	"NO invalid credentials"
#define TEXT_MECHANISM	"NO unsupported authentication mechanism"
#define TEXT_CRAM_MD5	"NO CRAM-MD5 needs an authentication service"
#define TEXT_TLS_FIRST	"NO [PRIVACYREQUIRED] must issue STARTTLS first"
#define TEXT_NO_TLS	"NO TLS not available"

/* The client's side: one function per state. */
enum imap_client_state {
	S_COMMAND,			/* the first line of a command */
	S_COMMAND_MORE,			/* the line after a literal */
	S_LITERAL,			/* a literal's bytes */
	S_SKIP,				/* a refused command's literal */
	S_DISCARD,			/* the line after it */
	S_AUTH,				/* a SASL exchange */
	S_LOGIN,			/* go to the backend */
	S_QUIT				/* close */
};

/* The command being read, across its literals. */
struct imap_client {
	struct session		*s;
	struct imap_parser	 p;
	size_t			 skip;		/* S_SKIP: bytes to drop */
	size_t			 dropped;	/* of the refused command */
};

static int	imap_command(struct imap_client *, char *, size_t);
static int	imap_command_more(struct imap_client *, char *, size_t);
static int	imap_literal(struct imap_client *, char *, size_t);
static int	imap_skip(struct imap_client *, char *, size_t);
static int	imap_discard(struct imap_client *, char *, size_t);
static int	imap_auth_response(struct imap_client *, char *, size_t);

static int (*const imap_states[])(struct imap_client *, char *, size_t) = {
	[S_COMMAND] = imap_command,
	[S_COMMAND_MORE] = imap_command_more,
	[S_LITERAL] = imap_literal,
	[S_SKIP] = imap_skip,
	[S_DISCARD] = imap_discard,
	[S_AUTH] = imap_auth_response,
};

static int	imap_capability(struct imap_client *, struct imap_cmd *);
static int	imap_noop(struct imap_client *, struct imap_cmd *);
static int	imap_logout(struct imap_client *, struct imap_cmd *);
static int	imap_id(struct imap_client *, struct imap_cmd *);
static int	imap_login(struct imap_client *, struct imap_cmd *);
static int	imap_authenticate(struct imap_client *, struct imap_cmd *);
static int	imap_starttls(struct imap_client *, struct imap_cmd *);

/* IMAP_UNKNOWN never parses: the parser refuses it. */
static int (*const imap_verbs[])(struct imap_client *, struct imap_cmd *) = {
	[IMAP_CAPABILITY] = imap_capability,
	[IMAP_NOOP] = imap_noop,
	[IMAP_LOGOUT] = imap_logout,
	[IMAP_ID] = imap_id,
	[IMAP_LOGIN] = imap_login,
	[IMAP_AUTHENTICATE] = imap_authenticate,
	[IMAP_STARTTLS] = imap_starttls,
};

/* "<tag> OK completed", after the untagged lines, if any: one write. */
static int
reply_ok(struct session *s, const char *untagged, const char *tag)
{
	struct iovec	v[3] = {
		{ (void *)untagged, strlen(untagged) },
		{ (void *)tag, strlen(tag) },
		{ " " TEXT_OK "\r\n", sizeof(" " TEXT_OK "\r\n") - 1 },
	};

	conn_writev(&s->cli, v, 3, s->opt->timeout);
	return S_COMMAND;
}

/* Every refused command counts towards max_errors; "*" when untagged. */
static int
reply_error(struct session *s, const char *tag, const char *text)
{
	char	buf[NAME_MAX_LEN + 64];	/* s->imap.tag and a text */

	snprintf(buf, sizeof(buf), "%s %s\r\n", tag, text);
	if (client_error(s, buf)) {
		client_reply(s, REPLY_TOOMANY);
		return S_QUIT;
	}
	return S_COMMAND;
}

/*
 * The SASL methods we may offer.  The backend checks the password at our
 * LOGIN, so PLAIN and LOGIN are always safe; CRAM-MD5 proves the password
 * without sending it, so only an auth service can check the digest and
 * give us the password for the backend; EXTERNAL a verified client
 * certificate too.  With starttls only, none before TLS.
 */
static unsigned
imap_auth_methods(const struct session *s)
{
	if (client_tls_required(s))
		return 0;
	return client_sasl_offered(s, s->opt->imap_auth);
}

static int
imap_greeting(struct session *s)
{
	if (client_reply(s, REPLY_GREETING) == -1) {
		session_outcome(s, "client went away before the greeting");
		return S_QUIT;
	}
	return S_COMMAND;
}

static int
imap_client(struct session *s)
{
	struct imap_client	 ic;
	char			*line;
	size_t			 len;
	ssize_t			 n;
	int			 state;

	ic.s = s;
	ic.skip = ic.dropped = 0;
	imap_parse_init(&ic.p, s->opt->imap_client_buffer);
	/* after a refused attempt the client goes on where it was */
	state = s->attempt == 0 ? imap_greeting(s) : S_COMMAND;
	while (state != S_LOGIN && state != S_QUIT) {
		n = state == S_LITERAL ? (ssize_t)ic.p.literal :
		    state == S_SKIP ? (ssize_t)ic.skip : -1;
		if (client_read(s, n, &line, &len) == -1)
			break;
		state = imap_states[state](&ic, line, len);
		explicit_bzero(line, len);
	}
	imap_cmd_wipe(&ic.p.cmd);
	return state == S_LOGIN ? PROTO_LOGIN : PROTO_DONE;
}

/*
 * What follows a refused command's line.  After a LITERAL+ announcement
 * ("{n+}") the client sends n bytes and one more line without waiting:
 * they are the refused command's data, never commands, so they are read
 * and dropped, within imap_client_buffer for the whole command; past
 * that the connection is closed.  A synchronizing literal ("{n}") never
 * comes, since the client got no "+".
 */
static int
imap_drop(struct imap_client *ic, const char *line, size_t len)
{
	struct session	*s = ic->s;
	size_t		 n, limit = s->opt->imap_client_buffer;
	const char	*brace;
	int		 sync;

	if (!imap_literal_suffix(line, len, &n, &sync) || sync)
		return S_COMMAND;
	if (n > limit || (ic->dropped += n) > limit) {
		client_reply(s, REPLY_LITERAL);
		brace = memrchr(line, '{', len);
		session_outcome(s, "client sent a LITERAL+ literal of %.*s "
		    "bytes (imap_client_buffer %zu)",
		    (int)(line + len - brace - 3), brace + 1, limit);
		session_result(s, RESULT_CLIENT_ERROR);
		return S_QUIT;
	}
	ic->skip = n;
	return S_SKIP;
}

/* Where the parser left the command: run it, read more, or refuse it. */
static int
imap_parsed(struct imap_client *ic, int rc, const char *line, size_t len)
{
	struct session	*s = ic->s;
	struct imap_cmd	*cmd = &ic->p.cmd;
	const char	*tag = cmd->tag, *text;
	int		 state;

	switch (rc) {
	case IMAP_PARSE_DONE:
		state = imap_verbs[cmd->verb](ic, cmd);
		imap_cmd_wipe(cmd);
		return state;
	case IMAP_PARSE_LITERAL:
		if (ic->p.sync)
			client_reply(s, REPLY_NEXT);
		return S_LITERAL;
	case IMAP_PARSE_MORE:
		return S_COMMAND_MORE;
	}
	imap_cmd_wipe(cmd);
	switch (ic->p.error) {
	case IMAP_ERR_TAG:
		tag = "*";
		text = TEXT_INVALID;
		break;
	case IMAP_ERR_COMMAND:
		text = TEXT_INVALID;
		break;
	case IMAP_ERR_TOOLONG:
		text = TEXT_TOOLONG;
		break;
	case IMAP_ERR_LITERAL:
		text = TEXT_LITERAL;
		break;
	default:
		text = TEXT_ARGUMENTS;
		break;
	}
	if (reply_error(s, tag, text) == S_QUIT)
		return S_QUIT;
	/* a literal refused for its bytes: the line after it is the command's */
	if (line == NULL)
		return S_DISCARD;
	return imap_drop(ic, line, len);
}

static int
imap_command(struct imap_client *ic, char *line, size_t len)
{
	imap_parse_init(&ic->p, ic->s->opt->imap_client_buffer);
	ic->dropped = 0;
	return imap_parsed(ic, imap_parse_line(&ic->p, line, len), line, len);
}

static int
imap_command_more(struct imap_client *ic, char *line, size_t len)
{
	return imap_parsed(ic, imap_parse_line(&ic->p, line, len), line, len);
}

static int
imap_literal(struct imap_client *ic, char *data, size_t len)
{
	return imap_parsed(ic, imap_parse_literal(&ic->p, data, len), NULL, 0);
}

static int
imap_skip(struct imap_client *ic, char *data, size_t len)
{
	(void)ic;
	(void)data;
	(void)len;
	return S_DISCARD;
}

static int
imap_discard(struct imap_client *ic, char *line, size_t len)
{
	return imap_drop(ic, line, len);
}

/*
 * imap_capabilities as configured, the AUTH= methods, then STARTTLS
 * while it is offered, and LOGINDISABLED while TLS must come first, as
 * nginx lists them.
 */
static int
imap_capability(struct imap_client *ic, struct imap_cmd *cmd)
{
	struct session	*s = ic->s;
	char		 buf[4096], item[512];
	const char	*list = s->opt->imap_capabilities;
	size_t		 n;
	int		 w;

	if (cmd->nargs != 0)
		return reply_error(s, cmd->tag, TEXT_ARGUMENTS);
	n = strlcpy(buf, "* CAPABILITY", sizeof(buf));
	while (n < sizeof(buf) && options_list_next(&list, item,
	    sizeof(item)) > 0)
		n += snprintf(buf + n, sizeof(buf) - n, " %s", item);
	if (n < sizeof(buf) && (w = sasl_list(imap_auth_methods(s), " AUTH=",
	    "", buf + n, sizeof(buf) - n)) != -1)
		n += w;
	else
		n = sizeof(buf);
	if (n < sizeof(buf) && client_tls_offered(s))
		n += strlcpy(buf + n, client_tls_required(s) ?
		    " STARTTLS LOGINDISABLED" : " STARTTLS", sizeof(buf) - n);
	if (n + 3 > sizeof(buf)) {
		session_outcome(s, "imap_capabilities too long");
		session_result(s, RESULT_USAGE);
		client_reply(s, REPLY_INTERNAL);
		return S_QUIT;
	}
	memcpy(buf + n, "\r\n", 3);
	return reply_ok(s, buf, cmd->tag);
}

static int
imap_noop(struct imap_client *ic, struct imap_cmd *cmd)
{
	if (cmd->nargs != 0)
		return reply_error(ic->s, cmd->tag, TEXT_ARGUMENTS);
	return reply_ok(ic->s, "", cmd->tag);
}

static int
imap_logout(struct imap_client *ic, struct imap_cmd *cmd)
{
	if (cmd->nargs != 0)
		return reply_error(ic->s, cmd->tag, TEXT_ARGUMENTS);
	reply_ok(ic->s, REPLY_BYE, cmd->tag);
	session_outcome(ic->s, "client logged out before logging in");
	return S_QUIT;
}

/*
 * RFC 2971: the client's fields are kept for the backend's ID, without
 * those only the proxy may set; we tell none of ours.  A later ID
 * replaces an earlier one.
 */
static int
imap_id(struct imap_client *ic, struct imap_cmd *cmd)
{
	struct session	*s = ic->s;
	struct imap_arg	*a = &cmd->arg[0];

	if (cmd->nargs != 1 || (a->type != IMAP_LIST &&
	    !(a->type == IMAP_ATOM && strcasecmp(a->p, "NIL") == 0)))
		return reply_error(s, cmd->tag, TEXT_ARGUMENTS);
	if (a->type == IMAP_ATOM)
		s->imap.idlen = 0;
	else if (imap_id_parse(a->p, a->len, s->imap.id, sizeof(s->imap.id),
	    &s->imap.idlen) == -1) {
		s->imap.idlen = 0;
		s->imap.id[0] = '\0';
		return reply_error(s, cmd->tag, TEXT_ARGUMENTS);
	}
	s->imap.id[s->imap.idlen] = '\0';
	s->imap.id_sent = 1;
	return reply_ok(s, REPLY_ID, cmd->tag);
}

/* The tag of the command that logs in: the backend's LOGIN uses it too. */
static void
keep_tag(struct session *s, const struct imap_cmd *cmd)
{
	strlcpy(s->imap.tag, cmd->tag, sizeof(s->imap.tag));
}

/* LOGIN user pass: astrings (atoms, quoted strings or literals). */
static int
imap_login(struct imap_client *ic, struct imap_cmd *cmd)
{
	struct session	*s = ic->s;
	struct imap_arg	*user = &cmd->arg[0], *pass = &cmd->arg[1];

	if (cmd->nargs != 2 || user->type == IMAP_LIST ||
	    pass->type == IMAP_LIST || user->len == 0 ||
	    user->len > CRED_MAX || pass->len > CRED_MAX)
		return reply_error(s, cmd->tag, TEXT_ARGUMENTS);
	if (client_tls_required(s))
		return reply_error(s, cmd->tag, TEXT_TLS_FIRST);
	creds_wipe(&s->creds);
	memcpy(s->creds.user, user->p, user->len + 1);
	s->creds.userlen = user->len;
	memcpy(s->creds.pass, pass->p, pass->len + 1);
	s->creds.passlen = pass->len;
	s->creds.method = AUTH_PLAIN;
	keep_tag(s, cmd);
	return S_LOGIN;
}

/* Where the SASL engine left the exchange, in IMAP's words. */
static int
imap_sasl(struct imap_client *ic, int rc)
{
	struct session	*s = ic->s;

	switch (rc) {
	case SASL_CHALLENGE:
		client_replyf(s, "+ %s\r\n", s->sasl.challenge);
		return S_AUTH;
	case SASL_DONE:
		return S_LOGIN;
	case SASL_CANCELLED:
		return reply_error(s, s->imap.tag, TEXT_CANCELLED);
	case SASL_BASE64:
		return reply_error(s, s->imap.tag, TEXT_BASE64);
	case SASL_INVALID:
		return reply_error(s, s->imap.tag, TEXT_CREDENTIALS);
	default:
		client_reply(s, REPLY_INTERNAL);
		return S_QUIT;
	}
}

static int
imap_auth_response(struct imap_client *ic, char *line, size_t len)
{
	return imap_sasl(ic, sasl_response(&ic->s->sasl, line, len));
}

/* AUTHENTICATE mechanism [initial-response] (RFC 4959's SASL-IR). */
static int
imap_authenticate(struct imap_client *ic, struct imap_cmd *cmd)
{
	struct session		*s = ic->s;
	struct imap_arg		*mech = &cmd->arg[0], *ir = &cmd->arg[1];
	const struct sasl_mech	*m;

	if (cmd->nargs == 0 || mech->type != IMAP_ATOM ||
	    (cmd->nargs == 2 && ir->type != IMAP_ATOM))
		return reply_error(s, cmd->tag, TEXT_ARGUMENTS);
	if (client_tls_required(s))
		return reply_error(s, cmd->tag, TEXT_TLS_FIRST);
	keep_tag(s, cmd);
	if ((m = sasl_find(mech->p, mech->len, imap_auth_methods(s))) != NULL)
		return imap_sasl(ic, client_sasl_start(s, m,
		    cmd->nargs == 2 ? ir->p : NULL, ir->len));
	if (sasl_find(mech->p, mech->len, s->opt->imap_auth &
	    AUTH_CRAM_MD5) != NULL) {
		log_warnx("AUTHENTICATE CRAM-MD5 refused: it needs an "
		    "authentication service (--auth-http), which knows the "
		    "secret");
		return reply_error(s, cmd->tag, TEXT_CRAM_MD5);
	}
	return reply_error(s, cmd->tag, TEXT_MECHANISM);
}

/* STARTTLS (RFC 3501 6.2.1): the tagged OK, then the handshake. */
static int
imap_starttls(struct imap_client *ic, struct imap_cmd *cmd)
{
	struct session	*s = ic->s;

	if (!client_tls_offered(s))
		return reply_error(s, cmd->tag, TEXT_INVALID);
	if (cmd->nargs != 0)
		return reply_error(s, cmd->tag, TEXT_ARGUMENTS);
	if (tls_server_ready(s) == -1)
		return reply_error(s, cmd->tag, TEXT_NO_TLS);
	reply_ok(s, "", cmd->tag);
	if (s->cli.broken || client_starttls(s) == -1)
		return S_QUIT;
	return S_COMMAND;
}

/* "<tag> NO <text>", under the tag of the refused LOGIN or AUTHENTICATE */
static void
imap_denied(struct session *s, const char *text, const char *code)
{
	(void)code;
	client_replyf(s, "%s NO %s\r\n", s->imap.tag, text);
}

const struct proto imap_proto = {
	"imap",
	imap_client,
	imap_backend,
	REPLY_TEMPFAIL,
	REPLY_INTERNAL,
	REPLY_TOOLONG,
	REPLY_TIMEOUT,
	REPLY_CERT_ERROR,
	REPLY_NO_CERT,
	imap_denied,
};
