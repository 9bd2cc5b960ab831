/*
 * The client's name from the DNS, for XCLIENT NAME: the PTR of its
 * address, then the A or AAAA of that name, as nginx's mail proxy does.
 * DNS answers are untrusted input (nginx CVE-2021-23017, CVE-2026-28753):
 * a reply is walked within its bounds by one function, and a name is
 * used only after hostname_valid said yes.
 *
 * c-ares asks the one configured server, and nothing else: no hosts
 * file, no search domains.  It is loaded (dl.h) and set up only here,
 * when a backend dialogue needs the name: start-up is the hot path, and
 * a session without --resolver never maps it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ares.h>

/* the historical OpenBSD prototypes; says so to silence libbsd's warning */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "conn.h"
#include "dl.h"
#include "options.h"
#include "resolve.h"
#include "session.h"

/* c-ares through the loader: built against ares.h, never linked */
static __typeof__(ares_library_init)		*sym_ares_library_init;
static __typeof__(ares_library_cleanup)		*sym_ares_library_cleanup;
static __typeof__(ares_init_options)		*sym_ares_init_options;
static __typeof__(ares_set_servers_ports_csv)	*sym_ares_set_servers_ports_csv;
static __typeof__(ares_destroy)			*sym_ares_destroy;
static __typeof__(ares_strerror)		*sym_ares_strerror;
static __typeof__(ares_query)			*sym_ares_query;
static __typeof__(ares_getsock)			*sym_ares_getsock;
static __typeof__(ares_timeout)			*sym_ares_timeout;
static __typeof__(ares_process_fd)		*sym_ares_process_fd;
static __typeof__(ares_expand_name)		*sym_ares_expand_name;
static __typeof__(ares_free_string)		*sym_ares_free_string;

static const struct dl_sym cares_syms[] = {
	DL_SYM(ares_library_init), DL_SYM(ares_library_cleanup),
	DL_SYM(ares_init_options), DL_SYM(ares_set_servers_ports_csv),
	DL_SYM(ares_destroy), DL_SYM(ares_strerror), DL_SYM(ares_query),
	DL_SYM(ares_getsock), DL_SYM(ares_timeout), DL_SYM(ares_process_fd),
	DL_SYM(ares_expand_name), DL_SYM(ares_free_string),
};

DL_LIBRARY(cares, "resolver", "the client's name from the DNS server "
    "that --resolver names", DL_RECOMMENDED, "libcares.so.2", "libc-ares2",
    cares_syms);

#define NAME_UNAVAILABLE	"[UNAVAILABLE]"
#define NAME_TEMPUNAVAIL	"[TEMPUNAVAIL]"

#define HOSTNAME_MAX	253	/* RFC 1034: 255 bytes on the wire */
#define LABEL_MAX	63
#define DNS_HEADER_LEN	12
#define DNS_RR_LEN	10	/* type, class, ttl, rdlength */
#define DNS_PORT	"53"

/*
 * Three tries, c-ares doubling the wait each time, together fill the
 * whole resolver_timeout: t + 2t + 4t.
 */
#define DNS_TRIES	3
#define DNS_TRY_PARTS	7

enum name_result {
	NAME_FOUND,		/* the name checked out */
	NAME_NONE,		/* [UNAVAILABLE] */
	NAME_TEMP		/* [TEMPUNAVAIL] */
};

/* One resolution: the channel, the deadline, and the query in flight. */
struct resolver {
	ares_channel	 channel;
	const char	*server;	/* as configured, for the log */
	long long	 deadline;	/* now_ms() */
	const char	*ip;		/* the client's address, as text */
	int		 family;
	unsigned char	 addr[sizeof(struct in6_addr)];
	int		 qtype;		/* in flight: ns_t_ptr, _a or _aaaa */

	/* set by the query's callback */
	int		 done;
	int		 status;	/* ARES_* */
	int		 found;		/* 1, 0, -1 as ptr_answer */
	char		 name[NAME_MAX_LEN + 1];
};

