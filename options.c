/*
 * Options: one table drives argv, the MAILPROXY_* environment, the
 * defaults and --help, so that an option is one row and the four can
 * never disagree.  Values follow the nginx directive syntax.
 */

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* the historical OpenBSD prototypes; says so to silence libbsd's warning */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "addr.h"
#include "options.h"
#include "values.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define ENV_PREFIX	"MAILPROXY_"
#define COUNT_MAX	1000000		/* max_errors */

/* Angie's own words for a default that is the page size */
#define PAGESIZE_DEF	"4k|8k"

enum type {
	T_FLAG,		/* on | off */
	T_SIZE,		/* 512, 4k, 1m */
	T_MSEC,		/* 500ms, 30s, 1h30m; a bare number is seconds */
	T_COUNT,	/* 0 to COUNT_MAX */
	T_STRING,	/* stored as given; empty: NULL */
	T_LIST,		/* space-separated words, stored as given */
	T_AUTH,		/* auth method names, to AUTH_* bits */
	T_PROTO,	/* smtp | pop3 | imap */
	T_STARTTLS,	/* on | off | only */
	T_ENGINE,	/* readwrite | splice */
	T_VERIFY,	/* on | off | optional | optional_no_ca */
	T_PROXYPROTO,	/* off | on | v2 (on is v1) */
	T_ADDR,		/* IP[:PORT] or [v6]:PORT */
	T_RESOLVER,	/* IP[:PORT], or off: NULL */
	T_REPEAT,	/* repeatable words; env: split at blanks or newlines */
	T_HOSTPORTS,	/* repeatable HOST:PORT, kept in order; env: as T_REPEAT */
	T_LINES,	/* repeatable header, "Name: value" or nginx's "Name value";
			   env: split at newlines */
};

struct opt {
	const char	*name;		/* as on the command line */
	enum type	 type;
	size_t		 off;		/* of the field in struct options */
	const char	*def;		/* nginx syntax; NULL: none */
	const char	*arg;		/* --help's VALUE; NULL: the type's */
	unsigned	 bits;		/* T_AUTH: the AUTH_* bits it accepts */
	const char	*help;
};

#define OFF(f)	offsetof(struct options, f)

