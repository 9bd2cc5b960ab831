/*
 * SASL PLAIN (RFC 4616) and LOGIN, both ways.  Decoded credentials go
 * straight into struct creds, which the caller wipes when the attempt ends;
 * temporary copies here are wiped before returning.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "../options.h"
#include "../session.h"
#include "sasl.h"

/* Credentials live for one attempt only (nginx CVE-2025-53859). */
void
creds_wipe(struct creds *c)
{
	explicit_bzero(c, sizeof(*c));
}

/*
 * Strict base64: a multiple of four characters from the alphabet, padding
 * only at the end.  Returns 0 and the decoded length, or -1.
 */
int
b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
    size_t *outlen)
{
	size_t	i, pad = 0;
	int	n;

	if (inlen % 4 != 0 || inlen / 4 * 3 > outcap || inlen > 65536)
		return -1;
	for (i = 0; i < inlen; i++) {
		unsigned char ch = in[i];

		if (ch == '=') {
			if (i < inlen - 2)
				return -1;
			pad++;
			continue;
		}
		if (pad > 0)
			return -1;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
			return -1;
	}
	if (inlen == 0) {
		*outlen = 0;
		return 0;
	}
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
	if (n < 0 || (size_t)n < pad)
		return -1;
	*outlen = n - pad;
	return 0;
}

/* Returns the encoded length, or -1 when out is too small. */
int
b64_encode(const unsigned char *in, size_t inlen, char *out, size_t outcap)
{
	if ((inlen + 2) / 3 * 4 + 1 > outcap || inlen > 65536)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)inlen);
}

/* [authzid] NUL authcid NUL passwd; the authzid is ignored, as nginx does. */
int
sasl_plain_decode(const char *b64, size_t len, struct creds *c)
{
	unsigned char	 buf[3 * CRED_MAX + 3];
	unsigned char	*user, *pass, *end;
	size_t		 n;
	int		 rc = -1;

	if (b64_decode(b64, len, buf, sizeof(buf), &n) == -1)
		goto done;
	end = buf + n;
	if ((user = memchr(buf, '\0', n)) == NULL)
		goto done;
	user++;
	if ((pass = memchr(user, '\0', end - user)) == NULL)
		goto done;
	pass++;
	if (pass - user - 1 == 0 || pass - user - 1 > CRED_MAX ||
	    end - pass > CRED_MAX || memchr(pass, '\0', end - pass) != NULL)
		goto done;
	c->userlen = pass - user - 1;
	memcpy(c->user, user, c->userlen);
	c->user[c->userlen] = '\0';
	c->passlen = end - pass;
	memcpy(c->pass, pass, c->passlen);
	c->pass[c->passlen] = '\0';
	rc = 0;
done:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* One AUTH LOGIN answer: out holds CRED_MAX + 1 bytes. */
int
sasl_login_decode(const char *b64, size_t len, char *out, size_t *outlen)
{
	unsigned char	buf[CRED_MAX + 3];
	size_t		n;
	int		rc = -1;

	if (b64_decode(b64, len, buf, sizeof(buf), &n) == 0 && n > 0 &&
	    n <= CRED_MAX && memchr(buf, '\0', n) == NULL) {
		memcpy(out, buf, n);
		out[n] = '\0';
		*outlen = n;
		rc = 0;
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
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
	rc = b64_encode(buf, n, out, outcap);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* RFC 4954: a lone "*" cancels the exchange. */
int
sasl_is_cancel(const char *line, size_t len)
{
	return len == 1 && line[0] == '*';
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

/* The CRAM-MD5 answer (RFC 2195): base64 of "user SP digest". */
int
sasl_cram_decode(const char *b64, size_t len, struct creds *c)
{
	char	buf[CRED_MAX + 40], *sp;
	size_t	n;
	int	rc = -1;

	if (b64_decode(b64, len, (unsigned char *)buf, sizeof(buf) - 1,
	    &n) == -1)
		goto done;
	buf[n] = '\0';
	if ((sp = memrchr(buf, ' ', n)) == NULL || sp == buf ||
	    (size_t)(sp - buf) > CRED_MAX || memchr(buf, '\0', n) != NULL ||
	    !sasl_digest_valid(sp + 1, buf + n - sp - 1))
		goto done;
	c->userlen = sp - buf;
	memcpy(c->user, buf, c->userlen);
	c->user[c->userlen] = '\0';
	c->passlen = 32;
	memcpy(c->pass, sp + 1, 33);
	c->method = AUTH_CRAM_MD5;
	rc = 0;
done:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}
