/*
 * The DNS answer reader (resolve.c's answer_walk, through ptr_answer and
 * addr_answer), over a reply as the resolver's socket delivers it; the
 * names in it are expanded by c-ares, loaded as the program loads it.
 * A PTR name comes back NUL-terminated within its buffer, however short
 * that is.  The input is also a name for hostname_valid, checked against
 * a reference here, and ptr_qname's query names always fit or fail.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "../../resolve.h"

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (resolve_load() == -1)
		abort();	/* the log line said which package */
	return 0;
}

/* RFC 1034/1123 as resolve.h says it, the slow way */
static int
ref_hostname(const char *s, size_t len)
{
	size_t	i, start = 0;
	int	letter = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
				return 0;
			continue;
		}
		/* a label: 1..63, no hyphen at either end */
		if (i == start || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return 0;
		/* only the last label's letters count */
		if (i == len)
			for (letter = 0; start < i; start++)
				if ((s[start] | 0x20) >= 'a' &&
				    (s[start] | 0x20) <= 'z')
					letter = 1;
		start = i + 1;
	}
	return letter;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const unsigned char v4[4] = { 192, 0, 2, 1 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	unsigned char	*buf, a[16] = { 0 };
	char		 name[256], small[8], q[128];
	int		 rc;

	if (len > 65535)
		return 0;
	buf = (unsigned char *)fuzz_copy(data, len);
	memset(name, 'x', sizeof(name));
	rc = ptr_answer(buf, len, name, sizeof(name));
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc == 1)
		FUZZ_CHECK(strnlen(name, sizeof(name)) < sizeof(name));
	memset(small, 'x', sizeof(small));
	rc = ptr_answer(buf, len, small, sizeof(small));
	if (rc == 1)
		FUZZ_CHECK(strnlen(small, sizeof(small)) < sizeof(small));
	rc = addr_answer(buf, len, AF_INET, v4);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	rc = addr_answer(buf, len, AF_INET6, v6);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	/* the last bytes as the address asked for, so that a match is found */
	memcpy(a, buf + (len > 16 ? len - 16 : 0), len > 16 ? 16 : len);
	(void)addr_answer(buf, len, AF_INET, a + 12);
	(void)addr_answer(buf, len, AF_INET6, a);

	FUZZ_CHECK(hostname_valid((const char *)buf, len) ==
	    ref_hostname((const char *)buf, len));
	FUZZ_CHECK(ptr_qname(AF_INET, a, q, sizeof(q)) == 0 &&
	    strlen(q) < sizeof(q));
	FUZZ_CHECK(ptr_qname(AF_INET6, a, q, sizeof(q)) == 0 &&
	    strlen(q) == 72);
	FUZZ_CHECK(ptr_qname(AF_INET6, a, q, 72) == -1);
	free(buf);
	return 0;
}