static const struct opt opts[] = {
	{ "protocol", T_PROTO, OFF(protocol), NULL, NULL, 0,
	    "the mail protocol (required)" },
	{ "backend", T_HOSTPORTS, OFF(backend), NULL, "HOST:PORT", 0,
	    "the mail server to relay to, repeatable: the next when one is down" },
	{ "client-addr", T_ADDR, OFF(client_addr), NULL, NULL, 0,
	    "the client's address in a pipeline" },

	{ "proxy-buffer", T_SIZE, OFF(proxy_buffer), PAGESIZE_DEF, NULL, 0,
	    "buffer size for relaying" },
	{ "proxy-pass-error-message", T_FLAG, OFF(proxy_pass_error_message),
	    "off", NULL, 0,
	    "pass the backend's login errors on" },
	{ "proxy-protocol", T_PROXYPROTO, OFF(proxy_protocol), "off", NULL, 0,
	    "send a PROXY header to the backend (on: v1)" },
	{ "proxy-smtp-auth", T_FLAG, OFF(proxy_smtp_auth), "off", NULL, 0,
	    "log in to the SMTP backend with AUTH" },
	{ "proxy-timeout", T_MSEC, OFF(proxy_timeout), "24h", NULL, 0,
	    "idle time allowed while relaying" },
	{ "xclient", T_FLAG, OFF(xclient), "on", NULL, 0,
	    "send XCLIENT to the SMTP backend" },

	{ "server-name", T_STRING, OFF(server_name), NULL, "NAME", 0,
	    "name in greetings and EHLO (default: the host name)" },
	{ "timeout", T_MSEC, OFF(timeout), "60s", NULL, 0,
	    "idle time allowed before relaying" },
	{ "login-timeout", T_MSEC, OFF(login_timeout), "3m", NULL, 0,
	    "time allowed until relaying, 0: no limit" },
	{ "half-close-timeout", T_MSEC, OFF(half_close_timeout), "60s", NULL,
	    0, "idle time allowed once a side has closed" },
	{ "relay-engine", T_ENGINE, OFF(relay_engine), "readwrite", NULL, 0,
	    "how the relay moves bytes" },
	{ "resolver", T_RESOLVER, OFF(resolver), "off", NULL, 0,
	    "DNS server for the client's name" },
	{ "resolver-timeout", T_MSEC, OFF(resolver_timeout), "30s", NULL, 0,
	    "time allowed for the client's name" },
	{ "max-errors", T_COUNT, OFF(max_errors), "5", NULL, 0,
	    "errors before the client is dropped" },
	{ "max-commands", T_COUNT, OFF(max_commands), "1000", NULL, 0,
	    "commands before authentication" },

	{ "smtp-auth", T_AUTH, OFF(smtp_auth), "plain login", NULL,
	    AUTH_PLAIN | AUTH_LOGIN | AUTH_CRAM_MD5 | AUTH_EXTERNAL | AUTH_NONE |
	    AUTH_XOAUTH2 | AUTH_OAUTHBEARER, "SMTP AUTH methods" },
	{ "smtp-capabilities", T_LIST, OFF(smtp_capabilities), "", NULL, 0,
	    "extra EHLO keywords" },
	{ "smtp-greeting-delay", T_MSEC, OFF(smtp_greeting_delay), "0", NULL,
	    0, "delay before the greeting" },
	{ "smtp-client-buffer", T_SIZE, OFF(smtp_client_buffer), PAGESIZE_DEF,
	    NULL, 0, "buffer for SMTP client commands" },

	{ "pop3-auth", T_AUTH, OFF(pop3_auth), "plain", NULL,
	    AUTH_PLAIN | AUTH_APOP | AUTH_CRAM_MD5 | AUTH_EXTERNAL |
	    AUTH_XOAUTH2 | AUTH_OAUTHBEARER,
	    "POP3 methods (plain: USER/PASS)" },
	{ "pop3-capabilities", T_LIST, OFF(pop3_capabilities), "TOP USER UIDL",
	    NULL, 0, "CAPA keywords announced" },
	{ "imap-auth", T_AUTH, OFF(imap_auth), "plain", NULL,
	    AUTH_PLAIN | AUTH_LOGIN | AUTH_CRAM_MD5 | AUTH_EXTERNAL |
	    AUTH_XOAUTH2 | AUTH_OAUTHBEARER, "IMAP methods" },
	{ "imap-capabilities", T_LIST, OFF(imap_capabilities),
	    "IMAP4 IMAP4rev1 UIDPLUS", NULL, 0,
	    "CAPABILITY keywords announced" },
	{ "imap-client-buffer", T_SIZE, OFF(imap_client_buffer), PAGESIZE_DEF,
	    NULL, 0, "buffer for IMAP client commands" },

	{ "auth-http", T_STRING, OFF(auth_http), NULL, "URL", 0,
	    "checks logins and names the backend" },
	{ "auth-http-header", T_LINES, OFF(auth_http_header), NULL,
	    "'NAME: VALUE'", 0,
	    "header for auth_http (or 'NAME VALUE'), repeatable" },
	{ "auth-http-timeout", T_MSEC, OFF(auth_http_timeout), "60s", NULL, 0,
	    "time allowed for an auth_http reply" },
	{ "auth-http-pass-client-cert", T_FLAG,
	    OFF(auth_http_pass_client_cert), "off", NULL, 0,
	    "send it the client certificate" },

	{ "starttls", T_STARTTLS, OFF(starttls), "off", NULL, 0,
	    "offer STARTTLS; only: require it before a login" },
	{ "ssl", T_FLAG, OFF(ssl), "off", NULL, 0,
	    "implicit TLS on the client connection" },
	{ "ssl-certificate", T_REPEAT, OFF(ssl_certificate), NULL, "FILE", 0,
	    "server certificate chain (PEM), repeatable" },
	{ "ssl-certificate-key", T_REPEAT, OFF(ssl_certificate_key), NULL,
	    "FILE", 0, "its private key, repeatable, in the same order" },
	{ "ssl-password-file", T_STRING, OFF(ssl_password_file), NULL, "FILE",
	    0, "passphrases of the keys, one a line" },
	{ "ssl-protocols", T_LIST, OFF(ssl_protocols), OPTIONS_TLS_PROTOCOLS,
	    NULL, 0, "TLS versions allowed" },
	{ "ssl-ciphers", T_STRING, OFF(ssl_ciphers), "HIGH:!aNULL:!MD5",
	    "CIPHERS", 0, "OpenSSL cipher list (TLSv1.2)" },
	{ "ssl-ecdh-curve", T_STRING, OFF(ssl_ecdh_curve), "auto", "CURVES", 0,
	    "key exchange groups, e.g. X25519:prime256v1" },
	{ "ssl-session-tickets", T_FLAG, OFF(ssl_session_tickets), "on", NULL,
	    0, "resume sessions (needs --ssl-session-ticket-key)" },
	{ "ssl-session-ticket-key", T_REPEAT, OFF(ssl_session_ticket_key),
	    NULL, "FILE", 0, "80 or 48 bytes; the first encrypts" },
	{ "ssl-verify-client", T_VERIFY, OFF(ssl_verify_client), "off", "MODE",
	    0, "on, off, optional or optional_no_ca" },
	{ "ssl-client-certificate", T_STRING, OFF(ssl_client_certificate),
	    NULL, "FILE", 0, "CAs to verify clients, announced" },
	{ "ssl-trusted-certificate", T_STRING, OFF(ssl_trusted_certificate),
	    NULL, "FILE", 0, "CAs to verify clients, not announced" },
	{ "ssl-verify-depth", T_COUNT, OFF(ssl_verify_depth), "1", NULL, 0,
	    "longest client certificate chain" },
	{ "ssl-crl", T_STRING, OFF(ssl_crl), NULL, "FILE", 0,
	    "revoked client certificates (PEM)" },

	{ "proxy-ssl", T_FLAG, OFF(proxy_ssl), "off", NULL, 0,
	    "implicit TLS to the backend" },
	{ "proxy-starttls", T_FLAG, OFF(proxy_starttls), "off", NULL, 0,
	    "STARTTLS (STLS) to the backend before the login" },
	{ "proxy-ssl-verify", T_FLAG, OFF(proxy_ssl_verify), "on", NULL, 0,
	    "verify the backend's certificate and name" },
	{ "proxy-ssl-name", T_STRING, OFF(proxy_ssl_name), NULL, "NAME", 0,
	    "name to verify and send (default: the backend's host)" },
	{ "proxy-ssl-trusted-certificate", T_STRING,
	    OFF(proxy_ssl_trusted_certificate), NULL, "FILE", 0,
	    "CAs for the backend and an https auth_http (default: the system's)" },
	{ "proxy-ssl-verify-depth", T_COUNT, OFF(proxy_ssl_verify_depth), "9",
	    NULL, 0, "longest backend certificate chain" },
	{ "proxy-ssl-certificate", T_STRING, OFF(proxy_ssl_certificate), NULL,
	    "FILE", 0, "client certificate towards the backend" },
	{ "proxy-ssl-certificate-key", T_STRING,
	    OFF(proxy_ssl_certificate_key), NULL, "FILE", 0, "its key" },
	{ "proxy-ssl-protocols", T_LIST, OFF(proxy_ssl_protocols),
	    OPTIONS_TLS_PROTOCOLS, NULL, 0,
	    "TLS versions towards the backend" },
	{ "proxy-ssl-ciphers", T_STRING, OFF(proxy_ssl_ciphers), "DEFAULT",
	    "CIPHERS", 0, "cipher list towards the backend (TLSv1.2)" },

	{ "set-real-ip-from", T_REPEAT, OFF(set_real_ip_from), NULL, "CIDR", 0,
	    "network trusted with PROXY, repeatable" },
	{ "listen-proxy-protocol", T_FLAG, OFF(listen_proxy_protocol), "off",
	    NULL, 0, "expect a PROXY header from the client" },
	{ "proxy-imap-id", T_FLAG, OFF(proxy_imap_id), "off", NULL, 0,
	    "send the client's address to the IMAP backend in ID" },
	{ "proxy-pop3-xclient", T_FLAG, OFF(proxy_pop3_xclient), "off", NULL,
	    0, "send the client's address to the POP3 backend in XCLIENT" },
};

