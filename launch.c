/*
 * Where the client comes from: systemd socket activation (Accept=yes), an
 * inetd or tcpserver (fd 0 is the socket), a UCSPI launcher or TLS front
 * that hands us pipes or a socket of its own and says in the environment
 * who the client is (s6-tcpserver with s6-tlsd, stunnel's exec=), or a
 * pipeline (stdin/stdout).  This is the edge: the client's addresses are
 * read and checked here, once.
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

/* the historical OpenBSD prototypes; says so to silence libbsd's warning */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "addr.h"
#include "launch.h"
#include "proto/ucspi_parse.h"
#include "resolve.h"
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
 * The UCSPI environment (tcpserver, s6-tcpserver, s6-tlsd, stunnel):
 * whoever started us wrote it, but what it says came from the network.
 * A value that is not what its variable holds is logged, made printable,
 * and dropped: never fatal, never passed on.
 */
#define SHOWN_MAX	96	/* bytes of a bad value shown in the log */

static void
env_bad(const char *name, const char *v, const char *why)
{
	char	shown[4 * SHOWN_MAX + 1];
	size_t	n = strlen(v);

	strnvisx(shown, sizeof(shown), v, n < SHOWN_MAX ? n : SHOWN_MAX,
	    VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_DQ);
	log_warnx("launcher's %s ignored: %s: \"%s\"%s", name, why, shown,
	    n > SHOWN_MAX ? "..." : "");
}

/* ${PROTO}REMOTEIP and the like, as s6-tcpserver-access reads them */
static const char *
env_proto(int proto, const char *what, char *name, size_t len)
{
	const char	*v;

	snprintf(name, len, "TCP%s%s", proto == UCSPI_TCP6 ? "6" : "", what);
	if ((v = getenv(name)) == NULL && proto == UCSPI_TCP6) {
		/* ucspi-tcp6 sets TCP6REMOTEIP, others TCPREMOTEIP alone */
		snprintf(name, len, "TCP%s", what);
		v = getenv(name);
	}
	return v;
}

/* An address and a port: an unknown port is 0, a bad address nothing. */
static void
env_endpoint(const char *ipvar, const char *ip, const char *portvar,
    const char *port, struct endpoint *e)
{
	struct endpoint	t;

	memset(&t, 0, sizeof(t));
	/* each is checked, and each bad one said, whatever the other is */
	if (port != NULL && ucspi_port(port, &t.port) == -1)
		env_bad(portvar, port, "not a port number");
	if (ip == NULL)
		return;
	if (ucspi_ip(ip, &t) == -1) {
		env_bad(ipvar, ip, "not an IP address");
		return;
	}
	t.known = 1;
	*e = t;
}

static void
ucspi_endpoint(int proto, const char *side, struct endpoint *e)
{
	char		 ipvar[32], portvar[32], what[16];
	const char	*ip, *port;

	snprintf(what, sizeof(what), "%sIP", side);
	ip = env_proto(proto, what, ipvar, sizeof(ipvar));
	snprintf(what, sizeof(what), "%sPORT", side);
	port = env_proto(proto, what, portvar, sizeof(portvar));
	env_endpoint(ipvar, ip, portvar, port, e);
}

/*
 * TCPREMOTEHOST is the client's PTR name as tcpserver found it (without
 * -p, not confirmed by a forward lookup): the client's name for XCLIENT
 * NAME and Client-Host when we do no lookup of our own (no --resolver),
 * and a valid host name.
 */
static void
ucspi_name(struct session *s, int proto)
{
	struct client	*cl = &s->client;
	char		 var[32];
	const char	*v;

	if ((v = env_proto(proto, "REMOTEHOST", var, sizeof(var))) == NULL)
		return;
	if (!hostname_valid(v, strlen(v)) || strlen(v) >= sizeof(cl->name)) {
		env_bad(var, v, "not a host name");
		return;
	}
	if (s->opt->resolver != NULL || !cl->remote.known)
		return;
	strlcpy(cl->name, v, sizeof(cl->name));
	cl->resolved = 1;
}

