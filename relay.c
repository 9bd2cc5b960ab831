/*
 * The relay: two directions, each with one buffer of proxy_buffer bytes.
 * A direction reads only when its buffer is empty, so a side that stops
 * reading stops the other side too: nothing grows without bound.  EOF on
 * one side is passed on with a half-close, and the other direction keeps
 * going until it ends as well.  The relay is this one function; its engine
 * (read/write today, splice or TLS later) stays behind conn.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

#include "conn.h"
#include "relay.h"

struct half {
	struct conn	*from, *to;
	unsigned char	*buf;
	size_t		 off, len;
	int		 eof;		/* from has no more */
	int		 shut;		/* EOF passed on to to */
};

static void
nonblock(int fd)
{
	int	fl;

	if (fd != -1 && (fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Moves what it can; -1 when the direction broke (reset, peer gone). */
static int
half_step(struct half *h, size_t cap, short rev, short wev)
{
	ssize_t	n;
	int	fresh = 0;

	if (h->len == 0 && !h->eof &&
	    (rev != 0 || conn_pending(h->from) > 0)) {
		n = conn_read(h->from, h->buf, cap);
		if (n > 0) {
			h->off = 0;
			h->len = n;
			fresh = 1;	/* try to pass it on without a poll */
		} else if (n == 0)
			h->eof = 1;
		else if (errno != EAGAIN)
			return -1;
	}
	if (h->len > 0 && (wev != 0 || fresh)) {
		n = conn_write(h->to, h->buf + h->off, h->len);
		if (n > 0) {
			h->off += n;
			h->len -= n;
		} else if (n == -1 && errno != EAGAIN)
			return -1;
	}
	if (h->len == 0 && h->eof && !h->shut) {
		conn_shutdown(h->to);
		h->shut = 1;
	}
	return 0;
}

int
relay(struct conn *client, struct conn *backend, size_t bufsize,
    long long idle_ms, const char **why)
{
	struct half	 h[2];
	struct pollfd	 pfd[4];
	unsigned char	*mem;
	int		 i, n, rc = 0, timeout;

	if ((mem = malloc(2 * bufsize)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	h[0] = (struct half){ client, backend, mem, 0, 0, 0, 0 };
	h[1] = (struct half){ backend, client, mem + bufsize, 0, 0, 0, 0 };
	nonblock(client->rfd);
	nonblock(client->wfd);
	nonblock(backend->rfd);
	*why = NULL;

	while (!(h[0].shut && h[1].shut)) {
		timeout = idle_ms > 0x7fffffff ? 0x7fffffff : (int)idle_ms;
		for (i = 0; i < 2; i++) {
			pfd[2 * i].fd = -1;
			pfd[2 * i].events = POLLIN;
			pfd[2 * i].revents = 0;
			pfd[2 * i + 1].fd = -1;
			pfd[2 * i + 1].events = POLLOUT;
			pfd[2 * i + 1].revents = 0;
			if (h[i].len == 0 && !h[i].eof) {
				if (conn_pending(h[i].from) > 0)
					timeout = 0;
				pfd[2 * i].fd = h[i].from->rfd;
			}
			if (h[i].len > 0)
				pfd[2 * i + 1].fd = h[i].to->wfd;
		}
		n = poll(pfd, 4, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = "poll failed";
			rc = -1;
			break;
		}
		if (n == 0 && timeout != 0) {
			*why = "proxy_timeout";
			break;
		}
		for (i = 0; i < 2; i++)
			if (half_step(&h[i], bufsize, pfd[2 * i].revents,
			    pfd[2 * i + 1].revents) == -1) {
				*why = i == 0 ? "client to backend broke" :
				    "backend to client broke";
				rc = -1;
				goto done;
			}
	}
done:
	free(mem);
	return rc;
}
