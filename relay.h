/* Relaying bytes both ways once the handshake is done. */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>

struct conn;

/* the engines, as --relay-engine names them */
enum { RELAY_READWRITE, RELAY_SPLICE };

struct relay_limits {
	int		 engine;	/* RELAY_READWRITE, RELAY_SPLICE */
	size_t		 buffer;	/* proxy_buffer: one each way */
	long long	 idle_ms;	/* proxy_timeout */
	long long	 half_close_ms;	/* backend idle after the client's EOF */
};

/*
 * Relays until the session is over: the backend has closed and all it
 * sent has reached the client, or a limit ran out (*why says which), or
 * a side broke (-1).  Returns 0 or -1; *why is NULL for a clean end.
 */
int	relay(struct conn *client, struct conn *backend,
	    const struct relay_limits *, const char **why);

#endif
