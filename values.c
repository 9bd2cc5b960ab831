/*
 * The nginx value syntax: flags, sizes, times, lists, addresses.  Pure
 * parsers over strings, shared by the option table and its tests.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "options.h"
#include "values.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * Reads the digits at *sp and moves past them.  strtonum alone would
 * also take blanks and a sign, which no nginx value has.
 */
int
number(const char **sp, long long *v)
{
	char		 buf[24];
	const char	*errstr;
	size_t		 n;

	n = strspn(*sp, "0123456789");
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, *sp, n);
	buf[n] = '\0';
	*v = strtonum(buf, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return -1;
	*sp += n;
	return 0;
}

int
parse_flag(const char *s, int *v)
{
	/* nginx takes keywords in any case */
	if (strcasecmp(s, "on") == 0)
		*v = 1;
	else if (strcasecmp(s, "off") == 0)
		*v = 0;
	else
		return -1;
	return 0;
}

int
parse_size(const char *s, size_t *v)
{
	long long	 n, scale = 1;
	long long	 max = SIZE_MAX < LLONG_MAX ? (long long)SIZE_MAX : LLONG_MAX;

	if (number(&s, &n) == -1)
		return -1;
	switch (*s) {
	case 'k':
	case 'K':
		scale = 1024;
		s++;
		break;
	case 'm':
	case 'M':
		scale = 1024 * 1024;
		s++;
		break;
	}
	/* a buffer of no bytes is never what was meant */
	if (*s != '\0' || n == 0 || n > max / scale)
		return -1;
	*v = n * scale;
	return 0;
}

/* nginx's time units, largest first: that is the order a value uses */
static const struct unit {
	const char	*name;
	long long	 ms;
} units[] = {
	{ "y", 365LL * 24 * 60 * 60 * 1000 },
	{ "M", 30LL * 24 * 60 * 60 * 1000 },
	{ "w", 7LL * 24 * 60 * 60 * 1000 },
	{ "d", 24LL * 60 * 60 * 1000 },
	{ "h", 60LL * 60 * 1000 },
	{ "m", 60LL * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

/* The longest unit at *sp, so that "ms" is not read as "m". */
static const struct unit *
unit_match(const char **sp)
{
	const struct unit	*u, *best = NULL;

	for (u = units; u < units + nitems(units); u++)
		if (strncmp(*sp, u->name, strlen(u->name)) == 0 &&
		    (best == NULL || strlen(u->name) > strlen(best->name)))
			best = u;
	if (best != NULL)
		*sp += strlen(best->name);
	return best;
}

/*
 * 500ms, 30s, 10m, 24h, 1d, and nginx's sums like 1h30m: each unit at
 * most once, largest first.  A bare number is seconds, and so may only
 * end a sum whose units are larger ("1m30").
 */
int
parse_msec(const char *s, long long *v)
{
	static const char	 seconds[] = "s";
	const struct unit	*u;
	const char		*bare;
	long long		 n, total = 0;
	size_t			 next = 0;

	do {
		if (number(&s, &n) == -1)
			return -1;
		if (*s == '\0') {
			bare = seconds;
			u = unit_match(&bare);
		} else if ((u = unit_match(&s)) == NULL)
			return -1;
		if ((size_t)(u - units) < next)
			return -1;
		next = u - units + 1;
		if (n > (LLONG_MAX - total) / u->ms)
			return -1;
		total += n * u->ms;
	} while (*s != '\0');
	*v = total;
	return 0;
}

/*
 * The shape of HOST:PORT, [v6]:PORT, and when the port may be left out
 * HOST and a bare IPv6 address.  Names are only checked for their
 * characters: the caller resolves them when it connects.
 */
static int
name_check(const char *s)
{
	static const char	 ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";

	if (*s == '\0' || *s == '-' || *s == '.' || strlen(s) > 253)
		return -1;
	return s[strspn(s, ok)] == '\0' ? 0 : -1;
}

int
addr_check(const char *s, int need_port, int ip_only)
{
	struct hostport	 hp;
	struct in_addr	 a4;

	if (hostport_parse(s, strlen(s), &hp) == -1 ||
	    (need_port && hp.port == 0))
		return -1;
	if (hp.v6)
		return 0;
	return ip_only ? (inet_pton(AF_INET, hp.host, &a4) == 1 ? 0 : -1) :
	    name_check(hp.host);
}

int
options_list_next(const char **list, char *item, size_t len)
{
	static const char	 seps[] = " \t\n";
	const char		*s = *list, *start;
	size_t			 n;

	if (s == NULL)
		return 0;
	s += strspn(s, seps);
	/* "SIZE 10485760": a quoted item may hold spaces, as in nginx */
	if (*s == '"' && (start = strchr(s + 1, '"')) != NULL) {
		n = start - s - 1;
		*list = start + 1;
		s++;
	} else {
		n = strcspn(s, seps);
		*list = s + n;
	}
	if (n == 0)
		return 0;
	if (n >= len || n > INT_MAX)
		return -1;
	memcpy(item, s, n);
	item[n] = '\0';
	return (int)n;
}


size_t
options_count(const char *v)
{
	size_t	n;

	if (v == NULL)
		return 0;
	for (n = 1; (v = strchr(v, '\n')) != NULL; v++)
		n++;
	return n;
}

int
options_value_next(const char **list, char *item, size_t len)
{
	const char	*s = *list, *nl;
	size_t		 n;

	if (s == NULL || *s == '\0')
		return 0;
	nl = strchr(s, '\n');
	n = nl != NULL ? (size_t)(nl - s) : strlen(s);
	*list = nl != NULL ? nl + 1 : s + n;
	if (n >= len || n > INT_MAX)
		return -1;
	memcpy(item, s, n);
	item[n] = '\0';
	return (int)n;
}
