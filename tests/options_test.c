/*
 * options.c on its own: the value parsers at their edges, then
 * options_parse as a user meets it.  Prints TAP; exits 1 on a failure.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../options.h"

static int	 tests, failed;

static void
ok(int cond, const char *fmt, ...)
{
	va_list	 ap;

	tests++;
	if (!cond)
		failed++;
	printf("%sok %d - ", cond ? "" : "not ", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
flag(const char *s, int want)
{
	int	 v = -2;

	if (want == -1)
		ok(parse_flag(s, &v) == -1, "parse_flag(\"%s\") refused", s);
	else
		ok(parse_flag(s, &v) == 0 && v == want,
		    "parse_flag(\"%s\") = %d", s, want);
}

static void
size(const char *s, size_t want)
{
	size_t	 v = 0;

	if (want == 0)
		ok(parse_size(s, &v) == -1, "parse_size(\"%s\") refused", s);
	else
		ok(parse_size(s, &v) == 0 && v == want,
		    "parse_size(\"%s\") = %zu", s, want);
}

static void
msec(const char *s, long long want)
{
	long long	 v = -2;

	if (want == -1)
		ok(parse_msec(s, &v) == -1, "parse_msec(\"%s\") refused", s);
	else
		ok(parse_msec(s, &v) == 0 && v == want,
		    "parse_msec(\"%s\") = %lld", s, want);
}

/* options_parse on a NULL-terminated argv and envp */
static int
parse(struct options *o, char **argv, char **envp, char *err, size_t len)
{
	int	 argc = 0;

	err[0] = '\0';
	while (argv[argc] != NULL)
		argc++;
	return options_parse(o, argc, argv, envp, err, len);
}

static void
parsers(void)
{
	flag("on", 1);
	flag("off", 0);
	flag("ON", 1);
	flag("yes", -1);
	flag("", -1);
	flag("on ", -1);

	size("512", 512);
	size("4k", 4096);
	size("4K", 4096);
	size("1m", 1048576);
	size("1M", 1048576);
	size("9007199254740991k", 9223372036854774784ULL);
	size("9007199254740992k", 0);		/* 2^63: overflow */
	size("99999999999999999999", 0);
	size("0", 0);
	size("0k", 0);
	size("", 0);
	size("k", 0);
	size("-1", 0);
	size("+1", 0);
	size(" 1", 0);
	size("1 ", 0);
	size("4kk", 0);
	size("1g", 0);
	size("1.5k", 0);

	msec("500ms", 500);
	msec("30s", 30000);
	msec("10m", 600000);
	msec("24h", 86400000);
	msec("1d", 86400000);
	msec("1w", 604800000);
	msec("30", 30000);
	msec("0", 0);
	msec("1h30m", 5400000);
	msec("1m30", 90000);
	msec("1s500ms", 1500);
	msec("1d2h3m4s5ms", 93784005);
	msec("106751991167d", 106751991167LL * 86400000);
	msec("106751991168d", -1);		/* overflow */
	msec("9223372036854775807s", -1);
	msec("9223372036854775807ms", 9223372036854775807LL);
	msec("10x", -1);
	msec("", -1);
	msec("ms", -1);
	msec("m", -1);
	msec("1m1h", -1);
	msec("1h1h", -1);
	msec("30s5", -1);
	msec("1ms5", -1);
	msec("-1s", -1);
	msec(" 1s", -1);
	msec("1s ", -1);
	msec("1.5s", -1);
	msec("1 h", -1);
}

