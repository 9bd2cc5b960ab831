/* The nginx value syntax (values.c); parse_flag/size/msec are in options.h. */
#ifndef VALUES_H
#define VALUES_H

int	number(const char **, long long *);
int	addr_check(const char *, int need_port, int ip_only);

#endif
