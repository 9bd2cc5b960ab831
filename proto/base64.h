/*
 * base64 as RFC 4648 section 4 defines it, strict: the standard alphabet,
 * no line breaks or other whitespace, padding to a multiple of four and
 * only at the end, and the unused bits of the last character zero.  Pure:
 * no I/O, no globals, no allocation.
 */
#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>

/* The encoded length of n bytes, without the NUL. */
#define BASE64_LEN(n)	(((n) + 2) / 3 * 4)

/*
 * Encodes in[0..inlen) into out as a NUL-terminated string.  Returns its
 * length, or -1 when out has no room for it and its NUL (nothing is
 * written then).
 */
int	base64_encode(const void *in, size_t inlen, char *out, size_t outcap);

/*
 * Decodes in[0..inlen) into out.  Returns 0 with the decoded length in
 * *outlen, or -1 when the input is not strict base64 or its bytes do not
 * fit in outcap; out may hold a part of them then, which the caller
 * wipes if they are secret.  The empty input decodes to nothing.
 */
int	base64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outcap, size_t *outlen);

#endif
