/*
 * The SASL engine.  Each mechanism is one row of the table and one step
 * function over decoded bytes; the engine decodes the client's lines,
 * takes its cancel, and ends every exchange in one place (sasl_end),
 * where the credentials of a failed attempt are wiped.
 */
#include <stdio.h>
#include <string.h>

#include "../options.h"
#include "../session.h"
#include "base64.h"
#include "sasl.h"

static int	plain_step(struct sasl *, const unsigned char *, size_t);
static int	login_step(struct sasl *, const unsigned char *, size_t);
static int	cram_md5_step(struct sasl *, const unsigned char *, size_t);
static int	external_step(struct sasl *, const unsigned char *, size_t);

/* In the order the capability lists name them. */
static const struct sasl_mech mechs[] = {
	{ "PLAIN", AUTH_PLAIN, 0, plain_step },
	{ "LOGIN", AUTH_LOGIN, 0, login_step },
	{ "CRAM-MD5", AUTH_CRAM_MD5, SASL_SERVER_FIRST | SASL_NEEDS_SERVICE,
	    cram_md5_step },
	{ "EXTERNAL", AUTH_EXTERNAL, SASL_NEEDS_SERVICE | SASL_NEEDS_CERT,
	    external_step },
};

#define NMECHS	(sizeof(mechs) / sizeof(mechs[0]))

/* Credentials live for one attempt only (nginx CVE-2025-53859). */
void
creds_wipe(struct creds *c)
{
	explicit_bzero(c, sizeof(*c));
}

/* The mechanism called name, if methods has it. */
const struct sasl_mech *
sasl_find(const char *name, size_t len, unsigned methods)
{
	size_t	i;

	for (i = 0; i < NMECHS; i++)
		if ((mechs[i].method & methods) &&
		    strlen(mechs[i].name) == len &&
		    strncasecmp(mechs[i].name, name, len) == 0)
			return &mechs[i];
	return NULL;
}

/*
 * Of the configured methods, the SASL mechanisms we can serve, given
 * what the session has (SASL_NEEDS_* bits): one that proves the password
 * without sending it needs an auth service, EXTERNAL a verified client
 * certificate as well.
 */
unsigned
sasl_offered(unsigned methods, unsigned have)
{
	unsigned	m = 0;
	size_t		i;

	for (i = 0; i < NMECHS; i++)
		if ((mechs[i].flags & SASL_NEEDS & ~have) == 0)
			m |= mechs[i].method;
	return methods & m;
}

/*
 * Writes before NAME after for each mechanism of methods ("250 AUTH
 * PLAIN LOGIN", "AUTH=PLAIN", one a line).  Returns the length, or -1
 * when out is too small.
 */
int
sasl_list(unsigned methods, const char *before, const char *after,
    char *out, size_t outcap)
{
	size_t	i;
	int	n = 0, w;

	out[0] = '\0';
	for (i = 0; i < NMECHS; i++) {
		if (!(mechs[i].method & methods))
			continue;
		w = snprintf(out + n, outcap - n, "%s%s%s", before,
		    mechs[i].name, after);
		if (w < 0 || (size_t)w >= outcap - n)
			return -1;
		n += w;
	}
	return n;
}

/* Every exchange ends here: a failed one leaves no credentials. */
static int
sasl_end(struct sasl *a, int rc)
{
	if (rc == SASL_DONE)
		a->creds->method = a->mech->method;
	else
		creds_wipe(a->creds);
	a->mech = NULL;
	return rc;
}

static int
sasl_challenge(struct sasl *a, const char *text)
{
	if (base64_encode(text, strlen(text), a->challenge,
	    sizeof(a->challenge)) == -1)
		return SASL_ERROR;
	return SASL_CHALLENGE;
}

/* One decoded response to the mechanism; the decoded bytes are wiped. */
static int
sasl_step(struct sasl *a, const char *b64, size_t len)
{
	unsigned char	buf[SASL_LINE_MAX / 4 * 3];
	size_t		n;
	int		rc;

	if (base64_decode(b64, len, buf, sizeof(buf), &n) == -1)
		rc = SASL_BASE64;
	else
		rc = a->mech->step(a, buf, n);
	explicit_bzero(buf, sizeof(buf));
	a->step++;
	return rc == SASL_CHALLENGE ? rc : sasl_end(a, rc);
}

/*
 * Starts an exchange.  ir is the initial response, NULL when there is
 * none; RFC 4954's "=" is an empty one.  Returns SASL_CHALLENGE with the
 * first challenge, or what the initial response made of the exchange.
 */
int
sasl_start(struct sasl *a, const struct sasl_mech *m, struct creds *c,
    const char *salt, const char *ir, size_t irlen)
{
	int	rc;

	creds_wipe(c);
	memset(a, 0, sizeof(*a));
	a->mech = m;
	a->creds = c;
	a->salt = salt;
	if (m->flags & SASL_SERVER_FIRST) {
		if (ir != NULL || salt == NULL)
			return sasl_end(a, ir != NULL ? SASL_INVALID :
			    SASL_ERROR);
		rc = sasl_challenge(a, salt);
		return rc == SASL_CHALLENGE ? rc : sasl_end(a, rc);
	}
	if (ir == NULL) {
		rc = a->mech->step(a, NULL, 0);
		return rc == SASL_CHALLENGE ? rc : sasl_end(a, rc);
	}
	if (irlen == 1 && ir[0] == '=')
		irlen = 0;
	return sasl_step(a, ir, irlen);
}

