/*
 * CRC32C, bit by bit: a header of a few hundred bytes does not need a
 * table, and without one there is nothing to get wrong or to initialise.
 */
#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"

#define CRC32C_POLY	0x82F63B78U	/* 0x1EDC6F41 reflected */

uint32_t
crc32c(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint32_t		 crc = 0xFFFFFFFFU;
	int			 k;

	while (len-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32C_POLY & -(crc & 1));
	}
	return crc ^ 0xFFFFFFFFU;
}
