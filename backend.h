/* Reaching the backend. */
#ifndef BACKEND_H
#define BACKEND_H

#include <stddef.h>

int	backend_connect(const char *hostport, long long timeout_ms,
	    char *err, size_t errlen);

#endif
