/*
 * SMTP: the client's side of the handshake (greeting, EHLO, AUTH, or the
 * envelope with smtp_auth none), then the dialogue with the backend
 * (EHLO, XCLIENT, the client's EHLO, AUTH PLAIN or MAIL/RCPT), as nginx's
 * mail proxy does it.
 */
#include <sys/param.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../options.h"
#include "../resolve.h"
#include "../session.h"
#include "proto.h"
#include "sasl.h"
#include "smtp_parse.h"
#include "xclient.h"

#define REPLY_OK		"250 2.0.0 OK\r\n"
#define REPLY_BYE		"221 2.0.0 Bye\r\n"
#define REPLY_INVALID	"500 5.5.1 Invalid command\r\n"
#define REPLY_TOOLONG	"500 5.5.2 Line too long\r\n"
#define REPLY_ARGUMENT	"501 5.5.4 Invalid argument\r\n"
#define REPLY_BASE64	"501 5.5.2 Cannot decode response\r\n"
#define REPLY_CANCELLED	"501 5.7.0 Authentication cancelled\r\n"
#define REPLY_CREDENTIALS	"535 5.7.8 Authentication credentials invalid\r\n"
#define REPLY_NOAUTH	"502 5.7.4 Authentication not available\r\n"
#define REPLY_SEQUENCE	"503 5.5.1 Bad sequence of commands\r\n"
#define REPLY_PIPELINING	"503 5.5.0 Improper use of SMTP command pipelining\r\n"
#define REPLY_MECHANISM	"504 5.5.4 Unrecognized authentication type\r\n"
#define REPLY_AUTH_REQUIRED	"530 5.7.1 Authentication required\r\n"
#define REPLY_TIMEOUT	"421 4.4.2 Timeout, closing connection\r\n"
#define REPLY_TEMPFAIL	"421 4.3.0 Service temporarily unavailable\r\n"
#define REPLY_INTERNAL	"451 4.3.2 Internal server error\r\n"
#define REPLY_STARTTLS	"220 2.0.0 Start TLS\r\n"
#define REPLY_TLS_FIRST	"530 5.7.0 Must issue a STARTTLS command first\r\n"
#define REPLY_NO_TLS	"454 4.7.0 TLS not available due to temporary reason\r\n"
#define REPLY_NO_CERT	"421 4.7.1 No required SSL certificate\r\n"
#define REPLY_CERT_ERROR	"421 4.7.1 SSL certificate error\r\n"

/* The client's side: one function per state. */
enum smtp_client_state {
	S_COMMAND,
	S_AUTH,				/* a SASL exchange */
	S_LOGIN,			/* go to the backend */
	S_QUIT				/* close */
};

static int	smtp_command(struct session *, char *, size_t);
static int	smtp_auth_response(struct session *, char *, size_t);

static int (*const smtp_states[])(struct session *, char *, size_t) = {
	[S_COMMAND] = smtp_command,
	[S_AUTH] = smtp_auth_response,
};

static int	smtp_helo(struct session *, struct cmd *);
static int	smtp_ehlo(struct session *, struct cmd *);
static int	smtp_auth(struct session *, struct cmd *);
static int	smtp_mail(struct session *, struct cmd *);
static int	smtp_rcpt(struct session *, struct cmd *);
static int	smtp_rset(struct session *, struct cmd *);
static int	smtp_noop(struct session *, struct cmd *);
static int	smtp_quit(struct session *, struct cmd *);
static int	smtp_starttls(struct session *, struct cmd *);
static int	smtp_unknown(struct session *, struct cmd *);

static int (*const smtp_verbs[])(struct session *, struct cmd *) = {
	[SMTP_UNKNOWN] = smtp_unknown,
	[SMTP_HELO] = smtp_helo,
	[SMTP_EHLO] = smtp_ehlo,
	[SMTP_AUTH] = smtp_auth,
	[SMTP_MAIL] = smtp_mail,
	[SMTP_RCPT] = smtp_rcpt,
	[SMTP_RSET] = smtp_rset,
	[SMTP_NOOP] = smtp_noop,
	[SMTP_QUIT] = smtp_quit,
	[SMTP_STARTTLS] = smtp_starttls,
};

/* Every refused command counts towards max_errors. */
static int
reply_error(struct session *s, const char *r)
{
	return client_error(s, r) ? S_QUIT : S_COMMAND;
}

/*
 * The methods we may offer.  With a fixed backend and no auth service
 * nobody would check the password, so we offer AUTH only when the backend
 * checks it itself (proxy_smtp_auth).  CRAM-MD5 needs an auth service: it
 * hands us the password the backend login needs; EXTERNAL a verified
 * client certificate too.  With starttls only, none before TLS.
 */
static unsigned
smtp_auth_methods(const struct session *s)
{
	if ((s->opt->auth_http == NULL && !s->opt->proxy_smtp_auth) ||
	    client_tls_required(s))
		return 0;
	return client_sasl_offered(s, s->opt->smtp_auth);
}

