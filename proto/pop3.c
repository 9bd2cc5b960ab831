/*
 * POP3: the client's side of the AUTHORIZATION state (greeting, CAPA,
 * USER/PASS, AUTH PLAIN/LOGIN), then the dialogue with the backend
 * (greeting, USER, PASS), as nginx's mail proxy does it.
 */
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../options.h"
#include "../session.h"
#include "pop3_parse.h"
#include "proto.h"
#include "sasl.h"

#define REPLY_GREETING	"+OK POP3 ready\r\n"
#define REPLY_OK	"+OK\r\n"
#define REPLY_CAPA	"+OK Capability list follows\r\n"
#define REPLY_METHODS	"+OK methods supported:\r\n"
#define REPLY_INVALID	"-ERR invalid command\r\n"
#define REPLY_ARGUMENT	"-ERR invalid argument\r\n"
#define REPLY_BASE64	"-ERR cannot decode response\r\n"
#define REPLY_CANCELLED	"-ERR authentication cancelled\r\n"
#define REPLY_CREDENTIALS	"-ERR invalid credentials\r\n"
#define REPLY_MECHANISM	"-ERR unrecognized authentication type\r\n"
#define REPLY_TOOLONG	"-ERR line too long\r\n"
#define REPLY_TIMEOUT	"-ERR timeout, closing connection\r\n"
#define REPLY_INTERNAL	"-ERR internal server error\r\n"
#define REPLY_TLS_FIRST	"-ERR must issue STLS first\r\n"
#define REPLY_NO_TLS	"-ERR TLS not available\r\n"
#define REPLY_NO_CERT	"-ERR No required SSL certificate\r\n"
#define REPLY_CERT_ERROR	"-ERR SSL certificate error\r\n"

/* The client's side: one function per state. */
enum pop3_client_state {
	S_START,			/* AUTHORIZATION, no USER yet */
	S_USER,				/* USER given, PASS expected */
	S_AUTH,				/* a SASL exchange */
	S_LOGIN,			/* go to the backend */
	S_QUIT				/* close */
};

static int	pop3_start(struct session *, char *, size_t);
static int	pop3_user_given(struct session *, char *, size_t);
static int	pop3_auth_response(struct session *, char *, size_t);

static int (*const pop3_states[])(struct session *, char *, size_t) = {
	[S_START] = pop3_start,
	[S_USER] = pop3_user_given,
	[S_AUTH] = pop3_auth_response,
};

static int	pop3_user(struct session *, struct cmd *, int);
static int	pop3_pass(struct session *, struct cmd *, int);
static int	pop3_apop(struct session *, struct cmd *, int);
static int	pop3_auth(struct session *, struct cmd *, int);
static int	pop3_capa(struct session *, struct cmd *, int);
static int	pop3_noop(struct session *, struct cmd *, int);
static int	pop3_quit(struct session *, struct cmd *, int);
static int	pop3_stls(struct session *, struct cmd *, int);
static int	pop3_unknown(struct session *, struct cmd *, int);

#define BEFORE_USER	(1 << S_START)
#define AFTER_USER	(1 << S_USER)

/* Each verb, and the states in which it is a valid command (as nginx). */
static const struct {
	int		(*fn)(struct session *, struct cmd *, int);
	unsigned	states;
} pop3_verbs[] = {
	[POP3_UNKNOWN] = { pop3_unknown, BEFORE_USER | AFTER_USER },
	[POP3_USER] = { pop3_user, BEFORE_USER },
	[POP3_PASS] = { pop3_pass, AFTER_USER },
	[POP3_APOP] = { pop3_apop, BEFORE_USER },
	[POP3_AUTH] = { pop3_auth, BEFORE_USER },
	[POP3_CAPA] = { pop3_capa, BEFORE_USER | AFTER_USER },
	[POP3_NOOP] = { pop3_noop, BEFORE_USER | AFTER_USER },
	[POP3_QUIT] = { pop3_quit, BEFORE_USER | AFTER_USER },
	[POP3_STLS] = { pop3_stls, BEFORE_USER },
};

