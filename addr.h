/*
 * The one parser of "HOST:PORT", "[IPv6]:PORT", "HOST" and a bare IPv6
 * address, for the options, the backend, the auth_http URL and the
 * client's address.  Pure: no I/O, no name lookups.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>

struct hostport {
	char		 host[256];	/* without brackets */
	int		 bracketed;	/* "[...]": an IPv6 address */
	int		 v6;		/* host is an IPv6 address */
	unsigned	 port;		/* 0 when none was given */
};

int	hostport_parse(const char *s, size_t len, struct hostport *);

/*
 * A network as nginx's set_real_ip_from writes it: an IPv4 or IPv6
 * address, alone (all its bits) or with /BITS.  Bits past the prefix
 * are dropped, as nginx drops them; an IPv4-mapped IPv6 network is the
 * IPv4 network it maps.
 */
struct cidr {
	int		 family;	/* AF_INET, AF_INET6 */
	unsigned char	 addr[16];	/* 4 bytes used for AF_INET */
	unsigned	 bits;
};

int	cidr_parse(const char *s, size_t len, struct cidr *);
/* 1 when the address (text, as inet_ntop writes it) is in the network */
int	cidr_match(const struct cidr *, const char *ip);

#endif
