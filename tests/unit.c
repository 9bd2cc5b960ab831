/*
 * Unit tests of the pure parsers and builders in proto/: byte-exact, no
 * sockets.  Prints TAP; the behaviour through the binary is in *.bats.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "../session.h"
#include "../proto/proxy.h"
#include "../proto/sasl.h"
#include "../proto/smtp_parse.h"
#include "../proto/xclient.h"

static int	n, failed;

static void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed++;
}

static void
test_xclient(void)
{
	char		 out[2048], big[300];
	struct xattr	 a[3];
	int		 lines;

	ok(xtext_encode("a+b=c d\x01", 8, out, sizeof(out)) > 0 &&
	    strcmp(out, "a+2Bb+3Dc+20d+01") == 0, "xtext encodes + = SP CTL");
	a[0] = (struct xattr){ "ADDR", "192.0.2.1", 9, 1 };
	a[1] = (struct xattr){ "LOGIN", "alice", 5, 0 };
	a[2] = (struct xattr){ "NAME", "[UNAVAILABLE]", 13, 1 };
	lines = xclient_build(a, 3, out, sizeof(out));
	ok(lines == 1 && strcmp(out, "XCLIENT ADDR=192.0.2.1 LOGIN=alice "
	    "NAME=[UNAVAILABLE]\r\n") == 0, "XCLIENT in nginx's order");
	memset(big, 'x', 200);
	a[1] = (struct xattr){ "LOGIN", big, 200, 0 };
	a[2] = (struct xattr){ "NAME", big, 200, 1 };
	a[0] = (struct xattr){ "ADDR", big, 120, 1 };
	lines = xclient_build(a, 3, out, sizeof(out));
	ok(lines == 2 && strncmp(out, "XCLIENT LOGIN=", 14) == 0 &&
	    strstr(out, "\r\nXCLIENT ADDR=") != NULL,
	    "XCLIENT split at 512, ADDR and NAME last");
	ok(strlen(strstr(out, "\r\n") + 2) <= 512, "second line within 512");
	memset(big, 'y', 256);
	a[0] = (struct xattr){ "LOGIN", big, 256, 0 };
	ok(xclient_build(a, 1, out, sizeof(out)) == -1,
	    "XCLIENT value over 255 refused");
}

static void
test_proxy(void)
{
	struct client	cl;
	char		out[PROXY_V1_MAX];

	memset(&cl, 0, sizeof(cl));
	ok(proxy_v1(&cl, out, sizeof(out)) == 15 &&
	    strcmp(out, "PROXY UNKNOWN\r\n") == 0, "PROXY UNKNOWN");
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET, "198.51.100.1", 25 };
	proxy_v1(&cl, out, sizeof(out));
	ok(strcmp(out, "PROXY TCP4 192.0.2.7 198.51.100.1 4711 25\r\n") == 0,
	    "PROXY TCP4");
	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::7", 1 };
	cl.local.known = 0;
	proxy_v1(&cl, out, sizeof(out));
	ok(strcmp(out, "PROXY TCP6 2001:db8::7 :: 1 0\r\n") == 0,
	    "PROXY TCP6 with the local end unknown");
}

static void
test_sasl(void)
{
	struct creds	c;
	char		out[64];
	size_t		len;

	memset(&c, 0, sizeof(c));
	ok(sasl_plain_decode("AGFsaWNlAHNlY3JldA==", 20, &c) == 0 &&
	    strcmp(c.user, "alice") == 0 && strcmp(c.pass, "secret") == 0,
	    "PLAIN decodes");
	ok(sasl_plain_decode("YWxpY2U=", 8, &c) == -1, "PLAIN without NULs");
	ok(sasl_plain_decode("AGFsaWNl!HNlY3JldA==", 20, &c) == -1,
	    "bad base64 refused");
	ok(sasl_plain_decode("AGFsaWNlAHNlY3JldA=", 19, &c) == -1,
	    "base64 of bad length refused");
	ok(sasl_plain_decode("AGFsaWNlAHNlY3J=dA==", 20, &c) == -1,
	    "padding inside refused");
	ok(sasl_login_decode("YWxpY2U=", 8, out, &len) == 0 && len == 5 &&
	    strcmp(out, "alice") == 0, "LOGIN decodes");
	ok(sasl_login_decode("", 0, out, &len) == -1, "empty LOGIN refused");
	strlcpy(c.user, "alice", sizeof(c.user));
	c.userlen = 5;
	strlcpy(c.pass, "secret", sizeof(c.pass));
	c.passlen = 6;
	ok(sasl_plain_encode(&c, out, sizeof(out)) > 0 &&
	    strcmp(out, "AGFsaWNlAHNlY3JldA==") == 0, "PLAIN encodes");
	ok(sasl_is_cancel("*", 1) && !sasl_is_cancel("**", 2), "* cancels");
}

static void
test_smtp(void)
{
	struct smtp_cmd	cmd;
	int		code, last;
	const char	*l;

	ok(smtp_cmd_parse("ehlo  client.example ", 21, &cmd) == 0 &&
	    cmd.verb == SMTP_EHLO && cmd.nargs == 1 && cmd.arg[0].len == 14,
	    "EHLO parses, any case, extra spaces");
	ok(smtp_cmd_parse("AUTH PLAIN AGFsaWNl", 19, &cmd) == 0 &&
	    cmd.verb == SMTP_AUTH && cmd.nargs == 2, "AUTH with IR");
	ok(smtp_cmd_parse("XYZZY", 5, &cmd) == 0 && cmd.verb == SMTP_UNKNOWN,
	    "unknown verb");
	ok(smtp_cmd_parse("HELO a\0b", 8, &cmd) == -1, "NUL refused");
	ok(smtp_cmd_parse("NOOP 1 2 3 4 5 6 7 8 9 10 11", 28, &cmd) == -1,
	    "too many arguments refused");
	ok(smtp_reply_line("250-PIPELINING", 14, &code, &last) == 0 &&
	    code == 250 && !last, "continuation line");
	ok(smtp_reply_line("220 ready", 9, &code, &last) == 0 && code == 220 &&
	    last, "last line");
	ok(smtp_reply_line("250", 3, &code, &last) == 0 && last, "bare code");
	ok(smtp_reply_line("25x ok", 6, &code, &last) == -1, "garbage code");
	ok(smtp_reply_line("250_ok", 6, &code, &last) == -1, "bad separator");
	l = "250-XCLIENT NAME ADDR PROTO HELO LOGIN";
	ok(smtp_ehlo_has(l, strlen(l), "XCLIENT", "LOGIN") &&
	    !smtp_ehlo_has(l, strlen(l), "XCLIENT", "PORT") &&
	    smtp_ehlo_has(l, strlen(l), "XCLIENT", NULL), "EHLO keywords");
	ok(!smtp_ehlo_has("250-XCLIENTX", 12, "XCLIENT", NULL),
	    "EHLO keyword must match whole");
}

int
main(void)
{
	test_xclient();
	test_proxy();
	test_sasl();
	test_smtp();
	printf("1..%d\n", n);
	return failed != 0;
}
