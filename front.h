/* The load balancer in front: its PROXY header, and whether to trust it. */
#ifndef FRONT_H
#define FRONT_H

struct session;

int	front_proxy(struct session *);

#endif
