/*
 * The benchmark's fake backend: minimal SMTP, POP3 and IMAP servers with
 * the dialogue a proxy and the load generator need, and an nginx-style
 * auth_http responder that names them.  A thread per connection, blocking
 * I/O, nothing logged: as fast as a server can be, so that the proxies in
 * front of it are what is measured.
 *
 *	backend [-b bytes] -r readyfile
 *
 * Listens on 127.0.0.1 on four ports the kernel picks and writes them to
 * readyfile ("smtp PORT", "pop3 PORT", "imap PORT", "auth PORT") once
 * listening.  Bulk: POP3 RETR and IMAP FETCH send a message of -b bytes
 * (rounded down to whole 64-byte lines; default 1 MiB); SMTP DATA takes
 * any size and drops it.  Every login succeeds.  Runs until killed.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io.h"

enum { SMTP, POP3, IMAP, AUTH, NPROTO };
static const char *const proto_names[NPROTO] = {
	"smtp", "pop3", "imap", "auth"
};

static unsigned long long	bulk = 1024 * 1024;
static int			ports[NPROTO];

struct job {
	int	fd;
	int	proto;
};

/* Does line start with the verb (a whole word, any case)? */
static int
verb(const char *line, const char *v)
{
	size_t	n = strlen(v);

	return strncasecmp(line, v, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' ');
}

static void
smtp_serve(struct rd *r)
{
	char			*line;
	size_t			 len;
	unsigned long long	 n;
	int			 fd = r->fd;

	if (write_str(fd, "220 backend.bench ESMTP\r\n") == -1)
		return;
	while (rd_line(r, &line, &len) == 0) {
		if (verb(line, "EHLO")) {
			if (write_str(fd, "250-backend.bench\r\n"
			    "250-PIPELINING\r\n250-8BITMIME\r\n"
			    "250-XCLIENT NAME ADDR PROTO HELO LOGIN\r\n"
			    "250 SMTPUTF8\r\n") == -1)
				return;
		} else if (verb(line, "HELO") || verb(line, "MAIL") ||
		    verb(line, "RCPT") || verb(line, "RSET") ||
		    verb(line, "NOOP")) {
			if (write_str(fd, "250 2.0.0 Ok\r\n") == -1)
				return;
		} else if (verb(line, "XCLIENT")) {
			if (write_str(fd, "220 backend.bench ESMTP\r\n") == -1)
				return;
		} else if (verb(line, "AUTH")) {
			if (write_str(fd, "235 2.7.0 Authentication "
			    "successful\r\n") == -1)
				return;
		} else if (verb(line, "DATA")) {
			if (write_str(fd, "354 End data with <CR><LF>.<CR>"
			    "<LF>\r\n") == -1 || rd_dot_end(r, &n) == -1 ||
			    write_str(fd, "250 2.0.0 Ok: queued\r\n") == -1)
				return;
		} else if (verb(line, "QUIT")) {
			write_str(fd, "221 2.0.0 Bye\r\n");
			return;
		} else if (write_str(fd, "502 5.5.2 Error: command not "
		    "recognized\r\n") == -1)
			return;
	}
}

static void
pop3_serve(struct rd *r)
{
	char	*line, hdr[64];
	size_t	 len;
	int	 fd = r->fd;

	if (write_str(fd, "+OK backend.bench ready <1.1@backend.bench>\r\n")
	    == -1)
		return;
	while (rd_line(r, &line, &len) == 0) {
		if (verb(line, "CAPA")) {
			if (write_str(fd, "+OK\r\nUSER\r\nUIDL\r\nTOP\r\n"
			    ".\r\n") == -1)
				return;
		} else if (verb(line, "STAT")) {
			snprintf(hdr, sizeof(hdr), "+OK 1 %llu\r\n",
			    body_size(bulk));
			if (write_str(fd, hdr) == -1)
				return;
		} else if (verb(line, "RETR")) {
			snprintf(hdr, sizeof(hdr), "+OK %llu octets\r\n",
			    body_size(bulk));
			if (write_str(fd, hdr) == -1 ||
			    body_write(fd, bulk, ".\r\n") == -1)
				return;
		} else if (verb(line, "QUIT")) {
			write_str(fd, "+OK Bye\r\n");
			return;
		} else if (verb(line, "USER") || verb(line, "PASS") ||
		    verb(line, "APOP") || verb(line, "NOOP")) {
			if (write_str(fd, "+OK\r\n") == -1)
				return;
		} else if (write_str(fd, "-ERR unknown command\r\n") == -1)
			return;
	}
}

/* "{n}" or "{n+}" at the end of a line: n, else -1; *plus for LITERAL+. */
static long long
literal(const char *line, size_t len, int *plus)
{
	size_t	i;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	i = len - 1;
	*plus = line[i - 1] == '+';
	if (*plus)
		i--;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == 0 || line[i - 1] != '{' || i == len - 1 - *plus)
		return -1;
	return strtoll(line + i, NULL, 10);
}

/* Reads a command with its literals; the tag and the verb only are kept. */
static int
imap_command(struct rd *r, char *tag, size_t tagcap, char *cmd,
    size_t cmdcap)
{
	char		*line;
	size_t		 len, n;
	long long	 lit;
	int		 plus, first = 1;

	for (;;) {
		if (rd_line(r, &line, &len) == -1)
			return -1;
		if (first) {
			n = strcspn(line, " ");
			snprintf(tag, tagcap, "%.*s", (int)n, line);
			line += n;
			line += strspn(line, " ");
			snprintf(cmd, cmdcap, "%.*s", (int)strcspn(line, " "),
			    line);
			len = strlen(line);
			first = 0;
		}
		if ((lit = literal(line, len, &plus)) < 0)
			return 0;
		if (!plus && write_str(r->fd, "+ OK\r\n") == -1)
			return -1;
		if (rd_skip(r, lit) == -1)
			return -1;
	}
}

