/*
 * Unit tests of the front's pure functions: the PROXY header parser
 * (proto/proxy_parse.c) and the networks of --set-real-ip-from
 * (addr.c's cidr_parse, cidr_match).  Byte-exact, no sockets.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "../addr.h"
#include "../session.h"
#include "../proto/crc32c.h"
#include "../proto/proxy.h"
#include "../proto/proxy_parse.h"

#define SIG	"\r\n\r\n\0\r\nQUIT\n"

static int
v1(const char *s, struct pp_header *h)
{
	return pp_parse((const unsigned char *)s, strlen(s), h);
}

/*
 * Reads hdr as front.c does: no more than pp_parse's need at a time,
 * from a stream holding hdr then trailing bytes.  Returns what pp_parse
 * gave last; *used is how many bytes were taken from the stream, which
 * must never pass the header's end.
 */
static int	reads;

static int
stream_read(const unsigned char *s, size_t slen, size_t step,
    struct pp_header *h, size_t *used)
{
	size_t	have = 0, want;
	int	rc;

	reads = 0;
	while ((rc = pp_parse(s, have, h)) == PP_NEED) {
		reads++;
		if (h->need <= have || have == slen)
			return -2;
		want = h->need - have;
		if (want > step)
			want = step;
		if (want > slen - have)
			want = slen - have;
		have += want;
	}
	*used = have;
	return rc;
}

static void
test_v1_good(void)
{
	struct pp_header	h;
	const char		*s;

	s = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n";
	ok(v1(s, &h) == (int)strlen(s) && h.version == 1 && h.addresses &&
	    h.src.family == AF_INET && strcmp(h.src.ip, "192.0.2.1") == 0 &&
	    strcmp(h.dst.ip, "198.51.100.2") == 0 && h.src.port == 56324 &&
	    h.dst.port == 25, "v1 TCP4: addresses and ports");
	s = "PROXY TCP6 2001:DB8::1 2001:db8:0:0::2 1 65535\r\n";
	ok(v1(s, &h) == (int)strlen(s) && h.src.family == AF_INET6 &&
	    strcmp(h.src.ip, "2001:db8::1") == 0 &&
	    strcmp(h.dst.ip, "2001:db8::2") == 0 && h.src.port == 1 &&
	    h.dst.port == 65535, "v1 TCP6: addresses as inet_ntop writes them");
	s = "PROXY TCP6 ::ffff:192.0.2.1 ::1 0 0\r\n";
	ok(v1(s, &h) == (int)strlen(s) && h.src.port == 0 &&
	    strcmp(h.src.ip, "::ffff:192.0.2.1") == 0,
	    "v1 TCP6: a v4-mapped address (HAProxy on a v6 socket), port 0");
	ok(v1("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", &h) > 0 &&
	    strcmp(h.dst.ip, "255.255.255.255") == 0,
	    "v1 TCP4: the ends of the ranges");
	ok(v1("PROXY UNKNOWN\r\n", &h) == 15 && !h.addresses,
	    "v1 UNKNOWN, the short form: 15 bytes, the socket's ends kept");
	ok(v1("PROXY UNKNOWN ffff::1 ffff::2 65535 65535\r\n", &h) == 43 &&
	    !h.addresses, "v1 UNKNOWN: what follows it is ignored");
	s = "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\nEHLO x\r\n";
	ok(v1(s, &h) == 36, "v1: the bytes after the header are not its own");
	s = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	ok(strlen(s) == 107 && v1(s, &h) == 107,
	    "v1: the spec's worst case, 107 bytes, is taken");
}

