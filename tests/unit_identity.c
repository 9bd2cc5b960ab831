/*
 * Who the client is, as the backends are told: XCLIENT's attributes
 * (xclient_attrs), the IMAP ID we send (imap_id_build), POP3's XCLIENT
 * (pop3_xclient_build), its offer in CAPA (pop3_capa_is) or in Dovecot's
 * greeting (pop3_greeting_xclient).
 */
#include "unit.h"
#include "../session.h"
#include "../proto/imap_id.h"
#include "../proto/pop3_parse.h"
#include "../proto/xclient.h"

static void
identity_client(struct client *cl, struct smtp_state *smtp)
{
	memset(cl, 0, sizeof(*cl));
	memset(smtp, 0, sizeof(*smtp));
	cl->remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl->local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 25 };
	strlcpy(cl->name, "client.example", sizeof(cl->name));
	strlcpy(cl->id, "Ab3dEf7hIj9kLm0n", sizeof(cl->id));
	strlcpy(smtp->helo, "helo.example", sizeof(smtp->helo));
	smtp->esmtp = 1;
}

/* the attributes, built into one XCLIENT line (or more) */
static int
attrs_line(const struct client *cl, const struct smtp_state *smtp,
    const char *login, const char *offer, char *out, size_t outcap)
{
	struct xclient_vals	v;
	struct xattr		a[XCLIENT_ATTRS_MAX];
	size_t			n;

	n = xclient_attrs(cl, smtp, login, login ? strlen(login) : 0, offer,
	    &v, a);
	return xclient_build(a, n, out, outcap);
}

static void
test_xclient_attrs(void)
{
	struct client		cl;
	struct smtp_state	smtp;
	char			out[4096];
	int			lines;

	identity_client(&cl, &smtp);
	attrs_line(&cl, &smtp, "alice", NULL, out, sizeof(out));
	ok(strcmp(out, "XCLIENT ADDR=192.0.2.7 LOGIN=alice "
	    "NAME=client.example\r\n") == 0,
	    "xclient_attrs: a backend listing no attributes gets nginx's three");
	attrs_line(&cl, &smtp, NULL, "NAME ADDR LOGIN", out, sizeof(out));
	ok(strcmp(out, "XCLIENT ADDR=192.0.2.7 NAME=client.example\r\n") == 0,
	    "xclient_attrs: ADDR LOGIN NAME listed, no login: nginx's bytes");
	attrs_line(&cl, &smtp, "alice", "NAME ADDR PORT PROTO HELO LOGIN "
	    "DESTADDR DESTPORT REVERSE_NAME", out, sizeof(out));
	ok(strcmp(out, "XCLIENT ADDR=192.0.2.7 LOGIN=alice NAME=client.example "
	    "PORT=4711 PROTO=ESMTP HELO=helo.example "
	    "REVERSE_NAME=client.example DESTADDR=IPV6:2001:db8::1 "
	    "DESTPORT=25\r\n") == 0,
	    "xclient_attrs: every attribute Postfix lists, v6 with IPV6:");
	attrs_line(&cl, &smtp, NULL, "port helo", out, sizeof(out));
	ok(strcmp(out, "XCLIENT PORT=4711 HELO=helo.example\r\n") == 0,
	    "xclient_attrs: only what is listed, names in any case");
	smtp.esmtp = 0;
	strlcpy(smtp.helo, "a b+c=d\xe9\x01", sizeof(smtp.helo));
	attrs_line(&cl, &smtp, NULL, "PROTO HELO", out, sizeof(out));
	ok(strcmp(out, "XCLIENT PROTO=SMTP HELO=a+20b+2Bc+3Dd+E9+01\r\n") == 0,
	    "xclient_attrs: HELO gives SMTP; a hostile HELO is xtext");
	memset(smtp.helo, '+', 200);
	smtp.helo[200] = '\0';
	attrs_line(&cl, &smtp, NULL, "HELO", out, sizeof(out));
	ok(strcmp(out, "XCLIENT HELO=[UNAVAILABLE]\r\n") == 0,
	    "xclient_attrs: a HELO over 255 once encoded is [UNAVAILABLE]");
	memset(&cl.remote, 0, sizeof(cl.remote));
	memset(&cl.local, 0, sizeof(cl.local));
	smtp.helo[0] = '\0';
	attrs_line(&cl, &smtp, NULL, "ADDR PORT PROTO HELO DESTADDR DESTPORT",
	    out, sizeof(out));
	ok(strcmp(out, "XCLIENT ADDR=[UNAVAILABLE] PORT=[UNAVAILABLE] "
	    "PROTO=[UNAVAILABLE] HELO=[UNAVAILABLE] DESTADDR=[UNAVAILABLE] "
	    "DESTPORT=[UNAVAILABLE]\r\n") == 0,
	    "xclient_attrs: what is unknown is [UNAVAILABLE]");
	identity_client(&cl, &smtp);
	memset(smtp.helo, 'h', 250);
	smtp.helo[250] = '\0';
	memset(out, 'u', 250);
	out[250] = '\0';
	{
		char	login[251];

		strlcpy(login, out, sizeof(login));
		lines = attrs_line(&cl, &smtp, login, "NAME ADDR PORT PROTO "
		    "HELO LOGIN DESTADDR DESTPORT REVERSE_NAME", out,
		    sizeof(out));
	}
	ok(lines == 2 && strncmp(out, "XCLIENT PORT=4711 PROTO=ESMTP HELO=hhh",
	    38) == 0 && strstr(out, "\r\nXCLIENT ADDR=192.0.2.7 LOGIN=uuu") !=
	    NULL && strstr(out, "uuu NAME=client.example\r\n") != NULL &&
	    strstr(out, " ADDR=") == strstr(out, "\r\nXCLIENT ADDR=") + 9,
	    "xclient_attrs: split, ADDR, LOGIN and NAME together in the last");
	{
		struct xattr	b[3];
		char		big[256];

		memset(big, 'n', 250);
		b[0] = (struct xattr){ "ADDR", "192.0.2.7", 9, 1 };
		b[1] = (struct xattr){ "LOGIN", big, 250, 1 };
		b[2] = (struct xattr){ "NAME", big, 250, 1 };
		ok(xclient_build(b, 3, out, sizeof(out)) == XCLIENT_LAST_TOOLONG,
		    "xclient_build: the last ones over 512 together: refused");
	}
}

