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
}
