/*
 * Addresses as operators and URLs write them.  A port is digits only, 1
 * to 65535: no sign, no blank, no base prefix.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "addr.h"

static int
port_parse(const char *s, size_t len, unsigned *port)
{
	size_t		i;
	unsigned long	n = 0;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (n < 1 || n > 65535)
		return -1;
	*port = n;
	return 0;
}

/*
 * s[0..len): "[v6]" or "[v6]:PORT"; two colons or more without brackets,
 * a bare IPv6 address without a port; else "HOST" or "HOST:PORT".
 * Returns 0, or -1 when malformed (an empty host, a bad port, a bracket
 * that holds no IPv6 address).
 */
int
hostport_parse(const char *s, size_t len, struct hostport *hp)
{
	const char	*colon, *end, *host = s;
	struct in6_addr	 a6;
	size_t		 hostlen;

	memset(hp, 0, sizeof(*hp));
	if (memchr(s, '\0', len) != NULL)
		return -1;
	if (len > 0 && s[0] == '[') {
		if ((end = memchr(s, ']', len)) == NULL)
			return -1;
		host = s + 1;
		hostlen = end - host;
		if (end + 1 < s + len && (end[1] != ':' ||
		    port_parse(end + 2, s + len - end - 2, &hp->port) == -1))
			return -1;
		hp->bracketed = 1;
	} else if ((colon = memchr(s, ':', len)) != NULL &&
	    memchr(colon + 1, ':', s + len - colon - 1) != NULL)
		hostlen = len;
	else if (colon != NULL) {
		hostlen = colon - s;
		if (port_parse(colon + 1, s + len - colon - 1, &hp->port) == -1)
			return -1;
	} else
		hostlen = len;
	if (hostlen == 0 || hostlen >= sizeof(hp->host))
		return -1;
	memcpy(hp->host, host, hostlen);
	hp->host[hostlen] = '\0';
	hp->v6 = inet_pton(AF_INET6, hp->host, &a6) == 1;
	if ((hp->bracketed || memchr(hp->host, ':', hostlen) != NULL) &&
	    !hp->v6)
		return -1;
	return 0;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 one. */
static int
unmap(unsigned char *a, int family)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (family != AF_INET6 || memcmp(a, mapped, sizeof(mapped)) != 0)
		return family;
	memmove(a, a + 12, 4);
	memset(a + 4, 0, 12);
	return AF_INET;
}

/* Text to bytes, IPv4 or IPv6 by the text; -1 when it is neither. */
static int
ip_parse(const char *s, size_t len, unsigned char *a, int *family)
{
	char	 text[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(text) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(a, 0, 16);
	*family = memchr(text, ':', len) != NULL ? AF_INET6 : AF_INET;
	return inet_pton(*family, text, a) == 1 ? 0 : -1;
}

/*
 * "ADDR" or "ADDR/BITS", BITS decimal, at most 32 (IPv4) or 128 (IPv6).
 * Returns 0, or -1 when malformed.
 */
int
cidr_parse(const char *s, size_t len, struct cidr *c)
{
	const char	*slash;
	size_t		 alen, i, max;
	unsigned	 bits = 0;

	memset(c, 0, sizeof(*c));
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (ip_parse(s, alen, c->addr, &c->family) == -1)
		return -1;
	max = c->family == AF_INET ? 32 : 128;
	if (slash == NULL)
		bits = max;
	else {
		if (len - alen - 1 == 0 || len - alen - 1 > 3)
			return -1;
		for (i = alen + 1; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			bits = bits * 10 + (s[i] - '0');
		}
		if (bits > max)
			return -1;
	}
	if (c->family == AF_INET6 && bits >= 96 &&
	    unmap(c->addr, c->family) == AF_INET) {
		c->family = AF_INET;
		bits -= 96;
	}
	c->bits = bits;
	/* the bits past the prefix say nothing */
	for (i = 0; i < 16; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		c->addr[i] &= (unsigned char)(0xff00 >> bits);
		bits = 0;
	}
	return 0;
}

int
cidr_match(const struct cidr *c, const char *ip)
{
	unsigned char	a[16];
	unsigned	bits = c->bits, i;
	int		family;

	if (ip_parse(ip, strlen(ip), a, &family) == -1)
		return 0;
	if (unmap(a, family) != c->family)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != c->addr[i])
			return 0;
	return bits == 0 ||
	    ((a[i] ^ c->addr[i]) & (unsigned char)(0xff00 >> bits)) == 0;
}
