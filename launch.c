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

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "launch.h"
#include "session.h"
#include "values.h"

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
 * systemd's socket activation, as sd_listen_fds(3) documents it as a
 * stable interface: our own few lines rather than libsystemd, which
 * every session would map with the five libraries it pulls in.
 */
#define LISTEN_FDS_START	3

/* A variable of decimal digits: 1 and *v, 0 unset, -1 anything else. */
static int
env_number(const char *name, long long max, long long *v)
{
	const char	*s;

	if ((s = getenv(name)) == NULL)
		return 0;
	return number(&s, v) == 0 && *s == '\0' && *v <= max ? 1 : -1;
}

/*
 * The number of descriptors passed from fd 3 on, 0 when none were
 * passed to this process, or -errno.  They are ours only when LISTEN_PID
 * is our PID: a variable inherited from a parent that was activated
 * itself is not.  Ours, they get FD_CLOEXEC, as libsystemd leaves them.
 */
static int
listen_fds_count(void)
{
	long long	pid, n;
	int		fd, flags, rc;

	if ((rc = env_number("LISTEN_PID", INT_MAX, &pid)) != 1)
		return rc == 0 ? 0 : -EINVAL;
	if (pid != getpid())
		return 0;
	if ((rc = env_number("LISTEN_FDS", INT_MAX - LISTEN_FDS_START,
	    &n)) != 1)
		return rc == 0 ? 0 : -EINVAL;
	if (n == 0)
		return -EINVAL;
	for (fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++)
		if ((flags = fcntl(fd, F_GETFD)) == -1 ||
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1)
			return -errno;
	return (int)n;
}

/*
 * sd_listen_fds(1): ours or not, the three variables are unset, so that
 * nothing we start takes them for its own.  (Looked up first: unsetenv
 * walks the whole environment under a lock, even for nothing.)
 */
static int
listen_fds(void)
{
	static const char *const vars[] = {
		"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"
	};
	size_t	i;
	int	n;

	n = listen_fds_count();
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]) != NULL)
			unsetenv(vars[i]);
	return n;
}

/* What fd 3 is, by sd_is_socket(3)'s checks for a stream socket. */
enum passed {
	PASSED_CONNECTION,
	PASSED_LISTENER,	/* Accept=no */
	PASSED_OTHER
};

static enum passed
passed_kind(int fd)
{
	socklen_t	len;
	int		type, listening;

	if (!is_socket(fd))
		return PASSED_OTHER;
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    len != sizeof(type) || type != SOCK_STREAM)
		return PASSED_OTHER;
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 ||
	    len != sizeof(listening))
		return PASSED_OTHER;
	return listening ? PASSED_LISTENER : PASSED_CONNECTION;
}

/*
 * Finds the client connection and who it is.  Returns 0, or -1 with a
 * message in err that says what to fix.
 */
int
launch_find(struct session *s, char *err, size_t errlen)
{
	struct client	*cl = &s->client;
	enum passed	 kind;
	int		 n, fd;

	strlcpy(cl->name, "[UNAVAILABLE]", sizeof(cl->name));
	n = listen_fds();
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
		fd = LISTEN_FDS_START;
		kind = passed_kind(fd);
		if (kind == PASSED_LISTENER) {
			snprintf(err, errlen, "systemd passed a listening "
			    "socket: set Accept=yes in the .socket unit");
			return -1;
		}
		if (kind != PASSED_CONNECTION) {
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
