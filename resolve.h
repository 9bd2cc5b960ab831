/*
 * The client's name, as nginx finds it: the PTR name of its address at
 * the configured resolver, kept only when it is a valid host name that
 * resolves back to that address.  Asked for once, when a backend
 * dialogue needs it; never before the greeting.
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stddef.h>

struct session;

/*
 * Fills s->client.name once per session: the name, "[UNAVAILABLE]" (no
 * resolver, no address, no name, a name that is not a host name or does
 * not resolve back), or "[TEMPUNAVAIL]" (an error or no answer within
 * resolver_timeout, which bounds both lookups together).
 */
void	resolve_client(struct session *);

/*
 * Loads c-ares, once: 0, or -1 after a log line.  resolve_client does it;
 * the answer parsers below need it done (c-ares expands the names).
 */
int	resolve_load(void);

/*
 * Pure functions, exposed for the tests.
 *
 * hostname_valid: 1 when s[0..len) is a host name (RFC 1034, 1123):
 * labels of letters, digits and inner hyphens, 1 to 63 bytes each,
 * joined by single dots, 253 bytes at most, no trailing dot, and a last
 * label that is not all digits (so that no address passes for a name).
 */
int	hostname_valid(const char *, size_t);

/* The PTR query name of an address: 0, or -1 when it does not fit. */
int	ptr_qname(int family, const void *addr, char *buf, size_t len);

/*
 * Reads a DNS reply to one question, following CNAMEs from the question's
 * name, as a PTR answer (ptr_answer: the first PTR name, copied into name
 * and cut at len - 1 bytes) or as an address answer (addr_answer: whether
 * an A or AAAA record holds addr).  1 found, 0 none, -1 malformed reply.
 */
int	ptr_answer(const unsigned char *abuf, int alen, char *name, size_t len);
int	addr_answer(const unsigned char *abuf, int alen, int family,
	    const void *addr);

#endif
