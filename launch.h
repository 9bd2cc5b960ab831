/* Finding the client's connection and who the client is. */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <stddef.h>

struct session;
struct endpoint;

int	launch_find(struct session *, char *err, size_t errlen);
int	endpoint_parse(struct endpoint *, const char *);

#endif
