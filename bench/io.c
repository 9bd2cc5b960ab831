/* The benchmark's shared I/O: see io.h. */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

void
rd_init(struct rd *r, int fd)
{
	r->fd = fd;
	r->off = r->len = 0;
	/* a body starts at a line's start: as if a CRLF came before it */
	memcpy(r->tail, "\0\0\r\n", 4);
}

/* Reads more after what is held; 0, or -1 on EOF or error. */
static int
rd_fill(struct rd *r)
{
	ssize_t	n;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len);
		r->off = 0;
	}
	if (r->len == sizeof(r->buf))
		return -1;
	do {
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	r->len += n;
	return 0;
}

int
rd_line(struct rd *r, char **line, size_t *len)
{
	unsigned char	*p, *nl;
	size_t		 scanned = 0;

	for (;;) {
		p = r->buf + r->off;
		nl = memchr(p + scanned, '\n', r->len - scanned);
		if (nl != NULL)
			break;
		scanned = r->len;
		if (rd_fill(r) == -1)
			return -1;
	}
	*line = (char *)p;
	*len = nl - p;
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	p[*len] = '\0';
	r->off += nl - p + 1;
	r->len -= nl - p + 1;
	return 0;
}

int
rd_skip(struct rd *r, unsigned long long n)
{
	size_t	k;
	ssize_t	got;

	k = n < r->len ? n : r->len;
	r->off += k;
	r->len -= k;
	n -= k;
	if (r->len == 0)
		r->off = 0;
	while (n > 0) {
		got = read(r->fd, r->buf, n < sizeof(r->buf) ? n :
		    sizeof(r->buf));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		n -= got;
	}
	return 0;
}

int
rd_dot_end(struct rd *r, unsigned long long *taken)
{
	static const char	 end[] = "\r\n.\r\n";
	unsigned char		 win[8], *p, *hit;
	size_t			 k;
	ssize_t			 n;

	*taken = 0;
	for (;;) {
		p = r->buf + r->off;
		/* an end that straddles what came before and this */
		k = r->len < 4 ? r->len : 4;
		memcpy(win, r->tail, 4);
		memcpy(win + 4, p, k);
		hit = memmem(win, 4 + k, end, 5);
		if (hit != NULL) {
			k = hit + 5 - (win + 4);
			goto found;
		}
		hit = memmem(p, r->len, end, 5);
		if (hit != NULL) {
			k = hit + 5 - p;
			goto found;
		}
		if (r->len >= 4)
			memcpy(r->tail, p + r->len - 4, 4);
		else {
			memmove(r->tail, r->tail + r->len, 4 - r->len);
			memcpy(r->tail + 4 - r->len, p, r->len);
		}
		*taken += r->len;
		r->off = r->len = 0;
		do {
			n = read(r->fd, r->buf, sizeof(r->buf));
		} while (n == -1 && errno == EINTR);
		if (n <= 0)
			return -1;
		r->len = n;
	}
found:
	*taken += k;
	r->off += k;
	r->len -= k;
	memcpy(r->tail, "\0\0\r\n", 4);
	return 0;
}

int
rd_eof(struct rd *r)
{
	ssize_t	n;

	r->off = r->len = 0;
	for (;;) {
		n = read(r->fd, r->buf, sizeof(r->buf));
		if (n == 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

int
write_all(int fd, const void *p, size_t len)
{
	const unsigned char	*b = p;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, b, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= n;
	}
	return 0;
}

int
write_str(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

#define CHUNK_LINES	16384		/* 1 MiB of lines */
static unsigned char	chunk[CHUNK_LINES * LINE_LEN];
static int		chunk_ready;

const unsigned char *
body_chunk(size_t *len)
{
	size_t	i;

	/* filled by the first caller, before any thread starts */
	if (!chunk_ready) {
		for (i = 0; i < CHUNK_LINES; i++) {
			memset(chunk + i * LINE_LEN, 'a' + i % 26,
			    LINE_LEN - 2);
			memcpy(chunk + i * LINE_LEN + LINE_LEN - 2, "\r\n", 2);
		}
		chunk_ready = 1;
	}
	*len = sizeof(chunk);
	return chunk;
}

unsigned long long
body_size(unsigned long long n)
{
	return n < LINE_LEN ? LINE_LEN : n - n % LINE_LEN;
}

int
body_write(int fd, unsigned long long n, const char *trailer)
{
	const unsigned char	*c;
	struct iovec		 iov[2];
	size_t			 clen, k, tlen = strlen(trailer);
	ssize_t			 w;

	c = body_chunk(&clen);
	n = body_size(n);
	while (n > clen) {
		if (write_all(fd, c, clen) == -1)
			return -1;
		n -= clen;
	}
	/* the last piece and the trailer in one write, as one stream */
	iov[0].iov_base = (void *)c;
	iov[0].iov_len = n;
	iov[1].iov_base = (void *)trailer;
	iov[1].iov_len = tlen;
	do {
		w = writev(fd, iov, 2);
	} while (w == -1 && errno == EINTR);
	if (w == -1)
		return -1;
	k = w;
	if (k < n)
		return write_all(fd, c + k, n - k) == -1 ||
		    write_all(fd, trailer, tlen) == -1 ? -1 : 0;
	return write_all(fd, trailer + (k - n), tlen - (k - n));
}

long long
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
addr_parse(const char *s, struct sockaddr_in *sin)
{
	char		 host[64];
	const char	*colon, *port = s;
	size_t		 n;
	long		 p;
	char		*end;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((colon = strrchr(s, ':')) != NULL) {
		n = colon - s;
		if (n >= sizeof(host))
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno != 0 || *port == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	sin->sin_port = htons(p);
	return 0;
}

static int
lat_cmp(const void *a, const void *b)
{
	unsigned int	x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

void
lat_sort(unsigned int *lat, long n)
{
	qsort(lat, n, sizeof(lat[0]), lat_cmp);
}

double
lat_ms(const unsigned int *lat, long n, double p)
{
	long	i;

	if (n == 0)
		return 0;
	i = (long)(p * n);
	if (i >= n)
		i = n - 1;
	return lat[i] / 1000.0;
}

int
dial_tcp(const struct sockaddr_in *to, int timeout_s)
{
	struct timeval	tv = { timeout_s, 0 };
	int		fd, on = 1, e;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void
lat_record(unsigned int *lat, long max, atomic_long *n, long long us)
{
	long	i = atomic_fetch_add(n, 1);

	if (i < max)
		lat[i] = us > 0xffffffffLL ? 0xffffffffU : (unsigned int)us;
}
