/*
 * base64 (proto/base64.c), what SASL responses are decoded with: any
 * line either fails or decodes to bytes that encode back to exactly the
 * line (strict: one encoding per input), and any bytes encode to a line
 * that decodes back to them.
 */
#include "fuzz.h"
#include "../../proto/base64.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char	*dec;
	char		*in, *enc;
	size_t		 n, cap = len / 4 * 3;
	int		 e;

	in = fuzz_copy(data, len);
	dec = malloc(cap + 1);
	enc = malloc(BASE64_LEN(len) + 1);
	if (dec == NULL || enc == NULL)
		abort();
	if (base64_decode(in, len, dec, cap, &n) == 0) {
		FUZZ_CHECK(n <= cap);
		e = base64_encode(dec, n, enc, BASE64_LEN(n) + 1);
		FUZZ_CHECK(e >= 0 && (size_t)e == len);
		FUZZ_CHECK(memcmp(enc, in, len) == 0);
		/* one byte less room: refused, never written past */
		if (n > 0)
			FUZZ_CHECK(base64_decode(in, len, dec, n - 1, &n) == -1);
	}
	free(enc);
	free(dec);

	/* the other way: the input as bytes */
	enc = malloc(BASE64_LEN(len) + 1);
	dec = malloc(len + 1);
	if (enc == NULL || dec == NULL)
		abort();
	e = base64_encode(data, len, enc, BASE64_LEN(len) + 1);
	FUZZ_CHECK(e >= 0 && (size_t)e == BASE64_LEN(len) && enc[e] == '\0');
	FUZZ_CHECK(base64_encode(data, len, enc, BASE64_LEN(len)) == -1);
	e = base64_encode(data, len, enc, BASE64_LEN(len) + 1);
	FUZZ_CHECK(base64_decode(enc, e, dec, len, &n) == 0 && n == len);
	FUZZ_CHECK(memcmp(dec, data, len) == 0);
	free(dec);
	free(enc);
	free(in);
	return 0;
}
