/*
 * Reading the PROXY header (HAProxy's proxy-protocol.txt), strictly: any
 * sequence that does not match the protocol exactly is refused, as soon
 * as the bytes held show it, so that a client that speaks its own
 * protocol to a port that expects a header is dropped at once.
 * Pure: no I/O, no globals.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "crc32c.h"
#include "proxy.h"
#include "proxy_parse.h"

static int
bad(struct pp_header *h, const char *why)
{
	h->why = why;
	return PP_BAD;
}

static int
need(struct pp_header *h, size_t n)
{
	h->need = n;
	return PP_NEED;
}

/*
 * v1's decimal numbers: digits only, no heading zero (but "0" itself),
 * at most max.  -1 when malformed.
 */
static long
v1_number(const char *s, size_t n, long max)
{
	long	v = 0;
	size_t	i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Exactly four numbers 0..255, one dot between each: no more, no less. */
static int
v1_ipv4_strict(const char *s, size_t n)
{
	size_t	i, start = 0;
	int	parts = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (v1_number(s + start, i - start, 255) == -1 || i - start > 3)
			return -1;
		parts++;
		start = i + 1;
	}
	return parts == 4 ? 0 : -1;
}

/* One v1 address of the family TCP4 or TCP6 says, to its text form. */
static int
v1_addr(const char *s, size_t n, int family, struct pp_addr *a)
{
	char		text[INET6_ADDRSTRLEN];
	unsigned char	bin[sizeof(struct in6_addr)];

	if (n == 0 || n >= sizeof(text))
		return -1;
	if (family == AF_INET && v1_ipv4_strict(s, n) == -1)
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(family, text, bin) != 1 ||
	    inet_ntop(family, bin, a->ip, sizeof(a->ip)) == NULL)
		return -1;
	a->family = family;
	return 0;
}

/*
 * The line between "PROXY " and its CRLF: "UNKNOWN" and anything (the
 * receiver must ignore it), or TCP4/TCP6 and four fields, each after
 * exactly one space.
 */
