/*
 * The benchmark's TLS handshake generator: in C threads (one per
 * concurrent connection), each connection is connect(2), a TLSv1.3
 * handshake, the greeting read, close_notify sent and close(2).  Linked
 * with libssl (the only bench program that is): a client in C costs a
 * fraction of the server's handshake, so that the client is not what is
 * measured (the run prints its own CPU time for that).
 *
 *	tlsload -a [IP:]PORT [-c conc] [-t secs] [-n count] [-g PREFIX]
 *
 * No certificate verification (the signature over the handshake is still
 * checked: the client's cost is what a real one's is less the chain), no
 * session resumption (every handshake is a full one), SNI "mx.bench".
 * The greeting must begin with PREFIX (default "* OK").  Prints one line:
 *	sessions=N errors=N secs=S rate=R p50=MS p90=MS p99=MS max=MS
 *	cpu=S version=V cipher=C group=G
 * where a session runs from connect(2) to the greeting's CRLF, cpu is
 * this process's user+system time, and version, cipher and group are the
 * first handshake's.  Exit 0 when at least one handshake succeeded.
 */
#include <sys/resource.h>
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

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "io.h"

#define MAXLAT		(1 << 20)
#define MAXCONC		1024
#define IO_TIMEOUT	10

static struct sockaddr_in	 target;
static int			 conc = 1;
static double			 secs = 3;
static long			 count;
static const char		*prefix = "* OK";
static SSL_CTX			*ctx;

static long long		 deadline_us;
static atomic_long		 started, done, errors;
static unsigned int		 lat[MAXLAT];
static atomic_long		 nlat;
static atomic_int		 complained, described;
static char			 facts[256];

static int
fail(const char *what, const char *detail)
{
	if (atomic_fetch_add(&complained, 1) < 5)
		fprintf(stderr, "tlsload: %s%s%.120s\n", what,
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	return -1;
}

static const char *
ssl_why(void)
{
	static _Thread_local char	buf[160];
	unsigned long			e = ERR_get_error();

	if (e == 0)
		return strerror(errno);
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

static void
describe(SSL *ssl)
{
	int	nid;

	if (atomic_exchange(&described, 1))
		return;
	nid = SSL_get_negotiated_group(ssl);
	snprintf(facts, sizeof(facts), "version=%s cipher=%s group=%s",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl),
	    nid > 0 ? OBJ_nid2sn(nid) : "?");
}

static int
one(void)
{
	char		 buf[1024];
	size_t		 have = 0;
	long long	 t0 = now_us();
	SSL		*ssl = NULL;
	int		 fd, n, rc = -1;

	if ((fd = dial_tcp(&target, IO_TIMEOUT)) == -1)
		return fail("connect", strerror(errno));
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, "mx.bench") != 1) {
		fail("SSL_new", ssl_why());
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		fail("handshake", ssl_why());
		goto out;
	}
	/* the greeting: to its CRLF (TLSv1.3 tickets, if any, come first) */
	for (;;) {
		if ((n = SSL_read(ssl, buf + have, sizeof(buf) - 1 - have)) <= 0) {
			fail("no greeting", ssl_why());
			goto out;
		}
		have += n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n") != NULL)
			break;
		if (have == sizeof(buf) - 1) {
			fail("greeting too long", NULL);
			goto out;
		}
	}
	if (strncmp(buf, prefix, strlen(prefix)) != 0) {
		fail("unexpected greeting", buf);
		goto out;
	}
	describe(ssl);
	SSL_shutdown(ssl);		/* our close_notify; not waiting for theirs */
	rc = 0;
	lat_record(lat, MAXLAT, &nlat, now_us() - t0);
out:
	SSL_free(ssl);
	close(fd);
	return rc;
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		if (count > 0) {
			if (atomic_fetch_add(&started, 1) >= count)
				break;
		} else if (now_us() >= deadline_us)
			break;
		if (one() == 0) {
			if (count > 0 || now_us() < deadline_us)
				atomic_fetch_add(&done, 1);
		} else
			atomic_fetch_add(&errors, 1);
	}
	return NULL;
}

static int
usage(void)
{
	fprintf(stderr, "usage: tlsload -a [IP:]PORT [-c conc] [-t secs] "
	    "[-n count] [-g PREFIX]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	pthread_t	 th[MAXCONC];
	struct rusage	 ru;
	long long	 t0, t1;
	long		 n;
	int		 c, i;

	while ((c = getopt(argc, argv, "a:c:t:n:g:")) != -1) {
		switch (c) {
		case 'a':
			if (addr_parse(optarg, &target) == -1)
				return usage();
			break;
		case 'c':
			conc = atoi(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'g':
			prefix = optarg;
			break;
		default:
			return usage();
		}
	}
	if (target.sin_port == 0 || conc < 1 || conc > MAXCONC || secs <= 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		fprintf(stderr, "tlsload: SSL_CTX_new: %s\n", ssl_why());
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

	t0 = now_us();
	deadline_us = t0 + (long long)(secs * 1e6);
	for (i = 0; i < conc; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "tlsload: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	t1 = now_us();
	getrusage(RUSAGE_SELF, &ru);
	n = atomic_load(&nlat) < MAXLAT ? atomic_load(&nlat) : MAXLAT;
	lat_sort(lat, n);
	{
		double	el = count > 0 ? (t1 - t0) / 1e6 : secs;

		printf("sessions=%ld errors=%ld secs=%.3f rate=%.1f p50=%.3f "
		    "p90=%.3f p99=%.3f max=%.3f cpu=%.3f %s\n", atomic_load(&done),
		    atomic_load(&errors), el, atomic_load(&done) / el,
		    lat_ms(lat, n, 0.50), lat_ms(lat, n, 0.90),
	    lat_ms(lat, n, 0.99), lat_ms(lat, n, 1.0),
		    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
		    facts[0] != '\0' ? facts : "version=? cipher=? group=?");
	}
	return atomic_load(&done) > 0 ? 0 : 1;
}
