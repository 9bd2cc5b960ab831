/*
 * Unit tests of the pure parsers and builders in proto/: byte-exact, no
 * sockets.  Prints TAP; the behaviour through the binary is in *.bats.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../addr.h"
#include "../dl.h"
#include "../session.h"
#include "../resolve.h"
#include "../proto/auth_http.h"
#include "../proto/base64.h"
#include "../proto/crc32c.h"
#include "../proto/imap_parse.h"
#include "../proto/pop3_parse.h"
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

static int
hp(const char *s, struct hostport *h)
{
	return hostport_parse(s, strlen(s), h);
}

static void
test_addr(void)
{
	struct hostport	h;

	ok(hp("mx.example:25", &h) == 0 && strcmp(h.host, "mx.example") == 0 &&
	    h.port == 25 && !h.v6 && !h.bracketed, "HOST:PORT");
	ok(hp("[2001:db8::1]:143", &h) == 0 &&
	    strcmp(h.host, "2001:db8::1") == 0 && h.port == 143 && h.v6 &&
	    h.bracketed, "[IPv6]:PORT");
	ok(hp("2001:db8::1", &h) == 0 && h.v6 && h.port == 0,
	    "a bare IPv6 address has no port");
	ok(hp("[::1]", &h) == 0 && h.v6 && h.port == 0 &&
	    hp("192.0.2.1", &h) == 0 && h.port == 0, "no port");
	ok(hp("h:+25", &h) == -1 && hp("h: 25", &h) == -1 &&
	    hp("h:0x19", &h) == -1 && hp("h:0", &h) == -1 &&
	    hp("h:65536", &h) == -1 && hp("h:", &h) == -1 &&
	    hp("h:000025", &h) == -1, "a port is 1 to 65535, digits only");
	ok(hp(":25", &h) == -1 && hp("[]:25", &h) == -1 &&
	    hp("[192.0.2.1]:25", &h) == -1 && hp("[::1]x", &h) == -1 &&
	    hp("[::1", &h) == -1 && hp("a:b:c", &h) == -1,
	    "malformed hosts and brackets");
	ok(hostport_parse("h:25\0x", 6, &h) == -1, "a NUL is refused");
	ok(hostport_parse("h:2525", 4, &h) == 0 && h.port == 25,
	    "the length bounds the input");
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

/*
 * A receiver's check of a v2 header: the length, then the TLVs walked to
 * the CRC32C one, whose value must be the checksum of the header with
 * that value zero (HAProxy's proxy-protocol.txt 2.2.5).
 */
static int
pp2_verify(const unsigned char *h, size_t n)
{
	unsigned char	copy[PROXY_V2_MAX];
	size_t		off, tlen;
	uint32_t	want;

	if (n < PROXY_V2_HEAD || n > sizeof(copy) ||
	    PROXY_V2_HEAD + ((size_t)h[14] << 8 | h[15]) != n)
		return 0;
	off = PROXY_V2_HEAD + (h[13] == 0x11 ? 12 : h[13] == 0x21 ? 36 : 0);
	for (; off + 3 <= n; off += 3 + tlen) {
		tlen = (size_t)h[off + 1] << 8 | h[off + 2];
		if (off + 3 + tlen > n)
			return 0;
		if (h[off] != PP2_TYPE_CRC32C || tlen != 4)
			continue;
		memcpy(copy, h, n);
		memset(copy + off + 3, 0, 4);
		want = (uint32_t)h[off + 3] << 24 | (uint32_t)h[off + 4] << 16 |
		    (uint32_t)h[off + 5] << 8 | h[off + 6];
		return crc32c(copy, n) == want;
	}
	return 0;
}