/* the keywords of a type, and the auth method names */
struct word {
	const char	*name;
	int		 value;
};

static const struct word flag_words[] = {
	{ "on", 1 }, { "off", 0 }, { NULL, 0 }
};
static const struct word proto_words[] = {
	{ "smtp", PROTO_SMTP }, { "pop3", PROTO_POP3 }, { "imap", PROTO_IMAP },
	{ NULL, 0 }
};
static const struct word starttls_words[] = {
	{ "on", STARTTLS_ON }, { "off", STARTTLS_OFF },
	{ "only", STARTTLS_ONLY }, { NULL, 0 }
};
static const struct word engine_words[] = {
	{ "readwrite", ENGINE_READWRITE }, { "splice", ENGINE_SPLICE },
	{ NULL, 0 }
};
static const struct word verify_words[] = {
	{ "on", VERIFY_ON }, { "off", VERIFY_OFF },
	{ "optional", VERIFY_OPTIONAL },
	{ "optional_no_ca", VERIFY_OPTIONAL_NO_CA }, { NULL, 0 }
};
static const struct word proxyproto_words[] = {
	{ "off", PROXYPROTO_OFF }, { "on", PROXYPROTO_V1 },
	{ "v2", PROXYPROTO_V2 }, { NULL, 0 }
};
static const struct word auth_words[] = {
	{ "plain", AUTH_PLAIN }, { "login", AUTH_LOGIN }, { "apop", AUTH_APOP },
	{ "cram-md5", AUTH_CRAM_MD5 }, { "external", AUTH_EXTERNAL },
	{ "none", AUTH_NONE }, { "xoauth2", AUTH_XOAUTH2 },
	{ "oauthbearer", AUTH_OAUTHBEARER }, { NULL, 0 }
};