/*
 * Every refused command counts towards max_errors and, as in nginx, sends
 * the client back to the start: a USER given before is forgotten.
 */
static int
reply_error(struct session *s, const char *r)
{
	creds_wipe(&s->creds);
	return client_error(s, r) ? S_QUIT : S_START;
}

/*
 * APOP and CRAM-MD5 prove the password without sending it, so the proxy
 * must get the password itself from an auth service to log in at the
 * backend; EXTERNAL needs the service to vouch for the certificate.  The
 * greeting carries the APOP timestamp only when that can work: with
 * pop3_auth apop or cram-md5 and an auth service.
 */
static int
pop3_salt_needed(const struct session *s)
{
	return (s->opt->pop3_auth & (AUTH_APOP | AUTH_CRAM_MD5)) &&
	    s->opt->auth_http != NULL;
}

/*
 * The SASL mechanisms we can take, for CAPA and AUTH: pop3_auth plain
 * is USER/PASS and SASL PLAIN and LOGIN, as in nginx.
 */
static unsigned
pop3_mechanisms(const struct session *s)
{
	unsigned	m = s->opt->pop3_auth;

	if (client_tls_required(s))
		return 0;
	if (m & AUTH_PLAIN)
		m |= AUTH_LOGIN;
	return client_sasl_offered(s, m);
}

static int
pop3_greeting(struct session *s)
{
	int	rc;

	if (!pop3_salt_needed(s))
		rc = client_reply(s, REPLY_GREETING);
	else if (session_salt(s) == NULL) {
		session_outcome(s, "server_name too long for the APOP "
		    "timestamp");
		session_result(s, RESULT_USAGE);
		client_reply(s, REPLY_INTERNAL);
		return S_QUIT;
	} else
		rc = client_replyf(s, "+OK POP3 ready %s\r\n", s->salt);
	if (rc == -1) {
		session_outcome(s, "client went away before the greeting");
		return S_QUIT;
	}
	return S_START;
}

static int
pop3_client(struct session *s)
{
	char	*line;
	size_t	 len;
	int	 state;

	state = s->attempt == 0 ? pop3_greeting(s) : S_START;
	while (state != S_LOGIN && state != S_QUIT) {
		if (client_read(s, -1, &line, &len) == -1)
			break;
		state = pop3_states[state](s, line, len);
		explicit_bzero(line, len);
	}
	if (state != S_LOGIN)
		creds_wipe(&s->creds);
	return state == S_LOGIN ? PROTO_LOGIN : PROTO_DONE;
}

static int
pop3_command(struct session *s, char *line, size_t len, int state)
{
	struct cmd	cmd;

	if (pop3_cmd_parse(line, len, &cmd) == -1 ||
	    !(pop3_verbs[cmd.verb].states & (1U << state)))
		return reply_error(s, REPLY_INVALID);
	return pop3_verbs[cmd.verb].fn(s, &cmd, state);
}

static int
pop3_start(struct session *s, char *line, size_t len)
{
	return pop3_command(s, line, len, S_START);
}

static int
pop3_user_given(struct session *s, char *line, size_t len)
{
	return pop3_command(s, line, len, S_USER);
}

/*
 * The credentials go to the backend on a command line of their own, so a
 * CR or LF decoded from base64 would smuggle in a command of the client's
 * choosing.
 */
static int
pop3_login(struct session *s)
{
	if (memchr(s->creds.user, '\r', s->creds.userlen) != NULL ||
	    memchr(s->creds.user, '\n', s->creds.userlen) != NULL ||
	    memchr(s->creds.pass, '\r', s->creds.passlen) != NULL ||
	    memchr(s->creds.pass, '\n', s->creds.passlen) != NULL)
		return reply_error(s, REPLY_ARGUMENT);
	return S_LOGIN;
}

/* Copies one command argument into a credential buffer of CRED_MAX + 1. */
static int
cred_copy(const struct cmd *cmd, char *dst, size_t *dstlen)
{
	if (cmd->nargs != 1 || cmd->arg[0].len > CRED_MAX)
		return -1;
	memcpy(dst, cmd->arg[0].p, cmd->arg[0].len);
	dst[cmd->arg[0].len] = '\0';
	*dstlen = cmd->arg[0].len;
	return 0;
}