static void
test_proxy_v2(void)
{
	static const unsigned char v4[] =
	    "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a\x21\x11\x00\x13"
	    "\xc0\x00\x02\x07\xc6\x33\x64\x01\x12\x67\x00\x19\x03\x00\x04\x35"
	    "\x8a\x29\xe7";
	static const unsigned char v6[] =
	    "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a\x21\x21\x00\x2b"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x00\x01\x00\x8f\x03\x00\x04\x83\x44\xfd\x57";
	static const unsigned char mixed[] =
	    "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a\x21\x21\x00\x2b"
	    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xc0\x00\x02\x07"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x12\x67\x00\x6e\x03\x00\x04\x95\xc1\x2d\xe7";
	static const unsigned char local[] =
	    "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a\x20\x00\x00\x07"
	    "\x03\x00\x04\xa9\xb8\x7e\x8f";
	struct client	cl;
	struct pp2buf	b;
	unsigned char	out[PROXY_V2_MAX], vec[32], big[PROXY_V2_MAX];
	int		i, n;

	/* RFC 3720 B.4 */
	memset(vec, 0, sizeof(vec));
	ok(crc32c(vec, sizeof(vec)) == 0x8A9136AA, "crc32c: 32 zeros");
	memset(vec, 0xFF, sizeof(vec));
	ok(crc32c(vec, sizeof(vec)) == 0x62A8AB43, "crc32c: 32 bytes of 0xFF");
	for (i = 0; i < 32; i++)
		vec[i] = i;
	ok(crc32c(vec, sizeof(vec)) == 0x46DD794E, "crc32c: 0 to 31");
	for (i = 0; i < 32; i++)
		vec[i] = 31 - i;
	ok(crc32c(vec, sizeof(vec)) == 0x113FDB5C, "crc32c: 31 down to 0");

	memset(&cl, 0, sizeof(cl));
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET, "198.51.100.1", 25 };
	n = proxy_v2(&cl, out, sizeof(out));
	ok(n == sizeof(v4) - 1 && memcmp(out, v4, n) == 0,
	    "PROXY v2 TCP4, byte for byte");
	ok(pp2_verify(out, n), "PROXY v2 TCP4: its CRC32C verifies");
	out[20]++;
	ok(!pp2_verify(out, n), "PROXY v2: a changed byte fails the CRC32C");
	ok(proxy_v2(&cl, out, n - 1) == -1 && proxy_v2(&cl, out, 15) == -1,
	    "PROXY v2: a buffer too small is refused");

	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::7", 1 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 143 };
	n = proxy_v2(&cl, out, sizeof(out));
	ok(n == sizeof(v6) - 1 && memcmp(out, v6, n) == 0 && pp2_verify(out, n),
	    "PROXY v2 TCP6, byte for byte, CRC32C verifies");

	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 110 };
	n = proxy_v2(&cl, out, sizeof(out));
	ok(n == sizeof(mixed) - 1 && memcmp(out, mixed, n) == 0 &&
	    pp2_verify(out, n),
	    "PROXY v2: a v4 client on a v6 local end is TCP6, v4-mapped");

	cl.local.known = 0;
	n = proxy_v2(&cl, out, sizeof(out));
	ok(n == 35 && out[13] == 0x11 && memcmp(out + 16, v4 + 16, 4) == 0 &&
	    memcmp(out + 20, "\0\0\0\0", 4) == 0 && out[24] == 0x12 &&
	    out[25] == 0x67 && out[26] == 0 && out[27] == 0 &&
	    pp2_verify(out, n),
	    "PROXY v2: an unknown local end is the any-address, port 0");

	memset(&cl, 0, sizeof(cl));
	n = proxy_v2(&cl, out, sizeof(out));
	ok(n == sizeof(local) - 1 && memcmp(out, local, n) == 0 &&
	    pp2_verify(out, n), "PROXY v2 LOCAL for an unknown client");

	cl.remote = (struct endpoint){ 1, AF_INET, "not an address", 1 };
	ok(proxy_v2(&cl, out, sizeof(out)) == -1,
	    "PROXY v2: an address that does not parse is refused");

	/* what the TLS issue adds: TLVs between begin and end */
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET, "198.51.100.1", 25 };
	pp2buf_init(&b, out, sizeof(out));
	ok(proxy_v2_begin(&cl, &b) == 0 &&
	    tlv_add(&b, PP2_TYPE_AUTHORITY, "mx.example", 10) == 0 &&
	    (n = proxy_v2_end(&b)) == 35 + 13 && out[15] == 0x13 + 13 &&
	    memcmp(out + 28, "\x02\x00\x0amx.example", 13) == 0 &&
	    pp2_verify(out, n), "PROXY v2: a TLV between begin and end");
	memset(big, 'x', sizeof(big));
	pp2buf_init(&b, out, sizeof(out));
	ok(proxy_v2_begin(&cl, &b) == 0 &&
	    tlv_add(&b, PP2_TYPE_UNIQUE_ID, big, sizeof(out) - 28 - 3 - 6) ==
	    0 && proxy_v2_end(&b) == -1 && b.err,
	    "PROXY v2: no room for the CRC32C TLV refuses the header");
	pp2buf_init(&b, out, sizeof(out));
	ok(proxy_v2_begin(&cl, &b) == 0 &&
	    tlv_add(&b, PP2_TYPE_UNIQUE_ID, big, sizeof(big)) == -1 &&
	    b.len == 28 && proxy_v2_end(&b) == -1,
	    "PROXY v2: a TLV too big is refused and the error sticks");
}

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
/* The loader: all symbols or none, one try, and the note's JSON. */
static __typeof__(getpid)	*sym_getpid;
static __typeof__(strlen)	*sym_strlen;
static void			*sym_no_such_function;

