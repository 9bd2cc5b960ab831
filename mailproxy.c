/*
 * mailproxy: one SMTP, POP3 or IMAP client session, proxied to a backend.
 * One process per connection, started by systemd (Accept=yes), an inetd,
 * or by hand in a pipeline.  This file is the session's flow; the wire is
 * in proto/, the connection in conn.c, the relay in relay.c.
 */
#include <sys/param.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth.h"
#include "backend.h"
#include "front.h"
#include "launch.h"
#include "options.h"
#include "proto/auth_http.h"
#include "proto/pop3_parse.h"
#include "proto/proto.h"
#include "proto/proxy.h"
#include "relay.h"
#include "sandbox.h"
#include "session.h"
#include "tls.h"

#ifndef VERSION
#define VERSION "0.1"
#endif

const struct proto *
proto_find(int protocol)
{
	switch (protocol) {
	case PROTO_SMTP:
		return &smtp_proto;
	case PROTO_POP3:
		return &pop3_proto;
	case PROTO_IMAP:
		return &imap_proto;
	default:
		return NULL;
	}
}

/* A client that expects TLS gets no plaintext: only the close. */
static void
greet_and_exit(struct session *s, const struct proto *p, int status)
{
	if (p != NULL && s->cli.wfd != -1 && !s->opt->ssl)
		conn_puts(&s->cli, p->tempfail, 1000);
	exit(status);
}

/*
 * One backend: connect, send the PROXY header, the TLS handshake with
 * --proxy-ssl, all by deadline.  0; 1 when it cannot be reached and
 * another backend follows (the client is told nothing); -1 when the
 * session ends here (the client is told).  A failed handshake ends it
 * even when another backend follows: a certificate that does not verify
 * is a warning to heed, not an outage to route around.
 */
static int
backend_open(struct session *s, const struct proto *p, long long deadline)
{
	unsigned char	hdr[PROXY_V2_MAX];
	char		err[512];
	long long	left = deadline - now_ms();
	int		fd, n, pp;

	fd = backend_connect(s->backend, left > 0 ? left : 0, err,
	    sizeof(err));
	if (fd == -1) {
		session_outcome(s, "%s", err);
		goto unreachable;
	}
	conn_init(&s->be, fd, fd, malloc(s->opt->proxy_buffer),
	    s->opt->proxy_buffer);
	if (s->be.buf == NULL) {
		session_outcome(s, "out of memory");
		session_result(s, RESULT_INTERNAL);
		return -1;
	}
	s->be.deadline = deadline;
	/* the auth service's choice for this session, else the options' */
	pp = s->be_proxy_protocol >= 0 ? s->be_proxy_protocol :
	    (int)s->opt->proxy_protocol;
	if (pp != PROXYPROTO_OFF) {
		if (pp == PROXYPROTO_V2)
			n = proxy_v2(&s->client, &s->tls, hdr, sizeof(hdr));
		else
			n = proxy_v1(&s->client, (char *)hdr, sizeof(hdr));
		if (n == -1 || conn_writeall(&s->be, hdr, n,
		    s->opt->timeout) == -1) {
			session_outcome(s, "backend %s: cannot send the PROXY "
			    "header", s->backend);
			goto unreachable;
		}
	}
	/* implicit TLS: after the PROXY header, which goes in plaintext */
	if (backend_tls_mode(s) == BACKEND_TLS && backend_tls(s) == -1) {
		if (s->be_more)
			log_warnx("backend %s: TLS failed: the next backends "
			    "are not tried (%s)", s->backend, s->outcome);
		session_result(s, RESULT_BACKEND_ERROR);
		conn_puts(&s->cli, p->internal_error, s->opt->timeout);
		return -1;
	}
	return 0;
unreachable:
	if (s->be_more)
		return 1;
	session_result(s, RESULT_BACKEND_ERROR);
	conn_puts(&s->cli, p->internal_error, s->opt->timeout);
	return -1;
}

/*
 * The backends in --backend's order (or the one the auth service named)
 * until one greets.  One that refuses the connection, does not greet in
 * time, closes first, or greets with a temporary failure (SMTP 4xx, POP3
 * -ERR, IMAP BYE) is logged and the next one tried on a connection of
 * its own (its own PROXY header; XCLIENT and the login come after a
 * greeting).  Reaching a greeting has --timeout for all of them
 * together, within the login's deadline: each gets an equal share of
 * what is left, so one that never answers cannot starve the rest.  The
 * last one fails as a lone backend does.  PROTO_RELAY or PROTO_FAIL.
 */