static void
precedence(void)
{
	struct options	 o;
	char		 err[256];
	char		*argv0[] = { "mailproxy", NULL };
	char		*argv1[] = { "mailproxy", "--proxy-timeout=5s",
	    "--backend", "[::1]:2525", NULL };
	char		*env[] = { "PATH=/bin", "MAILPROXY_PROTOCOL=pop3",
	    "MAILPROXY_BACKEND=mx.example:110",
	    "MAILPROXY_PROXY_TIMEOUT=10m", "MAILPROXY_STARTTLS=off",
	    "MAILPROXY_RESOLVER=off", "MAILPROXY_SET_REAL_IP_FROM=",
	    "MAILPROXY_SSL_PROTOCOLS=TLSv1.2 TLSv1.3", NULL };
	int		 rc;

	rc = parse(&o, argv0, env, err, sizeof err);
	ok(rc == OPT_RUN, "env alone runs (%s)", err);
	ok(o.protocol == PROTO_POP3, "env: protocol");
	ok(o.backend != NULL && strcmp(o.backend, "mx.example:110") == 0,
	    "env: backend");
	ok(o.proxy_timeout == 600000, "env: proxy-timeout 10m");
	ok(o.ssl == 0 && o.starttls == STARTTLS_OFF && o.proxy_ssl == 0 &&
	    o.proxy_starttls == 0 && o.ssl_verify_client == VERIFY_OFF &&
	    o.proxy_protocol == PROXYPROTO_OFF && o.proxy_smtp_auth == 0 &&
	    o.proxy_pass_error_message == 0 &&
	    o.auth_http_pass_client_cert == 0 && o.listen_proxy_protocol == 0 &&
	    o.xclient == 1 && o.proxy_ssl_verify == 1 &&
	    o.ssl_session_tickets == 1,
	    "defaults: every \"off\" reads as 0 (not parsed), \"on\" as 1");
	ok(o.starttls == STARTTLS_OFF && o.resolver == NULL &&
	    o.set_real_ip_from == NULL,
	    "env: options restating their default are accepted");

	ok(o.timeout == 60000 && o.resolver_timeout == 30000 &&
	    o.auth_http_timeout == 60000, "default times");
	ok(o.proxy_buffer == (size_t)sysconf(_SC_PAGESIZE) &&
	    o.smtp_client_buffer == o.proxy_buffer &&
	    o.imap_client_buffer == o.proxy_buffer, "default buffers: a page");
	ok(o.xclient == 1 && o.proxy_protocol == 0 && o.max_errors == 5 &&
	    o.smtp_greeting_delay == 0, "default flags and counts");
	ok(o.smtp_auth == (AUTH_PLAIN | AUTH_LOGIN) &&
	    o.pop3_auth == AUTH_PLAIN && o.imap_auth == AUTH_PLAIN,
	    "default auth methods");
	ok(strcmp(o.pop3_capabilities, "TOP USER UIDL") == 0 &&
	    strcmp(o.imap_capabilities, "IMAP4 IMAP4rev1 UIDPLUS") == 0 &&
	    strcmp(o.smtp_capabilities, "") == 0, "default capabilities");
	ok(o.server_name == NULL && o.client_addr == NULL &&
	    o.auth_http == NULL, "no default names");

	rc = parse(&o, argv1, env, err, sizeof err);
	ok(rc == OPT_RUN && o.proxy_timeout == 5000, "argv wins over env");
	ok(o.backend != NULL && strcmp(o.backend, "[::1]:2525") == 0,
	    "argv: --name value");
}