static void
test_dl(void)
{
	const struct dl_sym	 good[] = { DL_SYM(getpid), DL_SYM(strlen) };
	const struct dl_sym	 bad[] = { DL_SYM(strlen),
				    DL_SYM(no_such_function) };
	struct dl_lib		 libc = { "libc.so.6", "libc6", "test", good,
				    2, NULL, 0 };
	struct dl_lib		 lacking = { "libc.so.6", "libc6", "test", bad,
				    2, NULL, 0 };
	struct dl_lib		 none = { "libmailproxy-none.so.0", "none",
				    "test", good, 2, NULL, 0 };

	ok(dl_load(&libc) == 0 && libc.handle != NULL &&
	    sym_getpid() == getpid() && sym_strlen("four") == 4 &&
	    dl_load(&libc) == 0, "dl_load: a library and its symbols, once");
	/* strlen is found, then forgotten with the library */
	ok(dl_load(&lacking) == -1 && lacking.failed && sym_strlen == NULL &&
	    sym_no_such_function == NULL && lacking.handle == NULL,
	    "dl_load: a symbol missing, none kept");
	ok(dl_load(&none) == -1 && none.failed && dl_load(&none) == -1,
	    "dl_load: no such library, tried once");
	ok(strcmp(DL_NOTE_JSON("f", "d", DL_SUGGESTED, "libx.so.1"),
	    "[{\"feature\":\"f\",\"description\":\"d\",\"priority\":"
	    "\"suggested\",\"soname\":[\"libx.so.1\"]}]") == 0,
	    "the .note.dlopen JSON");
}

static void
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

static void
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
	    sasl_offered(all, 1) == all, "CRAM-MD5 only with a service");
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

static void
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

static void
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

/* A DNS reply to one question, built for test_resolve. */
struct dnsbuf {
	unsigned char	b[1024];
	size_t		n;
};

static void
dns_put16(struct dnsbuf *d, unsigned v)
{
	d->b[d->n++] = v >> 8;
	d->b[d->n++] = v & 0xff;
}

static void
dns_put_name(struct dnsbuf *d, const char *dotted)
{
	const char	*dot;
	size_t		 len;

	for (; *dotted != '\0'; dotted += len + (dot != NULL)) {
		dot = strchr(dotted, '.');
		len = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);
		d->b[d->n++] = len;
		memcpy(d->b + d->n, dotted, len);
		d->n += len;
	}
	d->b[d->n++] = 0;
}

/* header and question; the answers follow */
static void
dns_reply(struct dnsbuf *d, const char *qname, unsigned type, unsigned an)
{
	d->n = 0;
	dns_put16(d, 0x1234);
	dns_put16(d, 0x8180);
	dns_put16(d, 1);
	dns_put16(d, an);
	dns_put16(d, 0);
	dns_put16(d, 0);
	dns_put_name(d, qname);
	dns_put16(d, type);
	dns_put16(d, 1);
}

/* one record; owner NULL: a pointer to the question's name */
static void
dns_rr(struct dnsbuf *d, const char *owner, unsigned type, const void *rdata,
    size_t rdlen)
{
	if (owner == NULL)
		dns_put16(d, 0xc00c);
	else
		dns_put_name(d, owner);
	dns_put16(d, type);
	dns_put16(d, 1);
	dns_put16(d, 0);
	dns_put16(d, 60);
	dns_put16(d, rdlen);
	memcpy(d->b + d->n, rdata, rdlen);
	d->n += rdlen;
}

static void
dns_rr_name(struct dnsbuf *d, const char *owner, unsigned type,
    const char *name)
{
	struct dnsbuf	r = { .n = 0 };

	dns_put_name(&r, name);
	dns_rr(d, owner, type, r.b, r.n);
}

