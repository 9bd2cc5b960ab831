/*
 * Unit tests of the UCSPI environment's values (proto/ucspi_parse.c):
 * what tcpserver, s6-tcpserver, s6-tlsd and stunnel write, and what a
 * hostile PTR record or certificate can put there instead.
 */
#include <netinet/in.h>

#include "unit.h"
#include "../session.h"
#include "../proto/ucspi_parse.h"

static int
ip_is(const char *in, int family, const char *out)
{
	struct endpoint	e;

	memset(&e, 0, sizeof(e));
	return ucspi_ip(in, &e) == 0 && e.family == family &&
	    strcmp(e.ip, out) == 0 && !e.known;
}

static int
port_is(const char *in, unsigned want)
{
	unsigned	p = 12345;

	return ucspi_port(in, &p) == 0 && p == want;
}

static int
port_bad(const char *in)
{
	unsigned	p = 12345;

	return ucspi_port(in, &p) == -1 && p == 12345;
}

static void
test_ucspi_addr(void)
{
	static const char *const bad[] = {
		"", " 192.0.2.1", "192.0.2.1 ", "192.0.2.1\n", "192.0.2",
		"192.0.2.256", "0x7f.0.0.1", "fe80::1%eth0", "[::1]",
		"192.0.2.1:25", "localhost", "::1 ", "1.2.3.4\r\nX-Evil: 1",
	};
	struct endpoint	e;
	size_t		i;
	int		allbad = 1;

	ok(ucspi_proto("TCP") == UCSPI_TCP && ucspi_proto("TCP6") == UCSPI_TCP6,
	    "PROTO: TCP and TCP6");
	ok(ucspi_proto(NULL) == UCSPI_NONE && ucspi_proto("tcp") == UCSPI_NONE &&
	    ucspi_proto("TCP ") == UCSPI_NONE && ucspi_proto("IPC") == UCSPI_NONE &&
	    ucspi_proto("") == UCSPI_NONE, "PROTO: nothing else, not even IPC");
	ok(ip_is("192.0.2.1", AF_INET, "192.0.2.1"), "an IPv4 address");
	ok(ip_is("2001:DB8:0:0::1", AF_INET6, "2001:db8::1"),
	    "an IPv6 address, written as inet_ntop writes it");
	ok(ip_is("::ffff:198.51.100.7", AF_INET, "198.51.100.7"),
	    "v4-mapped IPv6 is written as IPv4");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if (ucspi_ip(bad[i], &e) != -1 || e.ip[0] != '\0') {
			printf("# taken: \"%s\"\n", bad[i]);
			allbad = 0;
		}
	}
	ok(allbad, "no blanks, ports, zones, names or short forms");

	ok(port_is("0", 0) && port_is("25", 25) && port_is("65535", 65535) &&
	    port_is("00025", 25), "ports 0 to 65535, in at most 5 digits");
	ok(port_bad("") && port_bad("65536") && port_bad("+25") &&
	    port_bad("-1") && port_bad(" 25") && port_bad("25 ") &&
	    port_bad("0x19") && port_bad("000025") && port_bad("99999") &&
	    port_bad("25\n"), "no signs, blanks, hex or overflow");
}

static void
test_ucspi_text(void)
{
	char	buf[16], big[300];

	ok(ucspi_text("TLSv1.3", buf, sizeof(buf), UCSPI_TOKEN) == 0 &&
	    strcmp(buf, "TLSv1.3") == 0, "a protocol name");
	ok(ucspi_text("", buf, sizeof(buf), UCSPI_TOKEN) == 0 &&
	    buf[0] == '\0', "an empty value is empty");
	strcpy(buf, "x");
	ok(ucspi_text("TLS v1.3", buf, sizeof(buf), UCSPI_TOKEN) == -1 &&
	    buf[0] == '\0', "no blank in a token, and nothing kept");
	ok(ucspi_text("O=Example Inc", buf, sizeof(buf), UCSPI_BLANKS) == 0,
	    "blanks in a DN");
	ok(ucspi_text("a\r\nAuth-User: x", buf, sizeof(buf), UCSPI_BLANKS) == -1 &&
	    ucspi_text("a\tb", buf, sizeof(buf), UCSPI_BLANKS) == -1 &&
	    ucspi_text("caf\xc3\xa9", buf, sizeof(buf), UCSPI_BLANKS) == -1 &&
	    ucspi_text("del\x7f", buf, sizeof(buf), UCSPI_BLANKS) == -1,
	    "no control, 8-bit or DEL byte");
	ok(ucspi_text("123456789012345", buf, sizeof(buf), UCSPI_TOKEN) == 0 &&
	    ucspi_text("1234567890123456", buf, sizeof(buf), UCSPI_TOKEN) == -1 &&
	    buf[0] == '\0', "what does not fit its field is refused, not cut");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(ucspi_text(big, buf, sizeof(buf), UCSPI_TOKEN) == -1,
	    "a long value is refused");
}

static int
cn_is(const char *dn, const char *want)
{
	char	buf[32];

	return ucspi_dn_cn(dn, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, want) == 0;
}

static int
cn_none(const char *dn)
{
	char	buf[32] = "x";

	return ucspi_dn_cn(dn, buf, sizeof(buf)) == -1 && buf[0] == '\0';
}

static void
test_ucspi_cn(void)
{
	ok(cn_is("/C=FR/O=Example/CN=alice", "alice") &&
	    cn_is("/CN=alice/emailAddress=a@example.test", "alice"),
	    "CN of X509_NAME_oneline's \"/\" DN (s6-tlsd)");
	ok(cn_is("C=FR, O=Ex\\, Inc, CN=alice", "alice") &&
	    cn_is("O=x/CN=admin, CN=mallory", "mallory"),
	    "CN of stunnel's \", \" DN: a \"/\" in a value is only a byte");
	ok(cn_is("CN=alice,O=Example,C=FR", "alice") &&
	    cn_is("O=Ex\\, Inc,CN=Alice Smith", "Alice Smith"),
	    "CN of an RFC 2253 DN, escaped commas elsewhere");
	ok(cn_none("/O=x/CN=admin/CN=alice") && cn_none("CN=a,CN=b"),
	    "two CNs (a spoofed one in another field): none");
	ok(cn_none("/C=FR/O=Example") && cn_none("") && cn_none("/CN=") &&
	    cn_none("CN=,O=x"), "no CN, or an empty one: none");
	ok(cn_none("CN=a\\,b,O=x") && cn_none("/CN=a\x01b"),
	    "an escaped or unprintable CN: none");
	ok(cn_none("/CN=0123456789012345678901234567890123456789"),
	    "a CN that does not fit: none");
	ok(cn_is("/o=x/cn=bob", "bob"), "the attribute name in any case");
}

void
test_ucspi(void)
{
	test_ucspi_addr();
	test_ucspi_text();
	test_ucspi_cn();
}
