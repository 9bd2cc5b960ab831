/* Asking an nginx-compatible auth_http service about a login attempt. */
#ifndef AUTH_H
#define AUTH_H

struct session;
struct auth_resp;

enum {
	AUTH_OK,	/* s->backend and the backend credentials are set */
	AUTH_DENIED,	/* r->status says why; r->wait when to come back */
	AUTH_ERROR	/* the service failed us: a temporary failure */
};

int	auth_ask(struct session *, struct auth_resp *);
/* The request's fields from the session (for the unit tests too). */
struct auth_req;
void	auth_request(struct session *, struct auth_req *, const char *host,
	    const char *uri);

#endif