static int
backend_login(struct session *s, const struct proto *p)
{
	const char	*list = s->opt->auth_http == NULL ? s->opt->backend :
			    NULL, *peek;
	long long	 end = now_ms() + login_left(s, s->opt->timeout);
	size_t		 left = list != NULL ? options_count(list) : 1;
	char		 next[sizeof(s->backend)];
	int		 rc;

	for (;;) {
		if (list != NULL &&
		    options_value_next(&list, s->backend, sizeof(s->backend)) <= 0)
			s->backend[0] = '\0';	/* options.c checked them */
		s->be_more = --left > 0;
		rc = backend_open(s, p, now_ms() + (end - now_ms()) /
		    (long long)(left + 1));
		if (rc == 0)
			rc = p->backend(s);
		else
			rc = rc == 1 ? PROTO_NEXT : PROTO_FAIL;
		if (rc != PROTO_NEXT)
			return rc;
		peek = list;
		if (options_value_next(&peek, next, sizeof(next)) <= 0)
			next[0] = '\0';
		log_warnx("%s; trying %s next", s->outcome, next);
		s->outcome[0] = '\0';
		s->result = RESULT_NONE;
		s->be_tls[0] = '\0';
		conn_close(&s->be);
		conn_free(&s->be);
	}
}

/*
 * The login: the protocol's client side until the client has given its
 * credentials, then whoever decides where it goes: the auth service, or
 * the fixed backend.  A refusal with Auth-Wait lets the client try again
 * after the wait, as nginx does; without it (or with "Auth-Wait: 0",
 * which nginx reads the same way) the session ends.  A refused token
 * with Auth-Error-SASL gets that error as a challenge first, after the
 * wait, as freenginx sends it.  Returns 0 when the
 * backend is known, -1 when the session ended (the client left or was
 * refused), EX_TEMPFAIL when the auth service failed us.
 */
static int
session_login(struct session *s, const struct proto *p)
{
	struct auth_resp	r;
	int			rc, sasl;

	for (;;) {
		if (p->client(s) != PROTO_LOGIN)
			return -1;
		s->attempt++;
		strlcpy(s->user, s->creds.user, sizeof(s->user));
		if (s->opt->auth_http == NULL) {
			return 0;	/* backend_login takes --backend's */
		}
		rc = auth_ask(s, &r);
		explicit_bzero(&r.pass, sizeof(r.pass));
		/* Auth-Pass replaced a token: none of the token stays */
		if (rc == AUTH_OK) {
			explicit_bzero(s->creds.pass + s->creds.passlen,
			    sizeof(s->creds.pass) - s->creds.passlen);
			return 0;
		}
		/* a token's refusal may say why in SASL (Auth-Error-SASL) */
		sasl = rc == AUTH_DENIED && s->sasl_error[0] != '\0' &&
		    (s->creds.method & (AUTH_XOAUTH2 | AUTH_OAUTHBEARER));
		creds_wipe(&s->creds);
		if (rc == AUTH_ERROR) {
			session_result(s, RESULT_AUTH_ERROR);
			client_reply(s, p->internal_error);
			return EX_TEMPFAIL;
		}
		log_refused(s, r.status);
		/* the client waits, but never past the login's deadline */
		if (r.wait > 0)
			login_sleep(s, r.wait * 1000);
		rc = sasl ? client_sasl_error(s) : 0;
		s->sasl_error[0] = '\0';
		if (rc == -1)
			return -1;
		if (rc == 0)
			p->denied(s, r.status, r.errcode);
		if (r.wait <= 0) {
			session_outcome(s, "auth service refused: %s", r.status);
			session_result(s, RESULT_REFUSED);
			return -1;
		}
	}
}

/* The longest command line of the protocol. */
static size_t
client_buffer(const struct options *o)
{
	switch (o->protocol) {
	case PROTO_SMTP:
		return o->smtp_client_buffer;
	case PROTO_POP3:
		return POP3_LINE_MAX;
	default:
		return o->imap_client_buffer;
	}
}