typedef int setter(const struct opt *, struct options *, const char *, int,
    char *, size_t);

static setter set_word, set_size, set_msec, set_count, set_string;
static setter set_list, set_auth, set_addr, set_repeat;

static const struct otype {
	const char	*arg;		/* --help's VALUE */
	const char	*what;		/* "bad WHAT" in messages */
	const struct word *words;	/* the keyword types */
	setter		*set;
} types[] = {
	[T_FLAG] =	{ "on|off", "value", flag_words, set_word },
	[T_SIZE] =	{ "SIZE", "size", NULL, set_size },
	[T_MSEC] =	{ "TIME", "time", NULL, set_msec },
	[T_COUNT] =	{ "N", "number", NULL, set_count },
	[T_STRING] =	{ "STRING", "value", NULL, set_string },
	[T_LIST] =	{ "'WORD ...'", "value", NULL, set_list },
	[T_AUTH] =	{ "'METHOD ...'", "method", auth_words, set_auth },
	[T_PROTO] =	{ "smtp|pop3|imap", "protocol", proto_words,
			    set_word },
	[T_STARTTLS] =	{ "on|off|only", "value", starttls_words,
			    set_word },
	[T_ENGINE] =	{ "readwrite|splice", "engine", engine_words,
			    set_word },
	[T_VERIFY] =	{ "MODE", "value", verify_words, set_word },
	[T_PROXYPROTO] = { "on|off|v2", "value", proxyproto_words,
			    set_word },
	[T_ADDR] =	{ "IP[:PORT]", "address", NULL, set_addr },
	[T_RESOLVER] =	{ "IP[:PORT]|off", "address", NULL, set_addr },
	[T_REPEAT] =	{ "VALUE", "value", NULL, set_repeat },
	[T_HOSTPORTS] =	{ "HOST:PORT", "address", NULL, set_repeat },
	[T_LINES] =	{ "LINE", "header", NULL, set_repeat },
};

#define FIELD(o, op, t)	((t *)(void *)((char *)(o) + (op)->off))

/*
 * The value as a message shows it: made printable and cut short, since
 * it may come from an environment file with stray bytes in it.
 */
const char *
options_shown(const char *s, size_t n, char *buf, size_t len)
{
	/* vis(3) writes at most 4 bytes a byte; keep room for "..." */
	size_t	 max = (len - 4) / 4;

	if (strnvisx(buf, len, s, n < max ? n : max,
	    VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_DQ) == -1)
		strlcpy(buf, "?", len);
	if (n > max)
		strlcat(buf, "...", len);
	return buf;
}

static int
bad(char *why, size_t len, const struct opt *op, const char *s, size_t n,
    const char *use)
{
	char	 buf[256];

	snprintf(why, len, "bad %s \"%s\" (use %s)", types[op->type].what,
	    options_shown(s, n, buf, sizeof buf), use);
	return -1;
}

/* Finds the keyword s[0..n) of a list; nginx takes them in any case. */
static const struct word *
word_find(const struct word *w, const char *s, size_t n)
{
	for (; w->name != NULL; w++)
		if (strlen(w->name) == n && strncasecmp(w->name, s, n) == 0)
			return w;
	return NULL;
}

/*
 * "a, b or c" for messages, or "a|b|c" for --help; mask, when not 0,
 * keeps the words with one of its bits.
 */
static const char *
words_list(const struct word *w, unsigned mask, int bars, char *buf,
    size_t len)
{
	const char	*pick[8];
	size_t		 i, n = 0;

	for (; w->name != NULL && n < nitems(pick); w++)
		if (mask == 0 || (w->value & mask))
			pick[n++] = w->name;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, bars ? "|" : i == n - 1 ? " or " : ", ",
			    len);
		strlcat(buf, pick[i], len);
	}
	return buf;
}

/* The setters: each parses one value into its field of o. */

