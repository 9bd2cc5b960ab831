/* The PROXY protocol header we send to the backend (HAProxy's format). */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>

struct client;
struct tls_facts;

#define PROXY_V1_MAX	108	/* 107 bytes and a NUL */

/*
 * v2: the whole header, TLVs included, in one bounded buffer (it goes out
 * in one write).  1024 bytes hold the 16-byte head, 36 bytes of TCP6
 * addresses, the CRC32C TLV, and the most struct tls_facts can add:
 * AUTHORITY (an SNI name, at most 255 bytes) and SSL (8 bytes) with its
 * sub-TLVs, a CN of up to 255 bytes and four short names (about 800 in
 * all), with room for UNIQUE_ID (at most 128).
 */
#define PROXY_V2_MAX	1024
#define PROXY_V2_HEAD	16	/* signature, version/command, family, length */

/* the v2 head (HAProxy's proxy-protocol.txt 2.2), for the writer and the reader */
#define PP2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define PP2_SIG_LEN	12
#define PP2_VERSION	0x20
#define PP2_CMD_LOCAL	0x00
#define PP2_CMD_PROXY	0x01
#define PP2_FAM_UNSPEC	0x00
#define PP2_FAM_TCP4	0x11
#define PP2_FAM_TCP6	0x21
#define PP2_UNIQUE_ID_MAX 128

/* the TLV types of the v2 header */
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

/* the client byte of PP2_TYPE_SSL */
#define PP2_CLIENT_SSL		0x01
#define PP2_CLIENT_CERT_CONN	0x02	/* a certificate on this connection */
#define PP2_CLIENT_CERT_SESS	0x04	/* one in its TLS session */

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
	size_t		 crc;	/* where the CRC32C value is, once begun */
	int		 err;
};

void	pp2buf_init(struct pp2buf *, void *, size_t);
int	pp2buf_put(struct pp2buf *, const void *, size_t);
int	tlv_add(struct pp2buf *, unsigned type, const void *, size_t);

int	proxy_v1(const struct client *, char *out, size_t outcap);

/*
 * proxy_v2_begin writes the head, the addresses and the CRC32C TLV (first,
 * zero, where HAProxy puts it), tlv_add the TLVs, and proxy_v2_end the
 * length and the checksum.  proxy_v2_begin returns 0, the others the
 * header's length; all -1 when it does not fit.  An unknown client
 * address (a pipeline) gives LOCAL, with no addresses.
 *
 * proxy_v2 is the header HAProxy 2.6's send-proxy-v2-ssl-cn with
 * proxy-v2-options ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id
 * sends, byte for byte (tests/haproxy.bats): CRC32C, then with a TLS client
 * (tls on; tls may be NULL) AUTHORITY when it gave an SNI name, then
 * UNIQUE_ID, the session id (cl->id; none when it is empty), and SSL:
 * flags, verify, then VERSION, CN, KEY_ALG, SIG_ALG, CIPHER, each when
 * known.  Its values are taken as they are, so tls_facts must hold them
 * in HAProxy's form: key_alg and sig_alg are those of our own (server)
 * certificate, "RSA2048" / "EC256" and "RSA-SHA256", and verify counts
 * only with cert (HAProxy sends 0 without a client certificate).
 */
int	proxy_v2_begin(const struct client *, struct pp2buf *);
int	proxy_v2_end(struct pp2buf *);
int	proxy_v2(const struct client *, const struct tls_facts *,
	    unsigned char *out, size_t outcap);

#endif
