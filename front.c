/*
 * The front (--listen-proxy-protocol): a load balancer's PROXY header,
 * read before anything else is sent or read, and the trust in it.  Its
 * addresses become the client's only when the socket's peer is in a
 * --set-real-ip-from network, as nginx's realip module decides; from
 * any other peer the header is still required and read, and its
 * addresses kept only for the auth service's Proxy-Protocol-* headers.
 * This is the edge, with launch.c: the client's ends are set here, once.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "conn.h"
#include "front.h"
#include "options.h"
#include "proto/proxy_parse.h"
#include "session.h"

/* longer than any network cidr_parse takes */
#define CIDR_TEXT_MAX	128

/* The peer is in a --set-real-ip-from network (checked at start). */
static int
trusted(const struct options *o, const struct endpoint *peer)
{
	const char	*list = o->set_real_ip_from;
	char		 item[CIDR_TEXT_MAX];
	struct cidr	 c;
	int		 n;

	if (!peer->known)
		return 0;
	while ((n = options_value_next(&list, item, sizeof(item))) != 0)
		if (n > 0 && cidr_parse(item, n, &c) == 0 &&
		    cidr_match(&c, peer->ip))
			return 1;
	return 0;
}

/* A header's address as launch.c writes a socket's: v4-mapped as v4. */
static void
endpoint_from(struct endpoint *e, const struct pp_addr *a)
{
	const char	*ip = a->ip;

	memset(e, 0, sizeof(*e));
	e->family = a->family;
	if (a->family == AF_INET6 && strncmp(ip, "::ffff:", 7) == 0 &&
	    strchr(ip + 7, '.') != NULL) {
		e->family = AF_INET;
		ip += 7;
	}
	strlcpy(e->ip, ip, sizeof(e->ip));
	e->port = a->port;
	e->known = 1;
}

/*
 * Reads the header exactly: pp_parse says how many bytes it surely
 * spans, and no read asks for more, so that the client's own bytes
 * after it (a TLS ClientHello, pipelined commands) stay in the socket.
 * One deadline for it all (--timeout, or the login's when sooner): a
 * peer cannot stretch it a byte at a time.  Returns 0, or -1 with the
 * session's outcome saying what was wrong; nothing is sent.
 */
int
front_proxy(struct session *s)
{
	unsigned char		 buf[PP_V2_MAX];
	struct pp_header	 h;
	struct client		*cl = &s->client;
	long long		 end = now_ms() + s->opt->timeout, left;
	size_t			 have = 0;
	ssize_t			 r;
	int			 rc;

	while ((rc = pp_parse(buf, have, &h)) == PP_NEED) {
		left = end - now_ms();
		r = conn_read_raw(&s->cli, buf + have, h.need - have,
		    left > 0 ? left : 0);
		if (r > 0) {
			have += r;
			continue;
		}
		if (r == 0) {
			session_result(s, RESULT_CLIENT_QUIT);
			session_outcome(s, "PROXY header: the peer closed the "
			    "connection after %zu bytes", have);
		} else if (errno == ETIMEDOUT) {
			session_result(s, RESULT_TIMEOUT);
			session_outcome(s, "PROXY header: %s", have == 0 ?
			    "none came in time" : "incomplete in time");
		} else {
			session_result(s, RESULT_CLIENT_ERROR);
			session_outcome(s, "PROXY header: %s", strerror(errno));
		}
		return -1;
	}
	if (rc == PP_BAD) {
		session_result(s, RESULT_CLIENT_ERROR);
		session_outcome(s, "PROXY header: %s", h.why);
		return -1;
	}
	cl->proxied = 1;
	if (!h.addresses)
		return 0;
	endpoint_from(&cl->pp_remote, &h.src);
	endpoint_from(&cl->pp_local, &h.dst);
	if (trusted(s->opt, &cl->remote)) {
		cl->peer = cl->remote;
		cl->remote = cl->pp_remote;
		cl->local = cl->pp_local;
	}
	return 0;
}