/* pop3_auth plain: USER/PASS and AUTH PLAIN and LOGIN, as nginx. */
static int
pop3_user(struct session *s, struct cmd *cmd, int state)
{
	(void)state;
	if (!(s->opt->pop3_auth & AUTH_PLAIN))
		return reply_error(s, REPLY_INVALID);
	if (client_tls_required(s))
		return reply_error(s, REPLY_TLS_FIRST);
	creds_wipe(&s->creds);
	if (cred_copy(cmd, s->creds.user, &s->creds.userlen) == -1)
		return reply_error(s, REPLY_ARGUMENT);
	client_reply(s, REPLY_OK);
	return S_USER;
}

static int
pop3_pass(struct session *s, struct cmd *cmd, int state)
{
	(void)state;
	if (cred_copy(cmd, s->creds.pass, &s->creds.passlen) == -1)
		return reply_error(s, REPLY_ARGUMENT);
	s->creds.method = AUTH_PLAIN;
	return pop3_login(s);
}

/*
 * APOP and CRAM-MD5 prove the password without sending it: only an auth
 * service can check the digest and hand us the password for the backend.
 */
static int
pop3_unavailable(struct session *s, const char *method)
{
	char	reply[128];

	log_warnx("%s refused: it needs an auth service (--auth-http)",
	    method);
	snprintf(reply, sizeof(reply), "-ERR %s not available: needs an "
	    "auth service\r\n", method);
	return reply_error(s, reply);
}

/* APOP name digest: the service checks the digest against the timestamp. */
static int
pop3_apop(struct session *s, struct cmd *cmd, int state)
{
	(void)state;
	if (!(s->opt->pop3_auth & AUTH_APOP))
		return reply_error(s, REPLY_INVALID);
	if (client_tls_required(s))
		return reply_error(s, REPLY_TLS_FIRST);
	if (s->opt->auth_http == NULL || s->salt[0] == '\0')
		return pop3_unavailable(s, "APOP");
	creds_wipe(&s->creds);
	if (cmd->nargs != 2 || cmd->arg[0].len > CRED_MAX ||
	    !sasl_digest_valid(cmd->arg[1].p, cmd->arg[1].len))
		return reply_error(s, REPLY_ARGUMENT);
	memcpy(s->creds.user, cmd->arg[0].p, cmd->arg[0].len);
	s->creds.userlen = cmd->arg[0].len;
	memcpy(s->creds.pass, cmd->arg[1].p, 32);
	s->creds.passlen = 32;
	s->creds.method = AUTH_APOP;
	return pop3_login(s);
}

