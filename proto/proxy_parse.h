/*
 * The PROXY header a load balancer sends in front of a client's bytes
 * (HAProxy's proxy-protocol.txt, v1 and v2), read before anything else.
 * Pure: no I/O.  The caller reads the socket itself, never past the
 * header, so that what follows it (a TLS ClientHello, pipelined
 * commands) stays for the protocol: pp_parse says how many bytes in all
 * it may hold before the header can have ended.
 */
#ifndef PROXY_PARSE_H
#define PROXY_PARSE_H

#include <netinet/in.h>
#include <stddef.h>

#define PP_V1_MAX	107	/* the longest v1 line, CRLF included */
#define PP_MIN		15	/* the shortest header: "PROXY UNKNOWN\r\n" */
#define PP_V2_HEAD	16	/* signature, version/command, family, length */
/*
 * The longest v2 header taken: HAProxy's with every TLV it sends for a
 * TLS client (a 255-byte SNI name and CN, UNIQUE_ID's 128) stays well
 * below it; a longer one is refused, not read.
 */
#define PP_V2_MAX	(PP_V2_HEAD + 1536)

struct pp_addr {
	int		family;			/* AF_INET, AF_INET6 */
	char		ip[INET6_ADDRSTRLEN];	/* as inet_ntop writes it */
	unsigned	port;
};

struct pp_header {
	int		 version;	/* 1 or 2 */
	int		 addresses;	/* src and dst hold the client's ends;
					   0: LOCAL, UNKNOWN, UNSPEC, UNIX:
					   keep the socket's */
	struct pp_addr	 src;
	struct pp_addr	 dst;
	size_t		 need;		/* PP_NEED: hold this many bytes in all */
	const char	*why;		/* PP_BAD: what was wrong */
};

#define PP_NEED		0
#define PP_BAD		-1

/*
 * Parses the header at the start of buf[0..len).  Returns its length
 * (> 0) when it is whole and valid; PP_NEED when it may be valid but
 * is not whole, with h->need the bytes it surely spans (more than len,
 * at most its end); PP_BAD with h->why when it is not a valid header,
 * as soon as the bytes held show it.
 */
int	pp_parse(const unsigned char *buf, size_t len, struct pp_header *h);

#endif
