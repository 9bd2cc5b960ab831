/*
 * Unit tests of TLS's one pure function: the ALPN choice.
 */
#include "unit.h"
#include "../tls.h"

#define L(s)	(const unsigned char *)(s), sizeof(s) - 1

void
test_tls(void)
{
	const unsigned char	*out = NULL;
	unsigned char		 outlen = 0;

	ok(alpn_select(L("\x02h2\x04imap"), "imap", &out, &outlen) == 0 &&
	    outlen == 4 && memcmp(out, "imap", 4) == 0,
	    "ALPN: our name found after another");
	ok(alpn_select(L("\x02h2\x08http/1.1"), "imap", &out, &outlen) == -1,
	    "ALPN: a list without our name is refused");
	ok(alpn_select(L("\x05imaps\x03ima"), "imap", &out, &outlen) == -1,
	    "ALPN: no prefix and no longer name matches");
	ok(alpn_select(L("\x04imap\x09pop3"), "pop3", &out, &outlen) == -1 &&
	    alpn_select(L("\x00\x04imap"), "imap", &out, &outlen) == -1,
	    "ALPN: a length past the end, or zero, is malformed");
	ok(alpn_select(L(""), "smtp", &out, &outlen) == -1,
	    "ALPN: an empty list has nothing of ours");
}
