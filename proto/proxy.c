/*
 * PROXY protocol: the header sent before anything else, in one write
 * (Dovecot reads it with a single peek).  v1 is one line of at most 107
 * bytes; v2 is binary, with TLVs and a CRC32C over the whole header.
 * Pure: the callers write the bytes.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../session.h"
#include "../tls.h"
#include "crc32c.h"
#include "proxy.h"

/*
 * Returns the header's length, or -1 if out is too small.  An unknown client
 * address gives "PROXY UNKNOWN"; an unknown local end (a pipeline) is sent
 * as the any-address of the client's family, port 0.
 */
int
proxy_v1(const struct client *cl, char *out, size_t outcap)
{
	const struct endpoint	*src = &cl->remote, *dst = &cl->local;
	const char		*dstip;
	unsigned		 dport;
	int			 n;

	if (!src->known)
		n = snprintf(out, outcap, "PROXY UNKNOWN\r\n");
	else {
		dstip = src->family == AF_INET6 ? "::" : "0.0.0.0";
		dport = 0;
		if (dst->known && dst->family == src->family) {
			dstip = dst->ip;
			dport = dst->port;
		}
		n = snprintf(out, outcap, "PROXY %s %s %s %u %u\r\n",
		    src->family == AF_INET6 ? "TCP6" : "TCP4",
		    src->ip, dstip, src->port, dport);
	}
	if (n < 0 || (size_t)n >= outcap)
		return -1;
	return n;
}

/* v2 */

#define PP2_LEN_MAX	0xFFFF

/* an endpoint's address as bytes: 4 for AF_INET, 16 for AF_INET6 */
struct pp2addr {
	int		family;
	unsigned char	a[16];
	unsigned	port;
};

void
pp2buf_init(struct pp2buf *b, void *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->crc = 0;
	b->err = 0;
}

/* Appends raw bytes (the head of a TLV's value); -1 and err if no room. */
int
pp2buf_put(struct pp2buf *b, const void *v, size_t n)
{
	if (b->err || n > b->cap - b->len) {
		b->err = 1;
		return -1;
	}
	if (n > 0)
		memcpy(b->p + b->len, v, n);
	b->len += n;
	return 0;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (v >> 8) & 0xFF;
	p[1] = v & 0xFF;
}

/* Appends one TLV: type, 16-bit big-endian length, value. */
int
tlv_add(struct pp2buf *b, unsigned type, const void *v, size_t n)
{
	unsigned char	t[3];

	if (type > 0xFF || n > PP2_LEN_MAX || b->err ||
	    3 > b->cap - b->len || n > b->cap - b->len - 3) {
		b->err = 1;
		return -1;
	}
	t[0] = type;
	put16(t + 1, n);
	pp2buf_put(b, t, sizeof(t));
	return pp2buf_put(b, v, n);
}

/*
 * The endpoint's address; an unknown endpoint is the any-address of
 * family, port 0.
 */
static int
pp2addr_get(const struct endpoint *e, int family, struct pp2addr *pa)
{
	memset(pa, 0, sizeof(*pa));
	pa->family = family;
	if (!e->known)
		return 0;
	if ((e->family != AF_INET && e->family != AF_INET6) ||
	    e->port > 0xFFFF || inet_pton(e->family, e->ip, pa->a) != 1)
		return -1;
	pa->family = e->family;
	pa->port = e->port;
	return 0;
}

/* AF_INET to its v4-mapped AF_INET6 address, ::ffff:a.b.c.d */
static void
pp2addr_v6(struct pp2addr *pa)
{
	if (pa->family != AF_INET)
		return;
	memmove(pa->a + 12, pa->a, 4);
	memset(pa->a, 0, 10);
	pa->a[10] = pa->a[11] = 0xFF;
	pa->family = AF_INET6;
}

/*
 * The CRC32C TLV comes right after the addresses, as HAProxy sends it, its
 * value zero until proxy_v2_end: a receiver that compares our header with
 * HAProxy's (or a test) sees the same bytes.
 */
static int
pp2_crc_tlv(struct pp2buf *b)
{
	static const unsigned char	zero[4];

	if (tlv_add(b, PP2_TYPE_CRC32C, zero, sizeof(zero)) == -1)
		return -1;
	b->crc = b->len - sizeof(zero);
	return 0;
}