static void
test_resolve(void)
{
	static const char qv4[] = "1.0.0.127.in-addr.arpa";
	struct dnsbuf	 d;
	unsigned char	 a4[4] = { 127, 0, 0, 1 }, a6[16] = { 0 };
	unsigned char	 other[4] = { 127, 0, 0, 2 };
	char		 name[256], big[300], qname[80];
	const char	*good[] = { "client.example.test", "a", "A-b.C9",
	    "xn--p1ai", "123.example", "a.b1", "0a", NULL };
	const char	*bad[] = { "", ".", "a..b", ".a", "a.", "-a.test",
	    "a-.test", "a_b.test", "a b.test", "a=b.test", "a+b.test",
	    "a\r\nb.test", "a\\.b.test", "1.2.3.4", "example.123",
	    "caf\xc3\xa9.test", "a/b.test", "a*.test", NULL };
	int		 i, allgood = 1, allbad = 1;

	for (i = 0; good[i] != NULL; i++)
		allgood &= hostname_valid(good[i], strlen(good[i]));
	ok(allgood, "host names: letters, digits, inner hyphens, dots");
	for (i = 0; bad[i] != NULL; i++)
		if (hostname_valid(bad[i], strlen(bad[i])))
			allbad = 0;
	ok(allbad, "not host names: empty labels, edge hyphens, _ = + "
	    "space CRLF \\ / *, numeric last label, 8-bit");
	ok(hostname_valid("ab\0c.test", 9) == 0, "a NUL inside refused");
	ok(hostname_valid("abc def", 3) == 1, "only len bytes are read");
	memset(big, 'a', sizeof(big));
	ok(hostname_valid(big, 63) && !hostname_valid(big, 64),
	    "a label of 63 bytes, not 64");
	for (i = 63; i < 253; i += 64)
		big[i] = '.';
	ok(hostname_valid(big, 253) && !hostname_valid(big, 254) &&
	    !hostname_valid(big, 255), "a name of 253 bytes, not more");

	ok(ptr_qname(AF_INET, a4, qname, sizeof(qname)) == 0 &&
	    strcmp(qname, qv4) == 0, "PTR name of an IPv4 address");
	a6[0] = 0x20;
	a6[1] = 0x01;
	a6[2] = 0x0d;
	a6[3] = 0xb8;
	a6[15] = 0x7f;
	ok(ptr_qname(AF_INET6, a6, qname, sizeof(qname)) == 0 &&
	    strcmp(qname, "f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa") == 0, "PTR name of an IPv6 address");
	ok(ptr_qname(AF_INET6, a6, qname, 72) == -1 &&
	    ptr_qname(AF_INET, a4, qname, 22) == -1, "PTR name too long");

	/* c-ares, loaded as a session loads it, expands the names */
	ok(resolve_load() == 0, "c-ares loads by its soname");
	dns_reply(&d, qv4, 12, 1);
	dns_rr_name(&d, NULL, 12, "client.example.test");
	ok(ptr_answer(d.b, d.n, name, sizeof(name)) == 1 &&
	    strcmp(name, "client.example.test") == 0, "PTR answer");
	ok(ptr_answer(d.b, d.n - 1, name, sizeof(name)) == -1,
	    "PTR answer cut short");
	ok(ptr_answer(d.b, 11, name, sizeof(name)) == -1, "header cut short");
	dns_reply(&d, qv4, 12, 2);
	dns_rr_name(&d, "2.0.0.127.in-addr.arpa", 12, "other.example.test");
	dns_rr_name(&d, NULL, 5, "1.0-25.0.0.127.in-addr.arpa");
	ok(ptr_answer(d.b, d.n, name, sizeof(name)) == 0,
	    "a PTR of another name is not the answer");
	dns_rr_name(&d, "1.0-25.0.0.127.in-addr.arpa", 12, "client.example.test");
	d.b[7] = 3;
	ok(ptr_answer(d.b, d.n, name, sizeof(name)) == 1 &&
	    strcmp(name, "client.example.test") == 0, "PTR through a CNAME");
	dns_reply(&d, qv4, 12, 1);
	dns_rr(&d, NULL, 12, "\003a b\004test\000", 10);
	ok(ptr_answer(d.b, d.n, name, sizeof(name)) == 1 &&
	    !hostname_valid(name, strlen(name)), "a bad PTR name is read, "
	    "then refused");
	dns_reply(&d, qv4, 12, 1);
	dns_rr(&d, NULL, 12, "\003abc\300\377", 6);
	ok(ptr_answer(d.b, d.n, name, sizeof(name)) == -1,
	    "a compression pointer out of the reply");
	dns_reply(&d, qv4, 12, 1);
	dns_rr(&d, NULL, 12, "\003abc\000", 5);
	d.n -= 5;
	d.b[d.n - 1] = 50;
	ok(ptr_answer(d.b, d.n, name, sizeof(name)) == -1,
	    "an rdlength past the end");

	dns_reply(&d, "client.example.test", 1, 2);
	dns_rr(&d, NULL, 1, other, 4);
	dns_rr(&d, NULL, 1, a4, 4);
	ok(addr_answer(d.b, d.n, AF_INET, a4) == 1 &&
	    addr_answer(d.b, d.n, AF_INET, (unsigned char [4]){ 10 }) == 0,
	    "A answer holds the address, or not");
	dns_reply(&d, "client.example.test", 1, 1);
	dns_rr(&d, "evil.example.test", 1, a4, 4);
	ok(addr_answer(d.b, d.n, AF_INET, a4) == 0,
	    "an A of another name does not count");
	dns_reply(&d, "client.example.test", 28, 1);
	dns_rr(&d, NULL, 28, a6, 16);
	ok(addr_answer(d.b, d.n, AF_INET6, a6) == 1 &&
	    addr_answer(d.b, d.n, AF_INET, a6) == 0, "AAAA answer");
}

