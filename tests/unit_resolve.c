/*
 * Unit tests of the DNS answer reader: byte-exact, no sockets.
 */
#include "unit.h"
#include "../resolve.h"
#include "../session.h"

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

void
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
