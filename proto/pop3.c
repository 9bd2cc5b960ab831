/*
 * POP3: not written yet (issue 4).  Until then a POP3 session is told to come
 * back later.
 */
#include "../session.h"
#include "proto.h"

static int
pop3_client(struct session *s)
{
	session_outcome(s, "pop3 is not supported yet");
	client_reply(s, pop3_proto.tempfail);
	return PROTO_DONE;
}

static int
pop3_backend(struct session *s)
{
	(void)s;
	return PROTO_FAIL;
}

const struct proto pop3_proto = {
	"pop3",
	pop3_client,
	pop3_backend,
	"-ERR internal server error\r\n",
	"-ERR internal server error\r\n",
};
