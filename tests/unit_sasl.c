/*
 * Unit tests of the SASL engine and base64: byte-exact, no sockets.
 */
#include "unit.h"
#include "../proto/base64.h"
#include "../proto/sasl.h"
#include "../session.h"

/* One SASL exchange to its end: the initial response, then the lines. */
static int
sasl_run(const char *mech, unsigned methods, const char *ir,
    const char *const *lines, struct creds *c, char *last)
{
	const struct sasl_mech	*m;
	struct sasl		 a;
	int			 rc;

	memset(c, 0x55, sizeof(*c));
	if ((m = sasl_find(mech, strlen(mech), methods)) == NULL)
		return -1;
	rc = sasl_start(&a, m, c, "<1.2@mx.test>", ir, ir ? strlen(ir) : 0);
	while (rc == SASL_CHALLENGE && *lines != NULL) {
		strlcpy(last, a.challenge, 64);
		rc = sasl_response(&a, *lines, strlen(*lines));
		lines++;
	}
	if (rc == SASL_CHALLENGE)
		strlcpy(last, a.challenge, 64);
	return rc;
}

/* Wiped: every byte zero, the one place the engine leaves a failure. */
static int
wiped(const struct creds *c)
{
	const unsigned char	*p = (const unsigned char *)c;
	size_t			 i;

	for (i = 0; i < sizeof(*c); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* RFC 4648 section 10, both ways; then every way to be not quite base64. */
void
test_base64(void)
{
	static const char *const vec[][2] = {
	    { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	    { "foobar", "Zm9vYmFy" } };
	static const char *const bad[] = {
	    "Z", "Zg", "Zg=", "Zm9vY", "Zg===",	/* not a multiple of four */
	    "Zg=a", "Z===", "====", "=Zm8", "Zm=8", "Zg==Zm8=", /* padding */
	    "Zh==", "Zm9=",			/* bits past the last byte */
	    "Zm9v Zg=", "Zm9v\r\nZg", "Zm9\tZg==", " Zm9", /* whitespace */
	    "Zm-v", "Zm_v", "Zm.v", "Zm\x80v",	/* other alphabets */
	    NULL };
	unsigned char	 all[256], back[256 + 8];
	char		 enc[BASE64_LEN(256) + 8];
	size_t		 i, len;
	int		 allok = 1, c, rc;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		rc = base64_encode(vec[i][0], strlen(vec[i][0]), enc,
		    sizeof(enc));
		allok &= rc == (int)strlen(vec[i][1]) &&
		    strcmp(enc, vec[i][1]) == 0;
		allok &= base64_decode(vec[i][1], strlen(vec[i][1]), back,
		    sizeof(back), &len) == 0 && len == strlen(vec[i][0]) &&
		    memcmp(back, vec[i][0], len) == 0;
	}
	ok(allok, "base64: RFC 4648's test vectors, both ways");

	for (i = 0; i < sizeof(all); i++)
		all[i] = i;
	allok = 1;
	for (len = 0; len <= sizeof(all); len++) {
		size_t	n;

		rc = base64_encode(all + sizeof(all) - len, len, enc,
		    sizeof(enc));
		allok &= rc == (int)BASE64_LEN(len) && enc[rc] == '\0' &&
		    base64_decode(enc, rc, back, sizeof(back), &n) == 0 &&
		    n == len && memcmp(back, all + sizeof(all) - len, n) == 0;
	}
	ok(allok, "base64: every byte value, every length to 256, round trip");
	ok(strcmp(enc, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp"
	    "KissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWl"
	    "tcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouM"
	    "jY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb"
	    "6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v"
	    "8PHy8/T19vf4+fr7/P3+/w==") == 0, "base64: the alphabet, + and /");

	allok = 1;
	for (i = 0; bad[i] != NULL; i++)
		if (base64_decode(bad[i], strlen(bad[i]), back, sizeof(back),
		    &len) != -1) {
			printf("# decoded: \"%s\"\n", bad[i]);
			allok = 0;
		}
	ok(allok, "base64: bad length, padding inside or alone, stray bits, "
	    "whitespace, other alphabets refused");
	ok(base64_decode("Zm\0v", 4, back, sizeof(back), &len) == -1,
	    "base64: a NUL inside refused");
	allok = 1;
	for (c = 0; c < 256; c++) {
		char	q[4] = { 'Z', 'm', ' ', 'v' };

		q[2] = c;
		rc = base64_decode(q, 4, back, sizeof(back), &len);
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/')
			allok &= rc == 0 && len == 3;
		else
			allok &= rc == -1;
	}
	ok(allok, "base64: exactly the 64 characters of the alphabet");

	/* bounds: the exact room, not a byte less, nothing written past it */
	memset(enc, '#', sizeof(enc));
	ok(base64_encode("foob", 4, enc, 9) == 8 && enc[8] == '\0' &&
	    enc[9] == '#', "base64: encodes into its length and a NUL");
	memset(enc, '#', sizeof(enc));
	ok(base64_encode("foob", 4, enc, 8) == -1 && enc[0] == '#' &&
	    base64_encode("", 0, enc, 0) == -1,
	    "base64: no room for the NUL, nothing written");
	memset(back, '#', sizeof(back));
	ok(base64_decode("Zm9vYg==", 8, back, 4, &len) == 0 && len == 4 &&
	    back[4] == '#', "base64: decodes into its exact length");
	ok(base64_decode("Zm9vYg==", 8, back, 3, &len) == -1 &&
	    base64_decode("Zm9v", 4, back, 2, &len) == -1 &&
	    base64_decode("", 0, back, 0, &len) == 0 && len == 0,
	    "base64: a byte short refused; empty in, empty out");
}

/* One OAuth exchange over raw bytes: encoded here, as the client would. */
static int
oauth_run(const char *mech, const char *raw, size_t n, int ir,
    struct creds *c)
{
	static char		 b64[SASL_LINE_MAX + 8];
	const char *const	 lines[] = { b64, NULL };
	char			 last[64];

	if (base64_encode(raw, n, b64, sizeof(b64)) == -1)
		return -2;
	return sasl_run(mech, AUTH_XOAUTH2 | AUTH_OAUTHBEARER, ir ? b64 : NULL,
	    ir ? (const char *const[]){ NULL } : lines, c, last);
}

#define OAUTH(mech, lit, ir, c)	oauth_run(mech, lit, sizeof(lit) - 1, ir, c)

static void
test_oauth(void)
{
	static char	 big[9000], tok[6200];
	static struct creds c;
	char		 last[64];
	const char *const none[] = { NULL };
	int		 n;

	ok(OAUTH("XOAUTH2", "user=alice@example.com\x01" "auth=Bearer ya29.a0-_~+/"
	    "==\x01\x01", 1, &c) == SASL_DONE &&
	    strcmp(c.user, "alice@example.com") == 0 &&
	    strcmp(c.pass, "ya29.a0-_~+/==") == 0 && c.method == AUTH_XOAUTH2,
	    "XOAUTH2 with an initial response: user and token");
	ok(OAUTH("xoauth2", "user=bob\x01" "auth=Bearer tok\x01\x01", 0, &c) ==
	    SASL_DONE && strcmp(c.user, "bob") == 0 &&
	    strcmp(c.pass, "tok") == 0,
	    "XOAUTH2 after the empty challenge");
	ok(sasl_run("XOAUTH2", AUTH_XOAUTH2, NULL, none, &c, last) ==
	    SASL_CHALLENGE && last[0] == '\0' &&
	    sasl_run("OAUTHBEARER", AUTH_OAUTHBEARER, NULL, none, &c, last) ==
	    SASL_CHALLENGE && last[0] == '\0', "both challenge empty");
	ok(OAUTH("XOAUTH2", "user=bob\x01" "auth=bearer tok\x01\x01", 1, &c) ==
	    SASL_DONE, "the scheme's case does not matter");
	ok(OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer tok\x01", 1, &c) ==
	    SASL_INVALID && wiped(&c) &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer tok", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer tok\x01\x01x", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=\x01" "auth=Bearer tok\x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "usr=bob\x01" "auth=Bearer tok\x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01\x01", 1, &c) == SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Basic tok\x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer \x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer a\x01" "auth=Bearer b"
	    "\x01\x01", 1, &c) == SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=b\0b\x01" "auth=Bearer t\x01\x01", 1, &c) ==
	    SASL_INVALID,
	    "XOAUTH2: no end, no \\x01\\x01, bytes after it, no user, no auth, "
	    "not Bearer, no token, two, a NUL: invalid, wiped");
	ok(OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer t k\x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer t\r\nQUIT\x01\x01", 1,
	    &c) == SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer t=k\x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("XOAUTH2", "user=bob\x01" "auth=Bearer =\x01\x01", 1, &c) ==
	    SASL_INVALID,
	    "a token is a b64token: no space, CR, LF, inner \"=\"");

	ok(OAUTH("OAUTHBEARER", "n,a=alice@example.com,\x01host=mx.test\x01"
	    "port=143\x01" "auth=Bearer secretok\x01\x01", 1, &c) == SASL_DONE &&
	    strcmp(c.user, "alice@example.com") == 0 &&
	    strcmp(c.pass, "secretok") == 0 && c.method == AUTH_OAUTHBEARER,
	    "OAUTHBEARER with host and port, initial response");
	ok(OAUTH("OAUTHBEARER", "n,a=test=3D=2C@example.com,\x01" "auth=Bearer "
	    "t\x01\x01", 0, &c) == SASL_DONE &&
	    strcmp(c.user, "test=,@example.com") == 0,
	    "OAUTHBEARER after the challenge, =3D and =2C decoded");
	ok(OAUTH("OAUTHBEARER", "y,a=bob,\x01" "auth=Bearer t\x01\x01", 1, &c) ==
	    SASL_DONE, "y: no channel binding either");
	ok(OAUTH("OAUTHBEARER", "n,,\x01" "auth=Bearer t\x01\x01", 1, &c) ==
	    SASL_INVALID && wiped(&c) &&
	    OAUTH("OAUTHBEARER", "p=tls-unique,a=bob,\x01" "auth=Bearer t\x01\x01",
	    1, &c) == SASL_INVALID &&
	    OAUTH("OAUTHBEARER", "n,a=b=2Xb,\x01" "auth=Bearer t\x01\x01", 1, &c)
	    == SASL_INVALID &&
	    OAUTH("OAUTHBEARER", "n,a=bob=,\x01" "auth=Bearer t\x01\x01", 1, &c)
	    == SASL_INVALID &&
	    OAUTH("OAUTHBEARER", "n,a=bob,auth=Bearer t\x01\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("OAUTHBEARER", "n,a=bob,\x01" "auth=Bearer t\x01", 1, &c) ==
	    SASL_INVALID &&
	    OAUTH("OAUTHBEARER", "n,user=bob,\x01" "auth=Bearer t\x01\x01", 1, &c)
	    == SASL_INVALID &&
	    OAUTH("OAUTHBEARER", "n,a=bob,\x01host\x01" "auth=Bearer t\x01\x01",
	    1, &c) == SASL_INVALID,
	    "OAUTHBEARER: no authzid, channel binding, bad escapes, no \\x01, "
	    "no end, user=, a pair without =: invalid, wiped");

	memset(tok, 'A', sizeof(tok));
	n = snprintf(big, sizeof(big), "n,a=bob,\x01" "auth=Bearer %.*s\x01\x01",
	    6144, tok);
	ok(oauth_run("OAUTHBEARER", big, n, 0, &c) == SASL_DONE &&
	    c.passlen == 6144, "a 6 KiB token after the challenge");
	n = snprintf(big, sizeof(big), "user=bob\x01" "auth=Bearer %.*s\x01\x01",
	    6144, tok);
	ok(oauth_run("XOAUTH2", big, n, 1, &c) == SASL_DONE &&
	    c.passlen == 6144, "a 6 KiB token as an initial response");
	ok(oauth_run("XOAUTH2", "\x01", 1, 0, &c) == SASL_INVALID &&
	    sasl_run("XOAUTH2", AUTH_XOAUTH2, NULL,
	    (const char *const[]){ "*", NULL }, &c, last) == SASL_CANCELLED &&
	    wiped(&c) && sasl_run("OAUTHBEARER", AUTH_OAUTHBEARER, "dXNlcj1!",
	    none, &c, last) == SASL_BASE64,
	    "a lone \\x01, a cancel, bad base64");
	ok(sasl_offered(AUTH_PLAIN | AUTH_XOAUTH2 | AUTH_OAUTHBEARER, 0) ==
	    AUTH_PLAIN && sasl_offered(AUTH_XOAUTH2 | AUTH_OAUTHBEARER,
	    SASL_NEEDS_SERVICE) == (AUTH_XOAUTH2 | AUTH_OAUTHBEARER),
	    "the tokens only with an auth service");
	ok(sasl_list(AUTH_PLAIN | AUTH_XOAUTH2 | AUTH_OAUTHBEARER, " ", "",
	    big, sizeof(big)) > 0 && strcmp(big, " PLAIN XOAUTH2 OAUTHBEARER")
	    == 0, "listed after the others");
	memset(&c, 0, sizeof(c));
	c.userlen = 3;
	c.passlen = CRED_MAX + 1;
	ok(sasl_plain_encode(&c, big, sizeof(big)) == -1,
	    "no PLAIN to the backend with a token for a password");
}

