/*
 * The benchmark's load generator: whole mail sessions in lockstep, as a
 * client sends them, from C threads (one per concurrent session).
 *
 *	load -m smtp|pop3|imap -a [IP:]PORT [-c conc] [-t secs] [-n count]
 *	load -m smtp-up|pop3-down|imap-down -a [IP:]PORT -b bytes
 *	load -m hold-smtp|hold-pop3|hold-imap -a [IP:]PORT -c conc
 *
 * Sessions (-t seconds, or -n sessions in all): SMTP is EHLO, MAIL, RCPT,
 * DATA of 1 KiB, QUIT; POP3 is USER, PASS, QUIT; IMAP is LOGIN, LOGOUT.
 * A session runs from connect(2) to the server's EOF after the last
 * reply.  Prints one line:
 *	sessions=N errors=N secs=S rate=R p50=MS p90=MS p99=MS max=MS
 * Bulk (one session): SMTP DATA of -b bytes up, POP3 RETR or IMAP FETCH
 * down (the backend's -b), timed from the command to its last reply:
 *	bytes=N secs=S mbps=MB/s (10^6 bytes a second)
 * Hold: conc sessions logged in (SMTP: through RCPT, so a proxy relays),
 * then "held N" on stdout; on EOF of stdin each ends its session:
 *	held=N errors=N
 * Exit 0 when at least one session (or the transfer) succeeded.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

#define MAXLAT		(1 << 22)	/* latencies kept, in microseconds */
#define MAXCONC		1024
#define IO_TIMEOUT	10		/* seconds, any one read or write */

enum { SMTP, POP3, IMAP };
enum { SESSIONS, BULK, HOLD };

static struct sockaddr_in	 target;
static int			 proto, mode;
static int			 conc = 1;
static double			 secs = 3;
static long			 count;		/* -n: sessions in all */
static unsigned long long	 bulk = 1024 * 1024;

static long long		 deadline_us;
static atomic_long		 started, done, errors;
static atomic_int		 held;
static unsigned int		 lat[MAXLAT];
static atomic_long		 nlat;
static atomic_int		 complained;

static pthread_mutex_t		 hold_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 hold_cv = PTHREAD_COND_INITIALIZER;
static int			 released;

/* The first few errors are told, the rest only counted. */
static int
fail(const char *what, const char *line)
{
	if (atomic_fetch_add(&complained, 1) < 5)
		fprintf(stderr, "load: %s%s%.80s\n", what,
		    line != NULL ? ": " : "", line != NULL ? line : "");
	return -1;
}

static int
dial(void)
{
	int	fd;

	if ((fd = dial_tcp(&target, IO_TIMEOUT)) == -1)
		return fail("connect", strerror(errno));
	return fd;
}

static int
smtp_cmd(struct rd *r, const char *cmd, int want)
{
	char	*line;
	size_t	 len;
	int	 code;

	if (cmd != NULL && write_str(r->fd, cmd) == -1)
		return fail("smtp: write", strerror(errno));
	do {
		if (rd_line(r, &line, &len) == -1)
			return fail("smtp: no reply to", cmd != NULL ? cmd :
			    "(the greeting, or the end of DATA)");
		if (len < 3)
			return fail("smtp: bad reply", line);
	} while (len > 3 && line[3] == '-');
	if ((code = atoi(line)) != want)
		return fail("smtp: unexpected reply", line);
	return 0;
}

static int
pop3_cmd(struct rd *r, const char *cmd)
{
	char	*line;
	size_t	 len;

	if (cmd != NULL && write_str(r->fd, cmd) == -1)
		return fail("pop3: write", strerror(errno));
	if (rd_line(r, &line, &len) == -1)
		return fail("pop3: no reply to", cmd);
	if (strncmp(line, "+OK", 3) != 0)
		return fail("pop3: unexpected reply", line);
	return 0;
}

/* Sends "TAG ...", reads to the tagged reply; tag NULL: the greeting. */
static int
imap_cmd(struct rd *r, const char *tag, const char *cmd)
{
	char	*line;
	size_t	 len, tl;

	if (tag == NULL) {
		if (rd_line(r, &line, &len) == -1)
			return fail("imap: no greeting", NULL);
		return strncmp(line, "* OK", 4) == 0 ? 0 :
		    fail("imap: bad greeting", line);
	}
	if (write_str(r->fd, cmd) == -1)
		return fail("imap: write", strerror(errno));
	tl = strlen(tag);
	for (;;) {
		if (rd_line(r, &line, &len) == -1)
			return fail("imap: no reply to", cmd);
		if (len > tl && strncmp(line, tag, tl) == 0 &&
		    line[tl] == ' ')
			break;
	}
	if (strncmp(line + tl + 1, "OK", 2) != 0)
		return fail("imap: unexpected reply", line);
	return 0;
}

