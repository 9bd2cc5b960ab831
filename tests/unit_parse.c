/*
 * Unit tests of the SMTP, POP3 and IMAP command parsers: byte-exact, no sockets.
 */
#include "unit.h"
#include "../proto/imap_id.h"
#include "../proto/imap_parse.h"
#include "../proto/pop3_parse.h"
#include "../proto/sasl.h"
#include "../proto/smtp_parse.h"
#include "../session.h"

void
test_smtp(void)
{
	struct cmd	cmd;
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

void
test_pop3(void)
{
	struct cmd	cmd;
	char		salt[64];
	const char	*l;

	l = "user  a b\"c\\ ";
	ok(pop3_cmd_parse(l, strlen(l), &cmd) == 0 && cmd.verb == POP3_USER &&
	    cmd.nargs == 1 && cmd.arg[0].len == 8 &&
	    memcmp(cmd.arg[0].p, " a b\"c\\ ", 8) == 0,
	    "USER: the rest of the line after one space, any case");
	l = "PASS p\xe9 s";
	ok(pop3_cmd_parse(l, strlen(l), &cmd) == 0 && cmd.verb == POP3_PASS &&
	    cmd.nargs == 1 && cmd.arg[0].len == 4, "PASS keeps 8-bit bytes");
	ok(pop3_cmd_parse("PASS", 4, &cmd) == 0 && cmd.nargs == 0 &&
	    pop3_cmd_parse("PASS ", 5, &cmd) == 0 && cmd.nargs == 0,
	    "PASS without an argument");
	ok(pop3_cmd_parse("AUTH  PLAIN  AGFs", 17, &cmd) == 0 &&
	    cmd.verb == POP3_AUTH && cmd.nargs == 2 && cmd.arg[0].len == 5 &&
	    cmd.arg[1].len == 4, "AUTH mechanism and initial response");
	ok(pop3_cmd_parse("APOP a b c", 10, &cmd) == -1,
	    "too many arguments refused");
	ok(pop3_cmd_parse("USER a\0b", 8, &cmd) == -1 &&
	    pop3_cmd_parse("USER a\rb", 8, &cmd) == -1 &&
	    pop3_cmd_parse("NOOP\x7f", 5, &cmd) == -1, "NUL, CR, DEL refused");
	ok(pop3_cmd_parse("RETR 1", 6, &cmd) == 0 &&
	    cmd.verb == POP3_UNKNOWN && pop3_cmd_parse("", 0, &cmd) == 0 &&
	    cmd.verb == POP3_UNKNOWN && pop3_cmd_parse("CAPABILITY", 10,
	    &cmd) == 0 && cmd.verb == POP3_UNKNOWN, "unknown verbs");
	ok(pop3_cmd_parse("stls", 4, &cmd) == 0 && cmd.verb == POP3_STLS &&
	    pop3_cmd_parse("Quit", 4, &cmd) == 0 && cmd.verb == POP3_QUIT,
	    "verbs in any case");
	ok(pop3_reply_status("+OK", 3) == POP3_OK &&
	    pop3_reply_status("+OK Logged in.", 14) == POP3_OK,
	    "+OK, alone or with text");
	ok(pop3_reply_status("-ERR", 4) == POP3_ERR &&
	    pop3_reply_status("-ERR [AUTH] no", 14) == POP3_ERR, "-ERR");
	ok(pop3_reply_status("+OKAY", 5) == -1 &&
	    pop3_reply_status("* OK", 4) == -1 &&
	    pop3_reply_status("+ ", 2) == -1 &&
	    pop3_reply_status("", 0) == -1, "anything else is malformed");
	ok(sasl_salt(salt, sizeof(salt), 4711, 1700000000, "mx.test") ==
	    25 && strcmp(salt, "<4711.1700000000@mx.test>") == 0,
	    "APOP timestamp");
	ok(sasl_salt(salt, 20, 4711, 1700000000, "mx.test") == -1,
	    "APOP timestamp too long for the buffer");
}

/* An ID command through the parser, its list through imap_id_parse. */
static int
id_run(const char *const *parts, char *out, size_t cap, size_t *outlen)
{
	static struct imap_parser	 p;
	int				 rc;

	imap_parse_init(&p, 65536);
	rc = imap_parse_line(&p, parts[0], strlen(parts[0]));
	for (parts++; rc == IMAP_PARSE_LITERAL && *parts != NULL; parts++) {
		rc = imap_parse_literal(&p, parts[0], p.literal);
		if (rc == IMAP_PARSE_MORE && parts[1] != NULL) {
			parts++;
			rc = imap_parse_line(&p, parts[0], strlen(parts[0]));
		}
	}
	if (rc != IMAP_PARSE_DONE || p.cmd.verb != IMAP_ID ||
	    p.cmd.nargs != 1)
		return -2;
	if (p.cmd.arg[0].type != IMAP_LIST)
		return -3;
	return imap_id_parse(p.cmd.arg[0].p, p.cmd.arg[0].len, out, cap,
	    outlen);
}

#define ID_IS(parts, want)						\
	(id_run(parts, out, sizeof(out), &n) >= 0 && n == strlen(want) &&	\
	    strcmp(out, want) == 0)

static void
test_imap_id(void)
{
	static const char *const plain[] = { "a ID (\"name\" \"Thunderbird\" "
	    "\"version\" \"115.0\")", NULL };
	static const char *const nil[] = { "a ID (\"name\" NIL \"os\" nil)",
	    NULL };
	static const char *const esc[] = { "a ID (\"na\\\"me\" \"a\\\\b\")",
	    NULL };
	static const char *const lit[] = { "a ID (\"name\" {7}", "Mail\"\\x",
	    ")", NULL };
	static const char *const litplus[] = { "a ID ({4+}", "name",
	    " {3+}", "k9m", ")", NULL };
	static const char *const forged[] = { "a ID (\"name\" \"x\" "
	    "\"X-Originating-IP\" \"10.0.0.1\" \"x-originating-port\" \"1\" "
	    "\"x-connected-ip\" \"10.0.0.2\" \"X-CONNECTED-PORT\" \"2\" "
	    "\"x-session-id\" \"forged\" \"x-session-ext-id\" \"f\" "
	    "\"x-proxy-ttl\" \"9\" \"x-forward-user\" \"root\" "
	    "\"x-multiplex\" \"0\" \"x-other\" \"kept\")", NULL };
	static const char *const forgedlit[] = { "a ID ({16}",
	    "x-originating-ip", " \"1.2.3.4\")", NULL };
	static const char *const ctl[] = { "a ID (\"name\" \"a\tb\" "
	    "\"os\" \"linux\" \"v\" \"\xc3\xa9\")", NULL };
	static const char *const crlf[] = { "a ID (\"name\" {3}", "a\r\n",
	    ")", NULL };
	static const char *const lfonly[] = { "a ID (\"name\" {2}", "a\n",
	    ")", NULL };
	static const char *const empty[] = { "a ID ()", NULL };
	static const char *const odd[] = { "a ID (\"name\")", NULL };
	static const char *const nilname[] = { "a ID (NIL \"x\")", NULL };
	static const char *const atom[] = { "a ID (\"name\" x)", NULL };
	static const char *const nested[] = { "a ID (\"name\" (\"x\"))", NULL };
	static const char *const noname[] = { "a ID (\"\" \"x\")", NULL };
	static const char *const idnil[] = { "a ID NIL", NULL };
	char		 out[IMAP_ID_MAX], line[40000], name[40], value[1100];
	const char	*parts[2] = { line, NULL };
	size_t		 n, o;
	int		 i;

	ok(ID_IS(plain, "\"name\" \"Thunderbird\" \"version\" \"115.0\""),
	    "ID: quoted pairs, re-quoted");
	ok(ID_IS(nil, "\"name\" NIL \"os\" NIL"), "ID: NIL values");
	ok(ID_IS(esc, "\"na\\\"me\" \"a\\\\b\""),
	    "ID: escapes survive, quoted again");
	ok(ID_IS(lit, "\"name\" \"Mail\\\"\\\\x\""),
	    "ID: a literal value, quoted with escapes");
	ok(ID_IS(litplus, "\"name\" \"k9m\""), "ID: LITERAL+ name and value");
	ok(ID_IS(forged, "\"name\" \"x\" \"x-other\" \"kept\""),
	    "ID: the proxy's fields (Dovecot's trusted keys) dropped, any case");
	ok(ID_IS(forgedlit, ""), "ID: a forged name in a literal dropped too");
	ok(ID_IS(ctl, "\"os\" \"linux\""),
	    "ID: a pair with a control or 8-bit byte dropped");
	ok(id_run(crlf, out, sizeof(out), &n) == -2 &&
	    id_run(lfonly, out, sizeof(out), &n) == -2,
	    "ID: CR or LF in a literal refused");
	ok(ID_IS(empty, ""), "ID: an empty list");
	ok(id_run(idnil, out, sizeof(out), &n) == -3, "ID NIL: no list");
	ok(id_run(odd, out, sizeof(out), &n) == -1 &&
	    id_run(nilname, out, sizeof(out), &n) == -1 &&
	    id_run(atom, out, sizeof(out), &n) == -1 &&
	    id_run(nested, out, sizeof(out), &n) == -1 &&
	    id_run(noname, out, sizeof(out), &n) == -1,
	    "ID: no value, a NIL name, an atom, a nested list, an empty name");

	/* RFC 2971's limits: 30 pairs, names of 30, values of 1024 */
	for (i = 0, o = strlcpy(line, "a ID (", sizeof(line)); i < 30; i++)
		o += snprintf(line + o, sizeof(line) - o, "%s\"k%d\" \"v\"",
		    i ? " " : "", i);
	strlcpy(line + o, ")", sizeof(line) - o);
	ok(id_run(parts, out, sizeof(out), &n) == 30, "ID: 30 pairs");
	strlcpy(line + o, " \"k30\" \"v\")", sizeof(line) - o);
	ok(id_run(parts, out, sizeof(out), &n) == -1, "ID: 31 pairs refused");
	memset(name, 'n', 30);
	name[30] = '\0';
	snprintf(line, sizeof(line), "a ID (\"%s\" NIL)", name);
	ok(id_run(parts, out, sizeof(out), &n) == 1, "ID: a name of 30 bytes");
	snprintf(line, sizeof(line), "a ID (\"%sn\" NIL)", name);
	ok(id_run(parts, out, sizeof(out), &n) == -1,
	    "ID: a name of 31 bytes refused");
	memset(value, 'v', 1024);
	value[1024] = '\0';
	snprintf(line, sizeof(line), "a ID (\"name\" \"%s\")", value);
	ok(id_run(parts, out, sizeof(out), &n) == 1 && n == 1024 + 9,
	    "ID: a value of 1024 bytes");
	snprintf(line, sizeof(line), "a ID (\"name\" \"%sv\")", value);
	ok(id_run(parts, out, sizeof(out), &n) == -1,
	    "ID: a value of 1025 bytes refused");
	snprintf(line, sizeof(line), "a ID (\"a\" \"%s\" \"b\" \"%s\" "
	    "\"c\" \"x\")", value, value);
	ok(id_run(parts, out, sizeof(out), &n) == 2 && n < sizeof(out) &&
	    strstr(out, "\"b\"") == NULL && strstr(out, "\"c\" \"x\"") != NULL,
	    "ID: a pair past IMAP_ID_MAX dropped, the later ones kept");
	ok(imap_id_parse("\"a\" \"b\"", 7, out, 7, &n) == 0 && n == 0 &&
	    imap_id_parse("\"a\" \"b\"", 7, out, 8, &n) == 1 && n == 7,
	    "ID: out bounded, NUL included");
}

void
test_imap(void)
{
	struct imap_parser	 p;
	struct imap_login	 l;
	char			 out[64], big[IMAP_LOGIN_MAX + 1];
	const char		*s;
	size_t			 n;
	int			 tagged, sync;

	imap_parse_init(&p, 4096);
	s = "a1 login alice secret";
	ok(imap_parse_line(&p, s, strlen(s)) == IMAP_PARSE_DONE &&
	    strcmp(p.cmd.tag, "a1") == 0 && p.cmd.verb == IMAP_LOGIN &&
	    p.cmd.nargs == 2 && p.cmd.arg[0].type == IMAP_ATOM &&
	    strcmp(p.cmd.arg[1].p, "secret") == 0, "LOGIN with atoms");
	imap_parse_init(&p, 4096);
	s = "a LOGIN \"al ice\" \"p a\\\"s\\\\s\"";
	ok(imap_parse_line(&p, s, strlen(s)) == IMAP_PARSE_DONE &&
	    p.cmd.arg[0].type == IMAP_STRING &&
	    strcmp(p.cmd.arg[0].p, "al ice") == 0 &&
	    strcmp(p.cmd.arg[1].p, "p a\"s\\s") == 0, "quoted, with escapes");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN {5}", 11) == IMAP_PARSE_LITERAL &&
	    p.sync && p.literal == 5 &&
	    imap_parse_literal(&p, "alice", 5) == IMAP_PARSE_MORE &&
	    imap_parse_line(&p, " {6+}", 5) == IMAP_PARSE_LITERAL &&
	    !p.sync && p.literal == 6 &&
	    imap_parse_literal(&p, "se\r\net", 6) == IMAP_PARSE_MORE &&
	    imap_parse_line(&p, "", 0) == IMAP_PARSE_DONE &&
	    p.cmd.nargs == 2 && strcmp(p.cmd.arg[0].p, "alice") == 0 &&
	    p.cmd.arg[1].len == 6 && memcmp(p.cmd.arg[1].p, "se\r\net", 6) == 0,
	    "literals: {n} synchronizing, {n+} not, CR LF kept");
	imap_cmd_wipe(&p.cmd);
	ok(p.cmd.nargs == 0 && strcmp(p.cmd.tag, "a") == 0 &&
	    memmem(p.cmd.store, sizeof(p.cmd.store), "alice", 5) == NULL &&
	    memmem(p.cmd.store, sizeof(p.cmd.store), "se\r\net", 6) == NULL,
	    "imap_cmd_wipe: no byte of the arguments left, the tag kept");
	imap_parse_init(&p, 4096);
	s = "b LOGIN bob \"hunter2 and more\"";
	ok(imap_parse_line(&p, s, strlen(s)) == IMAP_PARSE_DONE,
	    "a second command in the same parser");
	imap_cmd_wipe(&p.cmd);
	ok(memmem(p.cmd.store, sizeof(p.cmd.store), "hunter2", 7) == NULL &&
	    memmem(p.cmd.store, sizeof(p.cmd.store), "bob", 3) == NULL,
	    "imap_cmd_wipe after a reused parser");
	imap_parse_init(&p, 100);
	ok(imap_parse_line(&p, "a LOGIN {101}", 13) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_LITERAL && p.sync, "literal over the limit");
	imap_parse_init(&p, 100);
	ok(imap_parse_line(&p, "a LOGIN {99999999999999999999999+}", 34) ==
	    IMAP_PARSE_ERROR && p.error == IMAP_ERR_LITERAL && !p.sync,
	    "huge LITERAL+ literal: refused, no overflow");
	imap_parse_init(&p, 8192);
	ok(imap_parse_line(&p, "a LOGIN {3000}", 14) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_LITERAL, "literal longer than an argument");
	imap_parse_init(&p, 8192);
	ok(imap_parse_line(&p, "a ID (\"x\" {3000}", 16) ==
	    IMAP_PARSE_LITERAL, "a long literal inside a list is fine");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN {3}", 11) == IMAP_PARSE_LITERAL &&
	    imap_parse_literal(&p, "a\0b", 3) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_SYNTAX, "NUL in a literal");
	imap_parse_init(&p, 20);
	ok(imap_parse_line(&p, "a ID ({5+}", 10) == IMAP_PARSE_LITERAL &&
	    imap_parse_literal(&p, "xxxxx", 5) == IMAP_PARSE_MORE &&
	    imap_parse_line(&p, " yyyyy)", 7) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_TOOLONG, "lines and literals bounded together");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a* NOOP", 7) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_TAG, "* is no tag character");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, " NOOP", 5) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_TAG && imap_tag_valid("a]b", 3) &&
	    !imap_tag_valid("+", 1) && !imap_tag_valid("a{", 2) &&
	    !imap_tag_valid("a%", 2) && !imap_tag_valid("a\x80", 2),
	    "tag characters");
	memset(big, 'x', IMAP_TAG_MAX + 1);
	ok(imap_tag_valid(big, IMAP_TAG_MAX) &&
	    !imap_tag_valid(big, IMAP_TAG_MAX + 1), "tag length");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "t7 SELECT INBOX", 15) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_COMMAND && strcmp(p.cmd.tag, "t7") == 0,
	    "unknown command keeps the tag");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "t8 NO\0OP", 8) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_COMMAND && strcmp(p.cmd.tag, "t8") == 0,
	    "NUL in a command");
	imap_parse_init(&p, 4096);
	s = "a ID (\"name\" \"x\" (\"nested\") NIL)";
	ok(imap_parse_line(&p, s, strlen(s)) == IMAP_PARSE_DONE &&
	    p.cmd.verb == IMAP_ID && p.cmd.nargs == 1 &&
	    p.cmd.arg[0].type == IMAP_LIST, "ID with a nested list");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a ID (", 6) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_SYNTAX, "unbalanced list");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN a b c", 13) == IMAP_PARSE_ERROR &&
	    p.error == IMAP_ERR_SYNTAX, "too many arguments");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN \"a\\x\" b", 15) == IMAP_PARSE_ERROR,
	    "only \\\" and \\\\ escape");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN \"a\"\"b\"", 14) == IMAP_PARSE_ERROR,
	    "two strings without a space");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN a\"b c", 13) == IMAP_PARSE_ERROR,
	    "a quote inside an atom");
	imap_parse_init(&p, 4096);
	ok(imap_parse_line(&p, "a LOGIN {5} x", 13) == IMAP_PARSE_ERROR,
	    "a literal must end the line");

	ok(imap_resp_parse("* OK [CAPABILITY X] hi", 22, "a", &tagged) ==
	    IMAP_OK && !tagged, "untagged OK");
	ok(imap_resp_parse("a ok done", 9, "a", &tagged) == IMAP_OK && tagged,
	    "tagged OK, any case");
	ok(imap_resp_parse("a NO [AUTHENTICATIONFAILED] x", 29, "a",
	    &tagged) == IMAP_NO && tagged, "tagged NO");
	ok(imap_resp_parse("b OK done", 9, "a", &tagged) == IMAP_MALFORMED &&
	    imap_resp_parse("a BYE", 5, "a", &tagged) == IMAP_MALFORMED &&
	    imap_resp_parse("a OKAY", 6, "a", &tagged) == IMAP_MALFORMED &&
	    imap_resp_parse("*", 1, "a", &tagged) == IMAP_MALFORMED &&
	    imap_resp_parse("a", 1, "a", &tagged) == IMAP_MALFORMED &&
	    imap_resp_parse("* OK\0x", 6, "a", &tagged) == IMAP_MALFORMED,
	    "other tags, tagged BYE, NUL: malformed");
	ok(imap_resp_parse("+ go", 4, "a", &tagged) == IMAP_CONTINUE &&
	    imap_resp_parse("+", 1, "a", &tagged) == IMAP_CONTINUE &&
	    imap_resp_parse("+x", 2, "a", &tagged) == IMAP_MALFORMED,
	    "continuations");
	ok(imap_resp_parse("* CAPABILITY IMAP4rev1", 22, "a", &tagged) ==
	    IMAP_DATA && imap_resp_parse("* PREAUTH hi", 12, "a",
	    &tagged) == IMAP_PREAUTH, "untagged data and PREAUTH");
	ok(imap_literal_suffix("* 1 FETCH (BODY[] {12}", 22, &n, &sync) &&
	    n == 12 && sync &&
	    imap_literal_suffix("x {0+}", 6, &n, &sync) && n == 0 && !sync &&
	    !imap_literal_suffix("x {a}", 5, &n, NULL) &&
	    !imap_literal_suffix("x {}", 4, &n, NULL) &&
	    !imap_literal_suffix("12}", 3, &n, NULL), "literal at a line's end");

	ok(imap_quote("p a\"s\\s", 7, out, sizeof(out)) == 11 &&
	    strcmp(out, "\"p a\\\"s\\\\s\"") == 0, "quote escapes \" and \\");
	ok(imap_quote("", 0, out, sizeof(out)) == 2 && strcmp(out, "\"\"") == 0,
	    "empty string");
	ok(imap_quote("p\xe4ss", 4, out, sizeof(out)) == -1 &&
	    imap_quote("a\r\nb", 4, out, sizeof(out)) == -1 &&
	    imap_quote("a\x7f", 2, out, sizeof(out)) == -1,
	    "8-bit, CR, LF, DEL need a literal");
	ok(imap_login_build("a1", "alice", 5, "secret", 6, &l) == 0 &&
	    l.nbreaks == 0 && l.len == 27 &&
	    memcmp(l.buf, "a1 LOGIN \"alice\" \"secret\"\r\n", 27) == 0,
	    "LOGIN quoted");
	ok(imap_login_build("a", "alice", 5, "p\xe4ss!", 5, &l) == 0 &&
	    l.nbreaks == 1 && l.breaks[0] == 21 && l.len == 28 &&
	    memcmp(l.buf, "a LOGIN \"alice\" {5}\r\np\xe4ss!\r\n", 28) == 0,
	    "LOGIN with a literal password, split after {5}");
	ok(imap_login_build("a", "j\xfcrgen", 6, "p\r\n", 3, &l) == 0 &&
	    l.nbreaks == 2 && l.breaks[0] == 13 && l.breaks[1] == 25 &&
	    l.len == 30 && memcmp(l.buf,
	    "a LOGIN {6}\r\nj\xfcrgen {3}\r\np\r\n\r\n", 30) == 0,
	    "LOGIN with two literals");
	memset(big, '"', sizeof(big));
	ok(imap_login_build("a", "u", 1, big, IMAP_LOGIN_MAX, &l) == 0 &&
	    l.len == 12 + 2 * IMAP_LOGIN_MAX + 4 &&
	    imap_login_build("a", "u", 1, big, IMAP_LOGIN_MAX + 1, &l) == -1,
	    "the longest password fits, a longer one is refused");
	ok(imap_login_build("a*", "u", 1, "p", 1, &l) == -1 &&
	    imap_login_build("", "u", 1, "p", 1, &l) == -1,
	    "no LOGIN under a bad tag");
	test_imap_id();
}
