/* The PROXY protocol header we send to the backend (HAProxy's format). */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>

struct client;

#define PROXY_V1_MAX	108	/* 107 bytes and a NUL */

/*
 * v2: the whole header, TLVs included, in one bounded buffer (it goes out
 * in one write).  512 bytes hold the 16-byte head, 36 bytes of TCP6
 * addresses, the CRC32C TLV, and room for what TLS adds: AUTHORITY (an SNI
 * name, at most 255 bytes), UNIQUE_ID (at most 128) and SSL with its
 * version and cipher sub-TLVs.
 */
#define PROXY_V2_MAX	512
#define PROXY_V2_HEAD	16	/* signature, version/command, family, length */

/* the TLV types of the v2 header (HAProxy's proxy-protocol.txt 2.2) */
#define PP2_TYPE_ALPN		0x01
#define PP2_TYPE_AUTHORITY	0x02
#define PP2_TYPE_CRC32C		0x03
#define PP2_TYPE_NOOP		0x04
#define PP2_TYPE_UNIQUE_ID	0x05
#define PP2_TYPE_SSL		0x20
#define PP2_SUBTYPE_SSL_VERSION	0x21
#define PP2_SUBTYPE_SSL_CN	0x22
#define PP2_SUBTYPE_SSL_CIPHER	0x23
#define PP2_SUBTYPE_SSL_SIG_ALG	0x24
#define PP2_SUBTYPE_SSL_KEY_ALG	0x25

/*
 * A bounded byte buffer that TLVs are appended to.  A TLV that does not
 * fit sets err, and the header is then refused whole: no caller checks
 * each append.  The value of PP2_TYPE_SSL is built in a pp2buf of its own
 * (its 5-byte head, then tlv_add for each sub-TLV) and added as one TLV.
 */
struct pp2buf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	int		 err;
};

void	pp2buf_init(struct pp2buf *, void *, size_t);
int	pp2buf_put(struct pp2buf *, const void *, size_t);
int	tlv_add(struct pp2buf *, unsigned type, const void *, size_t);

int	proxy_v1(const struct client *, char *out, size_t outcap);

/*
 * proxy_v2_begin writes the head and the addresses, tlv_add the TLVs, and
 * proxy_v2_end the CRC32C TLV, the length and the checksum; proxy_v2 is
 * the three with no TLV of the caller's.  proxy_v2_begin returns 0, the
 * others the header's length; all -1 when it does not fit.  An unknown
 * client address (a pipeline) gives LOCAL, with no addresses.
 */
int	proxy_v2_begin(const struct client *, struct pp2buf *);
int	proxy_v2_end(struct pp2buf *);
int	proxy_v2(const struct client *, unsigned char *out, size_t outcap);

#endif