static int
is_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
hostname_valid(const char *s, size_t len)
{
	size_t	i, label = 0;
	int	letter = 0, c;

	if (len == 0 || len > HOSTNAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '.') {
			/* no empty label, none ending in a hyphen */
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			letter = 0;
			continue;
		}
		if (c == '-') {
			if (label == 0)
				return 0;
		} else if (is_letter(c))
			letter = 1;
		else if (!is_digit(c))
			return 0;
		if (++label > LABEL_MAX)
			return 0;
	}
	/* a trailing dot, a trailing hyphen, or "192.0.2.1" */
	return label > 0 && s[len - 1] != '-' && letter;
}

int
ptr_qname(int family, const void *addr, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*a = addr;
	size_t			 n = 0;
	int			 i;

	if (family == AF_INET)
		n = snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2],
		    a[1], a[0]);
	else if (family == AF_INET6) {
		/* one label a nibble, the last nibble first */
		if (len < 16 * 4 + sizeof("ip6.arpa"))
			return -1;
		for (i = 15; i >= 0; i--) {
			buf[n++] = hex[a[i] & 0x0f];
			buf[n++] = '.';
			buf[n++] = hex[a[i] >> 4];
			buf[n++] = '.';
		}
		n += strlcpy(buf + n, "ip6.arpa", len - n);
	} else
		return -1;
	return n < len ? 0 : -1;
}

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* One record of the wanted type, owned by the name being followed. */
typedef int answer_fn(const unsigned char *abuf, int alen,
    const unsigned char *rdata, unsigned rdlen, void *arg);

/*
 * Walks the answer section of a reply to one question.  The name to
 * follow starts as the question's and becomes a CNAME's target when one
 * is met for it; fn is called for each record of the type owned by that
 * name, and its non-zero return ends the walk.  Every length is checked
 * against the reply's end, and names are expanded by c-ares, which
 * bounds them and escapes the bytes that are not printable.
 * 1 fn said so, 0 walked to the end, -1 malformed.
 */
static int
answer_walk(const unsigned char *abuf, int alen, unsigned type,
    answer_fn *fn, void *arg)
{
	const unsigned char	*p, *end = abuf + alen;
	char			*follow = NULL, *owner = NULL, *target;
	long			 n;
	unsigned		 an, rtype, rclass, rdlen;
	int			 rc = -1;

	if (alen < DNS_HEADER_LEN || get16(abuf + 4) != 1)
		return -1;
	an = get16(abuf + 6);
	p = abuf + DNS_HEADER_LEN;
	if (sym_ares_expand_name(p, abuf, alen, &follow, &n) != ARES_SUCCESS)
		return -1;
	if (end - p < n + 4)
		goto done;
	p += n + 4;
	for (; an > 0; an--) {
		if (p >= end ||
		    sym_ares_expand_name(p, abuf, alen, &owner, &n) != ARES_SUCCESS)
			goto done;
		if (end - p < n + DNS_RR_LEN)
			goto done;
		p += n;
		rtype = get16(p);
		rclass = get16(p + 2);
		rdlen = get16(p + 8);
		p += DNS_RR_LEN;
		if ((unsigned long)(end - p) < rdlen)
			goto done;
		if (rclass == ns_c_in && strcasecmp(owner, follow) == 0) {
			if (rtype == type && fn(abuf, alen, p, rdlen, arg)) {
				rc = 1;
				goto done;
			}
			if (rtype == ns_t_cname) {
				if (rdlen == 0 || sym_ares_expand_name(p, abuf,
				    alen, &target, &n) != ARES_SUCCESS)
					goto done;
				sym_ares_free_string(follow);
				follow = target;
			}
		}
		sym_ares_free_string(owner);
		owner = NULL;
		p += rdlen;
	}
	rc = 0;
 done:
	sym_ares_free_string(owner);
	sym_ares_free_string(follow);
	return rc;
}

