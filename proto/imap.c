/*
 * IMAP: not written yet (issue 4).  Until then a IMAP session is told to come
 * back later.
 */
#include "../session.h"
#include "proto.h"

static int
imap_client(struct session *s)
{
	session_outcome(s, "imap is not supported yet");
	client_reply(s, imap_proto.tempfail);
	return PROTO_DONE;
}

static int
imap_backend(struct session *s)
{
	(void)s;
	return PROTO_FAIL;
}

const struct proto imap_proto = {
	"imap",
	imap_client,
	imap_backend,
	"* BYE internal server error\r\n",
	"* BAD internal server error\r\n",
};
