/* Reaching the backend. */
#ifndef BACKEND_H
#define BACKEND_H

#include <stddef.h>

struct session;

int	backend_connect(const char *hostport, long long timeout_ms,
	    char *err, size_t errlen);
int	unix_connect(const char *path, long long timeout_ms, char *err,
	    size_t errlen);

/* How the session's backend speaks TLS: backend_tls_mode's answers. */
enum {
	BACKEND_PLAIN,
	BACKEND_TLS,		/* implicit: the handshake right after connect */
	BACKEND_STARTTLS	/* after the greeting, STARTTLS/STLS */
};

int	backend_tls_mode(const struct session *);
/* The greeting came: the dialogue's waits are the login's again. */
void	backend_greeted(struct session *);
/* The handshake on s->be: 0, or -1 with the outcome set (no reply). */
int	backend_tls(struct session *);

#endif
