/*
 * The session's confinement, set up once before the client's first byte
 * is read: the process made undumpable (no core, no ptrace by its user),
 * no_new_privs, and a seccomp filter of the system calls a session makes.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>

#include <linux/filter.h>

/* the filter's longest program, in BPF instructions (the kernel's: 4096) */
#define SANDBOX_PROG_MAX	512

/* how sandbox_enter left the process */
#define SANDBOX_ON	0	/* the filter is installed */
#define SANDBOX_SKIPPED	1	/* not here: valgrind, or an arch without one */

/* What the filter may allow beyond a session's calls. */
#define SANDBOX_STRICT	0
#define SANDBOX_RELAXED	1	/* the sanitizers' runtime (LSan at exit) */

void	sandbox_undumpable(void);
int	sandbox_filter(struct sock_filter *, size_t, int);
int	sandbox_install(int, char *, size_t);
int	sandbox_enter(char *, size_t);

#endif