static int
set_word(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	const struct word	*w = types[op->type].words;
	char			 use[128];

	(void)how;
	if ((w = word_find(w, val, strlen(val))) == NULL)
		return bad(why, len, op, val, strlen(val),
		    words_list(types[op->type].words, 0, 0, use, sizeof use));
	*FIELD(o, op, int) = w->value;
	return 0;
}

static int
set_size(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	(void)how;
	/* a buffer is allocated per session: keep it sane */
	if (parse_size(val, FIELD(o, op, size_t)) == -1 ||
	    *FIELD(o, op, size_t) > 16 * 1024 * 1024)
		return bad(why, len, op, val, strlen(val),
		    "512, 4k, 1m; more than 0, at most 16m");
	return 0;
}

static int
set_msec(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	(void)how;
	if (parse_msec(val, FIELD(o, op, long long)) == -1)
		return bad(why, len, op, val, strlen(val),
		    "500ms, 30s, 10m, 24h, 1d");
	return 0;
}

static int
set_count(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	const char	*s = val;
	long long	 n;
	char		 use[32];

	(void)how;
	if (number(&s, &n) == -1 || *s != '\0' || n > COUNT_MAX) {
		snprintf(use, sizeof use, "0 to %d", COUNT_MAX);
		return bad(why, len, op, val, strlen(val), use);
	}
	*FIELD(o, op, int) = (int)n;
	return 0;
}

/* An empty string is no string: MAILPROXY_SERVER_NAME= means the default. */
static int
set_string(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	(void)how;
	(void)why;
	(void)len;
	*FIELD(o, op, const char *) = *val == '\0' ? NULL : val;
	return 0;
}

/* An empty list is a list: --pop3-capabilities= announces none. */
static int
set_list(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	(void)how;
	(void)why;
	(void)len;
	*FIELD(o, op, const char *) = val;
	return 0;
}

static int
set_auth(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	const struct word	*w;
	unsigned		 bits = 0;
	size_t			 n;
	char			 use[128];

	(void)how;
	for (; *val != '\0'; val += n) {
		val += strspn(val, " \t");
		if ((n = strcspn(val, " \t")) == 0)
			continue;
		w = word_find(auth_words, val, n);
		if (w == NULL || !(w->value & op->bits))
			return bad(why, len, op, val, n, words_list(auth_words,
			    op->bits, 0, use, sizeof use));
		bits |= w->value;
	}
	/* nginx wants one method at least, and so do clients */
	if (bits == 0) {
		snprintf(why, len, "no method (use %s)", words_list(auth_words,
		    op->bits, 0, use, sizeof use));
		return -1;
	}
	*FIELD(o, op, unsigned) = bits;
	return 0;
}

static int
set_addr(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	const char	**field = FIELD(o, op, const char *);

	(void)how;
	switch (op->type) {
	case T_RESOLVER:
		if (strcasecmp(val, "off") == 0) {
			*field = NULL;
			return 0;
		}
		if (addr_check(val, 0, 1) == -1)
			return bad(why, len, op, val, strlen(val),
			    "off, IP, IP:PORT or [IPv6]:PORT");
		break;
	default:
		if (addr_check(val, 0, 1) == -1)
			return bad(why, len, op, val, strlen(val),
			    "IP, IP:PORT or [IPv6]:PORT");
		break;
	}
	*field = val;
	return 0;
}

/*
 * Appends item[0..n) to a repeatable option's value in rep_buf.  The
 * value grows in place while it is the last one stored; when another
 * option's value came after it, it is first moved to the end.
 */
static int
rep_add(struct options *o, const char **field, const char *item, size_t n,
    char *why, size_t len)
{
	char	*buf = o->rep_buf;
	size_t	 cur, room = sizeof o->rep_buf - o->rep_len;

	if (*field == NULL) {
		if (n + 1 > room)
			goto full;
		*field = buf + o->rep_len;
		memcpy(buf + o->rep_len, item, n);
		buf[o->rep_len + n] = '\0';
		o->rep_len += n + 1;
		return 0;
	}
	cur = strlen(*field);
	if (*field + cur + 1 != buf + o->rep_len) {
		if (cur + 1 > room)
			goto full;
		memcpy(buf + o->rep_len, *field, cur + 1);
		*field = buf + o->rep_len;
		o->rep_len += cur + 1;
		room -= cur + 1;
	}
	/* the value's NUL becomes the '\n' */
	if (n + 1 > room)
		goto full;
	buf[o->rep_len - 1] = '\n';
	memcpy(buf + o->rep_len, item, n);
	buf[o->rep_len + n] = '\0';
	o->rep_len += n + 1;
	return 0;

 full:
	snprintf(why, len, "no room: repeatable options hold %zu bytes in all",
	    sizeof o->rep_buf - 1);
	return -1;
}