static void
test_v1_bad(void)
{
	static const struct {
		const char	*s;
		const char	*what;
	} bad[] = {
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n", "a bare LF" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\rX\n", "a bare CR" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\r\n", "CR CR LF" },
		{ "PROXY  TCP4 192.0.2.1 192.0.2.2 1 2\r\n", "two spaces" },
		{ "PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n", "two spaces" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1  2\r\n", "two spaces" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 \r\n", "a trailing space" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n", "three fields" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n", "five fields" },
		{ "PROXY TCP4\r\n", "no fields" },
		{ "PROXY\r\n", "no protocol" },
		{ "PROXY \r\n", "an empty protocol" },
		{ "PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n", "TCP5" },
		{ "PROXY tcp4 192.0.2.1 192.0.2.2 1 2\r\n", "lower case" },
		{ "proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n", "lower case" },
		{ "PROXY UNKNOWNX\r\n", "UNKNOWN and a letter" },
		{ "PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n", "UDP4" },
		{ "PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n", "TCP4, v6 address" },
		{ "PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", "TCP6, v4 address" },
		{ "PROXY TCP4 192.0.2.01 192.0.2.2 1 2\r\n", "a heading zero" },
		{ "PROXY TCP4 0300.0.2.1 192.0.2.2 1 2\r\n", "octal" },
		{ "PROXY TCP4 0x7f.0.0.1 192.0.2.2 1 2\r\n", "hex" },
		{ "PROXY TCP4 192.0.2.256 192.0.2.2 1 2\r\n", "256" },
		{ "PROXY TCP4 192.0.2 192.0.2.2 1 2\r\n", "three octets" },
		{ "PROXY TCP4 192.0.2.1.5 192.0.2.2 1 2\r\n", "five octets" },
		{ "PROXY TCP4 192.0.2. 192.0.2.2 1 2\r\n", "an empty octet" },
		{ "PROXY TCP4 3221225985 192.0.2.2 1 2\r\n", "one number" },
		{ "PROXY TCP6 2001:db8:::1 ::2 1 2\r\n", "three colons" },
		{ "PROXY TCP6 2001:db8::1::2 ::2 1 2\r\n", "two double colons" },
		{ "PROXY TCP6 [2001:db8::1] ::2 1 2\r\n", "brackets" },
		{ "PROXY TCP6 fe80::1%eth0 ::2 1 2\r\n", "a zone" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n", "port 65536" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1 99999\r\n", "port 99999" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n", "port 01" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 00 2\r\n", "port 00" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 +1 2\r\n", "port +1" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 -1 2\r\n", "port -1" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1a 2\r\n", "port 1a" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 0x19 2\r\n", "port 0x19" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1000000 2\r\n", "port 1000000" },
		{ "PROXY TCP4 192.0.2.1 192.0.2.2 1\t2\r\n", "a tab" },
		{ "PROXY UNKNOWN \x80\r\n", "a byte over 0x7f" },
		{ "PROXY UNKNOWN \x1b[2J\r\n", "an escape" },
		{ "EHLO client.example\r\n", "SMTP" },
		{ "a001 LOGIN alice secret\r\n", "IMAP" },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00",
		    "a TLS ClientHello" },
	};
	struct pp_header	h;
	char			buf[256];
	size_t			i;
	int			all = 1, rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = v1(bad[i].s, &h);
		if (rc != PP_BAD || h.why == NULL) {
			printf("# %s: %d\n", bad[i].what, rc);
			all = 0;
		}
	}
	ok(all, "v1: every malformed variant is refused, with a reason");

	ok(pp_parse((const unsigned char *)"PROXY TCP4 1.2.3.4\0 5", 20, &h) ==
	    PP_BAD, "v1: a NUL");
	ok(v1("EHLO", &h) == PP_BAD && v1("PROXX", &h) == PP_BAD &&
	    v1("G", &h) == PP_BAD,
	    "v1: refused at once, before 15 bytes, when it cannot be PROXY");
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	ok(pp_parse((unsigned char *)buf, 107, &h) == PP_BAD &&
	    pp_parse((unsigned char *)buf, 200, &h) == PP_BAD,
	    "v1: no CRLF within 107 bytes: refused, whatever follows");
	memcpy(buf + 106, "\r\n", 2);
	ok(pp_parse((unsigned char *)buf, 108, &h) == PP_BAD,
	    "v1: a 108-byte line is refused");
	ok(v1("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r", &h) == PP_NEED &&
	    h.need == 36, "v1: CR as the last byte held: one more byte");
}

/* A v2 header: its head, then body[0..n) (addresses and TLVs). */
static size_t
v2(unsigned char *out, unsigned char vc, unsigned char fam,
    const void *body, size_t n)
{
	memcpy(out, SIG, 12);
	out[12] = vc;
	out[13] = fam;
	out[14] = n >> 8;
	out[15] = n & 0xff;
	memcpy(out + 16, body, n);
	return 16 + n;
}