/*
 * The login ran deeper than the relay will, and its stale frames below
 * this one may still hold a password: a parser's temporaries, or the
 * lowercased pieces of a line that libc's vectorised strncasecmp spills
 * to the stack.  Zeroing that much stack once, before the relay, leaves
 * none of them for the session's lifetime.
 *
 * A login reaches a few pages of it: the others were never touched and
 * read as zero.  Writing them would make the kernel give the process a
 * page each for nothing (up to 128 KiB of memory per session), so only
 * a page that holds anything but zeros is wiped.  Either way, every byte
 * is zero after this.
 */
#define STACK_WIPE	(128 * 1024)
#define STACK_PAGE	4096

static void __attribute__((noinline))
stack_wipe(void)
{
	unsigned char	stale[STACK_WIPE];
	size_t		i;

	/* the compiler must read what is there, not assume it */
	__asm__ volatile("" : : "r"(stale) : "memory");
	for (i = 0; i < sizeof(stale); i += STACK_PAGE)
		/* all zero: the first byte is, and each equals the next */
		if (stale[i] != 0 ||
		    memcmp(stale + i, stale + i + 1, STACK_PAGE - 1) != 0)
			explicit_bzero(stale + i, STACK_PAGE);
}

/*
 * The relay, once the backend has taken the login.  The login's deadline
 * ends here, and the login leaves no copy in memory: the client buffer
 * still holds the lines that carried the password (only what the client
 * pipelined after them is kept, for the backend).  When the backend has
 * closed, the client has got all it sent, then EOF: lingering keeps a
 * reset from destroying that last reply.
 */
static int
session_relay(struct session *s)
{
	struct relay_limits	 lim;
	const char		*why;
	int			 rc;

	creds_wipe(&s->creds);
	conn_wipe_read(&s->cli);
	stack_wipe();
	s->cli.deadline = s->be.deadline = 0;
	conn_nodelay(&s->be, 0);
	lim.engine = s->opt->relay_engine == ENGINE_SPLICE ? RELAY_SPLICE :
	    RELAY_READWRITE;
	lim.buffer = s->opt->proxy_buffer;
	lim.idle_ms = s->opt->proxy_timeout;
	lim.half_close_ms = s->opt->half_close_timeout;
	rc = relay(&s->cli, &s->be, &lim, &why);
	if (why != NULL)
		session_outcome(s, "%s", why);
	else if (rc == 0)
		conn_linger(&s->cli, 1000, 1 << 20);
	/* an error breaks a connection, a reason without one is a limit */
	session_result(s, rc == -1 ? RESULT_RELAY_ERROR : why != NULL ?
	    RESULT_TIMEOUT : RESULT_OK);
	return rc == -1 ? EX_IOERR : 0;
}

/*
 * Why a session that never relayed ended, when a deadline cut it short:
 * the protocol saw only a timeout or an error on the wait, the log says
 * which limit it was.
 */
static void
login_outcome(struct session *s)
{
	const char	*who;

	if (s->cli.deadline != 0 && now_ms() >= s->cli.deadline) {
		s->outcome[0] = '\0';
		session_outcome(s, "login_timeout: no relay after %lld.%03llds",
		    s->opt->login_timeout / 1000, s->opt->login_timeout % 1000);
		s->result = RESULT_TIMEOUT;
	} else if (s->cli.broken == ETIMEDOUT || s->be.broken == ETIMEDOUT) {
		who = s->cli.broken == ETIMEDOUT ? "client" : "backend";
		s->outcome[0] = '\0';
		session_outcome(s, "timeout: the %s stopped reading", who);
		s->result = RESULT_TIMEOUT;
	}
}