/* From the greeting to where a proxy relays. */
static int
login(struct rd *r)
{
	switch (proto) {
	case SMTP:
		return smtp_cmd(r, NULL, 220) == -1 ||
		    smtp_cmd(r, "EHLO client.bench\r\n", 250) == -1 ||
		    smtp_cmd(r, "MAIL FROM:<a@client.bench>\r\n", 250) == -1 ||
		    smtp_cmd(r, "RCPT TO:<b@backend.bench>\r\n", 250) == -1 ?
		    -1 : 0;
	case POP3:
		return pop3_cmd(r, NULL) == -1 ||
		    pop3_cmd(r, "USER u\r\n") == -1 ||
		    pop3_cmd(r, "PASS p\r\n") == -1 ? -1 : 0;
	default:
		return imap_cmd(r, NULL, NULL) == -1 ||
		    imap_cmd(r, "a", "a LOGIN u p\r\n") == -1 ? -1 : 0;
	}
}

/* From the login to the server's EOF. */
static int
logout(struct rd *r, int data)
{
	switch (proto) {
	case SMTP:
		if (data) {
			if (smtp_cmd(r, "DATA\r\n", 354) == -1)
				return -1;
			if (body_write(r->fd, 1024, ".\r\n") == -1 ||
			    smtp_cmd(r, NULL, 250) == -1)
				return -1;
		}
		if (smtp_cmd(r, "QUIT\r\n", 221) == -1)
			return -1;
		break;
	case POP3:
		if (pop3_cmd(r, "QUIT\r\n") == -1)
			return -1;
		break;
	default:
		if (imap_cmd(r, "z", "z LOGOUT\r\n") == -1)
			return -1;
		break;
	}
	return rd_eof(r) == -1 ? fail("no EOF after the last reply", NULL) : 0;
}

static void
record(long long us)
{
	lat_record(lat, MAXLAT, &nlat, us);
}

static void *
sessions(void *arg)
{
	struct rd	*r = arg;
	long long	 t0, t1;
	int		 fd, ok;

	for (;;) {
		if (count > 0 ? atomic_fetch_add(&started, 1) >= count :
		    now_us() >= deadline_us)
			break;
		t0 = now_us();
		if ((fd = dial()) == -1) {
			atomic_fetch_add(&errors, 1);
			usleep(1000);
			continue;
		}
		rd_init(r, fd);
		ok = login(r) == 0 && logout(r, 1) == 0;
		close(fd);
		t1 = now_us();
		if (!ok)
			atomic_fetch_add(&errors, 1);
		else if (count > 0 || t1 <= deadline_us) {
			atomic_fetch_add(&done, 1);
			record(t1 - t0);
		}
	}
	return NULL;
}

static void *
hold(void *arg)
{
	struct rd	*r = arg;
	int		 fd, ok;

	if ((fd = dial()) == -1) {
		atomic_fetch_add(&errors, 1);
		return NULL;
	}
	rd_init(r, fd);
	ok = login(r) == 0;
	if (ok)
		atomic_fetch_add(&held, 1);
	else
		atomic_fetch_add(&errors, 1);
	pthread_mutex_lock(&hold_mtx);
	atomic_fetch_add(&done, 1);
	pthread_cond_broadcast(&hold_cv);
	while (!released)
		pthread_cond_wait(&hold_cv, &hold_mtx);
	pthread_mutex_unlock(&hold_mtx);
	if (ok && logout(r, 0) == -1)
		atomic_fetch_add(&errors, 1);
	close(fd);
	return NULL;
}

static int
bulk_run(struct rd *r)
{
	char			*line, cmd[64];
	size_t			 len;
	unsigned long long	 n = 0;
	long long		 t0, t1;
	int			 fd;

	if ((fd = dial()) == -1)
		return -1;
	rd_init(r, fd);
	if (login(r) == -1)
		return -1;
	switch (proto) {
	case SMTP:
		if (smtp_cmd(r, "DATA\r\n", 354) == -1)
			return -1;
		t0 = now_us();
		n = body_size(bulk);
		if (body_write(fd, bulk, ".\r\n") == -1 ||
		    smtp_cmd(r, NULL, 250) == -1)
			return fail("smtp: DATA failed", NULL);
		break;
	case POP3:
		t0 = now_us();
		if (pop3_cmd(r, "RETR 1\r\n") == -1)
			return -1;
		if (rd_dot_end(r, &n) == -1)
			return fail("pop3: RETR cut short", NULL);
		n -= 3;
		break;
	default:
		if (imap_cmd(r, "s", "s SELECT INBOX\r\n") == -1)
			return -1;
		t0 = now_us();
		if (write_str(fd, "f FETCH 1 BODY[]\r\n") == -1 ||
		    rd_line(r, &line, &len) == -1 || len < 4 ||
		    line[len - 1] != '}' || strrchr(line, '{') == NULL)
			return fail("imap: no FETCH literal", NULL);
		n = strtoull(strrchr(line, '{') + 1, NULL, 10);
		if (rd_skip(r, n) == -1 || rd_line(r, &line, &len) == -1 ||
		    strcmp(line, ")") != 0)
			return fail("imap: FETCH cut short", NULL);
		if (imap_cmd(r, "f", "") == -1)
			return -1;
		break;
	}
	t1 = now_us();
	if (logout(r, 0) == -1)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "%.3f", (t1 - t0) / 1e6);
	printf("bytes=%llu secs=%s mbps=%.1f\n", n, cmd,
	    t1 > t0 ? n / ((t1 - t0) / 1e6) / 1e6 : 0.0);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: load -m MODE -a [IP:]PORT [-c conc] "
	    "[-t secs] [-n count] [-b bytes]\n");
	exit(64);
}

