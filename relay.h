/* Relaying bytes both ways once the handshake is done. */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>

struct conn;

int	relay(struct conn *client, struct conn *backend, size_t bufsize,
	    long long idle_ms, const char **why);

#endif