static void
test_imap_id(void)
{
	struct client	cl;
	char		out[IMAP_ID_CMD_MAX];
	const char	*f = "\"name\" \"Thunderbird\" \"version\" \"115\"";
	int		n;

	memset(&cl, 0, sizeof(cl));
	cl.remote = (struct endpoint){ 1, AF_INET, "192.0.2.7", 4711 };
	cl.local = (struct endpoint){ 1, AF_INET6, "2001:db8::1", 143 };
	strlcpy(cl.id, "Ab3dEf7hIj9kLm0n", sizeof(cl.id));
	n = imap_id_build(IMAP_ID_TAG, f, strlen(f), &cl, 1, out, sizeof(out));
	ok(n > 0 && strcmp(out, "mp2 ID (\"name\" \"Thunderbird\" \"version\" "
	    "\"115\" \"x-originating-ip\" \"192.0.2.7\" \"x-originating-port\" "
	    "\"4711\" \"x-connected-ip\" \"2001:db8::1\" \"x-connected-port\" "
	    "\"143\" \"x-session-id\" \"Ab3dEf7hIj9kLm0n\")\r\n") == 0,
	    "imap_id_build: the client's fields, then ours");
	n = imap_id_build(IMAP_ID_TAG, NULL, 0, &cl, 1, out, sizeof(out));
	ok(n > 0 && strncmp(out, "mp2 ID (\"x-originating-ip\" \"192.0.2.7\" ",
	    39) == 0, "imap_id_build: ours alone when the client sent none");
	n = imap_id_build(IMAP_ID_TAG, f, strlen(f), &cl, 0, out, sizeof(out));
	ok(n > 0 && strcmp(out, "mp2 ID (\"name\" \"Thunderbird\" \"version\" "
	    "\"115\")\r\n") == 0,
	    "imap_id_build: without --proxy-imap-id the client's alone");
	n = imap_id_build(IMAP_ID_TAG, NULL, 0, &cl, 0, out, sizeof(out));
	ok(n == 12 && strcmp(out, "mp2 ID NIL\r\n") == 0,
	    "imap_id_build: nothing to say: ID NIL");
	memset(&cl.remote, 0, sizeof(cl.remote));
	n = imap_id_build(IMAP_ID_TAG, NULL, 0, &cl, 1, out, sizeof(out));
	ok(n > 0 && strstr(out, "x-originating") == NULL &&
	    strstr(out, "\"x-connected-ip\"") != NULL,
	    "imap_id_build: an unknown address is left out");
	ok(imap_id_build(IMAP_ID_TAG, f, strlen(f), &cl, 1, out, 40) == -1,
	    "imap_id_build: too small a buffer is refused");
}

static void
test_pop3_xclient(void)
{
	struct client	cl;
	char		out[POP3_XCLIENT_MAX];

	memset(&cl, 0, sizeof(cl));
	cl.remote = (struct endpoint){ 1, AF_INET6, "2001:db8::7", 4711 };
	strlcpy(cl.id, "Ab3dEf7hIj9kLm0n", sizeof(cl.id));
	ok(pop3_xclient_build(&cl, out, sizeof(out)) > 0 && strcmp(out,
	    "XCLIENT ADDR=2001:db8::7 PORT=4711 SESSION=Ab3dEf7hIj9kLm0n\r\n")
	    == 0, "pop3_xclient_build: ADDR, PORT, SESSION as Dovecot takes them");
	memset(&cl.remote, 0, sizeof(cl.remote));
	ok(pop3_xclient_build(&cl, out, sizeof(out)) > 0 &&
	    strcmp(out, "XCLIENT SESSION=Ab3dEf7hIj9kLm0n\r\n") == 0,
	    "pop3_xclient_build: an unknown address is left out");
	cl.id[0] = '\0';
	ok(pop3_xclient_build(&cl, out, sizeof(out)) == 0,
	    "pop3_xclient_build: nothing to say, nothing sent");
	ok(pop3_capa_is("XCLIENT", 7, "XCLIENT") &&
	    pop3_capa_is("xclient foo", 11, "XCLIENT") &&
	    !pop3_capa_is("XCLIENTS", 8, "XCLIENT") &&
	    !pop3_capa_is("SASL XCLIENT", 12, "XCLIENT"),
	    "pop3_capa_is: the line's first word");
	ok(pop3_greeting_xclient("+OK [XCLIENT] Dovecot (Debian) ready.", 37) &&
	    pop3_greeting_xclient("+OK [XCLIENT]", 13) &&
	    !pop3_greeting_xclient("+OK Dovecot ready. [XCLIENT]", 28) &&
	    !pop3_greeting_xclient("+OK [XCLIENTS] x", 16),
	    "pop3_greeting_xclient: Dovecot's \"+OK [XCLIENT]\"");
}

void
test_identity(void)
{
	test_xclient_attrs();
	test_imap_id();
	test_pop3_xclient();
}
