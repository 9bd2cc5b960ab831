/*
 * The floor of this design: a per-connection relay with no mail dialogue.
 * Started per connection like mailproxy (systemd --accept: fd 3; inetd or
 * tcpserver: fd 0 and 1; a pipeline: stdin and stdout), it connects to the
 * backend and copies both ways with read(2) and write(2) through one
 * buffer, until the backend closes.  The client's EOF is passed on as a
 * half-close.  libc only.
 *
 *	relay0 IP:PORT [bufsize]	(default: the page size)
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
copy(int from, int to, char *buf, size_t cap)
{
	ssize_t	n, w;
	size_t	off;

	do {
		n = read(from, buf, cap);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		return n;
	for (off = 0; off < (size_t)n; off += w) {
		w = write(to, buf + off, n - off);
		if (w == -1 && errno == EINTR)
			w = 0;
		else if (w <= 0)
			return -1;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd[2];
	char			*colon, *buf;
	size_t			 cap;
	int			 rfd = 0, wfd = 1, be, n;

	if (argc < 2 || argc > 3 || (colon = strrchr(argv[1], ':')) == NULL)
		return 64;
	*colon = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 64;
	cap = argc == 3 ? strtoul(argv[2], NULL, 10) :
	    (size_t)sysconf(_SC_PAGESIZE);
	if (cap == 0 || (buf = malloc(cap)) == NULL)
		return 64;
	if (getenv("LISTEN_FDS") != NULL)
		rfd = wfd = 3;
	if ((be = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(be, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return 75;
	pfd[0].fd = rfd;
	pfd[1].fd = be;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents != 0) {
			if ((n = copy(be, wfd, buf, cap)) <= 0)
				return n == 0 ? 0 : 1;
		}
		if (pfd[0].revents != 0) {
			if ((n = copy(rfd, be, buf, cap)) < 0)
				return 1;
			if (n == 0) {
				shutdown(be, SHUT_WR);
				pfd[0].fd = -1;
			}
		}
	}
}