static int
smtp_greeting(struct session *s)
{
	if (s->opt->smtp_greeting_delay > 0 &&
	    conn_wait_readable(&s->cli, s->opt->smtp_greeting_delay) != 0) {
		client_reply(s, REPLY_PIPELINING);
		session_outcome(s, "client talked before the greeting");
		session_result(s, RESULT_CLIENT_ERROR);
		return S_QUIT;
	}
	if (client_replyf(s, "220 %s ESMTP ready\r\n", s->server_name) == -1) {
		session_outcome(s, "client went away before the greeting");
		return S_QUIT;
	}
	return S_COMMAND;
}

static int
smtp_client(struct session *s)
{
	char	*line;
	size_t	 len;
	int	 state;

	state = s->attempt == 0 ? smtp_greeting(s) : S_COMMAND;
	while (state != S_LOGIN && state != S_QUIT) {
		if (client_read(s, -1, &line, &len) == -1)
			break;
		state = smtp_states[state](s, line, len);
		explicit_bzero(line, len);
	}
	return state == S_LOGIN ? PROTO_LOGIN : PROTO_DONE;
}

static int
smtp_command(struct session *s, char *line, size_t len)
{
	struct cmd	cmd;

	if (smtp_cmd_parse(line, len, &cmd) == -1)
		return reply_error(s, REPLY_INVALID);
	return smtp_verbs[cmd.verb](s, &cmd);
}

/* HELO and EHLO: remember the name for the backend, reset the envelope. */
static int
smtp_hello(struct session *s, struct cmd *cmd, int esmtp)
{
	if (cmd->nargs != 1 || cmd->arg[0].len > NAME_MAX_LEN)
		return -1;
	memcpy(s->smtp.helo, cmd->arg[0].p, cmd->arg[0].len);
	s->smtp.helo[cmd->arg[0].len] = '\0';
	s->smtp.esmtp = esmtp;
	s->smtp.from[0] = s->smtp.to[0] = '\0';
	return 0;
}

static int
smtp_helo(struct session *s, struct cmd *cmd)
{
	if (smtp_hello(s, cmd, 0) == -1)
		return reply_error(s, REPLY_ARGUMENT);
	client_replyf(s, "250 %s\r\n", s->server_name);
	return S_COMMAND;
}

/*
 * "250-name", the configured capabilities, the AUTH line, then STARTTLS
 * while it is offered, as nginx lists them.
 */
static int
smtp_ehlo(struct session *s, struct cmd *cmd)
{
	char		 buf[4096], item[512], *last;
	const char	*list = s->opt->smtp_capabilities;
	unsigned	 methods = smtp_auth_methods(s);
	size_t		 n;
	int		 w;

	if (smtp_hello(s, cmd, 1) == -1)
		return reply_error(s, REPLY_ARGUMENT);
	n = snprintf(buf, sizeof(buf), "250-%s\r\n", s->server_name);
	while (n < sizeof(buf) && options_list_next(&list, item,
	    sizeof(item)) > 0)
		n += snprintf(buf + n, sizeof(buf) - n, "250-%s\r\n", item);
	if (n < sizeof(buf) && methods != 0) {
		n += strlcpy(buf + n, "250-AUTH", sizeof(buf) - n);
		if (n < sizeof(buf) && (w = sasl_list(methods, " ", "",
		    buf + n, sizeof(buf) - n)) != -1)
			n += w;
		else
			n = sizeof(buf);
		if (n < sizeof(buf))
			n += strlcpy(buf + n, "\r\n", sizeof(buf) - n);
	}
	if (n < sizeof(buf) && client_tls_offered(s))
		n += strlcpy(buf + n, "250-STARTTLS\r\n", sizeof(buf) - n);
	if (n >= sizeof(buf)) {
		session_outcome(s, "smtp_capabilities too long");
		session_result(s, RESULT_USAGE);
		client_reply(s, REPLY_INTERNAL);
		return S_QUIT;
	}
	/* the last line ends the reply: "250 " instead of "250-" */
	for (last = buf + n - 2; last > buf && last[-1] != '\n'; last--)
		;
	last[3] = ' ';
	client_reply(s, buf);
	return S_COMMAND;
}

/* Where the SASL engine left the exchange, in SMTP's words. */
static int
smtp_sasl(struct session *s, int rc)
{
	switch (rc) {
	case SASL_CHALLENGE:
		client_replyf(s, "334 %s\r\n", s->sasl.challenge);
		return S_AUTH;
	case SASL_DONE:
		return S_LOGIN;
	case SASL_CANCELLED:
		return reply_error(s, REPLY_CANCELLED);
	case SASL_BASE64:
		return reply_error(s, REPLY_BASE64);
	case SASL_INVALID:
		return reply_error(s, REPLY_CREDENTIALS);
	default:
		client_reply(s, REPLY_INTERNAL);
		return S_QUIT;
	}
}

static int
smtp_auth_response(struct session *s, char *line, size_t len)
{
	return smtp_sasl(s, sasl_response(&s->sasl, line, len));
}

