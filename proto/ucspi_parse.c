/*
 * The launcher's environment, one value at a time.  Whoever started us
 * wrote these variables, but what they hold came from the network: a
 * TCPREMOTEHOST is whatever the client's PTR record says, a DN whatever
 * its certificate holds.  Each value is taken whole or not at all.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "../session.h"
#include "ucspi_parse.h"

int
ucspi_proto(const char *s)
{
	if (s == NULL)
		return UCSPI_NONE;
	if (strcmp(s, "TCP") == 0)
		return UCSPI_TCP;
	if (strcmp(s, "TCP6") == 0)
		return UCSPI_TCP6;
	return UCSPI_NONE;
}

int
ucspi_ip(const char *s, struct endpoint *e)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	/* inet_pton reads no blanks, signs or zone ids: nothing else to do */
	if (inet_pton(AF_INET, s, &a4) == 1) {
		inet_ntop(AF_INET, &a4, e->ip, sizeof(e->ip));
		e->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		inet_ntop(AF_INET, &a6.s6_addr[12], e->ip, sizeof(e->ip));
		e->family = AF_INET;
	} else {
		inet_ntop(AF_INET6, &a6, e->ip, sizeof(e->ip));
		e->family = AF_INET6;
	}
	return 0;
}

int
ucspi_port(const char *s, unsigned *port)
{
	unsigned	v = 0;
	size_t		i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == 5 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

static int
text_byte(unsigned char c, int flags)
{
	return (c > ' ' && c < 0x7f) || (c == ' ' && (flags & UCSPI_BLANKS));
}

int
ucspi_text(const char *s, char *dst, size_t cap, int flags)
{
	size_t	n;

	dst[0] = '\0';
	for (n = 0; s[n] != '\0'; n++)
		if (n + 1 >= cap || !text_byte(s[n], flags))
			return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

/*
 * The "/" form does not escape a "/" inside a value, so an organisation
 * named "x/CN=admin" reads as a CN of its own there: a DN with two CNs
 * has none we could trust, and gives none.  The "," forms escape a comma
 * in a value ("O=x\, Inc"), and a "/" there is only a byte.
 */
int
ucspi_dn_cn(const char *dn, char *dst, size_t cap)
{
	const char	*p, *end, *cn = NULL;
	size_t		 len = 0, i;
	char		 sep = dn[0] == '/' ? '/' : ',';
	int		 esc, found = 0;

	dst[0] = '\0';
	p = sep == '/' ? dn + 1 : dn;
	for (;;) {
		/* stunnel's separator is ", " */
		while (sep == ',' && *p == ' ')
			p++;
		for (end = p, esc = 0; *end != '\0' && (esc || *end != sep);
		    end++)
			esc = !esc && *end == '\\';
		if (end - p >= 3 && strncasecmp(p, "CN=", 3) == 0) {
			cn = p + 3;
			len = end - cn;
			found++;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (found != 1 || len == 0 || len >= cap)
		return -1;
	for (i = 0; i < len; i++)
		if (cn[i] == '\\' || !text_byte(cn[i], UCSPI_BLANKS))
			return -1;
	memcpy(dst, cn, len);
	dst[len] = '\0';
	return 0;
}
