/*
 * What the benchmark's backend and load generator share: a bounded line
 * reader over a blocking descriptor, whole writes, the bulk body (64-byte
 * lines without a dot, so no dot-stuffing and one search for the end of
 * DATA or RETR), and a clock.
 */
#ifndef BENCH_IO_H
#define BENCH_IO_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define RD_CAP		(256 * 1024)
#define LINE_LEN	64		/* a body line with its CRLF */

struct rd {
	int		 fd;
	size_t		 off, len;	/* unconsumed bytes in buf */
	unsigned char	 tail[4];	/* last bytes before buf, for dot_end */
	unsigned char	 buf[RD_CAP];
};

void	rd_init(struct rd *, int fd);
/* One line, CRLF or LF stripped; 0, or -1 on EOF, error or overlong line. */
int	rd_line(struct rd *, char **line, size_t *len);
/* Consumes n bytes (buffered first, then read); 0 or -1. */
int	rd_skip(struct rd *, unsigned long long n);
/* Consumes up to and including CRLF "." CRLF (a body that starts at a
 * line's start); 0, or -1 on EOF or error.  *n counts the bytes taken. */
int	rd_dot_end(struct rd *, unsigned long long *n);
/* Waits for EOF, dropping what comes; 0 at EOF, -1 on error. */
int	rd_eof(struct rd *);

int	write_all(int fd, const void *, size_t);
int	write_str(int fd, const char *);

/* The body: a buffer of whole lines, and n rounded down to whole lines. */
const unsigned char *body_chunk(size_t *len);
unsigned long long body_size(unsigned long long n);
/* Writes body_size(n) bytes of body, then trailer, its last bytes and
 * the trailer in one write (no small segment of its own); 0 or -1. */
int	body_write(int fd, unsigned long long n, const char *trailer);

long long now_us(void);

struct sockaddr_in;

/* A TCP connection to "to", read/write timeouts and TCP_NODELAY set;
 * the descriptor, or -1 with errno. */
int	dial_tcp(const struct sockaddr_in *to, int timeout_s);

/* Latencies in microseconds: one kept (of max, n counting them all),
 * sorted, then the p-th (0 to 1) in ms. */
void	lat_record(unsigned int *lat, long max, atomic_long *n, long long us);
void	lat_sort(unsigned int *, long n);
double	lat_ms(const unsigned int *, long n, double p);
/* "127.0.0.1:25" or a bare port; fills a sockaddr_in; 0 or -1. */
struct sockaddr_in;
int	addr_parse(const char *, struct sockaddr_in *);

#endif