/* RFC 9110's tchar: what a header name is made of */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
header_bad(char *why, size_t len, const char *name, size_t n,
    const char *what)
{
	char	 buf[256];

	snprintf(why, len, "header \"%s\": %s (use NAME: VALUE or NAME VALUE)",
	    options_shown(name, n, buf, sizeof buf), what);
	return -1;
}

/*
 * One --auth-http-header, "NAME: VALUE" or nginx's "NAME VALUE" (the
 * name, blanks, then the value as given, so that an auth_http_header
 * line copied from nginx.conf works; quotes are the shell's business),
 * written to line as "NAME: VALUE", the one form the request sends.
 * NAME is an HTTP token and VALUE holds no control character but tab,
 * which RFC 9110 allows inside a field: nothing may end the header line
 * or start another.  Messages name the header, never show its value (a
 * shared secret, often).  The line's length, or -1.
 */
static int
header_item(const char *s, size_t n, char *line, size_t cap, char *why,
    size_t len)
{
	size_t	 name, v, i;
	int	 w;

	for (name = 0; name < n && tchar(s[name]); name++)
		;
	/* shown up to the first wrong byte: what follows may be the secret */
	if (name == 0 || (name < n && s[name] != ':' && s[name] != ' ' &&
	    s[name] != '\t'))
		return header_bad(why, len, s, name + 1,
		    "the name is not an HTTP token");
	if (name == n)
		return header_bad(why, len, s, name, "no value");
	v = name + (s[name] == ':');
	while (v < n && (s[v] == ' ' || s[v] == '\t'))
		v++;
	/* "X-Key : v" would go out as "X-Key: : v" */
	if (s[name] != ':' && v < n && s[v] == ':')
		return header_bad(why, len, s, name, "a blank before the colon");
	for (i = v; i < n; i++)
		if (iscntrl((unsigned char)s[i]) && s[i] != '\t')
			return header_bad(why, len, s, name,
			    "a control character in the value");
	w = snprintf(line, cap, "%.*s: %.*s", (int)name, s, (int)(n - v),
	    s + v);
	if (w < 0 || (size_t)w >= cap)
		return header_bad(why, len, s, name, "too long");
	return w;
}

/* One item of a repeatable option, checked (a header made canonical). */
static int
rep_item(const struct opt *op, struct options *o, const char **field,
    const char *item, size_t n, char *why, size_t len)
{
	char	 line[OPTIONS_VALUE_MAX + 4];
	size_t	 i;
	int	 w;

	if (n == 0)
		return 0;
	if (op->type == T_LINES) {
		if ((w = header_item(item, n, line, sizeof line, why, len)) == -1)
			return -1;
		return rep_add(o, field, line, w, why, len);
	}
	if (op->type == T_HOSTPORTS) {
		/* NUL-terminated for addr_check: n <= OPTIONS_VALUE_MAX
		   (opt_store) */
		memcpy(line, item, n);
		line[n] = '\0';
		if (addr_check(line, 1, 0) == -1)
			return bad(why, len, op, item, n,
			    "HOST:PORT or [IPv6]:PORT");
		return rep_add(o, field, item, n, why, len);
	}
	for (i = 0; i < n; i++)
		if (iscntrl((unsigned char)item[i])) {
			snprintf(why, len, "control character in a value");
			return -1;
		}
	return rep_add(o, field, item, n, why, len);
}

/*
 * argv gives one item a time, the first replacing what the environment
 * said; the environment gives them all in one value.  A header holds
 * blanks, so headers are split at newlines only.
 */
static int
set_repeat(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	const char	**field = FIELD(o, op, const char *);
	const char	 *seps = op->type == T_LINES ? "\n" : " \t\n";
	size_t		  n;

	if (how != SET_ARGV_MORE)
		*field = NULL;
	if (how != SET_ENV)
		return rep_item(op, o, field, val, strlen(val), why, len);
	for (; *val != '\0'; val += n) {
		val += strspn(val, seps);
		n = strcspn(val, seps);
		if (rep_item(op, o, field, val, n, why, len) == -1)
			return -1;
	}
	return 0;
}