static void
repeatable(void)
{
	struct options	 o;
	char		 err[256], item[200];
	char		*argv[] = { "mailproxy", NULL };
	char		*env[] = { "MAILPROXY_PROTOCOL=smtp",
	    "MAILPROXY_BACKEND=h:25", NULL };
	int		 i, rc = 0;

	/* the repeatable options, through options_set */
	parse(&o, argv, env, err, sizeof err);
	options_set(&o, "set-real-ip-from", "10.0.0.0/8", SET_ARGV, err,
	    sizeof err);
	options_set(&o, "ssl-certificate", "a.pem", SET_ARGV, err, sizeof err);
	options_set(&o, "set-real-ip-from", "192.168.0.0/16", SET_ARGV_MORE,
	    err, sizeof err);
	options_set(&o, "ssl-certificate", "b.pem", SET_ARGV_MORE, err,
	    sizeof err);
	options_set(&o, "set-real-ip-from", "::1/128", SET_ARGV_MORE, err,
	    sizeof err);
	ok(strcmp(o.set_real_ip_from, "10.0.0.0/8\n192.168.0.0/16\n::1/128")
	    == 0, "repeatable joined with newlines");
	ok(strcmp(o.ssl_certificate, "a.pem\nb.pem") == 0,
	    "repeatable joined, interleaved with another");

	options_set(&o, "set-real-ip-from", " 10.1.0.0/16\n\n10.2.0.0/16  ",
	    SET_ENV, err, sizeof err);
	ok(strcmp(o.set_real_ip_from, "10.1.0.0/16\n10.2.0.0/16") == 0,
	    "repeatable from env: split at blanks and newlines");
	options_set(&o, "set-real-ip-from", "10.3.0.0/16", SET_ARGV, err,
	    sizeof err);
	ok(strcmp(o.set_real_ip_from, "10.3.0.0/16") == 0,
	    "repeatable: argv's first replaces env");
	options_set(&o, "auth-http-header", "X-Auth-Key: s3cret\nX-A: b",
	    SET_ENV, err, sizeof err);
	ok(strcmp(o.auth_http_header, "X-Auth-Key: s3cret\nX-A: b") == 0,
	    "header lines keep their blanks");
	ok(options_set(&o, "auth-http-header", "X-A: b\r", SET_ARGV, err,
	    sizeof err) == -1, "control character refused (%s)", err);

	memset(item, 'x', sizeof item - 1);
	item[sizeof item - 1] = '\0';
	for (i = 0; i < 100 && rc == 0; i++)
		rc = options_set(&o, "ssl-certificate-key", item,
		    i ? SET_ARGV_MORE : SET_ARGV, err, sizeof err);
	ok(rc == -1 && strstr(err, "--ssl-certificate-key: no room") == err,
	    "repeatable storage is bounded (%s)", err);
	ok(o.rep_len <= sizeof o.rep_buf, "rep_len within rep_buf");
}

/*
 * --backend, repeatable: in the order given, argv's first replacing the
 * environment's list, each one checked as HOST:PORT.
 */
static void
backends(void)
{
	struct options	 o;
	char		 err[256], item[300];
	const char	*list;
	char		*argv[] = { "mailproxy", "--backend=mx1.test:25",
	    "--backend", "[::1]:2525", "--backend=10.0.0.3:25", NULL };
	char		*one[] = { "mailproxy", NULL };
	char		*bad[] = { "mailproxy", "--backend=mx1.test:25",
	    "--backend=mx2.test", NULL };
	char		*env[] = { "MAILPROXY_PROTOCOL=smtp",
	    "MAILPROXY_BACKEND= mx1.test:25\tmx2.test:25\n[::1]:25 ", NULL };
	char		*badenv[] = { "MAILPROXY_PROTOCOL=smtp",
	    "MAILPROXY_BACKEND=mx1.test:25 mx2.test:x", NULL };
	int		 rc;

	rc = parse(&o, argv, env, err, sizeof err);
	ok(rc == OPT_RUN && strcmp(o.backend,
	    "mx1.test:25\n[::1]:2525\n10.0.0.3:25") == 0,
	    "--backend repeated: all of argv's, in order, env's replaced");
	ok(options_count(o.backend) == 3, "--backend: three of them");
	list = o.backend;
	ok(options_value_next(&list, item, sizeof item) == 11 &&
	    strcmp(item, "mx1.test:25") == 0 &&
	    options_value_next(&list, item, sizeof item) == 10 &&
	    strcmp(item, "[::1]:2525") == 0 &&
	    options_value_next(&list, item, sizeof item) == 11 &&
	    options_value_next(&list, item, sizeof item) == 0,
	    "--backend: read back one at a time, in order");
	rc = parse(&o, one, env, err, sizeof err);
	ok(rc == OPT_RUN && strcmp(o.backend,
	    "mx1.test:25\nmx2.test:25\n[::1]:25") == 0,
	    "MAILPROXY_BACKEND: a list split at blanks and newlines");
	rc = parse(&o, bad, env, err, sizeof err);
	ok(rc == OPT_ERROR && strcmp(err, "--backend: bad address "
	    "\"mx2.test\" (use HOST:PORT or [IPv6]:PORT)") == 0,
	    "--backend: the bad one named (%s)", err);
	rc = parse(&o, one, badenv, err, sizeof err);
	ok(rc == OPT_ERROR && strcmp(err, "MAILPROXY_BACKEND: bad address "
	    "\"mx2.test:x\" (use HOST:PORT or [IPv6]:PORT)") == 0,
	    "MAILPROXY_BACKEND: the bad one named (%s)", err);
}

