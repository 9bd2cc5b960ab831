/*
 * Unit tests of the auth_http request and response: byte-exact, no sockets.
 */
#include "unit.h"
#include "../proto/auth_http.h"
#include "../session.h"

/* auth_http_response over a C string */
static int
auth_resp_of(const char *s, struct auth_resp *r)
{
	return auth_http_response(s, strlen(s), r);
}

#define AH_OK	"Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n" \
		"Auth-Port: 17110\r\n"
#define AH_NO	"Auth-Status: Invalid login or password\r\n"

void
test_auth_http(void)
{
	struct auth_resp	r;

	/* a refusal anywhere is final: the bypass of issue 13 */
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK AH_NO "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: OK then a refusal is a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_NO AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: a refusal then OK is a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: WAIT\r\n" AH_NO
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_NO "Auth-Status: WAIT\r\n"
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED,
	    "auth_http: WAIT and a refusal, either order: a refusal");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: Go away\r\n" AH_OK
	    AH_NO "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_REFUSED &&
	    strcmp(r.status, "Invalid login or password") == 0,
	    "auth_http: two refusals: the last text, as in nginx");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Status: WAIT\r\n"
	    "\r\n", &r) == 1 && r.verdict == AUTH_HTTP_WAIT,
	    "auth_http: OK and WAIT: WAIT, as in nginx");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_OK && strcmp(r.server, "127.0.0.1") == 0 &&
	    strcmp(r.port, "17110") == 0 && r.portnum == 17110,
	    "auth_http: OK alone");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Server: 127.0.0.1\r\n\r\n",
	    &r) == 1 && r.verdict == AUTH_HTTP_NONE,
	    "auth_http: no Auth-Status is no verdict");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status:  \r\n\r\n", &r) ==
	    -1 && auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK "Auth-Status:\r\n"
	    "\r\n", &r) == -1, "auth_http: an empty Auth-Status is malformed");

	/* the status line must be there; its code is ignored */
	ok(auth_resp_of("HTTP/1.1 500 Oops\r\n" AH_OK "\r\n", &r) == 1 &&
	    r.verdict == AUTH_HTTP_OK &&
	    auth_resp_of("HTTP/1.0 200\n" AH_OK "\n", &r) == 1,
	    "auth_http: the status code is ignored, LF alone ends lines");
	ok(auth_resp_of(AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("\r\n" AH_OK "\r\n", &r) == -1,
	    "auth_http: no status line is malformed");
	ok(auth_resp_of("HTTP/2 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.0\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("http/1.0 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.x 200 OK\r\n" AH_OK "\r\n", &r) == -1 &&
	    auth_resp_of("HTTP/1.0 200\rOK\r\n" AH_OK "\r\n", &r) == -1,
	    "auth_http: HTTP/1.x and a blank, else malformed");
	ok(auth_resp_of("", &r) == 0 && auth_resp_of("HTT", &r) == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK", &r) == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\n" AH_OK, &r) == 0 &&
	    auth_resp_of("HTX", &r) == -1,
	    "auth_http: a partial response needs more, garbage does not");

	/* Auth-Port: digits only, 1 to 65535 */
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: +17110\r\n\r\n", &r) == 1 && r.portnum == 0 &&
	    strcmp(r.port, "+17110") == 0, "auth_http: Auth-Port +17110 is no "
	    "port");
	ok(auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: 0x10\r\n\r\n", &r) == 1 && r.portnum == 0 &&
	    auth_resp_of("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Port: 1 2\r\n\r\n", &r) == 1 && r.portnum == 0,
	    "auth_http: Auth-Port 0x10 and \"1 2\" are no ports");
	ok(auth_http_port("17110", 5) == 17110 &&
	    auth_http_port("65535", 5) == 65535 &&
	    auth_http_port("00025", 5) == 25 && auth_http_port("1", 1) == 1,
	    "auth_http_port: digits");
	ok(auth_http_port("+17110", 6) == -1 && auth_http_port(" 1", 2) == -1 &&
	    auth_http_port("1 ", 2) == -1 && auth_http_port("0x10", 4) == -1 &&
	    auth_http_port("-1", 2) == -1 && auth_http_port("", 0) == -1 &&
	    auth_http_port("0", 1) == -1 && auth_http_port("65536", 5) == -1 &&
	    auth_http_port("99999999999999999999", 20) == -1,
	    "auth_http_port: sign, blanks, hex, 0 and too big refused");
}