int
main(int argc, char *argv[], char *envp[])
{
	/*
	 * Static, so zero from the start: the kernel's zero pages cost the
	 * session nothing, a memset of them its largest single call.
	 */
	static struct options	 opt;
	static struct session	 s;
	const struct proto	*p;
	struct auth_url		 url;
	char			 err[512], host[NAME_MAX_LEN + 1];
	int			 rc, status = 0;

	/* before anything holds a secret: no core dump will show it */
	sandbox_undumpable();
	signal(SIGPIPE, SIG_IGN);
	s.opt = &opt;
	s.be.rfd = s.be.wfd = -1;
	s.be_ssl = AUTH_PROXY_SSL_DEFAULT;
	s.be_proxy_protocol = s.be_xclient = s.be_smtp_auth = -1;
	s.start_ms = now_ms();

	rc = options_parse(&opt, argc, argv, envp, err, sizeof(err));
	if (rc == OPT_HELP) {
		options_help(stdout);
		return 0;
	}
	if (rc == OPT_VERSION) {
		printf("mailproxy %s\n", VERSION);
		return 0;
	}
	log_init();
	p = proto_find(opt.protocol);
	if (rc == OPT_RUN && opt.auth_http != NULL &&
	    auth_http_url(opt.auth_http, &url) == -1) {
		snprintf(err, sizeof(err), "--auth-http: bad URL \"%s\" (use "
		    "http[s]://HOST[:PORT][/URI] or unix:/PATH[:/URI])",
		    opt.auth_http);
		rc = OPT_ERROR;
	}
	if (rc == OPT_RUN && tls_files_check(&opt, err, sizeof(err)) == -1)
		rc = OPT_ERROR;
	if (rc == OPT_RUN && opt.check) {
		/* as nginx -t: everything loaded once, then the verdict */
		if (tls_check(&opt, err, sizeof(err)) == -1) {
			fprintf(stderr, "mailproxy: %s\n", err);
			return EX_USAGE;
		}
		fprintf(stderr, "mailproxy: the options are valid\n");
		return 0;
	}
	if (rc == OPT_ERROR) {
		log_usage(err);
		/* a client already connected is told to come back later */
		if (launch_find(&s, err, sizeof(err)) == 0 &&
		    strcmp(s.client.launcher, "pipeline") != 0)
			greet_and_exit(&s, p, EX_USAGE);
		return EX_USAGE;
	}
	if (launch_find(&s, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return EX_USAGE;
	}
	session_id(s.client.id, sizeof(s.client.id));
	log_session_id(s.client.id);
	if (opt.server_name == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		s.server_name = host;
	} else
		s.server_name = opt.server_name;
	/* one buffer for commands and for SASL responses, each bounded */
	s.proto = p;
	s.cmdmax = client_buffer(&opt);
	s.cli.cap = MAX(s.cmdmax, SASL_LINE_MAX);
	if ((s.cli.buf = malloc(s.cli.cap)) == NULL) {
		log_warnx("out of memory");
		greet_and_exit(&s, p, EX_OSERR);
	}

	/*
	 * Confined before the client's first byte is read; what a session
	 * does later (dlopen, sockets, the journal) is allowed (sandbox.c).
	 */
	if (sandbox_enter(err, sizeof(err)) == -1)
		log_warnx("%s: the session runs without its system call "
		    "filter", err);

	/* the whole login has one deadline, from the first byte on */
	if (opt.login_timeout > 0)
		s.cli.deadline = s.start_ms + opt.login_timeout;
	conn_keepalive(&s.cli);

	/* the PROXY header first of all, then TLS, then the greeting */
	if (opt.listen_proxy_protocol && front_proxy(&s) == -1)
		rc = -1;
	/* implicit TLS: the handshake comes before the greeting */
	else if (opt.ssl && tls_server(&s) == -1) {
		session_result(&s, RESULT_TLS_ERROR);
		rc = -1;
	} else
		rc = session_login(&s, p);
	if (rc == 0 && backend_login(&s, p) == PROTO_RELAY)
		status = session_relay(&s);
	else {
		/* no relay: the client's last reply must get through */
		status = rc == 0 ? EX_TEMPFAIL : rc > 0 ? rc : 0;
		/*
		 * What said nothing more precise: before the login the client
		 * left (QUIT, LOGOUT, its close); after it the backend failed,
		 * unless the client had gone (a write to it failed).
		 */
		session_result(&s, rc != 0 || s.cli.broken != 0 ?
		    RESULT_CLIENT_QUIT : RESULT_BACKEND_ERROR);
		login_outcome(&s);
		conn_linger(&s.cli, 1000, 1 << 20);
	}
	creds_wipe(&s.creds);
	tls_facts_free(&s.tls);
	/*
	 * The client has had its last reply (and, but after a relay's
	 * limit or error, our EOF and its own): the journal's library loads
	 * on no client's time.  Before the close: under inetd, log.c knows
	 * stderr for the client's socket by comparing it with stdin.
	 */
	log_session(&s);
	conn_close(&s.be);
	conn_close(&s.cli);
	tls_server_free(s.tlss);
	conn_free(&s.be);
	conn_free(&s.cli);
	return status;
}