void
test_sasl(void)
{
	static const char *const none[] = { NULL };
	static const char *const plain[] = { "AGFsaWNlAHNlY3JldA==", NULL };
	static const char *const login[] = { "YWxpY2U=", "c2VjcmV0", NULL };
	static const char *const cancel[] = { "YWxpY2U=", "*", NULL };
	static const char *const badb64[] = { "YWxpY2U=", "c2VjcmV0!", NULL };
	/* "alice 0123456789abcdef0123456789abcdef" */
	static const char *const cram[] = {
	    "YWxpY2UgMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", NULL };
	unsigned	 all = AUTH_PLAIN | AUTH_LOGIN | AUTH_CRAM_MD5;
	struct creds	 c;
	char		 out[64], last[64];

	ok(sasl_run("plain", all, "AGFsaWNlAHNlY3JldA==", none, &c, last) ==
	    SASL_DONE && strcmp(c.user, "alice") == 0 &&
	    strcmp(c.pass, "secret") == 0 && c.method == AUTH_PLAIN,
	    "PLAIN with an initial response");
	ok(sasl_run("PLAIN", all, NULL, plain, &c, last) == SASL_DONE &&
	    strcmp(c.pass, "secret") == 0, "PLAIN after an empty challenge");
	ok(sasl_run("PLAIN", all, NULL, none, &c, last) == SASL_CHALLENGE &&
	    last[0] == '\0', "PLAIN's challenge is empty");
	ok(sasl_run("PLAIN", all, "YWxpY2U=", none, &c, last) ==
	    SASL_INVALID && wiped(&c), "PLAIN without NULs: invalid, wiped");
	ok(sasl_run("PLAIN", all, "=", none, &c, last) == SASL_INVALID &&
	    wiped(&c), "RFC 4954 \"=\" is an empty response, not bad base64");
	ok(sasl_run("PLAIN", all, "AGFsaWNl!HNlY3JldA==", none, &c, last) ==
	    SASL_BASE64 && wiped(&c), "bad base64 refused, wiped");
	ok(sasl_run("PLAIN", all, "AGFsaWNlAHNlY3JldA=", none, &c, last) ==
	    SASL_BASE64, "base64 of bad length refused");
	ok(sasl_run("PLAIN", all, "AGFsaWNlAHNlY3J=dA==", none, &c, last) ==
	    SASL_BASE64, "padding inside refused");
	ok(sasl_run("LOGIN", all, NULL, login, &c, last) == SASL_DONE &&
	    strcmp(c.user, "alice") == 0 && strcmp(c.pass, "secret") == 0 &&
	    c.method == AUTH_LOGIN, "LOGIN: user name, then password");
	ok(sasl_run("LOGIN", all, "YWxpY2U=", none, &c, last) ==
	    SASL_CHALLENGE && strcmp(last, "UGFzc3dvcmQ6") == 0,
	    "LOGIN with the user name up front asks for the password");
	ok(sasl_run("LOGIN", all, NULL, cancel, &c, last) == SASL_CANCELLED &&
	    wiped(&c), "a cancel after the user name wipes it");
	ok(sasl_run("LOGIN", all, NULL, badb64, &c, last) == SASL_BASE64 &&
	    wiped(&c), "a bad password line wipes the user name");
	ok(sasl_run("CRAM-MD5", all, NULL, cram, &c, last) == SASL_DONE &&
	    strcmp(c.user, "alice") == 0 && c.passlen == 32 &&
	    c.method == AUTH_CRAM_MD5, "CRAM-MD5: user and digest");
	ok(sasl_run("CRAM-MD5", all, NULL, none, &c, last) ==
	    SASL_CHALLENGE && strcmp(last, "PDEuMkBteC50ZXN0Pg==") == 0,
	    "CRAM-MD5's challenge is the salt");
	ok(sasl_run("CRAM-MD5", all, "YQ==", none, &c, last) == SASL_INVALID,
	    "CRAM-MD5 takes no initial response");
	ok(sasl_run("CRAM-MD5", AUTH_PLAIN, NULL, none, &c, last) == -1,
	    "a mechanism not configured is not found");
	ok(sasl_offered(all | AUTH_APOP, 0) == (AUTH_PLAIN | AUTH_LOGIN) &&
	    sasl_offered(all, SASL_NEEDS_SERVICE) == all,
	    "CRAM-MD5 only with a service");
	ok(sasl_offered(AUTH_EXTERNAL | AUTH_PLAIN, SASL_NEEDS_SERVICE) ==
	    AUTH_PLAIN && sasl_offered(AUTH_EXTERNAL, SASL_NEEDS_CERT) == 0 &&
	    sasl_offered(AUTH_EXTERNAL, SASL_NEEDS) == AUTH_EXTERNAL,
	    "EXTERNAL only with a service and a verified certificate");
	ok(sasl_run("EXTERNAL", AUTH_EXTERNAL, "=", none, &c, last) ==
	    SASL_DONE && c.userlen == 0 && c.passlen == 0 &&
	    c.method == AUTH_EXTERNAL,
	    "EXTERNAL: an empty identity is the certificate's own");
	ok(sasl_run("EXTERNAL", AUTH_EXTERNAL, "Ym9i", none, &c, last) ==
	    SASL_DONE && strcmp(c.user, "bob") == 0 && c.passlen == 0,
	    "EXTERNAL: the identity to act as, no password");
	ok(sasl_run("EXTERNAL", AUTH_EXTERNAL, NULL, none, &c, last) ==
	    SASL_CHALLENGE && last[0] == '\0' &&
	    sasl_run("EXTERNAL", AUTH_EXTERNAL, "AGI=", none, &c, last) ==
	    SASL_INVALID, "EXTERNAL: an empty challenge; no NUL in the identity");
	ok(sasl_list(all, " AUTH=", "", out, sizeof(out)) > 0 &&
	    strcmp(out, " AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5") == 0 &&
	    sasl_list(all, "", "", out, 8) == -1, "the capability list");
	strlcpy(c.user, "alice", sizeof(c.user));
	c.userlen = 5;
	strlcpy(c.pass, "secret", sizeof(c.pass));
	c.passlen = 6;
	ok(sasl_plain_encode(&c, out, sizeof(out)) > 0 &&
	    strcmp(out, "AGFsaWNlAHNlY3JldA==") == 0, "PLAIN encodes");
	test_oauth();
}
