/*
 * Unit tests of the XCLIENT and PROXY v1/v2 builders: byte-exact, no sockets.
 */
#include "unit.h"
#include "../proto/crc32c.h"
#include "../proto/proxy.h"
#include "../proto/xclient.h"
#include "../session.h"
#include "../tls.h"

#include <stdlib.h>

void
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

void
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

/* TLV type at off (the first after the addresses: 28 for TCP4), its length */
static size_t
tlv_len(const unsigned char *h, size_t off)
{
	return (size_t)h[off + 1] << 8 | h[off + 2];
}

/*
 * The TLS TLVs from facts, without HAProxy (its bytes are the fixture's
 * test below): which appear when, and the bound.
 */
static void
test_proxy_v2_tls(void)
{
	static const unsigned char ssl_nocert[] =
	    "\x20\x00\x0f\x01\x00\x00\x00\x00"
	    "\x21\x00\x07TLSv1.3";
	struct client		cl;
	struct tls_facts	tls;
	unsigned char		out[PROXY_V2_MAX];
	int			n, plain;

	memset(&cl, 0, sizeof(cl));
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET, "198.51.100.1", 25 };
	memset(&tls, 0, sizeof(tls));
	strcpy(tls.protocol, "TLSv1.3");
	strcpy(tls.sni, "mx.test");
	plain = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(plain == 35 && proxy_v2(&cl, &tls, out, sizeof(out)) == plain,
	    "PROXY v2 TLS: no TLS TLV without TLS (NULL, or on == 0)");

	tls.on = 1;
	tls.sni[0] = '\0';
	tls.verify = 20;	/* no certificate: HAProxy sends 0 */
	n = proxy_v2(&cl, &tls, out, sizeof(out));
	ok(n == plain + (int)sizeof(ssl_nocert) - 1 &&
	    memcmp(out + 35, ssl_nocert, sizeof(ssl_nocert) - 1) == 0 &&
	    pp2_verify(out, n),
	    "PROXY v2 TLS: no SNI, no AUTHORITY; no certificate, SSL flag alone, verify 0");

	strcpy(tls.sni, "mx.test");
	tls.cert = 1;
	strcpy(tls.cn, "alice");
	n = proxy_v2(&cl, &tls, out, sizeof(out));
	ok(n > 35 + 10 && memcmp(out + 35, "\x02\x00\x07mx.test", 10) == 0 &&
	    out[45] == PP2_TYPE_SSL && out[48] == 0x07 &&
	    memcmp(out + 49, "\0\0\0\x14", 4) == 0 &&
	    memcmp(out + 63, "\x22\x00\x05" "alice", 8) == 0 &&
	    pp2_verify(out, n),
	    "PROXY v2 TLS: AUTHORITY then SSL; a certificate: CERT_CONN|CERT_SESS, its verify result, CN");

	tls.resumed = 1;
	strcpy(tls.alpn, "imap");
	n = proxy_v2(&cl, &tls, out, sizeof(out));
	ok(n > 35 + 17 && memcmp(out + 35, "\x01\x00\x04imap", 7) == 0 &&
	    memcmp(out + 42, "\x02\x00\x07mx.test", 10) == 0 &&
	    out[52] == PP2_TYPE_SSL && out[55] == 0x05 && pp2_verify(out, n),
	    "PROXY v2 TLS: ALPN before AUTHORITY; a resumed session's certificate is CERT_SESS alone");
	tls.resumed = 0;
	tls.alpn[0] = '\0';

	memset(tls.sni, 's', sizeof(tls.sni));
	memset(tls.cn, 'c', sizeof(tls.cn));
	memset(tls.protocol, 'p', sizeof(tls.protocol));
	memset(tls.cipher, 'x', sizeof(tls.cipher));
	memset(tls.sig_alg, 'g', sizeof(tls.sig_alg));
	memset(tls.key_alg, 'k', sizeof(tls.key_alg));
	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::7", 1 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 143 };
	n = proxy_v2(&cl, &tls, out, sizeof(out));
	ok(n > 0 && pp2_verify(out, n) &&
	    tlv_len(out, 16 + 36 + 7) == sizeof(tls.sni),
	    "PROXY v2 TLS: every fact at its longest, unterminated, fits and stops at its array");
	ok(proxy_v2(&cl, &tls, out, n - 1) == -1,
	    "PROXY v2 TLS: one byte short is refused");
}

/*
 * The session id as PP2_TYPE_UNIQUE_ID: after AUTHORITY, before SSL, as
 * HAProxy's make_proxy_line_v2 orders unique-id; alone after CRC32C
 * without TLS; absent when there is no id.
 */