/* The checks every value passes, then its type's setter. */
static int
opt_store(const struct opt *op, struct options *o, const char *val, int how,
    char *why, size_t len)
{
	const char	*s;

	if (strlen(val) > OPTIONS_VALUE_MAX) {
		snprintf(why, len, "value too long (at most %d bytes)",
		    OPTIONS_VALUE_MAX);
		return -1;
	}
	/* a CR or LF in a name or keyword would end up in a reply line */
	if (op->type != T_REPEAT && op->type != T_LINES &&
	    op->type != T_HOSTPORTS)
		for (s = val; *s != '\0'; s++)
			if (iscntrl((unsigned char)*s)) {
				snprintf(why, len,
				    "control character in the value");
				return -1;
			}
	return types[op->type].set(op, o, val, how, why, len);
}

/* The default in nginx syntax, with the page size put in for "4k|8k". */
static const char *
opt_default(const struct opt *op, char *buf, size_t len)
{
	long	 pg;

	if (op->def == NULL || strcmp(op->def, PAGESIZE_DEF) != 0)
		return op->def;
	if ((pg = sysconf(_SC_PAGESIZE)) <= 0)
		pg = 4096;
	snprintf(buf, len, "%ld", pg);
	return buf;
}

static const struct opt *
opt_find(const char *name, size_t n)
{
	const struct opt	*op;

	for (op = opts; op < opts + nitems(opts); op++)
		if (strlen(op->name) == n && strncmp(op->name, name, n) == 0)
			return op;
	return NULL;
}

/* MAILPROXY_ and the name upper-cased, '-' written '_' */
static void
env_name(const struct opt *op, char *buf, size_t len)
{
	size_t	 i;

	snprintf(buf, len, "%s%s", ENV_PREFIX, op->name);
	for (i = strlen(ENV_PREFIX); buf[i] != '\0'; i++)
		buf[i] = buf[i] == '-' ? '_' : toupper((unsigned char)buf[i]);
}

static const struct opt *
opt_env_find(const char *var, size_t n)
{
	const struct opt	*op;
	char			 name[64];

	for (op = opts; op < opts + nitems(opts); op++) {
		env_name(op, name, sizeof name);
		if (strlen(name) == n && strncmp(name, var, n) == 0)
			return op;
	}
	return NULL;
}

/* The option's name as its source spells it, for messages. */
static void
opt_label(const struct opt *op, int how, char *buf, size_t len)
{
	if (how == SET_ENV)
		env_name(op, buf, len);
	else
		snprintf(buf, len, "--%s", op->name);
}

/* One value from argv or the environment, with the message in err. */
static int
opt_apply(const struct opt *op, struct options *o, const char *val, int how,
    char *err, size_t errlen)
{
	char	 label[64], why[512];
	int	 rc;

	rc = opt_store(op, o, val, how, why, sizeof why);
	if (rc == -1) {
		opt_label(op, how, label, sizeof label);
		snprintf(err, errlen, "%s: %s", label, why);
	}
	return rc;
}

int
options_set(struct options *o, const char *name, const char *value, int how,
    char *err, size_t errlen)
{
	const struct opt	*op;
	char			 buf[256];

	if ((op = opt_find(name, strlen(name))) == NULL) {
		snprintf(err, errlen, "--%s: unknown option",
		    options_shown(name, strlen(name), buf, sizeof buf));
		return -1;
	}
	return opt_apply(op, o, value, how, err, errlen);
}

