/*
 * Session tickets sealed with the operator's keys (ssl_session_ticket_key),
 * the only ones another process of ours can open.
 */
#include <stdio.h>

#include "options.h"
#include "tls_lib.h"

int
tls_ticket_setup(const struct options *o, SSL_CTX *ctx, char *err,
    size_t errlen)
{
	(void)o;
	(void)ctx;
	snprintf(err, errlen, "--ssl-session-ticket-key: not supported yet");
	return -1;
}
