/*
 * Where the client comes from: systemd socket activation (Accept=yes), an
 * inetd (fd 0 is the socket), or a pipeline (stdin/stdout).  This is the
 * edge: the client's addresses are read and checked here, once.
 */
#include <sys/socket.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "addr.h"
#include "launch.h"
#include "session.h"

/* A v4-mapped v6 address is written as the v4 address it is. */
static void
endpoint_set(struct endpoint *e, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, e->ip, sizeof(e->ip));
		e->port = ntohs(sin->sin_port);
		e->family = AF_INET;
		e->known = 1;
	} else if (ss->ss_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12],
			    e->ip, sizeof(e->ip));
			e->family = AF_INET;
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, e->ip,
			    sizeof(e->ip));
			e->family = AF_INET6;
		}
		e->port = ntohs(sin6->sin6_port);
		e->known = 1;
	}
}

static void
endpoints_from_socket(struct client *cl, int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		endpoint_set(&cl->remote, &ss);
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		endpoint_set(&cl->local, &ss);
}

/* "IP", "IP:PORT" or "[IPv6]:PORT", as --client-addr takes it. */
int
endpoint_parse(struct endpoint *e, const char *s)
{
	struct hostport	 hp;
	unsigned char	 bin[sizeof(struct in6_addr)];

	memset(e, 0, sizeof(*e));
	if (hostport_parse(s, strlen(s), &hp) == -1)
		return -1;
	e->family = hp.v6 ? AF_INET6 : AF_INET;
	if (inet_pton(e->family, hp.host, bin) != 1)
		return -1;
	inet_ntop(e->family, bin, e->ip, sizeof(e->ip));
	e->port = hp.port;
	e->known = 1;
	return 0;
}

static int
is_socket(int fd)
{
	struct stat	st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * Finds the client connection and who it is.  Returns 0, or -1 with a
 * message in err that says what to fix.
 */
int
launch_find(struct session *s, char *err, size_t errlen)
{
	struct client	*cl = &s->client;
	int		 n, fd;

	strlcpy(cl->name, "[UNAVAILABLE]", sizeof(cl->name));
	n = sd_listen_fds(1);
	if (n < 0) {
		snprintf(err, errlen, "systemd socket activation: %s",
		    strerror(-n));
		return -1;
	}
	if (n > 1) {
		snprintf(err, errlen, "systemd passed %d sockets, expected one "
		    "connection: use one ListenStream= and Accept=yes", n);
		return -1;
	}
	if (n == 1) {
		fd = SD_LISTEN_FDS_START;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
			snprintf(err, errlen, "systemd passed a listening "
			    "socket: set Accept=yes in the .socket unit");
			return -1;
		}
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 0) <= 0) {
			snprintf(err, errlen, "systemd passed fd %d, which is "
			    "not a stream socket", fd);
			return -1;
		}
		cl->launcher = "systemd";
		conn_init(&s->cli, fd, fd, NULL, 0);
		endpoints_from_socket(cl, fd);
		return 0;
	}
	if (is_socket(STDIN_FILENO)) {
		cl->launcher = "inetd";
		conn_init(&s->cli, STDIN_FILENO,
		    is_socket(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO,
		    NULL, 0);
		endpoints_from_socket(cl, STDIN_FILENO);
		return 0;
	}
	cl->launcher = "pipeline";
	conn_init(&s->cli, STDIN_FILENO, STDOUT_FILENO, NULL, 0);
	if (s->opt->client_addr != NULL &&
	    endpoint_parse(&cl->remote, s->opt->client_addr) == -1) {
		snprintf(err, errlen, "--client-addr: bad address \"%s\" "
		    "(use IP, IP:PORT or [IPv6]:PORT)", s->opt->client_addr);
		return -1;
	}
	return 0;
}