struct ptr_copy {
	char	*name;
	size_t	 len;
	int	 bad;
};

static int
ptr_found(const unsigned char *abuf, int alen, const unsigned char *rdata,
    unsigned rdlen, void *arg)
{
	struct ptr_copy	*c = arg;
	char		*name;
	long		 n;

	if (rdlen == 0 ||
	    sym_ares_expand_name(rdata, abuf, alen, &name, &n) != ARES_SUCCESS) {
		c->bad = 1;
		return 1;
	}
	strlcpy(c->name, name, c->len);
	sym_ares_free_string(name);
	return 1;
}

int
ptr_answer(const unsigned char *abuf, int alen, char *name, size_t len)
{
	struct ptr_copy	c = { name, len, 0 };
	int		rc;

	rc = answer_walk(abuf, alen, ns_t_ptr, ptr_found, &c);
	return c.bad ? -1 : rc;
}

struct addr_match {
	const void	*addr;
	size_t		 len;
};

static int
addr_found(const unsigned char *abuf, int alen, const unsigned char *rdata,
    unsigned rdlen, void *arg)
{
	struct addr_match	*m = arg;

	(void)abuf;
	(void)alen;
	return rdlen == m->len && memcmp(rdata, m->addr, m->len) == 0;
}

int
addr_answer(const unsigned char *abuf, int alen, int family, const void *addr)
{
	struct addr_match	m = { addr, 0 };

	if (family == AF_INET) {
		m.len = sizeof(struct in_addr);
		return answer_walk(abuf, alen, ns_t_a, addr_found, &m);
	}
	m.len = sizeof(struct in6_addr);
	return answer_walk(abuf, alen, ns_t_aaaa, addr_found, &m);
}

/*
 * The one callback: c-ares hands the reply over only while it runs, so
 * what the query was for (r->qtype) is read from it here.
 */
static void
answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct resolver	*r = arg;

	(void)timeouts;
	r->done = 1;
	r->status = status;
	if (status == ARES_SUCCESS && abuf != NULL)
		r->found = r->qtype == ns_t_ptr ?
		    ptr_answer(abuf, alen, r->name, sizeof(r->name)) :
		    addr_answer(abuf, alen, r->family, r->addr);
}

/*
 * The server as c-ares takes it, "IP:PORT" or "[IPv6]:PORT", from the
 * forms the option allows (options.c checked them): IP, IP:PORT, IPv6,
 * [IPv6], [IPv6]:PORT.
 */
