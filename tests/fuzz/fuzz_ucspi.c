/*
 * The launcher's environment values (proto/ucspi_parse.c): a value of
 * TCPREMOTEIP, TCPREMOTEPORT, PROTO, a TLS fact or a DN, as s6-tlsd or
 * stunnel set them from what the client sent.  An address taken is one
 * inet_pton reads again to the same; a port is 0..65535; a text is
 * taken whole, printable, within its buffer, or not at all; a CN is in
 * the DN, unescaped and printable.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "../../session.h"
#include "../../proto/ucspi_parse.h"

static void
text(const char *s, size_t cap, int flags)
{
	char	*dst;
	size_t	 i, n;

	if ((dst = malloc(cap)) == NULL)
		abort();
	memset(dst, 'x', cap);
	if (ucspi_text(s, dst, cap, flags) == 0) {
		n = strnlen(dst, cap);
		FUZZ_CHECK(n < cap && strcmp(dst, s) == 0);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(dst[i] > ' ' ? dst[i] < 0x7f :
			    dst[i] == ' ' && (flags & UCSPI_BLANKS));
	} else
		FUZZ_CHECK(dst[0] == '\0');
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct endpoint	 e, e2;
	unsigned char	 bin[16];
	unsigned	 port;
	char		*s, *dst;
	size_t		 cap, i, n;

	s = fuzz_dup(data, len);
	FUZZ_CHECK(ucspi_proto(s) >= UCSPI_NONE && ucspi_proto(s) <= UCSPI_TCP6);
	memset(&e, 0, sizeof(e));
	if (ucspi_ip(s, &e) == 0) {
		FUZZ_CHECK(e.family == AF_INET || e.family == AF_INET6);
		FUZZ_CHECK(strnlen(e.ip, sizeof(e.ip)) < sizeof(e.ip));
		FUZZ_CHECK(inet_pton(e.family, e.ip, bin) == 1);
		/* its text form reads as itself */
		memset(&e2, 0, sizeof(e2));
		FUZZ_CHECK(ucspi_ip(e.ip, &e2) == 0 && e2.family == e.family &&
		    strcmp(e2.ip, e.ip) == 0);
	}
	if (ucspi_port(s, &port) == 0)
		FUZZ_CHECK(port <= 65535 && strlen(s) >= 1 && strlen(s) <= 5);

	/* the buffers launch.c gives them, and one byte */
	text(s, 1, UCSPI_TOKEN);
	text(s, 64, UCSPI_TOKEN);
	text(s, 256, UCSPI_BLANKS);

	cap = len > 0 ? data[0] % 64 + 1 : 1;
	for (i = 0; i < 2; i++, cap = 256) {
		if ((dst = malloc(cap)) == NULL)
			abort();
		if (ucspi_dn_cn(s, dst, cap) == 0) {
			n = strnlen(dst, cap);
			FUZZ_CHECK(n > 0 && n < cap && strstr(s, dst) != NULL);
			FUZZ_CHECK(strchr(dst, '\\') == NULL);
			for (; n > 0; n--)
				FUZZ_CHECK(dst[n - 1] >= ' ' &&
				    dst[n - 1] < 0x7f);
		} else
			FUZZ_CHECK(dst[0] == '\0');
		free(dst);
	}
	free(s);
	return 0;
}