/* Sets the CRC32C value at off (its TLV's value) for the whole header. */
static void
v2_crc(unsigned char *h, size_t n, size_t off)
{
	uint32_t	c;

	memset(h + off, 0, 4);
	c = crc32c(h, n);
	h[off] = c >> 24;
	h[off + 1] = c >> 16;
	h[off + 2] = c >> 8;
	h[off + 3] = c;
}

static const unsigned char tcp4[12] = {
	192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0, 25
};

static void
test_v2_good(void)
{
	unsigned char		h[PP_V2_MAX + 64], body[PP_V2_MAX];
	struct pp_header	p;
	size_t			n;

	n = v2(h, 0x21, 0x11, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == 28 && p.version == 2 && p.addresses &&
	    strcmp(p.src.ip, "192.0.2.1") == 0 &&
	    strcmp(p.dst.ip, "198.51.100.2") == 0 && p.src.port == 56324 &&
	    p.dst.port == 25, "v2 TCP4: addresses and ports");

	memset(body, 0, 36);
	body[0] = 0x20; body[1] = 0x01; body[2] = 0x0d; body[3] = 0xb8;
	body[15] = 1;
	body[31] = 1;
	body[32] = 0xff; body[33] = 0xff; body[34] = 0; body[35] = 143;
	n = v2(h, 0x21, 0x21, body, 36);
	ok(pp_parse(h, n, &p) == 52 && p.src.family == AF_INET6 &&
	    strcmp(p.src.ip, "2001:db8::1") == 0 &&
	    strcmp(p.dst.ip, "::1") == 0 && p.src.port == 65535 &&
	    p.dst.port == 143, "v2 TCP6: addresses and ports");

	n = v2(h, 0x20, 0x00, "", 0);
	ok(pp_parse(h, n, &p) == 16 && !p.addresses,
	    "v2 LOCAL (a health check): the socket's ends kept");
	n = v2(h, 0x20, 0x11, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == 28 && !p.addresses,
	    "v2 LOCAL with addresses: they are ignored");
	n = v2(h, 0x20, 0x11, "\x01\x02\x03", 3);
	ok(pp_parse(h, n, &p) == 19 && !p.addresses,
	    "v2 LOCAL: the block is discarded whole, whatever it holds");
	n = v2(h, 0x21, 0x00, "\x01\x02", 2);
	ok(pp_parse(h, n, &p) == 18 && !p.addresses,
	    "v2 PROXY, UNSPEC: the socket's ends kept");
	memset(body, 'u', 216);
	n = v2(h, 0x21, 0x31, body, 216);
	ok(pp_parse(h, n, &p) == 232 && !p.addresses,
	    "v2 PROXY, UNIX stream: the socket's ends kept");
	n = v2(h, 0x21, 0x12, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == 28 && !p.addresses,
	    "v2 PROXY, UDP: treated as UNSPEC, as the spec allows");

	/* TLVs: NOOP, ALPN, UNIQUE_ID, SSL with sub-TLVs, then CRC32C */
	memcpy(body, tcp4, 12);
	n = 12;
	memcpy(body + n, "\x04\x00\x02zz", 5), n += 5;
	memcpy(body + n, "\x01\x00\x04imap", 7), n += 7;
	body[n++] = 0x05, body[n++] = 0, body[n++] = 128;
	memset(body + n, 'i', 128), n += 128;
	memcpy(body + n, "\x20\x00\x0f\x01\x00\x00\x00\x00"
	    "\x21\x00\x07TLSv1.3", 18), n += 18;
	memcpy(body + n, "\x03\x00\x04\0\0\0\0", 7), n += 7;
	n = v2(h, 0x21, 0x11, body, n);
	v2_crc(h, n, n - 4);
	ok(pp_parse(h, n, &p) == (int)n && p.addresses,
	    "v2: NOOP, ALPN, a 128-byte UNIQUE_ID, SSL and a right CRC32C");

	n = v2(h, 0x21, 0x11, body, PP_V2_MAX - 16);
	memcpy(h + 16, tcp4, 12);
	h[28] = 0x04;
	h[29] = (PP_V2_MAX - 31) >> 8;
	h[30] = (PP_V2_MAX - 31) & 0xff;
	ok(pp_parse(h, n, &p) == PP_V2_MAX, "v2: the longest header taken");
}

