/*
 * Unit tests of the pure parsers and builders: byte-exact, no sockets.
 * Prints TAP; the behaviour through the binary is in *.bats.  One file
 * per area, tests/unit_*.c; this one counts.
 */
#include "unit.h"

static int	n, failed;

void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed++;
}

int
main(void)
{
	test_addr();
	test_xclient();
	test_identity();
	test_proxy();
	test_proxy_v2();
	test_proxy_parse();
	test_cidr();
	test_dl();
	test_base64();
	test_sasl();
	test_smtp();
	test_pop3();
	test_imap();
	test_resolve();
	test_auth_http();
	test_tls();
	test_ucspi();
	test_sandbox();
	printf("1..%d\n", n);
	return failed != 0;
}
