/* The PROXY protocol header we send to the backend (HAProxy's format). */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>

struct client;

#define PROXY_V1_MAX	108	/* 107 bytes and a NUL */

int	proxy_v1(const struct client *, char *out, size_t outcap);

#endif