static void
test_v2_bad(void)
{
	unsigned char		h[PP_V2_MAX + 64], body[512];
	struct pp_header	p;
	size_t			n;

	n = v2(h, 0x21, 0x11, tcp4, sizeof(tcp4));
	h[4] = 1;
	ok(pp_parse(h, n, &p) == PP_BAD && pp_parse(h, 5, &p) == PP_BAD,
	    "v2: a wrong signature, refused at its first wrong byte");
	n = v2(h, 0x11, 0x11, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == PP_BAD && pp_parse(h, 13, &p) == PP_BAD,
	    "v2: version 1 in a v2 head");
	n = v2(h, 0x31, 0x11, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: version 3");
	n = v2(h, 0x22, 0x11, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: command 2");
	n = v2(h, 0x21, 0x41, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == PP_BAD && pp_parse(h, 14, &p) == PP_BAD,
	    "v2: family 4");
	n = v2(h, 0x21, 0x13, tcp4, sizeof(tcp4));
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: transport 3");
	n = v2(h, 0x21, 0x11, tcp4, 11);
	ok(pp_parse(h, n, &p) == PP_BAD,
	    "v2: a length lie, shorter than its TCP4 addresses");
	n = v2(h, 0x21, 0x21, tcp4, 12);
	ok(pp_parse(h, n, &p) == PP_BAD,
	    "v2: TCP6 with a TCP4 length");
	n = v2(h, 0x21, 0x31, tcp4, 12);
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: UNIX with a short length");
	v2(h, 0x21, 0x11, tcp4, sizeof(tcp4));
	h[14] = 0xff;
	h[15] = 0xff;
	ok(pp_parse(h, 16, &p) == PP_BAD,
	    "v2: a length of 65535 is refused from its head, never read");
	h[14] = (PP_V2_MAX - 15) >> 8;
	h[15] = (PP_V2_MAX - 15) & 0xff;
	ok(pp_parse(h, 16, &p) == PP_BAD, "v2: one byte over the longest");

	memcpy(body, tcp4, 12);
	memcpy(body + 12, "\x04\x00\x09zz", 5);
	n = v2(h, 0x21, 0x11, body, 17);
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: a TLV length past the end");
	memcpy(body + 12, "\x04\x00", 2);
	n = v2(h, 0x21, 0x11, body, 14);
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: a TLV head cut short");
	memcpy(body + 12, "\x03\x00\x04\0\0\0\0", 7);
	n = v2(h, 0x21, 0x11, body, 19);
	v2_crc(h, n, n - 4);
	h[n - 1] ^= 1;
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: a wrong CRC32C");
	h[n - 1] ^= 1;
	h[17] ^= 1;
	ok(pp_parse(h, n, &p) == PP_BAD,
	    "v2: an address changed under its CRC32C");
	memcpy(body + 12, "\x03\x00\x03\0\0\0", 6);
	n = v2(h, 0x21, 0x11, body, 18);
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: a 3-byte CRC32C");
	body[12] = 0x05, body[13] = 0, body[14] = 129;
	memset(body + 15, 'i', 129);
	n = v2(h, 0x21, 0x11, body, 12 + 3 + 129);
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: a 129-byte UNIQUE_ID");
	memcpy(body + 12, "\x20\x00\x04\x01\0\0\0", 7);
	n = v2(h, 0x21, 0x11, body, 19);
	ok(pp_parse(h, n, &p) == PP_BAD, "v2: an SSL TLV without its verify");
	memcpy(body + 12, "\x20\x00\x08\x01\0\0\0\0\x21\x00\x07", 11);
	n = v2(h, 0x21, 0x11, body, 23);
	ok(pp_parse(h, n, &p) == PP_BAD,
	    "v2: an SSL sub-TLV past the end of SSL");
}

/* Every prefix of a header asks for more, never for more than its end. */
static void
test_truncations(void)
{
	static const char *const lines[] = {
		"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n",
		"PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN x\r\n",
		"PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
		"PROXY TCP6 :: :: 0 0\r\n",
		"PROXY TCP6 ::ffff:192.0.2.1 ::1 65535 1\r\n",
	};
	unsigned char		h[PP_V2_MAX + 64], s[PP_V2_MAX + 64];
	struct pp_header	p;
	size_t			i, k, n, used, steps[] = { 1, 2, 7, 4096 };
	int			all = 1, rc;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = strlen(lines[i]);
		for (k = 0; k < n; k++)
			if (pp_parse((const unsigned char *)lines[i], k, &p) !=
			    PP_NEED || p.need <= k || p.need > n)
				all = 0;
	}
	ok(all, "v1: every truncation asks for more, never past the end");

	all = 1;
	n = v2(h, 0x21, 0x11, tcp4, sizeof(tcp4));
	for (k = 0; k < n; k++)
		if (pp_parse(h, k, &p) != PP_NEED || p.need <= k ||
		    p.need > n)
			all = 0;
	ok(all, "v2: every truncation asks for more, never past the end");

	/* a reader that takes only what is asked stops at the header's end */
	all = 1;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = strlen(lines[i]);
		memcpy(s, lines[i], n);
		memcpy(s + n, "\x16\x03\x01 ClientHello", 16);
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			rc = stream_read(s, n + 16, steps[k], &p, &used);
			if (rc != (int)n || used != n)
				all = 0;
		}
	}
	n = v2(s, 0x21, 0x11, tcp4, sizeof(tcp4));
	memcpy(s + n, "a001 CAPABILITY\r\n", 17);
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		rc = stream_read(s, n + 17, steps[k], &p, &used);
		if (rc != (int)n || used != n)
			all = 0;
	}
	ok(all, "a reader that takes what pp_parse asks for never reads "
	    "past the header");
	stream_read((const unsigned char *)lines[0], strlen(lines[0]), 4096,
	    &p, &used);
	printf("# v1 TCP4, 44 bytes: %d reads\n", reads);
	ok(used == strlen(lines[0]) && reads <= 8,
	    "v1 TCP4: read in a few reads, not a byte at a time");
}