static void
test_proxy_v2_unique_id(void)
{
	struct client		cl;
	struct tls_facts	tls;
	unsigned char		out[PROXY_V2_MAX];
	int			n;

	memset(&cl, 0, sizeof(cl));
	memset(&tls, 0, sizeof(tls));
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET, "198.51.100.1", 143 };
	strlcpy(cl.id, "Ab3dEf7hIj9kLm0n", sizeof(cl.id));
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == 16 + 12 + 7 + 19 && out[35] == PP2_TYPE_UNIQUE_ID &&
	    out[36] == 0 && out[37] == 16 &&
	    memcmp(out + 38, "Ab3dEf7hIj9kLm0n", 16) == 0 && pp2_verify(out, n),
	    "PROXY v2: the session id as UNIQUE_ID after CRC32C");
	tls.on = 1;
	strlcpy(tls.sni, "mx.test", sizeof(tls.sni));
	strlcpy(tls.protocol, "TLSv1.3", sizeof(tls.protocol));
	n = proxy_v2(&cl, &tls, out, sizeof(out));
	ok(n > 0 && out[35] == PP2_TYPE_AUTHORITY && out[45] == PP2_TYPE_UNIQUE_ID &&
	    out[64] == PP2_TYPE_SSL && pp2_verify(out, n),
	    "PROXY v2 TLS: UNIQUE_ID between AUTHORITY and SSL, as HAProxy");
	cl.id[0] = '\0';
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == 16 + 12 + 7, "PROXY v2: no id, no UNIQUE_ID");
}

/*
 * The facts file of a capture: key=value lines, # comments; src and dst
 * are IPv4 IP:PORT.  The strings go into tls's arrays, bounded.
 */
static int
pp2_facts_read(const char *path, struct client *cl, struct tls_facts *tls)
{
	const struct { const char *key; char *v; size_t cap; } str[] = {
		{ "protocol", tls->protocol, sizeof(tls->protocol) },
		{ "cipher", tls->cipher, sizeof(tls->cipher) },
		{ "sni", tls->sni, sizeof(tls->sni) },
		{ "cn", tls->cn, sizeof(tls->cn) },
		{ "sig_alg", tls->sig_alg, sizeof(tls->sig_alg) },
		{ "key_alg", tls->key_alg, sizeof(tls->key_alg) },
		{ "id", cl->id, sizeof(cl->id) },	/* HAProxy's unique-id */
	};
	char		 line[512], *v, *port;
	struct endpoint	*e;
	size_t		 i, seen = 0;
	FILE		*f;

	memset(cl, 0, sizeof(*cl));
	memset(tls, 0, sizeof(*tls));
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	tls->on = 1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (v = strchr(line, '=')) == NULL)
			continue;
		*v++ = '\0';
		seen++;
		if (strcmp(line, "cert") == 0)
			tls->cert = atoi(v);
		else if (strcmp(line, "verify") == 0)
			tls->verify = atol(v);
		else if (strcmp(line, "src") == 0 || strcmp(line, "dst") == 0) {
			e = line[0] == 's' ? &cl->remote : &cl->local;
			if ((port = strrchr(v, ':')) == NULL)
				break;
			*port++ = '\0';
			*e = (struct endpoint){ 1, AF_INET, "", atoi(port) };
			snprintf(e->ip, sizeof(e->ip), "%s", v);
		} else {
			for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
				if (strcmp(line, str[i].key) == 0)
					snprintf(str[i].v, str[i].cap, "%s", v);
		}
	}
	fclose(f);
	return seen >= 10 ? 0 : -1;
}

/*
 * Our header against HAProxy's for the same connection: the fixture
 * (tests/fixtures/haproxy-pp2-ssl.{bin,txt}: its .txt says how it was
 * made), or with PP2_FIXTURE=DIR/NAME the capture NAME.bin and facts
 * NAME.txt that tests/haproxy.bats has just made live.  tests/unit runs
 * from the top of the tree.
 */
