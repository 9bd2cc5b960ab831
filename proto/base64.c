/*
 * Strict base64 (RFC 4648 section 4) for SASL.  The bytes are often a
 * password, so neither direction branches on them or indexes a table
 * with them: their timing tells nothing (as libsodium's base64 does).
 * What does branch is public: lengths, and whether the input was valid.
 */
#include <limits.h>

#include "base64.h"

/*
 * All bits set when lo <= c <= hi, else none, for c, lo, hi within
 * 0..255: both differences are negative only inside the range, and the
 * shift of a negative int is arithmetic in the compilers we build with.
 */
static int
in_range(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* The character of a 6-bit value. */
static char
b64_char(int v)
{
	return (in_range(v, 0, 25) & ('A' + v)) |
	    (in_range(v, 26, 51) & ('a' + v - 26)) |
	    (in_range(v, 52, 61) & ('0' + v - 52)) |
	    (in_range(v, 62, 62) & '+') |
	    (in_range(v, 63, 63) & '/');
}

/* The 6-bit value of a character, or -1 when it is not in the alphabet. */
static int
b64_value(unsigned char c)
{
	return ((in_range(c, 'A', 'Z') & (c - 'A' + 1)) |
	    (in_range(c, 'a', 'z') & (c - 'a' + 27)) |
	    (in_range(c, '0', '9') & (c - '0' + 53)) |
	    (in_range(c, '+', '+') & 63) |
	    (in_range(c, '/', '/') & 64)) - 1;
}

int
base64_encode(const void *in, size_t inlen, char *out, size_t outcap)
{
	const unsigned char	*p = in;
	size_t			 i, n = 0;
	unsigned long		 acc;

	/* the length is returned as an int */
	if (inlen > (size_t)(INT_MAX - 1) / 4 * 3 ||
	    outcap < BASE64_LEN(inlen) + 1)
		return -1;
	for (i = 0; i + 3 <= inlen; i += 3) {
		acc = (unsigned long)p[i] << 16 | p[i + 1] << 8 | p[i + 2];
		out[n++] = b64_char(acc >> 18);
		out[n++] = b64_char(acc >> 12 & 0x3f);
		out[n++] = b64_char(acc >> 6 & 0x3f);
		out[n++] = b64_char(acc & 0x3f);
	}
	if (inlen - i == 1) {
		acc = (unsigned long)p[i] << 16;
		out[n++] = b64_char(acc >> 18);
		out[n++] = b64_char(acc >> 12 & 0x3f);
		out[n++] = '=';
		out[n++] = '=';
	} else if (inlen - i == 2) {
		acc = (unsigned long)p[i] << 16 | p[i + 1] << 8;
		out[n++] = b64_char(acc >> 18);
		out[n++] = b64_char(acc >> 12 & 0x3f);
		out[n++] = b64_char(acc >> 6 & 0x3f);
		out[n++] = '=';
	}
	out[n] = '\0';
	return (int)n;
}

int
base64_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outcap, size_t *outlen)
{
	size_t		i, n = 0, pad = 0, end;
	unsigned long	acc = 0;
	int		v, bad = 0;

	if (inlen % 4 != 0)
		return -1;
	/* one "=" or two, in the last quantum only */
	if (inlen > 0 && in[inlen - 1] == '=') {
		pad++;
		if (in[inlen - 2] == '=')
			pad++;
	}
	if (inlen / 4 * 3 - pad > outcap)
		return -1;
	/* any other "=" is outside the alphabet, and refused below */
	end = inlen - pad;
	for (i = 0; i < end; i++) {
		v = b64_value(in[i]);
		bad |= v;
		acc = acc << 6 | (v & 0x3f);
		if (i % 4 == 3) {
			out[n++] = acc >> 16;
			out[n++] = acc >> 8 & 0xff;
			out[n++] = acc & 0xff;
			acc = 0;
		}
	}
	/* the bits past the last byte must be zero: one encoding per input */
	if (pad == 1) {
		bad |= -(int)(acc & 0x03);
		out[n++] = acc >> 10;
		out[n++] = acc >> 2 & 0xff;
	} else if (pad == 2) {
		bad |= -(int)(acc & 0x0f);
		out[n++] = acc >> 4;
	}
	if (bad < 0)
		return -1;
	*outlen = n;
	return 0;
}
