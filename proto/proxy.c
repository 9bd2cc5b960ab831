/*
 * PROXY protocol v1: one line, at most 107 bytes, sent in one write before
 * anything else (Dovecot reads it with a single peek).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../session.h"
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