static void
test_proxy_v2_haproxy(void)
{
	const char		*base = getenv("PP2_FIXTURE");
	char			 path[4096];
	unsigned char		 want[PROXY_V2_MAX + 1], out[PROXY_V2_MAX];
	struct client		 cl;
	struct tls_facts	 tls;
	size_t			 wn = 0;
	int			 n = -1;
	FILE			*f;

	if (base == NULL || *base == '\0')
		base = "tests/fixtures/haproxy-pp2-ssl";
	snprintf(path, sizeof(path), "%s.bin", base);
	if ((f = fopen(path, "rb")) != NULL) {
		wn = fread(want, 1, sizeof(want), f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s.txt", base);
	if (wn > 0 && pp2_facts_read(path, &cl, &tls) == 0)
		n = proxy_v2(&cl, &tls, out, sizeof(out));
	ok(n > 0 && (size_t)n == wn && memcmp(out, want, wn) == 0,
	    "PROXY v2 TLS: our header is HAProxy's, byte for byte");
	if (n > 0 && ((size_t)n != wn || memcmp(out, want, wn) != 0)) {
		fprintf(stderr, "# ours (%d):", n);
		for (size_t i = 0; i < (size_t)n; i++)
			fprintf(stderr, " %02x", out[i]);
		fprintf(stderr, "\n# HAProxy's (%zu):", wn);
		for (size_t i = 0; i < wn; i++)
			fprintf(stderr, " %02x", want[i]);
		fprintf(stderr, "\n");
	}
}

void
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
	test_proxy_v2_unique_id();
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
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == sizeof(v4) - 1 && memcmp(out, v4, n) == 0,
	    "PROXY v2 TCP4, byte for byte");
	ok(pp2_verify(out, n), "PROXY v2 TCP4: its CRC32C verifies");
	out[20]++;
	ok(!pp2_verify(out, n), "PROXY v2: a changed byte fails the CRC32C");
	ok(proxy_v2(&cl, NULL, out, n - 1) == -1 && proxy_v2(&cl, NULL, out, 15) == -1,
	    "PROXY v2: a buffer too small is refused");

	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::7", 1 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 143 };
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == sizeof(v6) - 1 && memcmp(out, v6, n) == 0 && pp2_verify(out, n),
	    "PROXY v2 TCP6, byte for byte, CRC32C verifies");

	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 110 };
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == sizeof(mixed) - 1 && memcmp(out, mixed, n) == 0 &&
	    pp2_verify(out, n),
	    "PROXY v2: a v4 client on a v6 local end is TCP6, v4-mapped");

	cl.local.known = 0;
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == 35 && out[13] == 0x11 && memcmp(out + 16, v4 + 16, 4) == 0 &&
	    memcmp(out + 20, "\0\0\0\0", 4) == 0 && out[24] == 0x12 &&
	    out[25] == 0x67 && out[26] == 0 && out[27] == 0 &&
	    pp2_verify(out, n),
	    "PROXY v2: an unknown local end is the any-address, port 0");

	memset(&cl, 0, sizeof(cl));
	n = proxy_v2(&cl, NULL, out, sizeof(out));
	ok(n == sizeof(local) - 1 && memcmp(out, local, n) == 0 &&
	    pp2_verify(out, n), "PROXY v2 LOCAL for an unknown client");

	cl.remote = (struct endpoint){ 1, AF_INET, "not an address", 1 };
	ok(proxy_v2(&cl, NULL, out, sizeof(out)) == -1,
	    "PROXY v2: an address that does not parse is refused");

	/* TLVs between begin and end, after the CRC32C one as in HAProxy */
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET, "198.51.100.1", 25 };
	pp2buf_init(&b, out, sizeof(out));
	ok(proxy_v2_begin(&cl, &b) == 0 &&
	    tlv_add(&b, PP2_TYPE_AUTHORITY, "mx.example", 10) == 0 &&
	    (n = proxy_v2_end(&b)) == 35 + 13 && out[15] == 0x13 + 13 &&
	    memcmp(out + 28, "\x03\x00\x04", 3) == 0 &&
	    memcmp(out + 35, "\x02\x00\x0amx.example", 13) == 0 &&
	    pp2_verify(out, n), "PROXY v2: a TLV between begin and end");
	pp2buf_init(&b, out, 34);
	ok(proxy_v2_begin(&cl, &b) == -1 && proxy_v2_end(&b) == -1 && b.err,
	    "PROXY v2: no room for the CRC32C TLV refuses the header");
	memset(big, 'x', sizeof(big));
	pp2buf_init(&b, out, sizeof(out));
	ok(proxy_v2_begin(&cl, &b) == 0 &&
	    tlv_add(&b, PP2_TYPE_UNIQUE_ID, big, sizeof(big)) == -1 &&
	    b.len == 35 && proxy_v2_end(&b) == -1,
	    "PROXY v2: a TLV too big is refused and the error sticks");

	test_proxy_v2_tls();
	test_proxy_v2_haproxy();
}