/* Our own headers (proto/proxy.c) read back as they were written. */
static void
test_roundtrip(void)
{
	struct client		cl;
	struct pp_header	p;
	unsigned char		h[PROXY_V2_MAX];
	char			line[PROXY_V1_MAX];
	int			n;

	memset(&cl, 0, sizeof(cl));
	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 993 };
	n = proxy_v1(&cl, line, sizeof(line));
	ok(n > 0 && pp_parse((unsigned char *)line, n, &p) == n &&
	    strcmp(p.src.ip, "2001:db8::7") == 0 && p.src.port == 4711 &&
	    strcmp(p.dst.ip, "2001:db8::1") == 0 && p.dst.port == 993,
	    "round trip: our v1 header");
	n = proxy_v2(&cl, NULL, h, sizeof(h));
	ok(n > 0 && pp_parse(h, n, &p) == n && p.addresses &&
	    strcmp(p.src.ip, "2001:db8::7") == 0 && p.src.port == 4711,
	    "round trip: our v2 header, its CRC32C checked");
	memset(&cl, 0, sizeof(cl));
	n = proxy_v2(&cl, NULL, h, sizeof(h));
	ok(n > 0 && pp_parse(h, n, &p) == n && !p.addresses,
	    "round trip: our v2 LOCAL");
}

/*
 * Hostile bytes: random headers and mutations of good ones.  Whatever
 * comes, the answer is one of the three, and consistent.
 */
static void
test_hostile(void)
{
	unsigned char		h[PP_V2_MAX + 64];
	struct pp_header	p;
	uint32_t		x = 2463534242u;
	size_t			n, i, k, good;
	int			all = 1, rc;

	for (i = 0; i < 200000; i++) {
		if (i % 2 == 0) {
			good = v2(h, 0x21, 0x11, tcp4, sizeof(tcp4));
			memcpy(h + good, "\x20\x00\x05\x01\0\0\0\0", 8);
			h[15] += 8;
			good += 8;
		} else {
			good = strlen("PROXY TCP4 192.0.2.1 198.51.100.2 1 25\r\n");
			memcpy(h, "PROXY TCP4 192.0.2.1 198.51.100.2 1 25\r\n",
			    good);
		}
		/* flip a few bytes of it, at random */
		for (k = 0; k < 1 + i % 4; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			h[x % good] = x >> 8;
		}
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		n = x % (good + 1);
		rc = pp_parse(h, n, &p);
		if (!((rc == PP_NEED && p.need > n && p.need <= PP_V2_MAX) ||
		    (rc == PP_BAD && p.why != NULL) ||
		    (rc > 0 && (size_t)rc <= n)))
			all = 0;
	}
	ok(all, "hostile bytes: 200000 mutated headers, each answered "
	    "need-more, malformed or whole");
}