int
proxy_v2_begin(const struct client *cl, struct pp2buf *b)
{
	struct pp2addr	src, dst;
	unsigned char	head[PROXY_V2_HEAD], ports[4];
	size_t		alen;

	memcpy(head, PP2_SIG, PP2_SIG_LEN);
	put16(head + 14, 0);		/* proxy_v2_end sets it */
	if (!cl->remote.known) {
		head[12] = PP2_VERSION | PP2_CMD_LOCAL;
		head[13] = PP2_FAM_UNSPEC;
		pp2buf_put(b, head, sizeof(head));
		return pp2_crc_tlv(b);
	}
	if (pp2addr_get(&cl->remote, AF_INET, &src) == -1 ||
	    pp2addr_get(&cl->local, src.family, &dst) == -1) {
		b->err = 1;
		return -1;
	}
	if (src.family != dst.family) {
		pp2addr_v6(&src);
		pp2addr_v6(&dst);
	}
	head[12] = PP2_VERSION | PP2_CMD_PROXY;
	head[13] = src.family == AF_INET ? PP2_FAM_TCP4 : PP2_FAM_TCP6;
	alen = src.family == AF_INET ? 4 : 16;
	put16(ports, src.port);
	put16(ports + 2, dst.port);
	pp2buf_put(b, head, sizeof(head));
	pp2buf_put(b, src.a, alen);
	pp2buf_put(b, dst.a, alen);
	pp2buf_put(b, ports, sizeof(ports));
	return pp2_crc_tlv(b);
}

/*
 * The length, then the checksum over the whole header, its own four bytes
 * still zero as the receiver will check it.
 */
int
proxy_v2_end(struct pp2buf *b)
{
	uint32_t	crc;
	unsigned char	*v;

	if (b->err || b->crc < PROXY_V2_HEAD ||
	    b->len - PROXY_V2_HEAD > PP2_LEN_MAX) {
		b->err = 1;
		return -1;
	}
	put16(b->p + 14, b->len - PROXY_V2_HEAD);
	crc = crc32c(b->p, b->len);
	v = b->p + b->crc;
	v[0] = crc >> 24;
	v[1] = (crc >> 16) & 0xFF;
	v[2] = (crc >> 8) & 0xFF;
	v[3] = crc & 0xFF;
	return b->len;
}

/*
 * A TLV for one of the facts' strings, left out when it is unknown ("").
 * strnlen: the facts' arrays are bounded, whoever filled them.
 */
static void
tlv_str(struct pp2buf *b, unsigned type, const char *v, size_t cap)
{
	size_t	n = strnlen(v, cap);

	if (n > 0)
		tlv_add(b, type, v, n);
}
#define TLV_STR(b, type, f)	tlv_str((b), (type), (f), sizeof(f))

/*
 * PP2_TYPE_SSL as HAProxy 2.6 builds it (make_proxy_line_v2): the client
 * byte, the verify result (32 bits, big-endian, 0 unless the client sent
 * a certificate), then the sub-TLVs in its order.  A certificate is
 * the session's (CERT_SESS), and this connection's too (CERT_CONN) unless
 * the session was resumed.
 */
static void
pp2_ssl(struct pp2buf *b, const struct tls_facts *tls)
{
	unsigned char	mem[PROXY_V2_MAX], head[5];
	uint32_t	verify = tls->cert ? (uint32_t)tls->verify : 0;
	struct pp2buf	v;

	head[0] = PP2_CLIENT_SSL;
	if (tls->cert)
		head[0] |= PP2_CLIENT_CERT_SESS |
		    (tls->resumed ? 0 : PP2_CLIENT_CERT_CONN);
	head[1] = verify >> 24;
	head[2] = (verify >> 16) & 0xFF;
	head[3] = (verify >> 8) & 0xFF;
	head[4] = verify & 0xFF;
	pp2buf_init(&v, mem, sizeof(mem));
	pp2buf_put(&v, head, sizeof(head));
	TLV_STR(&v, PP2_SUBTYPE_SSL_VERSION, tls->protocol);
	TLV_STR(&v, PP2_SUBTYPE_SSL_CN, tls->cn);
	TLV_STR(&v, PP2_SUBTYPE_SSL_KEY_ALG, tls->key_alg);
	TLV_STR(&v, PP2_SUBTYPE_SSL_SIG_ALG, tls->sig_alg);
	TLV_STR(&v, PP2_SUBTYPE_SSL_CIPHER, tls->cipher);
	if (v.err)
		b->err = 1;
	else
		tlv_add(b, PP2_TYPE_SSL, mem, v.len);
}

int
proxy_v2(const struct client *cl, const struct tls_facts *tls,
    unsigned char *out, size_t outcap)
{
	struct pp2buf	b;

	pp2buf_init(&b, out, outcap);
	if (proxy_v2_begin(cl, &b) == -1)
		return -1;
	if (tls != NULL && tls->on) {
		TLV_STR(&b, PP2_TYPE_ALPN, tls->alpn);
		TLV_STR(&b, PP2_TYPE_AUTHORITY, tls->sni);
	}
	/* the session id, where HAProxy puts its unique-id */
	TLV_STR(&b, PP2_TYPE_UNIQUE_ID, cl->id);
	if (tls != NULL && tls->on)
		pp2_ssl(&b, tls);
	return proxy_v2_end(&b);
}