static int
server_csv(const char *opt, char *buf, size_t len)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*port = NULL, *end;
	size_t		 n;
	int		 v6 = 0;

	if (*opt == '[') {
		if ((end = strchr(opt, ']')) == NULL)
			return -1;
		n = end - opt - 1;
		port = end[1] == ':' ? end + 2 : NULL;
		opt++;
		v6 = 1;
	} else if ((end = strchr(opt, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		n = end - opt;
		port = end + 1;
	} else {
		n = strlen(opt);
		v6 = end != NULL;
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, opt, n);
	host[n] = '\0';
	n = snprintf(buf, len, v6 ? "[%s]:%s" : "%s:%s", host,
	    port != NULL ? port : DNS_PORT);
	return n < len ? 0 : -1;
}

int
resolve_load(void)
{
	return dl_load(&cares);
}

static int
resolver_open(struct resolver *r, const struct options *o)
{
	struct ares_options	 ao;
	char			 lookups[] = "b";	/* DNS, never a file */
	char			 csv[INET6_ADDRSTRLEN + 16];
	long long		 try_ms;
	int			 rc;

	if (resolve_load() == -1)
		return -1;
	if ((rc = sym_ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		log_warnx("resolver: %s", sym_ares_strerror(rc));
		return -1;
	}
	try_ms = o->resolver_timeout / DNS_TRY_PARTS;
	if (try_ms < 1)
		try_ms = 1;
	if (try_ms > INT_MAX)
		try_ms = INT_MAX;
	/*
	 * No search list, no HOSTALIASES; and a SERVFAIL or REFUSED is an
	 * answer, as in nginx, not a reason to ask again.
	 */
	memset(&ao, 0, sizeof(ao));
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES |
	    ARES_FLAG_NOCHECKRESP;
	ao.timeout = (int)try_ms;
	ao.tries = DNS_TRIES;
	ao.lookups = lookups;
	rc = sym_ares_init_options(&r->channel, &ao, ARES_OPT_FLAGS |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS) {
		log_warnx("resolver: %s", sym_ares_strerror(rc));
		sym_ares_library_cleanup();
		return -1;
	}
	if (server_csv(o->resolver, csv, sizeof(csv)) == -1 ||
	    (rc = sym_ares_set_servers_ports_csv(r->channel, csv)) != ARES_SUCCESS) {
		log_warnx("resolver %s: cannot use it as the DNS server",
		    o->resolver);
		sym_ares_destroy(r->channel);
		sym_ares_library_cleanup();
		return -1;
	}
	return 0;
}

static void
resolver_close(struct resolver *r)
{
	/* a query still in flight is called back with ARES_EDESTRUCTION */
	sym_ares_destroy(r->channel);
	sym_ares_library_cleanup();
}

/*
 * ares_getsock's bits, read as unsigned: c-ares's own macros shift an
 * int into its sign bit for the sixteenth socket.
 */
static int
sock_readable(int bits, int i)
{
	return ((unsigned)bits >> i) & 1;
}

static int
sock_writable(int bits, int i)
{
	return ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1;
}

/*
 * Drives c-ares with poll(2) until the query in flight is answered or
 * the deadline passes: 0 answered, -1 not.
 */
static int
resolver_wait(struct resolver *r)
{
	struct pollfd	 pfd[ARES_GETSOCK_MAXNUM];
	ares_socket_t	 socks[ARES_GETSOCK_MAXNUM];
	struct timeval	 max, tv, *tvp;
	long long	 left, ms;
	int		 bits, i, n;

	while (!r->done) {
		if ((left = r->deadline - now_ms()) <= 0)
			return -1;
		bits = sym_ares_getsock(r->channel, socks, ARES_GETSOCK_MAXNUM);
		for (n = i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			if (!sock_readable(bits, i) && !sock_writable(bits, i))
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (sock_readable(bits, i) ? POLLIN : 0) |
			    (sock_writable(bits, i) ? POLLOUT : 0);
			pfd[n++].revents = 0;
		}
		max.tv_sec = left / 1000;
		max.tv_usec = (left % 1000) * 1000;
		tvp = sym_ares_timeout(r->channel, &max, &tv);
		ms = (long long)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000;
		if (ms > INT_MAX)
			ms = INT_MAX;
		n = poll(pfd, n, (int)ms);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warnx("resolver: poll: %s", strerror(errno));
			return -1;
		}
		/* with nothing ready, c-ares sees to its own timeouts */
		if (n == 0)
			sym_ares_process_fd(r->channel, ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
		for (i = 0; n > 0 && i < ARES_GETSOCK_MAXNUM; i++) {
			if (pfd[i].revents == 0)
				continue;
			n--;
			sym_ares_process_fd(r->channel,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ?
			    pfd[i].fd : ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd :
			    ARES_SOCKET_BAD);
		}
	}
	return 0;
}

/* Sends one query and waits for it: 0 answered (see r->status), -1 not. */
static int
resolver_query(struct resolver *r, const char *name, int type)
{
	r->qtype = type;
	r->done = 0;
	r->status = ARES_ETIMEOUT;
	r->found = 0;
	sym_ares_query(r->channel, name, ns_c_in, type, answered, r);
	return resolver_wait(r);
}

/* Why a query failed; c-ares's own tries end with the deadline, too. */
static const char *
failure(const struct resolver *r, int answered)
{
	if (answered == -1 || r->status == ARES_ETIMEOUT)
		return "no answer within resolver_timeout";
	return sym_ares_strerror(r->status);
}

/* Step one: the PTR name of the client's address, into r->name. */
static enum name_result
resolve_ptr(struct resolver *r)
{
	char	qname[16 * 4 + sizeof("ip6.arpa")];
	char	shown[4 * sizeof(r->name)];
	int	rc;

	if (ptr_qname(r->family, r->addr, qname, sizeof(qname)) == -1)
		return NAME_NONE;
	rc = resolver_query(r, qname, ns_t_ptr);
	if (rc == 0 && (r->status == ARES_ENOTFOUND ||
	    r->status == ARES_ENODATA ||
	    (r->status == ARES_SUCCESS && r->found == 0)))
		return NAME_NONE;
	if (rc == -1 || r->status != ARES_SUCCESS || r->found != 1) {
		log_warnx("resolver %s: PTR of %s: %s", r->server, r->ip,
		    r->found == -1 ? "malformed reply" : failure(r, rc));
		return NAME_TEMP;
	}
	if (!hostname_valid(r->name, strlen(r->name))) {
		strnvisx(shown, sizeof(shown), r->name, strlen(r->name),
		    VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_DQ);
		/* ptr_found cut a longer name to the buffer: say so */
		log_warnx("resolver %s: PTR of %s is not a host name: \"%s\"%s",
		    r->server, r->ip, shown, strlen(r->name) ==
		    sizeof(r->name) - 1 ? " (cut: the name is longer)" : "");
		return NAME_NONE;
	}
	return NAME_FOUND;
}

/* Step two: the name's A or AAAA records must hold the client's address. */
static enum name_result
resolve_forward(struct resolver *r)
{
	int	rc;

	rc = resolver_query(r, r->name, r->family == AF_INET ? ns_t_a :
	    ns_t_aaaa);
	if (rc == 0 && r->status == ARES_SUCCESS && r->found == 1)
		return NAME_FOUND;
	if (rc == 0 && (r->status == ARES_ENOTFOUND ||
	    r->status == ARES_ENODATA ||
	    (r->status == ARES_SUCCESS && r->found == 0))) {
		log_warnx("resolver %s: %s (PTR of %s) does not resolve to "
		    "that address", r->server, r->name, r->ip);
		return NAME_NONE;
	}
	log_warnx("resolver %s: %s of %s (PTR of %s): %s", r->server,
	    r->family == AF_INET ? "A" : "AAAA", r->name, r->ip,
	    r->found == -1 ? "malformed reply" : failure(r, rc));
	return NAME_TEMP;
}

void
resolve_client(struct session *s)
{
	struct client		*cl = &s->client;
	struct resolver		 r;
	enum name_result	 res;

	if (cl->resolved)
		return;
	cl->resolved = 1;
	strlcpy(cl->name, NAME_UNAVAILABLE, sizeof(cl->name));
	if (s->opt->resolver == NULL || !cl->remote.known)
		return;

	memset(&r, 0, sizeof(r));
	r.server = s->opt->resolver;
	r.ip = cl->remote.ip;
	r.family = cl->remote.family;
	r.deadline = now_ms() + s->opt->resolver_timeout;
	if (inet_pton(r.family, r.ip, r.addr) != 1)
		return;
	if (resolver_open(&r, s->opt) == -1) {
		strlcpy(cl->name, NAME_TEMPUNAVAIL, sizeof(cl->name));
		return;
	}
	if ((res = resolve_ptr(&r)) == NAME_FOUND)
		res = resolve_forward(&r);
	resolver_close(&r);
	if (res == NAME_FOUND)
		strlcpy(cl->name, r.name, sizeof(cl->name));
	else if (res == NAME_TEMP)
		strlcpy(cl->name, NAME_TEMPUNAVAIL, sizeof(cl->name));
}