static int
cidr(const char *s, struct cidr *c)
{
	return cidr_parse(s, strlen(s), c);
}

static int
in(const char *net, const char *ip)
{
	struct cidr	c;

	return cidr(net, &c) == 0 && cidr_match(&c, ip);
}

void
test_cidr(void)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0/8",
		"10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8",
		"10.0.0.0/0x8", "10.0.0.0/1234", "host.example", "unix:",
		"[::1]", "[::1]/128", "10.0.0.01", "010.0.0.0/8", " 10.0.0.0/8",
		"10.0.0.0/8 ", "10.0.0.0 /8", "all", "fe80::1%lo",
	};
	struct cidr	c;
	size_t		i;
	int		all = 1;

	ok(in("10.0.0.0/8", "10.1.2.3") && in("10.0.0.0/8", "10.255.255.255") &&
	    !in("10.0.0.0/8", "11.0.0.0") && !in("10.0.0.0/8", "9.255.255.255"),
	    "CIDR: an IPv4 network");
	ok(in("127.0.0.1", "127.0.0.1") && !in("127.0.0.1", "127.0.0.2") &&
	    in("127.0.0.1/32", "127.0.0.1"), "CIDR: a bare IPv4 address");
	ok(in("192.0.0.0/7", "193.1.1.1") && !in("192.0.0.0/7", "194.0.0.0") &&
	    in("198.51.100.128/25", "198.51.100.200") &&
	    !in("198.51.100.128/25", "198.51.100.127"),
	    "CIDR: prefixes off a byte boundary");
	ok(in("0.0.0.0/0", "203.0.113.9") && !in("0.0.0.0/0", "::1"),
	    "CIDR: 0.0.0.0/0 is all of IPv4, none of IPv6");
	ok(in("::/0", "2001:db8::1") && !in("::/0", "10.0.0.1"),
	    "CIDR: ::/0 is all of IPv6, none of IPv4");
	ok(in("::1", "::1") && !in("::1", "::2") &&
	    in("2001:db8::/32", "2001:db8:ffff::1") &&
	    !in("2001:db8::/32", "2001:db9::1") &&
	    in("2001:db8::/33", "2001:db8:7fff::1") &&
	    !in("2001:db8::/33", "2001:db8:8000::1"), "CIDR: IPv6 networks");
	ok(cidr("10.1.2.3/8", &c) == 0 && c.bits == 8 &&
	    in("10.1.2.3/8", "10.9.9.9") && !in("10.1.2.3/8", "11.1.2.3"),
	    "CIDR: the bits past the prefix are dropped, as nginx drops them");
	ok(in("10.0.0.0/8", "::ffff:10.1.2.3") &&
	    !in("10.0.0.0/8", "::ffff:11.1.2.3"),
	    "CIDR: a v4-mapped peer compares as IPv4");
	ok(cidr("::ffff:10.0.0.0/104", &c) == 0 && c.family == AF_INET &&
	    c.bits == 8 && in("::ffff:10.0.0.0/104", "10.2.3.4"),
	    "CIDR: a v4-mapped network is the IPv4 network");
	ok(!in("10.0.0.0/8", "bogus") && !in("10.0.0.0/8", "") &&
	    !in("::/0", "unknown"), "CIDR: no address matches nothing");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cidr(bad[i], &c) != -1) {
			printf("# taken: \"%s\"\n", bad[i]);
			all = 0;
		}
	ok(all, "CIDR: every malformed network is refused");
}

void
test_proxy_parse(void)
{
	test_v1_good();
	test_v1_bad();
	test_v2_good();
	test_v2_bad();
	test_truncations();
	test_roundtrip();
	test_hostile();
}
