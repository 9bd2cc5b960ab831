/*
 * CRC32C (Castagnoli, RFC 3720 B.4): reflected, polynomial 0x82F63B78,
 * initial value and final XOR 0xFFFFFFFF.  The PROXY v2 header's checksum.
 * Pure: no I/O, no globals.
 */
#ifndef CRC32C_H
#define CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t	crc32c(const void *, size_t);

#endif
