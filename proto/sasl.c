/*
 * The SASL engine.  Each mechanism is one row of the table and one step
 * function over decoded bytes; the engine decodes the client's lines,
 * takes its cancel, and ends every exchange in one place (sasl_end),
 * where the credentials of a failed attempt are wiped.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../options.h"
#include "../session.h"
#include "base64.h"
#include "sasl.h"

static int	plain_step(struct sasl *, const unsigned char *, size_t);
static int	login_step(struct sasl *, const unsigned char *, size_t);
static int	cram_md5_step(struct sasl *, const unsigned char *, size_t);
static int	external_step(struct sasl *, const unsigned char *, size_t);
static int	xoauth2_step(struct sasl *, const unsigned char *, size_t);
static int	oauthbearer_step(struct sasl *, const unsigned char *, size_t);

/* In the order the capability lists name them. */
static const struct sasl_mech mechs[] = {
	{ "PLAIN", AUTH_PLAIN, 0, plain_step },
	{ "LOGIN", AUTH_LOGIN, 0, login_step },
	{ "CRAM-MD5", AUTH_CRAM_MD5, SASL_SERVER_FIRST | SASL_NEEDS_SERVICE,
	    cram_md5_step },
	{ "EXTERNAL", AUTH_EXTERNAL, SASL_NEEDS_SERVICE | SASL_NEEDS_CERT,
	    external_step },
	/* only the service can check a token, and give the backend's password */
	{ "XOAUTH2", AUTH_XOAUTH2, SASL_NEEDS_SERVICE, xoauth2_step },
	{ "OAUTHBEARER", AUTH_OAUTHBEARER, SASL_NEEDS_SERVICE,
	    oauthbearer_step },
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
	const unsigned char	*user, *pass, *end;
	struct creds		*c = a->creds;

	if (p == NULL)
		return sasl_challenge(a, "");
	/* only now: NULL + 0 is undefined (UBSan, fuzz_sasl's crash-plain-null) */
	end = p + n;
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

/*
 * RFC 6750's b64token, the one form of a bearer token: letters, digits,
 * "-._~+/", then "=" padding only.  Nothing else (no CR, LF or space) can
 * reach the auth service's Auth-Pass.
 */
static int
bearer_token_valid(const unsigned char *t, size_t n)
{
	size_t	i, pad = n;

	while (pad > 0 && t[pad - 1] == '=')
		pad--;
	if (pad == 0)
		return 0;
	for (i = 0; i < pad; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') ||
		    (t[i] != '\0' && strchr("-._~+/", t[i]) != NULL)))
			return 0;
	return 1;
}

/*
 * The \x01-separated key=value pairs of XOAUTH2 and OAUTHBEARER, up to
 * the empty one that ends them (and the message): "auth=Bearer TOKEN"
 * gives the password; host= and port= (RFC 7628) and unknown keys are
 * allowed and ignored; a pair without "=", or no auth, is invalid.
 */
static int
oauth_pairs(struct sasl *a, const unsigned char *p, size_t n)
{
	const unsigned char	*end = p + n, *sep, *eq;
	struct creds		*c = a->creds;
	int			 have_auth = 0;

	for (;;) {
		if ((sep = memchr(p, '\x01', end - p)) == NULL)
			return SASL_INVALID;
		if (sep == p)		/* the empty pair: the end */
			break;
		if ((eq = memchr(p, '=', sep - p)) == NULL || eq == p)
			return SASL_INVALID;
		if (eq - p == 4 && memcmp(p, "auth", 4) == 0) {
			if (have_auth++ || sep - eq - 1 < 7 ||
			    strncasecmp((const char *)eq + 1, "Bearer ", 7) != 0 ||
			    sep - eq - 8 > PASS_MAX ||
			    !bearer_token_valid(eq + 8, sep - eq - 8))
				return SASL_INVALID;
			memcpy(c->pass, eq + 8, sep - eq - 8);
			c->pass[sep - eq - 8] = '\0';
			c->passlen = sep - eq - 8;
		}
		p = sep + 1;
	}
	if (sep + 1 != end || !have_auth)
		return SASL_INVALID;
	return SASL_DONE;
}

/*
 * Google's XOAUTH2: "user=" USER \x01 "auth=Bearer " TOKEN \x01 \x01, in
 * the initial response or after an empty challenge.
 */
static int
xoauth2_step(struct sasl *a, const unsigned char *p, size_t n)
{
	const unsigned char	*sep;
	struct creds		*c = a->creds;

	if (p == NULL)
		return sasl_challenge(a, "");
	if (n < 5 || memcmp(p, "user=", 5) != 0 ||
	    (sep = memchr(p, '\x01', n)) == NULL ||
	    cred_set(c->user, &c->userlen, p + 5, sep - p - 5) == -1)
		return SASL_INVALID;
	return oauth_pairs(a, sep + 1, p + n - sep - 1);
}

/*
 * RFC 5801's saslname, the authzid: "=2C" is ",", "=3D" is "=", any other
 * "=" is invalid; 1 to CRED_MAX bytes without NUL.
 */
static int
saslname_set(struct creds *c, const unsigned char *p, size_t n)
{
	size_t	i, len = 0;

	for (i = 0; i < n; i++) {
		if (len == CRED_MAX || p[i] == '\0' || p[i] == ',')
			return -1;
		if (p[i] != '=') {
			c->user[len++] = p[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		if (p[i + 1] == '2' && p[i + 2] == 'C')
			c->user[len++] = ',';
		else if (p[i + 1] == '3' && p[i + 2] == 'D')
			c->user[len++] = '=';
		else
			return -1;
		i += 2;
	}
	if (len == 0)
		return -1;
	c->user[len] = '\0';
	c->userlen = len;
	return 0;
}

/*
 * RFC 7628: the GS2 header "n,a=USER," (or "y,": no channel binding
 * either way; "p=" asks for one we do not offer), \x01, then the pairs.
 * The authzid is required: the auth service is told whose token it is,
 * as with XOAUTH2, rather than left to find out.
 */
static int
oauthbearer_step(struct sasl *a, const unsigned char *p, size_t n)
{
	const unsigned char	*comma;

	if (p == NULL)
		return sasl_challenge(a, "");
	if (n < 5 || (p[0] != 'n' && p[0] != 'y') || p[1] != ',' ||
	    p[2] != 'a' || p[3] != '=' ||
	    (comma = memchr(p + 4, ',', n - 4)) == NULL ||
	    saslname_set(a->creds, p + 4, comma - p - 4) == -1 ||
	    comma + 1 == p + n || comma[1] != '\x01')
		return SASL_INVALID;
	return oauth_pairs(a, comma + 2, p + n - comma - 2);
}

/* The initial response of our own AUTH PLAIN to the backend. */
int
sasl_plain_encode(const struct creds *c, char *out, size_t outcap)
{
	unsigned char	buf[2 * CRED_MAX + 2];
	size_t		n = 0;
	int		rc;

	if (c->userlen > CRED_MAX || c->passlen > CRED_MAX)
		return -1;
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
