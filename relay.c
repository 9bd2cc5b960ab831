/*
 * The relay: two directions, each with one buffer of proxy_buffer bytes.
 * A direction reads only when its buffer is empty, so a side that stops
 * reading stops the other side too: nothing grows without bound.
 *
 * How a session ends:
 * - The backend closes (after QUIT, LOGOUT, or an error): what it sent
 *   reaches the client, then the client is closed too, as nginx does;
 *   what the client still sends has nowhere to go and is dropped.
 * - The client half-closes: EOF is passed on to the backend, whose answer
 *   is relayed for as long as it keeps coming.  Once either side has
 *   closed, the limit is half_close_ms without a byte moving instead of
 *   proxy_timeout: an idle bound, so a large RETR or FETCH still ends
 *   whole, but a half-closed session never lives until proxy_timeout.
 * - A direction whose bytes the far side does not take within the limit
 *   (a peer that stopped reading), or nothing moving either way.
 *
 * The engine is how one direction holds and moves its bytes: readwrite
 * through a buffer of proxy_buffer bytes in user space, splice through a
 * pipe of proxy_buffer bytes (rounded up to pages) in the kernel.  Both
 * go through conn.c; TLS is readwrite through OpenSSL, conn.c saying
 * what each stalled side waits for (a read that must write first) and
 * what OpenSSL holds decrypted, which no poll(2) sees.  Bytes the handshake
 * read ahead, in the connection's buffer, go out first, through the
 * buffer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "relay.h"

enum { UP, DOWN };		/* client to backend, backend to client */

#define RELAY_BURST	16	/* buffers a direction moves between polls */

struct half {
	struct conn	*from, *to;
	int		 splice;	/* this direction uses the splice engine */
	unsigned char	*buf;		/* readwrite: the bytes held */
	int		 pipe[2];	/* splice: the bytes held */
	int		 inpipe;	/* the bytes held are in the pipe */
	size_t		 off, len;	/* len: bytes held, in buf or the pipe */
	int		 eof;		/* from has no more, or none is wanted */
	int		 shut;		/* EOF passed on to to */
	long long	 moved;		/* now_ms() of the last read or write */
};

/* The log's words for a limit that ran out: [closing][what]. */
enum { IDLE, UP_STALLED, DOWN_STALLED };
static const char *const expired[2][3] = {
	{ "proxy_timeout",
	  "proxy_timeout: the backend stopped reading",
	  "proxy_timeout: the client stopped reading" },
	{ "half_close_timeout",
	  "half_close_timeout: the backend stopped reading",
	  "half_close_timeout: the client stopped reading" },
};

/*
 * What the direction waits for: input when empty, output when not, in
 * the connection's terms (a TLS read may wait to write, and back).
 */
static void
half_arm(const struct half *h, struct pollfd *rd, struct pollfd *wr)
{
	conn_arm(h->from, 0, rd);
	if (h->len != 0 || h->eof)
		rd->fd = -1;
	conn_arm(h->to, 1, wr);
	if (h->len == 0)
		wr->fd = -1;
}

/* Takes what from has, up to cap bytes: n > 0, 0 at EOF, -1. */
static ssize_t
half_fill(struct half *h, size_t cap)
{
	ssize_t	n;

	if (h->splice && conn_pending(h->from) == 0) {
		n = conn_splice_in(h->from, h->pipe[1], cap);
		h->inpipe = 1;
	} else {
		n = conn_read(h->from, h->buf, cap);
		h->inpipe = 0;
	}
	if (n > 0) {
		h->off = 0;
		h->len = n;
	}
	return n;
}

/* Passes on what is held: the bytes written, or -1. */
static ssize_t
half_drain(struct half *h)
{
	ssize_t	n;

	if (h->inpipe)
		n = conn_splice_out(h->to, h->pipe[0], h->len);
	else
		n = conn_write(h->to, h->buf + h->off, h->len);
	if (n > 0) {
		h->off += n;
		h->len -= n;
	}
	return n;
}

/*
 * One read and its write: 1 when a whole buffer went through (more may
 * wait), 0 when it stopped short, -1 when the direction broke (reset,
 * peer gone).
 */
static int
half_move(struct half *h, size_t cap, short rev, short wev)
{
	ssize_t	n;
	int	fresh = 0, full = 0;

	if (h->len == 0 && !h->eof &&
	    (rev != 0 || conn_pending(h->from) > 0)) {
		n = half_fill(h, cap);
		if (n > 0) {
			fresh = 1;	/* try to pass it on without a poll */
			full = (size_t)n == cap;
			h->moved = now_ms();
		} else if (n == 0) {
			h->eof = 1;
			h->moved = now_ms();
		} else if (errno != EAGAIN)
			return -1;
	}
	if (h->len > 0 && (wev != 0 || fresh)) {
		n = half_drain(h);
		if (n > 0)
			h->moved = now_ms();
		else if (n == -1 && errno != EAGAIN)
			return -1;
	}
	if (h->len == 0 && h->eof && !h->shut) {
		conn_shutdown(h->to);
		h->shut = 1;
	}
	return full && h->len == 0;
}