static int
smtp_auth(struct session *s, struct cmd *cmd)
{
	const struct sasl_mech	*m;
	const struct cmd_arg	*ir = &cmd->arg[1];
	unsigned		 methods = smtp_auth_methods(s);

	if (s->smtp.from[0] != '\0')
		return reply_error(s, REPLY_SEQUENCE);
	if (cmd->nargs == 0 || cmd->nargs > 2)
		return reply_error(s, REPLY_ARGUMENT);
	if (client_tls_required(s))
		return reply_error(s, REPLY_TLS_FIRST);
	if (methods == 0) {
		if (s->opt->auth_http == NULL && !s->opt->proxy_smtp_auth)
			log_warnx("AUTH refused: with a fixed backend and no "
			    "auth service, set --proxy-smtp-auth=on so that "
			    "the backend checks passwords");
		else if (s->opt->smtp_auth & AUTH_CRAM_MD5)
			log_warnx("AUTH refused: CRAM-MD5 needs an auth "
			    "service (--auth-http), which knows the password");
		return reply_error(s, REPLY_NOAUTH);
	}
	if ((m = sasl_find(cmd->arg[0].p, cmd->arg[0].len, methods)) == NULL)
		return reply_error(s, REPLY_MECHANISM);
	return smtp_sasl(s, client_sasl_start(s, m,
	    cmd->nargs == 2 ? ir->p : NULL, ir->len));
}

/* Keeps a whole MAIL or RCPT line, to replay it to the backend. */
static int
smtp_envelope(const struct cmd *cmd, char *dst, size_t dstcap)
{
	if (cmd->nargs == 0 || cmd->len >= dstcap)
		return -1;
	memcpy(dst, cmd->line, cmd->len);
	dst[cmd->len] = '\0';
	return 0;
}

/*
 * With starttls only, no envelope before TLS either (nginx takes one:
 * RFC 3207 says a server that requires TLS refuses it).
 */
static int
smtp_mail(struct session *s, struct cmd *cmd)
{
	if (client_tls_required(s))
		return reply_error(s, REPLY_TLS_FIRST);
	if (!(s->opt->smtp_auth & AUTH_NONE)) {
		session_outcome(s, "client tried MAIL without AUTH");
		client_reply(s, REPLY_AUTH_REQUIRED);
		return S_COMMAND;
	}
	if (s->smtp.from[0] != '\0')
		return reply_error(s, REPLY_SEQUENCE);
	if (smtp_envelope(cmd, s->smtp.from, sizeof(s->smtp.from)) == -1)
		return reply_error(s, REPLY_ARGUMENT);
	client_reply(s, REPLY_OK);
	return S_COMMAND;
}

static int
smtp_rcpt(struct session *s, struct cmd *cmd)
{
	if (s->smtp.from[0] == '\0')
		return reply_error(s, REPLY_SEQUENCE);
	if (smtp_envelope(cmd, s->smtp.to, sizeof(s->smtp.to)) == -1)
		return reply_error(s, REPLY_ARGUMENT);
	creds_wipe(&s->creds);
	s->creds.method = AUTH_NONE;
	return S_LOGIN;
}

static int
smtp_rset(struct session *s, struct cmd *cmd)
{
	(void)cmd;
	s->smtp.from[0] = s->smtp.to[0] = '\0';
	client_reply(s, REPLY_OK);
	return S_COMMAND;
}

static int
smtp_noop(struct session *s, struct cmd *cmd)
{
	(void)cmd;
	client_reply(s, REPLY_OK);
	return S_COMMAND;
}

static int
smtp_quit(struct session *s, struct cmd *cmd)
{
	(void)cmd;
	client_reply(s, REPLY_BYE);
	session_outcome(s, "client quit before logging in");
	return S_QUIT;
}

/*
 * STARTTLS (RFC 3207): the go-ahead, then the handshake.  After it the
 * client starts again from EHLO, as if newly connected.
 */
static int
smtp_starttls(struct session *s, struct cmd *cmd)
{
	if (!client_tls_offered(s))
		return smtp_unknown(s, cmd);
	if (cmd->nargs != 0)
		return reply_error(s, REPLY_ARGUMENT);
	if (tls_server_ready(s) == -1)
		return reply_error(s, REPLY_NO_TLS);
	if (client_reply(s, REPLY_STARTTLS) == -1 || client_starttls(s) == -1)
		return S_QUIT;
	memset(&s->smtp, 0, sizeof(s->smtp));
	return S_COMMAND;
}

static int
smtp_unknown(struct session *s, struct cmd *cmd)
{
	(void)cmd;
	return reply_error(s, REPLY_INVALID);
}

/* Auth-Error-Code, or nginx's default, then the service's text. */
static void
smtp_denied(struct session *s, const char *text, const char *code)
{
	client_replyf(s, "%s %s\r\n", code[0] != '\0' ? code : "535 5.7.0",
	    text);
}

const struct proto smtp_proto = {
	"smtp",
	smtp_client,
	smtp_backend,
	REPLY_TEMPFAIL,
	REPLY_INTERNAL,
	REPLY_TOOLONG,
	REPLY_TIMEOUT,
	REPLY_CERT_ERROR,
	REPLY_NO_CERT,
	smtp_denied,
};
