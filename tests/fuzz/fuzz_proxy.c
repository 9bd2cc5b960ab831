/*
 * The PROXY header reader (proto/proxy_parse.c) over a client's first
 * bytes.  What front.c relies on: a header taken is within the bytes
 * held and its addresses are addresses; "need more" asks for more than
 * is held and never more than its buffer (PP_V2_MAX); and reading a
 * header a piece at a time comes to the same answer, every prefix of a
 * good header asking for more and none for more than the header.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "../../proto/proxy_parse.h"

static void
check_addr(const struct pp_addr *a)
{
	unsigned char	bin[sizeof(struct in6_addr)];

	FUZZ_CHECK(a->family == AF_INET || a->family == AF_INET6);
	FUZZ_CHECK(strnlen(a->ip, sizeof(a->ip)) < sizeof(a->ip));
	FUZZ_CHECK(inet_pton(a->family, a->ip, bin) == 1);
	FUZZ_CHECK(a->port <= 65535);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pp_header	 h, p;
	unsigned char		*buf;
	size_t			 k;
	int			 rc, prc;

	buf = (unsigned char *)fuzz_copy(data, len);
	rc = pp_parse(buf, len, &h);
	if (rc > 0) {
		FUZZ_CHECK((size_t)rc <= len && rc >= PP_MIN);
		FUZZ_CHECK((size_t)rc <= PP_V2_MAX);
		FUZZ_CHECK(h.version == 1 || h.version == 2);
		if (h.version == 1)
			FUZZ_CHECK(rc <= PP_V1_MAX);
		if (h.addresses) {
			check_addr(&h.src);
			check_addr(&h.dst);
			FUZZ_CHECK(h.src.family == h.dst.family);
		}
		/* the header alone, nothing after it: the same header */
		FUZZ_CHECK(pp_parse(buf, rc, &p) == rc);
		FUZZ_CHECK(p.addresses == h.addresses &&
		    strcmp(p.src.ip, h.src.ip) == 0 && p.src.port == h.src.port &&
		    strcmp(p.dst.ip, h.dst.ip) == 0 && p.dst.port == h.dst.port);
		for (k = 0; k < (size_t)rc; k++) {
			prc = pp_parse(buf, k, &p);
			FUZZ_CHECK(prc == PP_NEED);
			FUZZ_CHECK(p.need > k && p.need <= (size_t)rc);
		}
	} else if (rc == PP_NEED) {
		FUZZ_CHECK(h.need > len && h.need <= PP_V2_MAX);
		FUZZ_CHECK(h.why == NULL);
		/* what may still become a header was never refused before */
		for (k = 0; k < len; k++) {
			FUZZ_CHECK(pp_parse(buf, k, &p) == PP_NEED);
			FUZZ_CHECK(p.need > k);
		}
	} else
		FUZZ_CHECK(rc == PP_BAD && h.why != NULL);
	free(buf);
	return 0;
}
