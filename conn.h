/*
 * One connection type for every byte mailproxy moves: plain today, TLS
 * tomorrow.  Protocol code and the relay never call read(2)/write(2) on a
 * socket themselves; they go through these functions.
 */
#ifndef CONN_H
#define CONN_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#define CONN_IOV	4	/* pieces of one conn_writev */
#define CONN_SHUTDOWN_MS 1000	/* to send TLS's close_notify */

struct iovec;
struct pollfd;

struct conn {
	int		 rfd;		/* same as wfd for a socket */
	int		 wfd;		/* stdout in a pipeline */
	int		 eof;		/* the peer will send no more */
	unsigned char	*buf;		/* input buffer, cap bytes */
	size_t		 cap;
	size_t		 off;		/* first unconsumed byte */
	size_t		 len;		/* bytes held after off */
	size_t		 used;		/* bytes of buf ever filled: what a
					   wipe must cover */
	size_t		 linemax;	/* longest line conn_getline takes; 0: cap */
	long long	 deadline;	/* now_ms() bound on every wait; 0: none */
	int		 broken;	/* a write failed (errno): no more I/O */
	int		 rfl, wfl;	/* descriptor flags as found, for close */
	void		*tls;		/* the SSL, once in TLS (tls.c) */
	int		 rwant;		/* TLS_WANT_*: what a stalled read, */
	int		 wwant;		/* and a stalled write, wait for */
	unsigned long long rbytes;	/* counted for the log */
	unsigned long long wbytes;
};

/* conn_getline results */
enum {
	LINE_OK,	/* *line holds one line, CRLF or LF stripped */
	LINE_TOOLONG,	/* no line end within the buffer: line is dropped */
	LINE_EOF,
	LINE_TIMEOUT,
	LINE_ERROR
};

void	conn_init(struct conn *, int rfd, int wfd, unsigned char *buf,
	    size_t cap);
int	conn_getline(struct conn *, long long timeout_ms, char **line,
	    size_t *len);
int	conn_getn(struct conn *, size_t n, long long timeout_ms, char **data);
int	conn_fill(struct conn *, long long timeout_ms);
int	conn_wait_readable(struct conn *, long long timeout_ms);
int	conn_wait(struct conn *, int want, long long timeout_ms);
void	conn_arm(const struct conn *, int writing, struct pollfd *);
int	conn_writeall(struct conn *, const void *, size_t, long long timeout_ms);
int	conn_writev(struct conn *, const struct iovec *, int,
	    long long timeout_ms);
int	conn_puts(struct conn *, const char *, long long timeout_ms);
int	conn_vprintf(struct conn *, long long timeout_ms, const char *,
	    va_list);
ssize_t	conn_read(struct conn *, void *, size_t);
ssize_t	conn_read_raw(struct conn *, void *, size_t, long long timeout_ms);
ssize_t	conn_write(struct conn *, const void *, size_t);
ssize_t	conn_splice_in(struct conn *, int pipefd, size_t);
ssize_t	conn_splice_out(struct conn *, int pipefd, size_t);
size_t	conn_pending(const struct conn *);
void	conn_discard(struct conn *);
void	conn_shutdown(struct conn *);
void	conn_linger(struct conn *, long long ms, size_t max);
void	conn_keepalive(struct conn *);
void	conn_nodelay(struct conn *, int);
void	conn_wipe_read(struct conn *);
void	conn_close(struct conn *);
void	conn_free(struct conn *);
long long now_ms(void);

#endif
