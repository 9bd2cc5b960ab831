/*
 * The connection: a pair of descriptors (one socket, or stdin/stdout in a
 * pipeline) with a bounded input buffer.  All of mailproxy's I/O with its
 * peers happens here.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

void
conn_init(struct conn *c, int rfd, int wfd, unsigned char *buf, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->buf = buf;
	c->cap = cap;
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready; 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, long long timeout_ms)
{
	struct pollfd	pfd;
	long long	deadline = now_ms() + timeout_ms;
	int		n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		long long left = deadline - now_ms();
		if (left < 0)
			left = 0;
		if (left > 86400000LL * 24)
			left = 86400000LL * 24;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int
conn_wait_readable(struct conn *c, long long timeout_ms)
{
	if (c->len > 0 || c->eof)
		return 1;
	return wait_fd(c->rfd, POLLIN, timeout_ms);
}

ssize_t
conn_read(struct conn *c, void *p, size_t n)
{
	ssize_t r;

	if (c->len > 0) {
		if (n > c->len)
			n = c->len;
		memcpy(p, c->buf + c->off, n);
		c->off += n;
		c->len -= n;
		return n;
	}
	do
		r = read(c->rfd, p, n);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		c->eof = 1;
	if (r > 0)
		c->rbytes += r;
	return r;
}

ssize_t
conn_write(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	do
		w = write(c->wfd, p, n);
	while (w == -1 && errno == EINTR);
	if (w > 0)
		c->wbytes += w;
	return w;
}

/* Reads more into the buffer: LINE_OK, or why not. */
int
conn_fill(struct conn *c, long long timeout_ms)
{
	ssize_t	r;
	int	w;

	if (c->off > 0 && c->len > 0)
		memmove(c->buf, c->buf + c->off, c->len);
	c->off = 0;
	if (c->len == c->cap)
		return LINE_TOOLONG;
	if ((w = wait_fd(c->rfd, POLLIN, timeout_ms)) == 0)
		return LINE_TIMEOUT;
	if (w == -1)
		return LINE_ERROR;
	do
		r = read(c->rfd, c->buf + c->len, c->cap - c->len);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return LINE_ERROR;
	if (r == 0) {
		c->eof = 1;
		return LINE_EOF;
	}
	c->rbytes += r;
	c->len += r;
	return LINE_OK;
}

/*
 * Returns the next line as a pointer into the buffer, valid until the next
 * call.  A line longer than the buffer is refused here, at the edge.
 */
int
conn_getline(struct conn *c, long long timeout_ms, char **line, size_t *len)
{
	unsigned char	*p, *nl;
	size_t		 n;
	int		 rc;
	size_t		 max = c->linemax != 0 && c->linemax < c->cap ?
			    c->linemax : c->cap;

	for (;;) {
		p = c->buf + c->off;
		if ((nl = memchr(p, '\n', c->len)) != NULL)
			break;
		if (c->len >= max)
			return LINE_TOOLONG;
		if (c->eof)
			return LINE_EOF;
		if ((rc = conn_fill(c, timeout_ms)) != LINE_OK)
			return rc;
	}
	n = nl - p;
	/* the bound counts the line's bytes, its LF too */
	if (n + 1 > max)
		return LINE_TOOLONG;
	c->off += n + 1;
	c->len -= n + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	*line = (char *)p;
	*len = n;
	return LINE_OK;
}

/*
 * Returns the next n bytes (an IMAP literal) as a pointer into the buffer,
 * valid until the next call.  More than the buffer holds is refused, so
 * the caller says no before the peer sends it.
 */
int
conn_getn(struct conn *c, size_t n, long long timeout_ms, char **data)
{
	int	rc;

	if (n > c->cap)
		return LINE_TOOLONG;
	while (c->len < n) {
		if (c->eof)
			return LINE_EOF;
		if ((rc = conn_fill(c, timeout_ms)) != LINE_OK)
			return rc;
	}
	*data = (char *)c->buf + c->off;
	c->off += n;
	c->len -= n;
	return LINE_OK;
}

int
conn_writeall(struct conn *c, const void *p, size_t n, long long timeout_ms)
{
	const unsigned char	*b = p;
	ssize_t			 w;

	while (n > 0) {
		w = conn_write(c, b, n);
		if (w == -1 && errno == EAGAIN) {
			if (wait_fd(c->wfd, POLLOUT, timeout_ms) != 1)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		b += w;
		n -= w;
	}
	return 0;
}

/* Formats one line and writes it; the buffer may hold a password: wiped. */
int
conn_vprintf(struct conn *c, long long timeout_ms, const char *fmt,
    va_list ap)
{
	char	buf[2048];
	int	n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = -1;
	else
		n = conn_writeall(c, buf, n, timeout_ms);
	explicit_bzero(buf, sizeof(buf));
	return n;
}

int
conn_puts(struct conn *c, const char *s, long long timeout_ms)
{
	return conn_writeall(c, s, strlen(s), timeout_ms);
}

size_t
conn_pending(const struct conn *c)
{
	return c->len;
}

/* Forgets buffered input: after STARTTLS, pipelined plaintext must not run. */
void
conn_discard(struct conn *c)
{
	c->off = 0;
	c->len = 0;
}

/* Passes EOF on: half-close a socket, close the write end of a pipe. */
void
conn_shutdown(struct conn *c)
{
	if (c->wfd == -1)
		return;
	if (shutdown(c->wfd, SHUT_WR) == -1 && errno == ENOTSOCK) {
		if (c->wfd != c->rfd)
			close(c->wfd);
		c->wfd = -1;
	}
}

/*
 * Closing with unread input makes the kernel send a reset, which can destroy
 * our last reply before the client reads it.  So: half-close, then read and
 * drop what still comes, within a bound of time and bytes.
 */
void
conn_linger(struct conn *c, long long ms, size_t max)
{
	unsigned char	scratch[4096];
	long long	deadline = now_ms() + ms;
	ssize_t		r;

	conn_shutdown(c);
	while (max > 0 && now_ms() < deadline &&
	    wait_fd(c->rfd, POLLIN, deadline - now_ms()) == 1) {
		r = read(c->rfd, scratch, sizeof(scratch));
		if (r <= 0 && !(r == -1 && errno == EINTR))
			break;
		if (r > 0)
			max = (size_t)r >= max ? 0 : max - r;
	}
}

void
conn_close(struct conn *c)
{
	if (c->wfd != -1 && c->wfd != c->rfd)
		close(c->wfd);
	if (c->rfd != -1)
		close(c->rfd);
	c->rfd = c->wfd = -1;
}
