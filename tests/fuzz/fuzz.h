/*
 * What the libFuzzer targets share: the entry point's prototype, a check
 * that aborts (so that a broken property is a crash libFuzzer keeps), and
 * the splitting of one input into the lines a reader would hand a parser.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* a property of the parser that must hold: its failure is a finding */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

/*
 * The next line of data[*pos..len) as the protocols' readers give it:
 * up to an LF, with the CRLF (or LF) stripped.  0 at the end.
 */
static inline int
fuzz_line(const uint8_t *data, size_t len, size_t *pos, const char **line,
    size_t *linelen)
{
	const uint8_t	*nl;
	size_t		 n;

	if (*pos >= len)
		return 0;
	*line = (const char *)data + *pos;
	nl = memchr(data + *pos, '\n', len - *pos);
	n = nl != NULL ? (size_t)(nl - (data + *pos)) : len - *pos;
	*pos += n + (nl != NULL);
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*linelen = n;
	return 1;
}

/*
 * A copy of n bytes in a buffer of exactly that size, so that ASan sees
 * a read one byte past them (the input's buffer, or a NUL after them,
 * would hide it): for the parsers that take a length.
 */
static inline char *
fuzz_copy(const void *p, size_t n)
{
	char	*s;

	/* malloc(0) may give NULL: one byte then, which no parser may read */
	if ((s = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(s, p, n);
	return s;
}

/* The same as a C string, for the parsers that take one. */
static inline char *
fuzz_dup(const void *p, size_t n)
{
	char	*s;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

#endif
