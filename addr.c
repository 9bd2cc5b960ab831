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