static int
parse_defaults(struct options *o, char *err, size_t errlen)
{
	const struct opt	*op;
	const char		*def;
	char			 buf[32];

	memset(o, 0, sizeof *o);
	for (op = opts; op < opts + nitems(opts); op++) {
		if ((def = opt_default(op, buf, sizeof buf)) == NULL)
			continue;
		/*
		 * "off" is each keyword type's 0, which the memset stored:
		 * a third of the table, parsed for nothing by every session
		 * (options_test checks that each of them reads as 0).
		 */
		if (types[op->type].words != NULL && strcmp(def, "off") == 0)
			continue;
		_Static_assert(STARTTLS_OFF == 0 && VERIFY_OFF == 0 &&
		    PROXYPROTO_OFF == 0, "\"off\" must be 0");
		/* a size keeps no pointer to buf, where the page size is */
		if (opt_apply(op, o, def, SET_ARGV, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
parse_env(struct options *o, char **envp, char *err, size_t errlen)
{
	const struct opt	*op;
	const char		*eq;
	char			 buf[256];
	size_t			 plen = strlen(ENV_PREFIX);

	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, ENV_PREFIX, plen) != 0 ||
		    (eq = strchr(*envp, '=')) == NULL)
			continue;
		/* a typo in an environment file must not pass unseen */
		if ((op = opt_env_find(*envp, eq - *envp)) == NULL) {
			snprintf(err, errlen, "%s: unknown option",
			    options_shown(*envp, eq - *envp, buf, sizeof buf));
			return -1;
		}
		if (opt_apply(op, o, eq + 1, SET_ENV, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
parse_argv(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	const struct opt	*op;
	const char		*name, *val, *eq;
	char			 buf[256];
	unsigned char		 seen[nitems(opts)] = { 0 };
	size_t			 n;
	int			 i;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			snprintf(err, errlen, argv[i][0] == '-' ?
			    "%s: unknown option (see --help)" :
			    "%s: unexpected argument (options are --name=value)",
			    options_shown(argv[i], strlen(argv[i]), buf,
			    sizeof buf));
			return -1;
		}
		if (strcmp(argv[i], "--check") == 0) {
			o->check = 1;
			continue;
		}
		name = argv[i] + 2;
		if ((eq = strchr(name, '=')) != NULL) {
			n = eq - name;
			val = eq + 1;
		} else {
			n = strlen(name);
			val = NULL;
		}
		if ((op = opt_find(name, n)) == NULL) {
			snprintf(err, errlen, "--%s: unknown option (see --help)",
			    options_shown(name, n, buf, sizeof buf));
			return -1;
		}
		/* "--backend --timeout=5s" lacks a value: it is no value */
		if (val == NULL) {
			if (i + 1 == argc || strncmp(argv[i + 1], "--", 2) == 0) {
				snprintf(err, errlen, "--%s: missing value",
				    op->name);
				return -1;
			}
			val = argv[++i];
		}
		if (opt_apply(op, o, val, seen[op - opts] ? SET_ARGV_MORE :
		    SET_ARGV, err, errlen) == -1)
			return -1;
		seen[op - opts] = 1;
	}
	return 0;
}

/*
 * --help and --version answer before anything else is read, so that a
 * broken environment file cannot hide the help that would fix it.
 */
static int
parse_early(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return OPT_HELP;
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0)
			return OPT_VERSION;
	}
	return OPT_RUN;
}

int
options_parse(struct options *o, int argc, char **argv, char **envp,
    char *err, size_t errlen)
{
	int	 rc;

	if (parse_defaults(o, err, errlen) == -1)
		return OPT_ERROR;
	if ((rc = parse_early(argc, argv)) != OPT_RUN)
		return rc;
	if (parse_env(o, envp, err, errlen) == -1 ||
	    parse_argv(o, argc, argv, err, errlen) == -1)
		return OPT_ERROR;

	return options_check(o, err, errlen) == -1 ? OPT_ERROR : OPT_RUN;
}

static const char *
opt_arg(const struct opt *op)
{
	return op->arg != NULL ? op->arg : types[op->type].arg;
}

void
options_help(FILE *fp)
{
	const struct opt	*op;
	char			 left[80], methods[128];
	int			 width = 0, n;

	for (op = opts; op < opts + nitems(opts); op++) {
		n = snprintf(left, sizeof left, "--%s=%s", op->name,
		    opt_arg(op));
		if (n > width)
			width = n;
	}

	fprintf(fp,
	    "usage: mailproxy --protocol=smtp|pop3|imap "
	    "--backend=HOST:PORT|--auth-http=URL [--NAME=VALUE ...]\n"
	    "       mailproxy --check [--NAME=VALUE ...]  "
	    "(loads certificates and keys)\n"
	    "       mailproxy --help | --version\n"
	    "\n"
	    "Each option may also be set in the environment as MAILPROXY_NAME,\n"
	    "e.g. MAILPROXY_PROXY_TIMEOUT=10m; the command line wins.\n"
	    "Times: 500ms 30s 10m 24h 1d 1h30m (bare: seconds); "
	    "sizes: 512 4k 1m.\n"
	    "\n");
	for (op = opts; op < opts + nitems(opts); op++) {
		snprintf(left, sizeof left, "--%s=%s", op->name, opt_arg(op));
		fprintf(fp, "  %-*s  %s", width, left, op->help);
		if (op->type == T_AUTH)
			fprintf(fp, ": %s", words_list(auth_words,
			    op->bits, 1, methods, sizeof methods));
		if (op->def != NULL)
			fprintf(fp, " (default: %s%s)",
			    *op->def == '\0' ? "empty" : op->def,
			    strcmp(op->def, PAGESIZE_DEF) == 0 ?
			    ", the page size" : "");
		fputc('\n', fp);
	}
	fprintf(fp, "  %-*s  %s\n", width, "-h, --help", "this text");
	fprintf(fp, "  %-*s  %s\n", width, "-V, --version", "the version");
}