/* s with its control bytes as \ooo, so that a TAP line stays one line */
static const char *
esc(const char *s, char *buf, size_t len)
{
	size_t	 n = 0;

	for (; *s != '\0' && n + 5 < len; s++) {
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			n += snprintf(buf + n, len - n, "\\%03o",
			    (unsigned char)*s);
		else
			buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

/* one --auth-http-header on argv: stored as want, or refused (want NULL) */
static void
header(const char *val, const char *want)
{
	static const char	 pfx[] = "--auth-http-header: header \"";
	struct options		 o;
	char			 err[256], e1[128], e2[128];
	int			 rc;

	memset(&o, 0, sizeof o);
	err[0] = '\0';
	rc = options_set(&o, "auth-http-header", val, SET_ARGV, err,
	    sizeof err);
	if (want == NULL)
		ok(rc == -1 && strncmp(err, pfx, sizeof pfx - 1) == 0 &&
		    strchr(err, '\n') == NULL, "header \"%s\" refused (%s)",
		    esc(val, e1, sizeof e1), err);
	else
		ok(rc == 0 && o.auth_http_header != NULL &&
		    strcmp(o.auth_http_header, want) == 0,
		    "header \"%s\" sent as \"%s\"", esc(val, e1, sizeof e1),
		    esc(want, e2, sizeof e2));
}

static void
headers(void)
{
	struct options	 o;
	char		 err[256];
	char		*argv[] = { "mailproxy", "--auth-http-header=X-Bad(1): v",
	    NULL };
	char		*argv2[] = { "mailproxy", "--auth-http-header",
	    "X-Key: s3cr\001t", NULL };
	char		*env[] = { "MAILPROXY_PROTOCOL=smtp",
	    "MAILPROXY_BACKEND=h:25", NULL };
	char		*badenv[] = { "MAILPROXY_PROTOCOL=smtp",
	    "MAILPROXY_BACKEND=h:25",
	    "MAILPROXY_AUTH_HTTP_HEADER=X-A: 1\nX-B 2\r\n", NULL };
	int		 rc;

	/* nginx's form, as auth_http_header lines are copied */
	header("X-Type proxy", "X-Type: proxy");
	header("X-Auth-Key \"secret\"", "X-Auth-Key: \"secret\"");
	header("X-Two  a b  c ", "X-Two: a b  c ");
	header("X-Tab\tv", "X-Tab: v");
	header("X-Empty ", "X-Empty: ");
	/* and the HTTP form */
	header("X-Auth-Key: s3cret", "X-Auth-Key: s3cret");
	header("X-A:b", "X-A: b");
	header("X-A: \t b", "X-A: b");
	header("X-A:", "X-A: ");
	header("X-A: a: b", "X-A: a: b");
	header("!#$%&'*+-.^_`|~09az: v", "!#$%&'*+-.^_`|~09az: v");
	/* a tab inside a value is allowed (RFC 9110 field-content) */
	header("X-A: a\tb", "X-A: a\tb");
	header("X-A a\tb", "X-A: a\tb");

	header("X-Bad(1): v", NULL);
	header("X\"Q: v", NULL);
	header("X/Y v", NULL);
	header("\xc3\x84: v", NULL);
	header(": v", NULL);
	header(" X-A: v", NULL);
	header("X-A", NULL);
	header("X-A : v", NULL);
	header("X-A\t: v", NULL);
	header("X-A: v\r", NULL);
	header("X-A: v\nX-B: w", NULL);
	header("X-A v\r\nX-B: w", NULL);
	header("X-A: \001", NULL);
	header("X-A: \177", NULL);
	header("X-A\r: v", NULL);

	rc = parse(&o, argv, env, err, sizeof err);
	ok(rc == OPT_ERROR && strcmp(err, "--auth-http-header: header "
	    "\"X-Bad(\": the name is not an HTTP token (use NAME: VALUE or "
	    "NAME VALUE)") == 0, "bad header name: \"%s\"", err);
	rc = parse(&o, argv2, env, err, sizeof err);
	ok(rc == OPT_ERROR && strcmp(err, "--auth-http-header: header "
	    "\"X-Key\": a control character in the value (use NAME: VALUE "
	    "or NAME VALUE)") == 0, "bad header value, not shown: \"%s\"",
	    err);
	rc = parse(&o, argv, badenv, err, sizeof err);
	ok(rc == OPT_ERROR && strcmp(err, "MAILPROXY_AUTH_HTTP_HEADER: header "
	    "\"X-B\": a control character in the value (use NAME: VALUE or "
	    "NAME VALUE)") == 0, "bad header in env: \"%s\"", err);

	memset(&o, 0, sizeof o);
	options_set(&o, "auth-http-header", "X-Key s3cret\n\nX-A: b c\n",
	    SET_ENV, err, sizeof err);
	ok(o.auth_http_header != NULL &&
	    strcmp(o.auth_http_header, "X-Key: s3cret\nX-A: b c") == 0,
	    "env: one header a line, either form");
	options_set(&o, "auth-http-header", "X-B 1", SET_ARGV, err,
	    sizeof err);
	options_set(&o, "auth-http-header", "X-C:2", SET_ARGV_MORE, err,
	    sizeof err);
	ok(strcmp(o.auth_http_header, "X-B: 1\nX-C: 2") == 0,
	    "argv: repeated, either form");
}

static void
lists(void)
{
	const char	*list = " TOP  USER\nUIDL-TOO-LONG-FOR-IT x ";
	const char	*none = NULL;
	char		 item[8];

	ok(options_list_next(&list, item, sizeof item) == 3 &&
	    strcmp(item, "TOP") == 0, "list: first word");
	ok(options_list_next(&list, item, sizeof item) == 4 &&
	    strcmp(item, "USER") == 0, "list: blanks and newlines separate");
	ok(options_list_next(&list, item, sizeof item) == -1,
	    "list: a word too long is refused");
	ok(options_list_next(&list, item, sizeof item) == 1 &&
	    strcmp(item, "x") == 0, "list: and skipped");
	ok(options_list_next(&list, item, sizeof item) == 0 &&
	    options_list_next(&list, item, sizeof item) == 0, "list: end");
	ok(options_list_next(&none, item, sizeof item) == 0, "list: NULL");

	list = "a b.pem\ntoo-long.pem\nc";
	ok(options_value_next(&list, item, sizeof item) == 7 &&
	    strcmp(item, "a b.pem") == 0, "values: only newlines separate");
	ok(options_value_next(&list, item, sizeof item) == -1 &&
	    options_value_next(&list, item, sizeof item) == 1 &&
	    strcmp(item, "c") == 0, "values: one too long is refused, skipped");
	ok(options_value_next(&list, item, sizeof item) == 0 &&
	    options_value_next(&none, item, sizeof item) == 0 &&
	    options_count(NULL) == 0 && options_count("a\nb c\nd") == 3,
	    "values: the end, NULL, and their count");
}

static void
refused(const char *what, char **argv, char **env, int want_rc,
    const char *want)
{
	struct options	 o;
	char		 err[256];
	int		 rc;

	rc = parse(&o, argv, env, err, sizeof err);
	ok(rc == want_rc && strcmp(err, want) == 0, "%s: \"%s\"", what, err);
}

static void
errors(void)
{
	char	*noenv[] = { NULL };
	char	*env[] = { "MAILPROXY_PROTOCOL=smtp", "MAILPROXY_BACKEND=h:25",
	    NULL };
	char	*badenv[] = { "MAILPROXY_PROXY_TIMOUT=10m", NULL };
	char	*countenv[] = { "MAILPROXY_MAX_COMMANDS=ten", NULL };
	char	*a1[] = { "mailproxy", "--max-commands=ten", NULL };
	char	*a2[] = { "mailproxy", "--resolver", "bogus", NULL };
	char	*a3[] = { "mailproxy", "--frobnicate=1", NULL };
	char	*a4[] = { "mailproxy", "--backend=h:25", NULL };
	char	*a5[] = { "mailproxy", "--protocol=imap", NULL };
	char	*a6[] = { "mailproxy", "--proxy-timeout=10x", NULL };
	char	*a7[] = { "mailproxy", "--backend", NULL };
	char	*a8[] = { "mailproxy", "smtp", NULL };
	char	*a9[] = { "mailproxy", "--pop3-auth=login", NULL };
	char	*a10[] = { "mailproxy", "--backend=::1:25", NULL };
	char	*a11[] = { "mailproxy", "--bogus", "--help", NULL };
	char	*a12[] = { "mailproxy", "-V", NULL };
	char	*a13[] = { "mailproxy", "--smtp-auth=plain external", NULL };
	char	*a14[] = { "mailproxy", "--protocol=pop3", "--pop3-auth",
	    "EXTERNAL", NULL };
	char	*a15[] = { "mailproxy", "--protocol=imap", "--imap-auth=external",
	    "--ssl=on", "--ssl-certificate=c", "--ssl-certificate-key=k",
	    "--ssl-verify-client=optional_no_ca", NULL };
	char	*a16[] = { "mailproxy", "--imap-auth=external", "--protocol=imap",
	    "--ssl=on", "--ssl-certificate=c", "--ssl-certificate-key=k",
	    "--ssl-verify-client=optional_no_ca", "--auth-http=http://a/", NULL };
	char	*a17[] = { "mailproxy", "--ssl-protocols=TLSv1.2 TLSv1.4", NULL };
	char	*a18[] = { "mailproxy", "--proxy-ssl=on", "--proxy-starttls=on",
	    NULL };
	char	*a19[] = { "mailproxy", "--proxy-ssl-certificate=c", NULL };
	char	*a20[] = { "mailproxy", "--ssl=on", "--ssl-certificate=a",
	    "--ssl-certificate=b", "--ssl-certificate-key=k", NULL };
	char	*extenv[] = { "MAILPROXY_PROTOCOL=smtp", "MAILPROXY_BACKEND=h:25",
	    "MAILPROXY_SMTP_AUTH=login external", NULL };
	char	*run[] = { "mailproxy", NULL };
	char	*a21[] = { "mailproxy", "--listen-proxy-protocol=on",
	    "--set-real-ip-from=127.0.0.1", "--set-real-ip-from=10.0.0.0/33",
	    NULL };
	char	*a22[] = { "mailproxy", "--listen-proxy-protocol=on",
	    "--set-real-ip-from=10.0.0.0/8", "--set-real-ip-from=::1",
	    "--set-real-ip-from=2001:db8::/32", NULL };
	char	*realenv[] = { "MAILPROXY_PROTOCOL=smtp", "MAILPROXY_BACKEND=h:25",
	    "MAILPROXY_SET_REAL_IP_FROM=127.0.0.0/8 mx.example", NULL };

	refused("bad number on argv", a1, env, OPT_ERROR,
	    "--max-commands: bad number \"ten\" (use 0 to 1000000)");
	refused("resolver not an address", a2, env, OPT_ERROR,
	    "--resolver: bad address \"bogus\" (use off, IP, IP:PORT or "
	    "[IPv6]:PORT)");
	refused("bad number in env", run, countenv, OPT_ERROR,
	    "MAILPROXY_MAX_COMMANDS: bad number \"ten\" (use 0 to 1000000)");
	refused("unknown option", a3, env, OPT_ERROR,
	    "--frobnicate: unknown option (see --help)");
	refused("unknown env variable", run, badenv, OPT_ERROR,
	    "MAILPROXY_PROXY_TIMOUT: unknown option");
	refused("missing protocol", a4, noenv, OPT_ERROR,
	    "--protocol: required (smtp, pop3 or imap)");
	refused("missing backend", a5, noenv, OPT_ERROR,
	    "--backend: required (or --auth-http)");
	refused("bad time", a6, env, OPT_ERROR,
	    "--proxy-timeout: bad time \"10x\" (use 500ms, 30s, 10m, 24h, 1d)");
	refused("missing value", a7, env, OPT_ERROR, "--backend: missing value");
	refused("positional argument", a8, env, OPT_ERROR,
	    "smtp: unexpected argument (options are --name=value)");
	refused("auth method of another protocol", a9, env, OPT_ERROR,
	    "--pop3-auth: bad method \"login\" "
	    "(use plain, apop, cram-md5, external, xoauth2 or oauthbearer)");
	refused("unbracketed IPv6 backend", a10, env, OPT_ERROR,
	    "--backend: bad address \"::1:25\" "
	    "(use HOST:PORT or [IPv6]:PORT)");
	refused("--help despite errors", a11, badenv, OPT_HELP, "");
	refused("-V", a12, noenv, OPT_VERSION, "");
#define EXT_NEEDS	"external needs TLS, --ssl-verify-client and --auth-http " \
			"(which decides who a certificate may log in as)"
	refused("SMTP EXTERNAL", a13, env, OPT_ERROR, "--smtp-auth: " EXT_NEEDS);
	refused("POP3 EXTERNAL", a14, env, OPT_ERROR, "--pop3-auth: " EXT_NEEDS);
	refused("IMAP EXTERNAL without an auth service", a15, env, OPT_ERROR,
	    "--imap-auth: " EXT_NEEDS);
	refused("IMAP EXTERNAL with TLS, certificates and a service", a16, env,
	    OPT_RUN, "");
	refused("SMTP EXTERNAL in env", run, extenv, OPT_ERROR,
	    "--smtp-auth: " EXT_NEEDS);
	refused("an ssl_protocols name nginx does not know", a17, env,
	    OPT_ERROR, "--ssl-protocols: one or more of TLSv1.2 TLSv1.3 (and "
	    "the old TLSv1 TLSv1.1 SSLv3)");
	refused("proxy_ssl and proxy_starttls together", a18, env, OPT_ERROR,
	    "--proxy-starttls: not with --proxy-ssl=on (choose one)");
	refused("a backend certificate without its key", a19, env, OPT_ERROR,
	    "--proxy-ssl-certificate-key: needed with --proxy-ssl-certificate, "
	    "and only with it");
	refused("two certificates, one key", a20, env, OPT_ERROR,
	    "--ssl-certificate-key: one for each --ssl-certificate, in the "
	    "same order");
	refused("a bad network among good ones", a21, env, OPT_ERROR,
	    "--set-real-ip-from: bad network \"10.0.0.0/33\" (use IP, "
	    "IP/BITS, IPv6 or IPv6/BITS)");
	refused("networks of both families and a bare address", a22, env,
	    OPT_RUN, "");
	refused("a host name in the environment's networks", run, realenv,
	    OPT_ERROR, "--set-real-ip-from: bad network \"mx.example\" (use "
	    "IP, IP/BITS, IPv6 or IPv6/BITS)");
}

static void
help(void)
{
	FILE	*fp;
	char	 buf[16384];
	size_t	 n;

	if ((fp = tmpfile()) == NULL) {
		ok(0, "tmpfile");
		return;
	}
	options_help(fp);
	rewind(fp);
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	ok(strstr(buf, "--proxy-timeout=TIME") != NULL &&
	    strstr(buf, "(default: 24h)") != NULL, "help: an option, a default");
	ok(strstr(buf, "not supported yet") == NULL,
	    "help: every option is supported");
}

int
main(void)
{
	parsers();
	precedence();
	repeatable();
	backends();
	lists();
	errors();
	help();
	headers();
	printf("1..%d\n", tests);
	return failed != 0;
}