static int
v1_fields(const char *s, size_t n, struct pp_header *h)
{
	const char	*f[4], *sp;
	size_t		 flen[4], i, off;
	long		 port;
	int		 family;

	if (n >= 7 && memcmp(s, "UNKNOWN", 7) == 0 && (n == 7 || s[7] == ' '))
		return 0;
	if (n < 5 || s[4] != ' ')
		return bad(h, "v1: not TCP4, TCP6 or UNKNOWN");
	if (memcmp(s, "TCP4", 4) == 0)
		family = AF_INET;
	else if (memcmp(s, "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return bad(h, "v1: not TCP4, TCP6 or UNKNOWN");
	for (i = 0, off = 5; i < 4; i++) {
		f[i] = s + off;
		sp = memchr(f[i], ' ', n - off);
		flen[i] = sp != NULL ? (size_t)(sp - f[i]) : n - off;
		if (flen[i] == 0)
			return bad(h, "v1: an empty field (two spaces, or one "
			    "at the end)");
		off += flen[i];
		if (i < 3) {
			if (off == n)
				return bad(h, "v1: fewer than four fields");
			off++;
		}
	}
	if (off != n)
		return bad(h, "v1: more than four fields");
	if (v1_addr(f[0], flen[0], family, &h->src) == -1 ||
	    v1_addr(f[1], flen[1], family, &h->dst) == -1)
		return bad(h, family == AF_INET ? "v1: a bad TCP4 address" :
		    "v1: a bad TCP6 address");
	if ((port = v1_number(f[2], flen[2], 65535)) == -1)
		return bad(h, "v1: a bad source port");
	h->src.port = port;
	if ((port = v1_number(f[3], flen[3], 65535)) == -1)
		return bad(h, "v1: a bad destination port");
	h->dst.port = port;
	h->addresses = 1;
	return 0;
}

/*
 * The least a valid v1 line that starts with buf[0..len) can be, so
 * that a TCP4 or TCP6 line is read in a few reads, not a byte a time:
 * each of its five spaces still to come, and a byte after each, then
 * CRLF.  UNKNOWN may end at any byte.
 */
static size_t
v1_need(const unsigned char *buf, size_t len)
{
	size_t	spaces = 0, i, n;

	if (len < 11 || (memcmp(buf + 6, "TCP4 ", 5) != 0 &&
	    memcmp(buf + 6, "TCP6 ", 5) != 0))
		return len + 1 > PP_MIN ? len + 1 : PP_MIN;
	for (i = 0; i < len; i++)
		spaces += buf[i] == ' ';
	if (buf[len - 1] == '\r')
		return len + 1;
	n = len + 2 + (buf[len - 1] == ' ');
	if (spaces < 5)
		n += 2 * (5 - spaces);
	return n;
}

/*
 * v1: "PROXY " and printable US-ASCII up to a CRLF, all within 107
 * bytes; neither a CR nor an LF alone ends it.  Until the LF is held,
 * one more byte may be read at a time.
 */
static int
pp_v1(const unsigned char *buf, size_t len, struct pp_header *h)
{
	size_t	i;

	h->version = 1;
	if (memcmp(buf, "PROXY ", len < 6 ? len : 6) != 0)
		return bad(h, "not a PROXY header");
	for (i = 0; i < len && i < PP_V1_MAX; i++) {
		if (buf[i] == '\n')
			break;
		if (buf[i] == '\r') {
			if (i + 1 < len && buf[i + 1] != '\n')
				return bad(h, "v1: a CR without its LF");
			continue;
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return bad(h, "v1: a byte that is not printable "
			    "US-ASCII");
	}
	if (i == PP_V1_MAX)
		return bad(h, "v1: no CRLF within 107 bytes");
	if (i == len)
		return need(h, v1_need(buf, len));
	if (i == 0 || buf[i - 1] != '\r')
		return bad(h, "v1: an LF without its CR");
	if (i - 1 < 6)
		return bad(h, "v1: no protocol");
	if (v1_fields((const char *)buf + 6, i - 1 - 6, h) == PP_BAD)
		return PP_BAD;
	return (int)(i + 1);
}

/*
 * The CRC32C TLV's value is the checksum of the whole header with the
 * value itself zeroed.
 */
static int
v2_crc_ok(const unsigned char *hdr, size_t total, size_t v)
{
	unsigned char	copy[PP_V2_MAX];
	uint32_t	want;

	want = (uint32_t)hdr[v] << 24 | (uint32_t)hdr[v + 1] << 16 |
	    (uint32_t)hdr[v + 2] << 8 | hdr[v + 3];
	memcpy(copy, hdr, total);
	memset(copy + v, 0, 4);
	return crc32c(copy, total) == want;
}

/*
 * The TLVs in hdr[off..end): each whole, none past the end.  At the top
 * (sub 0) those we know are checked as the spec has them; PP2_TYPE_SSL's
 * sub-TLVs are walked the same way.  NULL, or what is wrong.
 */
static const char *
v2_tlvs(const unsigned char *hdr, size_t total, size_t off, size_t end,
    int sub)
{
	const char	*why;
	size_t		 n, v;

	while (off < end) {
		if (end - off < 3)
			return "v2: a TLV cut short";
		n = (size_t)hdr[off + 1] << 8 | hdr[off + 2];
		v = off + 3;
		if (n > end - v)
			return "v2: a TLV longer than what holds it";
		if (!sub && hdr[off] == PP2_TYPE_CRC32C &&
		    (n != 4 || !v2_crc_ok(hdr, total, v)))
			return "v2: a wrong CRC32C";
		if (!sub && hdr[off] == PP2_TYPE_UNIQUE_ID && n > PP2_UNIQUE_ID_MAX)
			return "v2: a UNIQUE_ID over 128 bytes";
		if (!sub && hdr[off] == PP2_TYPE_SSL) {
			/* its client byte and 32-bit verify, then sub-TLVs */
			if (n < 5)
				return "v2: an SSL TLV cut short";
			if ((why = v2_tlvs(hdr, total, v + 5, v + n, 1)) != NULL)
				return why;
		}
		off = v + n;
	}
	return NULL;
}

static void
v2_addr(const unsigned char *ip, const unsigned char *port, int family,
    struct pp_addr *a)
{
	a->family = family;
	inet_ntop(family, ip, a->ip, sizeof(a->ip));
	a->port = (unsigned)port[0] << 8 | port[1];
}

/*
 * v2: the signature, version 2 with LOCAL or PROXY, a family and
 * transport of the spec's, a length up to PP_V2_MAX, the addresses the
 * family gives and TLVs that fill the rest exactly.  LOCAL (a health
 * check) and the families we do not proxy (UNSPEC, UNIX, UDP) keep the
 * socket's ends, as the spec lets a receiver.
 */
static int
pp_v2(const unsigned char *buf, size_t len, struct pp_header *h)
{
	const unsigned char	*a = buf + PP_V2_HEAD;
	const char		*why;
	size_t			 total, alen;
	unsigned		 cmd, fam, proto;

	h->version = 2;
	if (memcmp(buf, PP2_SIG, len < PP2_SIG_LEN ? len : PP2_SIG_LEN) != 0)
		return bad(h, "not a PROXY header");
	if (len > 12 && (buf[12] >> 4 != 2 || (buf[12] & 0xf) > PP2_CMD_PROXY))
		return bad(h, buf[12] >> 4 != 2 ? "v2: not version 2" :
		    "v2: neither LOCAL nor PROXY");
	if (len > 13 && (buf[13] >> 4 > 3 || (buf[13] & 0xf) > 2))
		return bad(h, "v2: an unknown family or transport");
	if (len < PP_V2_HEAD)
		return need(h, PP_V2_HEAD);
	total = PP_V2_HEAD + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PP_V2_MAX)
		return bad(h, "v2: longer than 1552 bytes");
	if (len < total)
		return need(h, total);

	cmd = buf[12] & 0xf;
	fam = buf[13] >> 4;
	proto = buf[13] & 0xf;
	/* LOCAL: the block is discarded whole, family and all */
	if (cmd == PP2_CMD_LOCAL)
		return (int)total;
	if (fam == 0 || proto == 0)
		return (int)total;
	alen = fam == 1 ? 12 : fam == 2 ? 36 : 216;
	if (total - PP_V2_HEAD < alen)
		return bad(h, "v2: a length too short for its addresses");
	if ((why = v2_tlvs(buf, total, PP_V2_HEAD + alen, total, 0)) != NULL)
		return bad(h, why);
	if (buf[13] == PP2_FAM_TCP4) {
		v2_addr(a, a + 8, AF_INET, &h->src);
		v2_addr(a + 4, a + 10, AF_INET, &h->dst);
		h->addresses = 1;
	} else if (buf[13] == PP2_FAM_TCP6) {
		v2_addr(a, a + 32, AF_INET6, &h->src);
		v2_addr(a + 16, a + 34, AF_INET6, &h->dst);
		h->addresses = 1;
	}
	return (int)total;
}

int
pp_parse(const unsigned char *buf, size_t len, struct pp_header *h)
{
	memset(h, 0, sizeof(*h));
	if (len > 0 && buf[0] == PP2_SIG[0])
		return pp_v2(buf, len, h);
	return pp_v1(buf, len, h);
}
