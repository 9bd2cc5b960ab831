/*
 * What a UCSPI launcher (tcpserver, s6-tcpserver) or a TLS front (s6-tlsd,
 * stunnel) says in the environment, checked before anything uses it.
 * Pure: each function reads one value and fills what it is for, or
 * refuses it whole; launch.c reads the variables and logs a refusal.
 */
#ifndef UCSPI_PARSE_H
#define UCSPI_PARSE_H

#include <stddef.h>

struct endpoint;

/* PROTO: "TCP" (tcpserver, s6-tcpserver) or "TCP6" (ucspi-tcp6), else 0 */
#define UCSPI_NONE	0
#define UCSPI_TCP	1
#define UCSPI_TCP6	2
int	ucspi_proto(const char *);

/*
 * An IPv4 or IPv6 address as inet_pton(3) reads it, nothing around it;
 * a v4-mapped IPv6 address is the IPv4 address it holds.  0 with e's
 * family and ip set (e->known and e->port untouched), or -1.
 */
int	ucspi_ip(const char *, struct endpoint *);

/* A port: 1 to 5 decimal digits, 0 to 65535, no sign, no blank: 0 or -1. */
int	ucspi_port(const char *, unsigned *);

/*
 * A TLS fact (a protocol or cipher name, an SNI name, a DN): printable
 * ASCII that fits in cap with its NUL; blanks only with UCSPI_BLANKS (a
 * DN holds them, a cipher name does not).  0 with dst filled, or -1 with
 * dst "".
 */
#define UCSPI_TOKEN	0
#define UCSPI_BLANKS	1
int	ucspi_text(const char *, char *dst, size_t cap, int flags);

/*
 * The CN of a DN as X509_NAME_oneline writes it ("/O=Example/CN=alice":
 * s6-tlsd's SSL_PEER_CERT_SUBJECT), as XN_FLAG_ONELINE does ("O=Example,
 * CN=alice": stunnel's SSL_CLIENT_DN) or RFC 2253 ("CN=alice,O=Example"):
 * 0 with dst filled; -1 when there is none or more than one, or it is
 * empty, escaped (a backslash: not ours to decode) or does not fit.
 */
int	ucspi_dn_cn(const char *, char *dst, size_t cap);

#endif