static void
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
}

/* auth_http_response over a C string */
static int
auth_resp_of(const char *s, struct auth_resp *r)
{
	return auth_http_response(s, strlen(s), r);
}

#define AH_OK	"Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n" \
		"Auth-Port: 17110\r\n"
#define AH_NO	"Auth-Status: Invalid login or password\r\n"

static void
test_auth_http(void)
{
	struct auth_resp	r;

	/* a refusal anywhere is final: the bypass of issue 13 */
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK AH_NO "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: OK then a refusal is a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_NO AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: a refusal then OK is a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: WAIT\r\n" AH_NO
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_NO "Auth-Status: WAIT\r\n"
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED,
	    "auth_http: WAIT and a refusal, either order: a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: Go away\r\n" AH_OK
	    AH_NO "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: two refusals: the last text, as in nginx");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Status: WAIT\r\n"
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_WAIT,
	    "auth_http: OK and WAIT: WAIT, as in nginx");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_OK && strcmp(r.server, "127.0.0.1") == 0 &&
	    strcmp(r.port, "17110") == 0 && r.portnum == 17110,
	    "auth_http: OK alone");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Server: 127.0.0.1\r\n\r\n",
	    &r) == 1 && r.verdict == AUTH_HTTP_NONE,
	    "auth_http: no Auth-Status is no verdict");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status:  \r\n\r\n", &r) ==
	    -1 && auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Status:\r\n"
	    "\r\n", &r) == -1, "auth_http: an empty Auth-Status is malformed");

	/* the status line must be there; its code is ignored */
	ok(auth_resp_of("HTTP/1.1 500 Oops\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_OK &&
	    auth_resp_of("HTTP/1.0 200\n" AH_OK "\n", &r) == 1,
	    "auth_http: the status code is ignored, LF alone ends lines");
	ok(auth_resp_of(AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("\r\n" AH_OK "\r\n", &r) == -1,
	    "auth_http: no status line is malformed");
	ok(auth_resp_of("HTTP/2 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.0\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("http/1.0 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.x 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.0 200\rOK\r\n" AH_OK "\r\n", &r) == -1,
	    "auth_http: HTTP/1.x and a blank, else malformed");
	ok(auth_resp_of("", &r) == 0 && auth_resp_of("HTT", &r) == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK", &r) == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK, &r) == 0 &&
	    auth_resp_of("HTX", &r) == -1,
	    "auth_http: a partial response needs more, garbage does not");

	/* Auth-Port: digits only, 1 to 65535 */
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: +17110\r\n\r\n", &r) == 1 && r.portnum == 0 &&
	    strcmp(r.port, "+17110") == 0, "auth_http: Auth-Port +17110 is no "
	    "port");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: 0x10\r\n\r\n", &r) == 1 && r.portnum == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: 1 2\r\n\r\n", &r) == 1 && r.portnum == 0,
	    "auth_http: Auth-Port 0x10 and \"1 2\" are no ports");
	ok(auth_http_port("17110", 5) == 17110 &&
	    auth_http_port("65535", 5) == 65535 &&
	    auth_http_port("00025", 5) == 25 && auth_http_port("1", 1) == 1,
	    "auth_http_port: digits");
	ok(auth_http_port("+17110", 6) == -1 && auth_http_port(" 1", 2) == -1 &&
	    auth_http_port("1 ", 2) == -1 && auth_http_port("0x10", 4) == -1 &&
	    auth_http_port("-1", 2) == -1 && auth_http_port("", 0) == -1 &&
	    auth_http_port("0", 1) == -1 && auth_http_port("65536", 5) == -1 &&
	    auth_http_port("99999999999999999999", 20) == -1,
	    "auth_http_port: sign, blanks, hex, 0 and too big refused");
}

int
main(void)
{
	test_addr();
	test_xclient();
	test_proxy();
	test_proxy_v2();
	test_dl();
	test_base64();
	test_sasl();
	test_smtp();
	test_pop3();
	test_imap();
	test_resolve();
	test_auth_http();
	printf("1..%d\n", n);
	return failed != 0;
}