/*
 * When fd 0 is the socket (tcpserver), the socket is the truth: an
 * environment that says otherwise was changed on the way (s6's
 * proxy-server from a PROXY header: use --listen-proxy-protocol instead).
 */
static void
ucspi_socket_check(const struct client *cl, int proto)
{
	struct endpoint	 e;
	char		 var[32], pvar[32];
	const char	*ip, *port;

	memset(&e, 0, sizeof(e));
	ip = env_proto(proto, "REMOTEIP", var, sizeof(var));
	port = env_proto(proto, "REMOTEPORT", pvar, sizeof(pvar));
	env_endpoint(var, ip, pvar, port, &e);
	if (e.known && cl->remote.known && (strcmp(e.ip, cl->remote.ip) != 0 ||
	    (port != NULL && e.port != cl->remote.port)))
		log_warnx("launcher's %s=%s differs from the socket's peer %s "
		    "port %u: the socket's is used", var, e.ip, cl->remote.ip,
		    cl->remote.port);
}

/* One TLS fact into its field: dropped, with a word, when it is not one. */
static void
env_fact(const char *name, char *dst, size_t cap, int flags)
{
	const char	*v;

	if ((v = getenv(name)) == NULL)
		return;
	if (ucspi_text(v, dst, cap, flags) == -1)
		env_bad(name, v, "not printable ASCII, or too long");
}

/*
 * What the TLS front negotiated with the client.  It verified no client
 * certificate for us (cert stays 0: no SASL EXTERNAL), and a CN is one
 * only when the DN holds exactly one.
 */
static void
front_cn(struct tls_facts *t, const char *cnvar)
{
	if (cnvar != NULL && getenv(cnvar) != NULL)
		env_fact(cnvar, t->cn, sizeof(t->cn), UCSPI_BLANKS);
	else if (t->subject[0] != '\0')
		(void)ucspi_dn_cn(t->subject, t->cn, sizeof(t->cn));
}

/* s6-tlsd: SSL_PROTOCOL, SSL_CIPHER, SSL_TLS_SNI_SERVERNAME, the peer's */
static void
front_s6(struct tls_facts *t)
{
	const char	*sni;

	t->on = t->front = 1;
	env_fact("SSL_PROTOCOL", t->protocol, sizeof(t->protocol), UCSPI_TOKEN);
	env_fact("SSL_CIPHER", t->cipher, sizeof(t->cipher), UCSPI_TOKEN);
	if ((sni = getenv("SSL_TLS_SNI_SERVERNAME")) != NULL) {
		if (hostname_valid(sni, strlen(sni)) &&
		    strlen(sni) < sizeof(t->sni))
			strlcpy(t->sni, sni, sizeof(t->sni));
		else
			env_bad("SSL_TLS_SNI_SERVERNAME", sni,
			    "not a host name");
	}
	env_fact("SSL_PEER_CERT_SUBJECT", t->subject, sizeof(t->subject),
	    UCSPI_BLANKS);
	/* s6's proxy-server names it so, from a PROXY header's CN */
	front_cn(t, "SSL_PEER_CERT_CN");
}

/* stunnel: the DNs of a client certificate, no protocol or cipher */
static void
front_stunnel(struct tls_facts *t)
{
	t->on = t->front = 1;
	env_fact("SSL_CLIENT_DN", t->subject, sizeof(t->subject),
	    UCSPI_BLANKS);
	env_fact("SSL_CLIENT_I_DN", t->issuer, sizeof(t->issuer),
	    UCSPI_BLANKS);
	front_cn(t, NULL);
}

/* fd's address family when it is a socket, else -1 */
static int
socket_family(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (!is_socket(fd))
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return AF_UNSPEC;
	return ss.ss_family;
}

/* stunnel says who the client is, and a socket is its way to us */
static int
stunnel_env(void)
{
	return getenv("REMOTE_HOST") != NULL && getenv("REMOTE_PORT") != NULL;
}

/*
 * stunnel's exec= hands the child one end of a TCP connection it made
 * to itself on the loopback (Debian's 5.68; others a UNIX socketpair):
 * then fd 0's peer is stunnel, and its REMOTE_HOST is the client.
 */