static const struct {
	const char	*name;
	int		 proto, mode;
} modes[] = {
	{ "smtp", SMTP, SESSIONS }, { "pop3", POP3, SESSIONS },
	{ "imap", IMAP, SESSIONS }, { "smtp-up", SMTP, BULK },
	{ "pop3-down", POP3, BULK }, { "imap-down", IMAP, BULK },
	{ "hold-smtp", SMTP, HOLD }, { "hold-pop3", POP3, HOLD },
	{ "hold-imap", IMAP, HOLD },
};

int
main(int argc, char *argv[])
{
	pthread_attr_t	 attr;
	pthread_t	*t;
	struct rd	**rs;
	const char	*m = NULL, *a = NULL;
	char		 buf[16];
	long long	 t0, t1;
	long		 n;
	size_t		 i, len;
	int		 c;

	while ((c = getopt(argc, argv, "a:b:c:m:n:t:")) != -1) {
		switch (c) {
		case 'a':
			a = optarg;
			break;
		case 'b':
			bulk = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			conc = atoi(optarg);
			break;
		case 'm':
			m = optarg;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (m == NULL || a == NULL || optind != argc || conc < 1 ||
	    conc > MAXCONC || secs <= 0 || bulk == 0)
		usage();
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(m, modes[i].name) == 0)
			break;
	if (i == sizeof(modes) / sizeof(modes[0]))
		usage();
	proto = modes[i].proto;
	mode = modes[i].mode;
	if (addr_parse(a, &target) == -1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	body_chunk(&len);

	if (mode == BULK)
		conc = 1;
	if ((t = calloc(conc, sizeof(*t))) == NULL ||
	    (rs = calloc(conc, sizeof(*rs))) == NULL)
		return 1;
	for (c = 0; c < conc; c++)
		if ((rs[c] = malloc(sizeof(**rs))) == NULL)
			return 1;
	if (mode == BULK)
		return bulk_run(rs[0]) == 0 ? 0 : 1;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	t0 = now_us();
	deadline_us = t0 + (long long)(secs * 1e6);
	for (c = 0; c < conc; c++)
		if (pthread_create(&t[c], &attr, mode == HOLD ? hold :
		    sessions, rs[c]) != 0)
			return 1;
	if (mode == HOLD) {
		pthread_mutex_lock(&hold_mtx);
		while (atomic_load(&done) < conc)
			pthread_cond_wait(&hold_cv, &hold_mtx);
		pthread_mutex_unlock(&hold_mtx);
		printf("held %d\n", atomic_load(&held));
		fflush(stdout);
		while (read(0, buf, sizeof(buf)) > 0)
			;
		pthread_mutex_lock(&hold_mtx);
		released = 1;
		pthread_cond_broadcast(&hold_cv);
		pthread_mutex_unlock(&hold_mtx);
	}
	for (c = 0; c < conc; c++)
		pthread_join(t[c], NULL);
	t1 = now_us();
	if (mode == HOLD) {
		printf("held=%d errors=%ld\n", atomic_load(&held),
		    atomic_load(&errors));
		return atomic_load(&held) > 0 ? 0 : 1;
	}
	n = atomic_load(&nlat);
	if (n > MAXLAT)
		n = MAXLAT;
	lat_sort(lat, n);
	if (count > 0)
		secs = (t1 - t0) / 1e6;
	printf("sessions=%ld errors=%ld secs=%.3f rate=%.1f p50=%.3f "
	    "p90=%.3f p99=%.3f max=%.3f\n", atomic_load(&done),
	    atomic_load(&errors), secs, atomic_load(&done) / secs,
	    lat_ms(lat, n, 0.50), lat_ms(lat, n, 0.90),
	    lat_ms(lat, n, 0.99), lat_ms(lat, n, 1.0));
	return atomic_load(&done) > 0 ? 0 : 1;
}