static void
imap_serve(struct rd *r)
{
	char	tag[64], cmd[32], out[256];
	int	fd = r->fd, rc;

	if (write_str(fd, "* OK backend.bench ready\r\n") == -1)
		return;
	while (imap_command(r, tag, sizeof(tag), cmd, sizeof(cmd)) == 0) {
		if (strcasecmp(cmd, "LOGOUT") == 0) {
			snprintf(out, sizeof(out), "* BYE\r\n%s OK LOGOUT "
			    "completed\r\n", tag);
			write_str(fd, out);
			return;
		}
		if (strcasecmp(cmd, "CAPABILITY") == 0)
			rc = write_str(fd, "* CAPABILITY IMAP4rev1\r\n");
		else if (strcasecmp(cmd, "SELECT") == 0 ||
		    strcasecmp(cmd, "EXAMINE") == 0)
			rc = write_str(fd, "* 1 EXISTS\r\n* 0 RECENT\r\n");
		else if (strcasecmp(cmd, "FETCH") == 0) {
			snprintf(out, sizeof(out), "* 1 FETCH (BODY[] {%llu}\r\n",
			    body_size(bulk));
			if (write_str(fd, out) == -1)
				return;
			snprintf(out, sizeof(out), ")\r\n%s OK FETCH "
			    "completed\r\n", tag);
			if (body_write(fd, bulk, out) == -1)
				return;
			continue;
		} else if (strcasecmp(cmd, "LOGIN") == 0 ||
		    strcasecmp(cmd, "NOOP") == 0)
			rc = 0;
		else {
			snprintf(out, sizeof(out), "%s BAD unknown\r\n", tag);
			if (write_str(fd, out) == -1)
				return;
			continue;
		}
		snprintf(out, sizeof(out), "%s OK %s completed\r\n", tag, cmd);
		if (rc == -1 || write_str(fd, out) == -1)
			return;
	}
}

/* Copies header name's value (after ": ") from the request into v. */
static void
header(const char *req, const char *name, char *v, size_t cap)
{
	const char	*p = req;
	size_t		 n = strlen(name);

	v[0] = '\0';
	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			snprintf(v, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
			return;
		}
	}
}

/* One auth_http request (until the empty line), one answer: OK. */
static void
auth_serve(struct rd *r)
{
	char	*line, req[8192], proto[16], pass[512], out[1024];
	size_t	 len, used = 0;
	int	 port = ports[SMTP];

	req[0] = '\0';
	while (rd_line(r, &line, &len) == 0 && len > 0)
		if (used + len + 2 < sizeof(req)) {
			memcpy(req + used, line, len);
			memcpy(req + used + len, "\n", 2);
			used += len + 1;
		}
	header(req, "Auth-Protocol", proto, sizeof(proto));
	header(req, "Auth-Pass", pass, sizeof(pass));
	if (strcasecmp(proto, "pop3") == 0)
		port = ports[POP3];
	else if (strcasecmp(proto, "imap") == 0)
		port = ports[IMAP];
	snprintf(out, sizeof(out), "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Server: 127.0.0.1\r\nAuth-Port: %d\r\n%s%s%s\r\n", port,
	    pass[0] != '\0' ? "Auth-Pass: " : "", pass,
	    pass[0] != '\0' ? "\r\n" : "");
	write_str(r->fd, out);
}

static void *
serve(void *arg)
{
	struct job	 j = *(struct job *)arg;
	struct rd	*r;

	free(arg);
	if ((r = malloc(sizeof(*r))) != NULL) {
		rd_init(r, j.fd);
		switch (j.proto) {
		case SMTP:
			smtp_serve(r);
			break;
		case POP3:
			pop3_serve(r);
			break;
		case IMAP:
			imap_serve(r);
			break;
		default:
			auth_serve(r);
			break;
		}
		free(r);
	}
	close(j.fd);
	return NULL;
}

static int
listen_any(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: backend [-b bytes] -r readyfile\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd[NPROTO];
	pthread_attr_t	 attr;
	pthread_t	 t;
	struct job	*j;
	const char	*ready = NULL;
	char		 tmp[4096];
	size_t		 clen;
	FILE		*f;
	int		 c, i, fd, on = 1;

	while ((c = getopt(argc, argv, "b:r:")) != -1) {
		switch (c) {
		case 'b':
			bulk = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			usage();
		}
	}
	if (ready == NULL || optind != argc || bulk == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	body_chunk(&clen);
	for (i = 0; i < NPROTO; i++) {
		if ((pfd[i].fd = listen_any(&ports[i])) == -1) {
			perror("backend: listen");
			return 1;
		}
		pfd[i].events = POLLIN;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	if ((f = fopen(tmp, "w")) == NULL)
		return 1;
	for (i = 0; i < NPROTO; i++)
		fprintf(f, "%s %d\n", proto_names[i], ports[i]);
	if (fclose(f) == EOF || rename(tmp, ready) == -1)
		return 1;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	for (;;) {
		if (poll(pfd, NPROTO, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < NPROTO; i++) {
			if ((pfd[i].revents & POLLIN) == 0)
				continue;
			fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd == -1)
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
			    sizeof(on));
			if ((j = malloc(sizeof(*j))) == NULL) {
				close(fd);
				continue;
			}
			j->fd = fd;
			j->proto = i;
			if (pthread_create(&t, &attr, serve, j) != 0) {
				free(j);
				close(fd);
			}
		}
	}
}
