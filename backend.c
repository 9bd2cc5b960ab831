/*
 * Connecting to the backend: HOST:PORT or [IPv6]:PORT, each address the
 * name gives tried in turn, each within the timeout.  The socket is left
 * non-blocking; conn.c waits with poll.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "proto/auth_http.h"
#include "session.h"
#include "tls.h"

static int
connect_one(const struct addrinfo *ai, long long timeout_ms)
{
	struct pollfd	pfd;
	socklen_t	len;
	int		fd, e = 0, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms > 0x7fffffff ? 0x7fffffff :
		    (int)timeout_ms) != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			goto fail;
		if (e != 0) {
			errno = e;
			goto fail;
		}
	}
	/*
	 * The handshake is small request-reply lines: don't batch them (the
	 * relay turns Nagle back on: conn_nodelay).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* a backend gone without a word must not hold us for proxy_timeout */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Returns a connected socket, or -1 with a message in err. */
int
backend_connect(const char *hostport, long long timeout_ms, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct hostport	 hp;
	char		 port[16];
	int		 fd = -1, rc;

	if (hostport_parse(hostport, strlen(hostport), &hp) == -1 ||
	    hp.port == 0) {
		snprintf(err, errlen, "bad backend address \"%s\"", hostport);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", hp.port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	/* an address needs no resolver: skip NSS for it */
	if ((rc = getaddrinfo(hp.host, port, &hints, &res)) == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
		rc = getaddrinfo(hp.host, port, &hints, &res);
	}
	if (rc != 0) {
		snprintf(err, errlen, "backend %s: %s", hostport,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	if (fd == -1)
		snprintf(err, errlen, "backend %s: %s", hostport,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/*
 * A unix-domain stream socket (the auth service at "unix:/path"): a
 * connected socket, or -1 with a message in err.  A listener with a full
 * backlog refuses at once (EAGAIN), as a TCP one may time out.
 */
int
unix_connect(const char *path, long long timeout_ms, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 ai;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix:%s: path too long", path);
		return -1;
	}
	memset(&ai, 0, sizeof(ai));
	ai.ai_family = AF_UNIX;
	ai.ai_socktype = SOCK_STREAM;
	ai.ai_addr = (struct sockaddr *)&sun;
	ai.ai_addrlen = sizeof(sun);
	if ((fd = connect_one(&ai, timeout_ms)) == -1)
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
	return fd;
}

/*
 * Until its greeting a backend has its share of the one deadline the
 * backends have together (mailproxy.c, backend_login); after it, what
 * it says is the login's business, as with one backend.
 */
void
backend_greeted(struct session *s)
{
	s->be.deadline = s->cli.deadline;
}

/*
 * TLS towards the backend: --proxy-ssl or --proxy-starttls (at most one
 * of them: options.c).  The one place that decides it for a session.
 */
int
backend_tls_mode(const struct session *s)
{
	/* the auth service's word for this session, when it said one */
	switch (s->be_ssl) {
	case AUTH_PROXY_SSL_OFF:
		return BACKEND_PLAIN;
	case AUTH_PROXY_SSL_ON:
		return BACKEND_TLS;
	case AUTH_PROXY_SSL_STARTTLS:
		return BACKEND_STARTTLS;
	}
	if (s->opt->proxy_ssl)
		return BACKEND_TLS;
	if (s->opt->proxy_starttls)
		return BACKEND_STARTTLS;
	return BACKEND_PLAIN;
}

/* Verified by --proxy-ssl-name, else by the backend's own host. */
int
backend_tls(struct session *s)
{
	return tls_client(s, s->be_ssl_name[0] != '\0' ? s->be_ssl_name :
	    s->opt->proxy_ssl_name);
}
