/*
 * The options (options.c, values.c, addr.c) as the environment and the
 * command line give them: the input is NUL-separated entries, "--..."
 * ones argv, the others the environment (MAILPROXY_NAME=value, which a
 * unit file, a launcher or an operator's shell wrote).  options_parse
 * either runs with a protocol and a backend, or refuses with one line
 * that holds no control byte (it goes to the log).  Each entry is also
 * read by every value parser on its own.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "../../addr.h"
#include "../../options.h"
#include "../../values.h"

#define ENTRIES_MAX	32

static void
values(const char *s)
{
	struct hostport	 hp;
	struct cidr	 c;
	const char	*p;
	char		 item[64];
	long long	 ms, num;
	size_t		 size, n = 0;
	int		 flag, rc;

	if (parse_flag(s, &flag) == 0)
		FUZZ_CHECK(flag == 0 || flag == 1);
	if (parse_size(s, &size) == 0)
		FUZZ_CHECK(size > 0);
	if (parse_msec(s, &ms) == 0)
		FUZZ_CHECK(ms >= 0);
	p = s;
	if (number(&p, &num) == 0)
		FUZZ_CHECK(num >= 0 && p > s && p <= s + strlen(s));
	(void)addr_check(s, 0, 0);
	(void)addr_check(s, 1, 0);
	(void)addr_check(s, 0, 1);
	if (hostport_parse(s, strlen(s), &hp) == 0)
		FUZZ_CHECK(strnlen(hp.host, sizeof(hp.host)) < sizeof(hp.host) &&
		    hp.port <= 65535);
	if (cidr_parse(s, strlen(s), &c) == 0) {
		FUZZ_CHECK((c.family == AF_INET && c.bits <= 32) ||
		    (c.family == AF_INET6 && c.bits <= 128));
		(void)cidr_match(&c, "192.0.2.1");
		(void)cidr_match(&c, "2001:db8::1");
	}
	/* the list readers end, each word within its bound */
	for (p = s; (rc = options_list_next(&p, item, sizeof(item))) != 0;
	    n++) {
		FUZZ_CHECK(rc == -1 || ((size_t)rc < sizeof(item) &&
		    strlen(item) == (size_t)rc));
		FUZZ_CHECK(n <= strlen(s));
	}
	for (n = 0, p = s; (rc = options_value_next(&p, item,
	    sizeof(item))) != 0; n++) {
		FUZZ_CHECK(rc == -1 || (size_t)rc < sizeof(item));
		FUZZ_CHECK(n <= strlen(s));
	}
	FUZZ_CHECK(options_count(s) >= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct options	*o;
	char		*buf, *argv[ENTRIES_MAX + 2], *envp[ENTRIES_MAX + 1];
	char		 err[512], *s, *eq;
	size_t		 i, start;
	int		 argc = 1, envc = 0, rc;

	/* one more byte: the last entry is NUL-terminated too */
	buf = fuzz_dup(data, len);
	argv[0] = "mailproxy";
	for (start = 0, i = 0; i <= len && argc + envc < ENTRIES_MAX; i++) {
		if (buf[i] != '\0')
			continue;
		s = buf + start;
		if (strncmp(s, "-", 1) == 0)
			argv[argc++] = s;
		else
			envp[envc++] = s;
		start = i + 1;
	}
	argv[argc] = NULL;
	envp[envc] = NULL;

	if ((o = malloc(sizeof(*o))) == NULL)
		abort();
	err[0] = '\0';
	rc = options_parse(o, argc, argv, envp, err, sizeof(err));
	FUZZ_CHECK(rc == OPT_RUN || rc == OPT_HELP || rc == OPT_VERSION ||
	    rc == OPT_ERROR);
	if (rc == OPT_ERROR) {
		FUZZ_CHECK(err[0] != '\0' && strnlen(err, sizeof(err)) <
		    sizeof(err));
		for (i = 0; err[i] != '\0'; i++)
			FUZZ_CHECK((unsigned char)err[i] >= ' ' &&
			    err[i] != 0x7f);
	}
	if (rc == OPT_RUN) {
		FUZZ_CHECK(o->protocol >= PROTO_SMTP &&
		    o->protocol <= PROTO_IMAP);
		FUZZ_CHECK(o->backend != NULL || o->auth_http != NULL);
		FUZZ_CHECK(o->rep_len <= OPT_REPBUF);
	}
	free(o);

	for (i = 1; i < (size_t)argc; i++)
		values((eq = strchr(argv[i], '=')) != NULL ? eq + 1 : argv[i]);
	for (i = 0; i < (size_t)envc; i++)
		values((eq = strchr(envp[i], '=')) != NULL ? eq + 1 : envp[i]);
	free(buf);
	return 0;
}
