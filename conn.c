/*
 * The connection: a pair of descriptors (one socket, or stdin/stdout in a
 * pipeline) with a bounded input buffer.  All of mailproxy's I/O with its
 * peers happens here, and every wait has a deadline: the operation's own
 * (one for a whole line, one for a whole write), never later than the
 * connection's (the login's, set by the session).
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/param.h>

#include "conn.h"
#include "tls.h"

/*
 * Non-blocking from the start, so that no write can block past its
 * deadline: a client that never reads would otherwise hold the process
 * in write(2) for ever.  Returns the flags as found, or -1.
 */
static int
nonblock(int fd)
{
	int	fl;

	if (fd == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fl;
}

/* A pipeline's stdin and stdout may be a terminal the shell shares. */
static void
restore(int fd, int fl)
{
	if (fd != -1 && fl != -1 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl);
}

void
conn_init(struct conn *c, int rfd, int wfd, unsigned char *buf, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->buf = buf;
	c->cap = cap;
	c->rfl = nonblock(rfd);
	c->wfl = wfd == rfd ? c->rfl : nonblock(wfd);
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The end of an operation given timeout_ms: the connection's, if sooner. */
static long long
due(const struct conn *c, long long timeout_ms)
{
	long long	d = now_ms() + timeout_ms;

	if (c->deadline != 0 && c->deadline < d)
		d = c->deadline;
	return d;
}

/* Waits until fd is ready or deadline; 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	pfd;
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
		if (n == 0 && now_ms() >= deadline)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Waits for what the stalled operation wants: TLS may read to write. */
static int
wait_want(const struct conn *c, int want, long long deadline)
{
	if (want == TLS_WANT_WRITE)
		return wait_fd(c->wfd, POLLOUT, deadline);
	return wait_fd(c->rfd, POLLIN, deadline);
}

int
conn_wait(struct conn *c, int want, long long timeout_ms)
{
	return wait_want(c, want, due(c, timeout_ms));
}

/* What poll(2) must watch for c to read (writing 0) or write (1). */
void
conn_arm(const struct conn *c, int writing, struct pollfd *p)
{
	int	want = c->tls == NULL ? 0 : writing ? c->wwant : c->rwant;

	if (want == 0)
		want = writing ? TLS_WANT_WRITE : TLS_WANT_READ;

	p->fd = want == TLS_WANT_WRITE ? c->wfd : c->rfd;
	p->events = want == TLS_WANT_WRITE ? POLLOUT : POLLIN;
	p->revents = 0;
}

int
conn_wait_readable(struct conn *c, long long timeout_ms)
{
	if (c->broken)
		return -1;
	if (conn_pending(c) > 0 || c->eof)
		return 1;
	return wait_fd(c->rfd, POLLIN, due(c, timeout_ms));
}

/* What a read from the peer gave: EOF noted, bytes counted for the log. */
static ssize_t
took(struct conn *c, ssize_t r)
{
	if (r == 0)
		c->eof = 1;
	if (r > 0)
		c->rbytes += r;
	return r;
}

/* One read from the peer, through TLS when the connection is in it. */
static ssize_t
io_read(struct conn *c, void *p, size_t n)
{
	ssize_t	r;

	if (c->tls != NULL)
		return tls_read(c, p, n);
	do
		r = read(c->rfd, p, n);
	while (r == -1 && errno == EINTR);
	return r;
}

ssize_t
conn_read(struct conn *c, void *p, size_t n)
{
	if (c->broken) {
		errno = c->broken;
		return -1;
	}
	if (c->len > 0) {
		if (n > c->len)
			n = c->len;
		memcpy(p, c->buf + c->off, n);
		c->off += n;
		c->len -= n;
		return n;
	}
	return took(c, io_read(c, p, n));
}

ssize_t
conn_write(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	if (c->tls != NULL)
		w = tls_write(c, p, n);
	else
		do
			w = write(c->wfd, p, n);
		while (w == -1 && errno == EINTR);
	if (w > 0)
		c->wbytes += w;
	return w;
}

/*
 * The splice engine's moves, kernel to kernel: from c's socket into a
 * pipe, and from a pipe out to c's socket, counted as conn_read and
 * conn_write count.  The relay splices only descriptors that can: sockets
 * and pipes.
 */
ssize_t
conn_splice_in(struct conn *c, int pipefd, size_t n)
{
	ssize_t	r;

	do
		r = splice(c->rfd, NULL, pipefd, NULL, n,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (r == -1 && errno == EINTR);
	return took(c, r);
}

ssize_t
conn_splice_out(struct conn *c, int pipefd, size_t n)
{
	ssize_t	w;

	do
		w = splice(pipefd, NULL, c->wfd, NULL, n,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (w == -1 && errno == EINTR);
	if (w > 0)
		c->wbytes += w;
	return w;
}

/*
 * Moves the unread bytes to the front.  What they leave behind, and the
 * lines already taken, may hold a password (PASS split over two reads):
 * wiped, so that no copy outlives its use.
 */
static void
compact(struct conn *c)
{
	if (c->off == 0)
		return;
	if (c->len > 0)
		memmove(c->buf, c->buf + c->off, c->len);
	explicit_bzero(c->buf + c->len, c->off);
	c->off = 0;
}

/* Reads more into the buffer, waiting until deadline: LINE_OK, or why not. */
static int
fill(struct conn *c, long long deadline)
{
	ssize_t	r;
	int	w;

	if (c->broken)
		return LINE_ERROR;
	compact(c);
	if (c->len == c->cap)
		return LINE_TOOLONG;
	for (;;) {
		/*
		 * A socket is polled first; TLS is read first, since it may
		 * hold decrypted bytes no poll(2) sees, and waits only for
		 * what its last try wanted.
		 */
		if (c->tls == NULL || c->rwant != 0) {
			w = wait_want(c, c->tls != NULL ? c->rwant :
			    TLS_WANT_READ, deadline);
			if (w == 0)
				return LINE_TIMEOUT;
			if (w == -1)
				return LINE_ERROR;
		}
		r = took(c, io_read(c, c->buf + c->len, c->cap - c->len));
		if (r > 0)
			break;
		if (r == 0)
			return LINE_EOF;
		/* a readiness that was not: wait again */
		if (errno != EINTR && errno != EAGAIN)
			return LINE_ERROR;
	}
	c->len += r;
	if (c->len > c->used)
		c->used = c->len;
	return LINE_OK;
}

int
conn_fill(struct conn *c, long long timeout_ms)
{
	return fill(c, due(c, timeout_ms));
}

/*
 * Returns the next line as a pointer into the buffer, valid until the next
 * call.  A line longer than the buffer is refused here, at the edge.  The
 * whole line has one deadline: a peer cannot stretch it a byte at a time.
 */
int
conn_getline(struct conn *c, long long timeout_ms, char **line, size_t *len)
{
	unsigned char	*p, *nl;
	size_t		 n;
	int		 rc;
	size_t		 max = c->linemax != 0 && c->linemax < c->cap ?
			    c->linemax : c->cap;
	long long	 deadline = due(c, timeout_ms);

	/* not even the lines already read: the dialogue is over */
	if (c->broken)
		return LINE_ERROR;
	for (;;) {
		p = c->buf + c->off;
		if ((nl = memchr(p, '\n', c->len)) != NULL)
			break;
		if (c->len >= max)
			return LINE_TOOLONG;
		if (c->eof)
			return LINE_EOF;
		if ((rc = fill(c, deadline)) != LINE_OK)
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
	long long	deadline = due(c, timeout_ms);
	int		rc;

	if (c->broken)
		return LINE_ERROR;
	if (n > c->cap)
		return LINE_TOOLONG;
	while (c->len < n) {
		if (c->eof)
			return LINE_EOF;
		if ((rc = fill(c, deadline)) != LINE_OK)
			return rc;
	}
	*data = (char *)c->buf + c->off;
	c->off += n;
	c->len -= n;
	return LINE_OK;
}

/*
 * Reads at most n bytes straight from the descriptor, past the buffer
 * and TLS, once some are there: for what comes before both (a PROXY
 * header), which the caller reads to its last byte and not one further,
 * so that what follows stays in the socket for the protocol or the TLS
 * layer.  The bytes read, 0 at EOF, -1 with errno (ETIMEDOUT when
 * nothing came by the deadline).
 */
ssize_t
conn_read_raw(struct conn *c, void *p, size_t n, long long timeout_ms)
{
	long long	deadline = due(c, timeout_ms);
	ssize_t		r;
	int		w;

	for (;;) {
		if ((w = wait_fd(c->rfd, POLLIN, deadline)) != 1) {
			if (w == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		do
			r = read(c->rfd, p, n);
		while (r == -1 && errno == EINTR);
		if (r >= 0)
			return took(c, r);
		if (errno != EAGAIN)
			return -1;
	}
}

/* Writes all of p through TLS by the deadline; a failure breaks c. */
static int
write_tls(struct conn *c, const unsigned char *p, size_t n,
    long long deadline)
{
	ssize_t	w;
	int	rc;

	while (n > 0) {
		if ((w = tls_write(c, p, n)) > 0) {
			c->wbytes += w;
			p += w;
			n -= w;
			continue;
		}
		if (w == -1 && errno == EAGAIN) {
			if ((rc = wait_want(c, c->wwant, deadline)) == 1)
				continue;
			c->broken = rc == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		c->broken = errno != 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

/*
 * TLS has no writev: the pieces are joined, so that one reply is one
 * record and one segment, as writev makes it in plaintext.  The copy may
 * hold a password (the backend's AUTH): wiped.
 */
static int
writev_tls(struct conn *c, const struct iovec *v, int n, long long deadline)
{
	unsigned char	buf[4096];
	size_t		used = 0, max = 0, k;
	int		i, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const unsigned char *p = v[i].iov_base;
		size_t len = v[i].iov_len;

		while (len > 0 && rc == 0) {
			k = MIN(len, sizeof(buf) - used);
			memcpy(buf + used, p, k);
			used += k;
			p += k;
			len -= k;
			max = MAX(max, used);
			if (used == sizeof(buf)) {
				rc = write_tls(c, buf, used, deadline);
				used = 0;
			}
		}
	}
	if (rc == 0 && used > 0)
		rc = write_tls(c, buf, used, deadline);
	explicit_bzero(buf, max);
	return rc;
}

/*
 * Writes the pieces of one reply with one writev(2): written one by one,
 * the second would wait for the peer's ACK of the first (Nagle), and a
 * peer that delays its ACK until the reply is whole stalls both for
 * 40 ms.  At most CONN_IOV pieces.  All within one deadline for the
 * whole, not one per wait: a peer that reads a byte now and then cannot
 * stretch it.  A write that fails breaks the connection: every later
 * read and write fails at once, so that a dialogue ends even where it
 * does not look at the error (a client that reads nothing while it
 * pipelines commands).
 */
int
conn_writev(struct conn *c, const struct iovec *iov, int n,
    long long timeout_ms)
{
	struct iovec	 v[CONN_IOV];
	long long	 deadline = due(c, timeout_ms);
	ssize_t		 w;
	int		 i = 0, rc;

	if (n > CONN_IOV)
		return -1;
	memcpy(v, iov, n * sizeof(*v));
	if (c->broken) {
		errno = c->broken;
		return -1;
	}
	if (c->tls != NULL)
		return writev_tls(c, v, n, deadline);
	while (i < n) {
		if (v[i].iov_len == 0) {
			i++;
			continue;
		}
		do
			w = writev(c->wfd, v + i, n - i);
		while (w == -1 && errno == EINTR);
		if (w == -1 && errno == EAGAIN) {
			if ((rc = wait_fd(c->wfd, POLLOUT, deadline)) == 1)
				continue;
			c->broken = rc == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		if (w <= 0) {
			c->broken = w == 0 || errno == 0 ? EIO : errno;
			return -1;
		}
		c->wbytes += w;
		for (; i < n && (size_t)w >= v[i].iov_len; i++)
			w -= v[i].iov_len;
		if (i < n) {
			v[i].iov_base = (char *)v[i].iov_base + w;
			v[i].iov_len -= w;
		}
	}
	return 0;
}

/* Writes all of p, as conn_writev writes one piece. */
int
conn_writeall(struct conn *c, const void *p, size_t n, long long timeout_ms)
{
	struct iovec	v = { (void *)p, n };

	return conn_writev(c, &v, 1, timeout_ms);
}

/* Formats one line and writes it; the buffer may hold a password: wiped. */
int
conn_vprintf(struct conn *c, long long timeout_ms, const char *fmt,
    va_list ap)
{
	char	buf[2048];
	size_t	used;
	int	n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	/* what vsnprintf wrote, its NUL included */
	used = n < 0 || (size_t)n >= sizeof(buf) ? sizeof(buf) : (size_t)n + 1;
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = -1;
	else
		n = conn_writeall(c, buf, n, timeout_ms);
	explicit_bzero(buf, used);
	return n;
}

int
conn_puts(struct conn *c, const char *s, long long timeout_ms)
{
	return conn_writeall(c, s, strlen(s), timeout_ms);
}

/* Bytes to read with no wait: buffered here, or decrypted in TLS. */
size_t
conn_pending(const struct conn *c)
{
	return c->len + (c->tls != NULL ? tls_pending(c) : 0);
}

/*
 * Wipes all but the unread bytes: the lines read so far may have held a
 * password, and what the client pipelined after its login is the relay's.
 * Past what was ever filled the buffer holds nothing to wipe.
 */
void
conn_wipe_read(struct conn *c)
{
	if (c->buf == NULL)
		return;
	compact(c);
	explicit_bzero(c->buf + c->len, c->used - c->len);
	c->used = c->len;
}

/* Forgets buffered input: after STARTTLS, pipelined plaintext must not run. */
void
conn_discard(struct conn *c)
{
	explicit_bzero(c->buf + c->off, c->len);
	c->off = 0;
	c->len = 0;
}

/*
 * Passes EOF on: TLS's close_notify first (within the timeout, since
 * the peer may not be reading), then half-close a socket, or close the
 * write end of a pipe.
 */
void
conn_shutdown(struct conn *c)
{
	long long	deadline = now_ms() + CONN_SHUTDOWN_MS;

	if (c->wfd == -1)
		return;
	while (c->tls != NULL && !c->broken && tls_shutdown(c) == 0)
		if (wait_want(c, c->wwant, deadline) != 1)
			break;
	if (shutdown(c->wfd, SHUT_WR) == -1 && errno == ENOTSOCK) {
		if (c->wfd != c->rfd) {
			restore(c->wfd, c->wfl);
			close(c->wfd);
		}
		c->wfd = -1;
	}
}

/*
 * A peer gone without a word (a NAT that forgot us, a cable pulled) is
 * noticed by TCP keepalive long before proxy_timeout.  Not a socket (a
 * pipeline): nothing to do.
 */
void
conn_keepalive(struct conn *c)
{
	int	one = 1;

	if (c->rfd != -1)
		setsockopt(c->rfd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/*
 * Nagle's algorithm off (1) or on (0).  The handshake with the backend is
 * whole command lines, each written at once: sent at once too.  The relay
 * turns it back on: it writes what each read gave, and at a small
 * proxy_buffer a segment per write halves the throughput on loopback
 * (make bench); nginx's mail proxy leaves it on as well.
 */
void
conn_nodelay(struct conn *c, int on)
{
	if (c->wfd != -1)
		setsockopt(c->wfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/*
 * Closing with unread input makes the kernel send a reset, which can destroy
 * our last reply before the client reads it.  So: half-close, then read and
 * drop what still comes, within a bound of time and bytes, its own: the
 * connection's deadline may be why we are closing.
 */
void
conn_linger(struct conn *c, long long ms, size_t max)
{
	unsigned char	scratch[4096];
	long long	deadline = now_ms() + ms;
	size_t		used = 0;
	ssize_t		r;

	conn_shutdown(c);
	while (max > 0 && now_ms() < deadline &&
	    wait_fd(c->rfd, POLLIN, deadline) == 1) {
		r = read(c->rfd, scratch, sizeof(scratch));
		if (r <= 0 && !(r == -1 && (errno == EINTR || errno == EAGAIN)))
			break;
		if (r > 0) {
			max = (size_t)r >= max ? 0 : max - r;
			if ((size_t)r > used)
				used = r;
		}
	}
	explicit_bzero(scratch, used);
}

void
conn_close(struct conn *c)
{
	tls_free(c);
	if (c->wfd != -1 && c->wfd != c->rfd) {
		restore(c->wfd, c->wfl);
		close(c->wfd);
	}
	if (c->rfd != -1) {
		restore(c->rfd, c->rfl);
		close(c->rfd);
	}
	c->rfd = c->wfd = -1;
}

/* Frees the buffer, wiped first: it held the login. */
void
conn_free(struct conn *c)
{
	if (c->buf != NULL) {
		explicit_bzero(c->buf, c->used);
		free(c->buf);
	}
	c->buf = NULL;
	c->cap = c->off = c->len = c->used = 0;
}
