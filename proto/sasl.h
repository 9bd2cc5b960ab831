/*
 * SASL and base64: pure functions over byte buffers (no I/O, no globals).
 * base64 is OpenSSL's; we only add the bounds and the strictness.
 */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>

struct creds;

int	b64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outcap, size_t *outlen);
int	b64_encode(const unsigned char *in, size_t inlen, char *out,
	    size_t outcap);

int	sasl_plain_decode(const char *b64, size_t len, struct creds *);
int	sasl_login_decode(const char *b64, size_t len, char *out,
	    size_t *outlen);
int	sasl_plain_encode(const struct creds *, char *out, size_t outcap);
int	sasl_is_cancel(const char *line, size_t len);
int	sasl_salt(char *out, size_t outcap, unsigned long rnd, long long t,
	    const char *server_name);
int	sasl_cram_decode(const char *b64, size_t len, struct creds *);
int	sasl_digest_valid(const char *, size_t);

#endif