/* Where the SASL engine left the exchange, in POP3's words. */
static int
pop3_sasl(struct session *s, int rc)
{
	switch (rc) {
	case SASL_CHALLENGE:
		client_replyf(s, "+ %s\r\n", s->sasl.challenge);
		return S_AUTH;
	case SASL_DONE:
		return pop3_login(s);
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
pop3_auth_response(struct session *s, char *line, size_t len)
{
	return pop3_sasl(s, sasl_response(&s->sasl, line, len));
}

/* AUTH alone lists the mechanisms (RFC 1734 as nginx answers it). */
static int
pop3_auth(struct session *s, struct cmd *cmd, int state)
{
	const struct sasl_mech	*m;
	const struct cmd_arg	*ir = &cmd->arg[1];
	unsigned		 methods = pop3_mechanisms(s);
	char			 list[256];

	(void)state;
	if (client_tls_required(s))
		return reply_error(s, REPLY_TLS_FIRST);
	if (cmd->nargs == 0) {
		if (sasl_list(methods, "", "\r\n", list, sizeof(list)) == -1)
			list[0] = '\0';
		client_replyf(s, REPLY_METHODS "%s.\r\n", list);
		return S_START;
	}
	if ((m = sasl_find(cmd->arg[0].p, cmd->arg[0].len, methods)) != NULL)
		return pop3_sasl(s, client_sasl_start(s, m,
		    cmd->nargs == 2 ? ir->p : NULL, ir->len));
	if (sasl_find(cmd->arg[0].p, cmd->arg[0].len,
	    s->opt->pop3_auth & AUTH_CRAM_MD5) != NULL)
		return pop3_unavailable(s, "CRAM-MD5");
	return reply_error(s, REPLY_MECHANISM);
}

/*
 * The pop3_capabilities items, one a line, the SASL line, then STLS
 * while it is offered, as nginx lists them; USER is left out when
 * USER/PASS is not allowed (pop3_auth without plain, or not before TLS),
 * since a client must not be offered what it will be refused.
 */
static int
pop3_capa(struct session *s, struct cmd *cmd, int state)
{
	char		 buf[4096], item[512];
	const char	*list = s->opt->pop3_capabilities;
	unsigned	 m = pop3_mechanisms(s);
	size_t		 n;
	int		 rc;

	(void)cmd;
	n = strlcpy(buf, REPLY_CAPA, sizeof(buf));
	while (n < sizeof(buf) &&
	    (rc = options_list_next(&list, item, sizeof(item))) != 0) {
		if (rc == -1 || ((!(s->opt->pop3_auth & AUTH_PLAIN) ||
		    client_tls_required(s)) && strcasecmp(item, "USER") == 0))
			continue;
		n += snprintf(buf + n, sizeof(buf) - n, "%s\r\n", item);
	}
	if (n < sizeof(buf) && m != 0) {
		n += strlcpy(buf + n, "SASL", sizeof(buf) - n);
		if (n < sizeof(buf) && (rc = sasl_list(m, " ", "", buf + n,
		    sizeof(buf) - n)) != -1)
			n += rc;
		else
			n = sizeof(buf);
		if (n < sizeof(buf))
			n += strlcpy(buf + n, "\r\n", sizeof(buf) - n);
	}
	if (n < sizeof(buf) && client_tls_offered(s))
		n += strlcpy(buf + n, "STLS\r\n", sizeof(buf) - n);
	if (n < sizeof(buf))
		n += strlcpy(buf + n, ".\r\n", sizeof(buf) - n);
	if (n >= sizeof(buf)) {
		session_outcome(s, "pop3_capabilities too long");
		session_result(s, RESULT_USAGE);
		client_reply(s, REPLY_INTERNAL);
		return S_QUIT;
	}
	client_reply(s, buf);
	return state;
}

static int
pop3_noop(struct session *s, struct cmd *cmd, int state)
{
	(void)cmd;
	client_reply(s, REPLY_OK);
	return state;
}

static int
pop3_quit(struct session *s, struct cmd *cmd, int state)
{
	(void)cmd;
	(void)state;
	client_reply(s, REPLY_OK);
	session_outcome(s, "client quit before logging in");
	return S_QUIT;
}

/* STLS (RFC 2595): the go-ahead, then the handshake. */
static int
pop3_stls(struct session *s, struct cmd *cmd, int state)
{
	if (!client_tls_offered(s))
		return pop3_unknown(s, cmd, state);
	if (cmd->nargs != 0)
		return reply_error(s, REPLY_ARGUMENT);
	if (tls_server_ready(s) == -1)
		return reply_error(s, REPLY_NO_TLS);
	if (client_reply(s, REPLY_OK) == -1 || client_starttls(s) == -1)
		return S_QUIT;
	return S_START;
}

static int
pop3_unknown(struct session *s, struct cmd *cmd, int state)
{
	(void)cmd;
	(void)state;
	return reply_error(s, REPLY_INVALID);
}

static void
pop3_denied(struct session *s, const char *text, const char *code)
{
	(void)code;
	client_replyf(s, "-ERR %s\r\n", text);
}

const struct proto pop3_proto = {
	"pop3",
	pop3_client,
	pop3_backend,
	REPLY_INTERNAL,
	REPLY_INTERNAL,
	REPLY_TOOLONG,
	REPLY_TIMEOUT,
	REPLY_CERT_ERROR,
	REPLY_NO_CERT,
	pop3_denied,
};
