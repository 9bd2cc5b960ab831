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

#endif