static int
stunnel_pair(int fd)
{
	struct sockaddr_storage	 ss;
	const struct sockaddr_in	*sin = (const void *)&ss;
	const struct sockaddr_in6	*sin6 = (const void *)&ss;
	socklen_t		 len = sizeof(ss);
	const unsigned char	*a;

	memset(&ss, 0, sizeof(ss));
	if (!stunnel_env() ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family != AF_INET6)
		return 0;
	a = sin6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127);
}

/*
 * fd 0 is not the client's own socket: a TLS front (stunnel's socket,
 * s6-tlsd's pipes) or a UCSPI launcher's relay stands between us and
 * the client, and the environment alone says who the client is.  It is
 * trusted only when it says it is a launcher's: PROTO=TCP (or TCP6), or
 * stunnel's REMOTE_HOST and REMOTE_PORT on a socket (never on a pipe,
 * where a CGI's REMOTE_HOST could be inherited).  0: it was; -1: no
 * launcher.
 */
static int
launch_ucspi(struct session *s, int socket)
{
	struct client	*cl = &s->client;
	int		 proto, stunnel;

	proto = ucspi_proto(getenv("PROTO"));
	stunnel = socket && stunnel_env();
	if (!proto && !stunnel)
		return -1;
	if (stunnel) {
		cl->launcher = "stunnel";
		env_endpoint("REMOTE_HOST", getenv("REMOTE_HOST"),
		    "REMOTE_PORT", getenv("REMOTE_PORT"), &cl->remote);
		front_stunnel(&s->tls);
	} else {
		ucspi_endpoint(proto, "REMOTE", &cl->remote);
		if (getenv("SSL_PROTOCOL") != NULL ||
		    getenv("SSL_CIPHER") != NULL) {
			cl->launcher = "ucspi-tls";
			front_s6(&s->tls);
		} else
			cl->launcher = "ucspi";
	}
	/* stunnel under a tcpserver: the tcpserver says the local end */
	if (proto) {
		ucspi_endpoint(proto, "LOCAL", &cl->local);
		ucspi_name(s, proto);
	}
	return 0;
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
	int		 n, fd, family, proto;

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
	family = socket_family(STDIN_FILENO);
	if ((family == AF_INET || family == AF_INET6) &&
	    !stunnel_pair(STDIN_FILENO)) {
		proto = ucspi_proto(getenv("PROTO"));
		cl->launcher = proto ? "tcpserver" : "inetd";
		conn_init(&s->cli, STDIN_FILENO,
		    is_socket(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO,
		    NULL, 0);
		endpoints_from_socket(cl, STDIN_FILENO);
		if (proto) {
			ucspi_socket_check(cl, proto);
			ucspi_name(s, proto);
		}
		return 0;
	}
	if (launch_ucspi(s, family != -1) == -1)
		cl->launcher = family != -1 ? "inetd" : "pipeline";
	else if (s->opt->ssl && s->tls.front) {
		snprintf(err, errlen, "%s ended the client's TLS already: drop "
		    "--ssl=on", cl->launcher);
		return -1;
	}
	/* pipes, or stunnel's socket on fd 0 and 1 */
	conn_init(&s->cli, STDIN_FILENO,
	    family != -1 && !is_socket(STDOUT_FILENO) ? STDIN_FILENO :
	    STDOUT_FILENO, NULL, 0);
	if (strcmp(cl->launcher, "inetd") == 0) {
		endpoints_from_socket(cl, STDIN_FILENO);
		return 0;
	}
	/* the command line's word wins over the environment's */
	if (s->opt->client_addr != NULL) {
		if (endpoint_parse(&cl->remote, s->opt->client_addr) == -1) {
			snprintf(err, errlen, "--client-addr: bad address "
			    "\"%s\" (use IP, IP:PORT or [IPv6]:PORT)",
			    s->opt->client_addr);
			return -1;
		}
		/* a launcher's TCPREMOTEHOST named its own address */
		strlcpy(cl->name, "[UNAVAILABLE]", sizeof(cl->name));
		cl->resolved = 0;
	}
	return 0;
}