/* The client's answer to a challenge: "*" cancels (RFC 4954, 5034, 3501). */
int
sasl_response(struct sasl *a, const char *line, size_t len)
{
	if (a->mech == NULL)
		return SASL_ERROR;
	if (len == 1 && line[0] == '*')
		return sasl_end(a, SASL_CANCELLED);
	return sasl_step(a, line, len);
}

/* A credential of 1 to CRED_MAX bytes without NUL, into dst. */
static int
cred_set(char *dst, size_t *dstlen, const unsigned char *p, size_t n)
{
	if (n == 0 || n > CRED_MAX || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	*dstlen = n;
	return 0;
}

/*
 * [authzid] NUL authcid NUL passwd; the authzid is ignored, as nginx
 * does.  The first call, before any response, asks for one.
 */
static int
plain_step(struct sasl *a, const unsigned char *p, size_t n)
{
	const unsigned char	*user, *pass, *end = p + n;
	struct creds		*c = a->creds;

	if (p == NULL)
		return sasl_challenge(a, "");
	if ((user = memchr(p, '\0', n)) == NULL)
		return SASL_INVALID;
	user++;
	if ((pass = memchr(user, '\0', end - user)) == NULL)
		return SASL_INVALID;
	pass++;
	if (cred_set(c->user, &c->userlen, user, pass - user - 1) == -1 ||
	    (end > pass && cred_set(c->pass, &c->passlen, pass,
	    end - pass) == -1))
		return SASL_INVALID;
	return SASL_DONE;
}

/* "Username:", then "Password:", each answered on a line of its own. */
static int
login_step(struct sasl *a, const unsigned char *p, size_t n)
{
	struct creds	*c = a->creds;

	if (p == NULL)
		return sasl_challenge(a, "Username:");
	if (a->step == 0) {
		if (cred_set(c->user, &c->userlen, p, n) == -1)
			return SASL_INVALID;
		return sasl_challenge(a, "Password:");
	}
	if (cred_set(c->pass, &c->passlen, p, n) == -1)
		return SASL_INVALID;
	return SASL_DONE;
}

/* RFC 2195: "user SP digest"; the auth service checks the digest. */
static int
cram_md5_step(struct sasl *a, const unsigned char *p, size_t n)
{
	const unsigned char	*sp;
	struct creds		*c = a->creds;

	if ((sp = memrchr(p, ' ', n)) == NULL ||
	    cred_set(c->user, &c->userlen, p, sp - p) == -1 ||
	    !sasl_digest_valid((const char *)sp + 1, p + n - sp - 1))
		return SASL_INVALID;
	memcpy(c->pass, sp + 1, 32);
	c->pass[32] = '\0';
	c->passlen = 32;
	return SASL_DONE;
}

/*
 * RFC 4422 appendix A: the one response is the identity to act as,
 * empty for the certificate's own; the auth service decides from the
 * certificate (Auth-SSL-*) whether it may.  No password.
 */
static int
external_step(struct sasl *a, const unsigned char *p, size_t n)
{
	struct creds	*c = a->creds;

	if (p == NULL)
		return sasl_challenge(a, "");
	if (n > 0 && cred_set(c->user, &c->userlen, p, n) == -1)
		return SASL_INVALID;
	return SASL_DONE;
}

/* The initial response of our own AUTH PLAIN to the backend. */
int
sasl_plain_encode(const struct creds *c, char *out, size_t outcap)
{
	unsigned char	buf[2 * CRED_MAX + 2];
	size_t		n = 0;
	int		rc;

	buf[n++] = '\0';
	memcpy(buf + n, c->user, c->userlen);
	n += c->userlen;
	buf[n++] = '\0';
	memcpy(buf + n, c->pass, c->passlen);
	n += c->passlen;
	rc = base64_encode(buf, n, out, outcap);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/*
 * The APOP timestamp and CRAM-MD5 challenge, "<random.time@server_name>"
 * as nginx makes it.  Returns its length, or -1 when out is too small.
 */
int
sasl_salt(char *out, size_t outcap, unsigned long rnd, long long t,
    const char *server_name)
{
	int	n;

	n = snprintf(out, outcap, "<%lu.%lld@%s>", rnd, t, server_name);
	if (n < 0 || (size_t)n >= outcap)
		return -1;
	return n;
}

/* An APOP or CRAM-MD5 digest: 32 hex digits. */
int
sasl_digest_valid(const char *d, size_t len)
{
	size_t	i;

	if (len != 32)
		return 0;
	for (i = 0; i < len; i++)
		if (!((d[i] >= '0' && d[i] <= '9') ||
		    (d[i] >= 'a' && d[i] <= 'f') || (d[i] >= 'A' && d[i] <= 'F')))
			return 0;
	return 1;
}