/*
 * Moves what it can: after a whole buffer went through, the next read is
 * tried at once, a few times before the next poll(2), as an event loop
 * reads until EAGAIN; at one page of proxy_buffer a poll for every page
 * was a third of the system calls.
 */
static int
half_step(struct half *h, size_t cap, short rev, short wev)
{
	int	i, rc;

	for (i = 0; i < RELAY_BURST; i++) {
		if ((rc = half_move(h, cap, rev, wev)) != 1)
			return rc;
		rev = POLLIN;
		wev = 0;
	}
	return 0;
}

/* splice(2) takes sockets and pipes: a terminal or a file gets readwrite. */
static int
spliceable(int fd)
{
	struct stat	st;

	return fd != -1 && fstat(fd, &st) == 0 &&
	    (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode));
}

/*
 * Sets up one direction's engine: with splice, a pipe that holds cap
 * bytes.  A direction that cannot splice falls back to readwrite.
 */
static void
half_open(struct half *h, struct conn *from, struct conn *to,
    unsigned char *buf, size_t cap, int engine, long long now)
{
	*h = (struct half){ .from = from, .to = to, .buf = buf,
	    .pipe = { -1, -1 }, .moved = now };
	/* TLS is bytes the kernel cannot move: it takes readwrite */
	if (engine != RELAY_SPLICE || from->tls != NULL || to->tls != NULL ||
	    !spliceable(from->rfd) || !spliceable(to->wfd))
		return;
	if (pipe2(h->pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		return;
	/* the kernel rounds up to a power of two pages; less it refuses */
	fcntl(h->pipe[1], F_SETPIPE_SZ, (int)(cap < INT_MAX ? cap : INT_MAX));
	h->splice = 1;
}

static void
half_close(struct half *h)
{
	if (h->pipe[0] != -1) {
		close(h->pipe[0]);
		close(h->pipe[1]);
	}
}

/*
 * When the relay gives up unless a byte moves, and the word for it: the
 * sooner of a direction stalled on its output and both idle, each
 * measured from the last byte moved.
 */
static long long
relay_due(const struct half h[2], const struct relay_limits *lim,
    const char **why)
{
	long long	limit = lim->idle_ms, due;
	int		closing = 0, i;

	if ((h[UP].eof || h[DOWN].eof) && lim->half_close_ms < limit) {
		limit = lim->half_close_ms;
		closing = 1;
	}
	due = (h[UP].moved > h[DOWN].moved ? h[UP].moved : h[DOWN].moved) +
	    limit;
	*why = expired[closing][IDLE];
	for (i = UP; i <= DOWN; i++)
		if (h[i].len > 0 && h[i].moved + limit <= due) {
			due = h[i].moved + limit;
			*why = expired[closing][i == UP ? UP_STALLED :
			    DOWN_STALLED];
		}
	return due;
}

/* Milliseconds for poll(2) until due; none when input already waits. */
static int
relay_wait(const struct half h[2], long long due)
{
	long long	ms = due - now_ms();
	int		i;

	for (i = UP; i <= DOWN; i++)
		if (h[i].len == 0 && !h[i].eof && conn_pending(h[i].from) > 0)
			return 0;
	if (ms < 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int
relay(struct conn *client, struct conn *backend,
    const struct relay_limits *lim, const char **why)
{
	struct half	 h[2];
	struct pollfd	 pfd[4];
	unsigned char	*mem;
	const char	*late;
	long long	 due, now = now_ms();
	int		 i, n, rc = 0;

	*why = NULL;
	if ((mem = malloc(2 * lim->buffer)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	half_open(&h[UP], client, backend, mem, lim->buffer, lim->engine, now);
	half_open(&h[DOWN], backend, client, mem + lim->buffer, lim->buffer,
	    lim->engine, now);

	while (!h[DOWN].shut) {
		due = relay_due(h, lim, &late);
		for (i = UP; i <= DOWN; i++)
			half_arm(&h[i], &pfd[2 * i], &pfd[2 * i + 1]);
		n = poll(pfd, 4, relay_wait(h, due));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = "poll failed";
			rc = -1;
			break;
		}
		if (n == 0 && now_ms() >= due) {
			*why = late;
			break;
		}
		/* the backend's way first: its EOF decides the other way */
		for (i = DOWN; i >= UP; i--)
			if (half_step(&h[i], lim->buffer, pfd[2 * i].revents,
			    pfd[2 * i + 1].revents) == -1) {
				*why = i == UP ? "client to backend broke" :
				    "backend to client broke";
				rc = -1;
				goto done;
			}
		/* the backend has closed: the client's bytes are dropped */
		if (h[DOWN].eof && !h[UP].eof) {
			h[UP].eof = 1;
			h[UP].len = 0;
		}
	}
done:
	half_close(&h[UP]);
	half_close(&h[DOWN]);
	explicit_bzero(mem, 2 * lim->buffer);
	free(mem);
	return rc;
}
