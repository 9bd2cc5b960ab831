/*
 * Unit tests of the address parser and the library loader: byte-exact, no sockets.
 */
#include "unit.h"
#include "../addr.h"
#include "../dl.h"

static int
hp(const char *s, struct hostport *h)
{
	return hostport_parse(s, strlen(s), h);
}

void
test_addr(void)
{
	struct hostport	h;

	ok(hp("mx.example:25", &h) == 0 && strcmp(h.host, "mx.example") == 0 &&
	    h.port == 25 && !h.v6 && !h.bracketed, "HOST:PORT");
	ok(hp("[2001:db8::1]:143", &h) == 0 &&
	    strcmp(h.host, "2001:db8::1") == 0 && h.port == 143 && h.v6 &&
	    h.bracketed, "[IPv6]:PORT");
	ok(hp("2001:db8::1", &h) == 0 && h.v6 && h.port == 0,
	    "a bare IPv6 address has no port");
	ok(hp("[::1]", &h) == 0 && h.v6 && h.port == 0 &&
	    hp("192.0.2.1", &h) == 0 && h.port == 0, "no port");
	ok(hp("h:+25", &h) == -1 && hp("h: 25", &h) == -1 &&
	    hp("h:0x19", &h) == -1 && hp("h:0", &h) == -1 &&
	    hp("h:65536", &h) == -1 && hp("h:", &h) == -1 &&
	    hp("h:000025", &h) == -1, "a port is 1 to 65535, digits only");
	ok(hp(":25", &h) == -1 && hp("[]:25", &h) == -1 &&
	    hp("[192.0.2.1]:25", &h) == -1 && hp("[::1]x", &h) == -1 &&
	    hp("[::1", &h) == -1 && hp("a:b:c", &h) == -1,
	    "malformed hosts and brackets");
	ok(hostport_parse("h:25\0x", 6, &h) == -1, "a NUL is refused");
	ok(hostport_parse("h:2525", 4, &h) == 0 && h.port == 25,
	    "the length bounds the input");
}

/* The loader: all symbols or none, one try, and the note's JSON. */
static __typeof__(getpid)	*sym_getpid;
static __typeof__(strlen)	*sym_strlen;
static void			*sym_no_such_function;

void
test_dl(void)
{
	const struct dl_sym	 good[] = { DL_SYM(getpid), DL_SYM(strlen) };
	const struct dl_sym	 bad[] = { DL_SYM(strlen),
				    DL_SYM(no_such_function) };
	struct dl_lib		 libc = { "libc.so.6", "libc6", "test", good,
				    2, NULL, 0 };
	struct dl_lib		 lacking = { "libc.so.6", "libc6", "test", bad,
				    2, NULL, 0 };
	struct dl_lib		 none = { "libmailproxy-none.so.0", "none",
				    "test", good, 2, NULL, 0 };

	ok(dl_load(&libc) == 0 && libc.handle != NULL &&
	    sym_getpid() == getpid() && sym_strlen("four") == 4 &&
	    dl_load(&libc) == 0, "dl_load: a library and its symbols, once");
	/* strlen is found, then forgotten with the library */
	ok(dl_load(&lacking) == -1 && lacking.failed && sym_strlen == NULL &&
	    sym_no_such_function == NULL && lacking.handle == NULL,
	    "dl_load: a symbol missing, none kept");
	ok(dl_load(&none) == -1 && none.failed && dl_load(&none) == -1,
	    "dl_load: no such library, tried once");
	ok(strcmp(DL_NOTE_JSON("f", "d", DL_SUGGESTED, "libx.so.1"),
	    "[{\"feature\":\"f\",\"description\":\"d\",\"priority\":"
	    "\"suggested\",\"soname\":[\"libx.so.1\"]}]") == 0,
	    "the .note.dlopen JSON");
}
