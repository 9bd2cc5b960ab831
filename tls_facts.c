/*
 * What the client's TLS negotiated, as nginx's $ssl_* variables give it:
 * read once after the handshake, into the session, for auth_http, the
 * PROXY v2 SSL TLV and the log.  Every string is bounded here.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "session.h"
#include "tls.h"
#include "tls_lib.h"

/* What a memory BIO holds, as a C string cut to len; "" when none. */
static void
bio_text(BIO *b, char *dst, size_t len)
{
	char	*p;
	long	 n;

	dst[0] = '\0';
	if (b == NULL)
		return;
	n = sym_BIO_ctrl(b, BIO_CTRL_INFO, 0, &p);
	if (n > 0) {
		if ((size_t)n >= len)
			n = len - 1;
		memcpy(dst, p, n);
		dst[n] = '\0';
	}
	sym_BIO_free(b);
}

/* RFC 2253, as nginx's $ssl_client_s_dn since 1.11.6 */
static void
dn_text(X509_NAME *name, char *dst, size_t len)
{
	BIO	*b = sym_BIO_new(sym_BIO_s_mem());

	if (b != NULL && sym_X509_NAME_print_ex(b, name, 0,
	    XN_FLAG_RFC2253) < 0) {
		sym_BIO_free(b);
		b = NULL;
	}
	bio_text(b, dst, len);
}

static void
serial_text(X509 *x, char *dst, size_t len)
{
	BIO	*b = sym_BIO_new(sym_BIO_s_mem());

	if (b != NULL && sym_i2a_ASN1_INTEGER(b,
	    sym_X509_get_serialNumber(x)) < 0) {
		sym_BIO_free(b);
		b = NULL;
	}
	bio_text(b, dst, len);
}

static void
fingerprint_text(X509 *x, char *dst, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 n, i;

	dst[0] = '\0';
	if (sym_X509_digest(x, sym_EVP_sha1(), md, &n) != 1 ||
	    2 * n + 1 > len)
		return;
	for (i = 0; i < n; i++) {
		dst[2 * i] = hex[md[i] >> 4];
		dst[2 * i + 1] = hex[md[i] & 15];
	}
	dst[2 * n] = '\0';
}

/* The whole certificate in PEM, malloc'd: Auth-SSL-Cert. */
static char *
pem_text(X509 *x)
{
	BIO	*b = sym_BIO_new(sym_BIO_s_mem());
	char	*p, *out = NULL;
	long	 n;

	if (b == NULL)
		return NULL;
	if (sym_PEM_write_bio_X509(b, x) == 1 &&
	    (n = sym_BIO_ctrl(b, BIO_CTRL_INFO, 0, &p)) > 0 &&
	    (out = malloc(n + 1)) != NULL) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
	sym_BIO_free(b);
	return out;
}

/*
 * The algorithms as HAProxy's PP2 SSL sub-TLVs name them, of the
 * certificate we presented: the signature by its short name, the key by
 * its type and size ("RSA2048", "EC256").
 */
static void
alg_text(X509 *x, struct tls_facts *f)
{
	EVP_PKEY	*k = sym_X509_get0_pubkey(x);
	const char	*sn = sym_OBJ_nid2sn(sym_X509_get_signature_nid(x));
	const char	*type = "";

	strlcpy(f->sig_alg, sn != NULL ? sn : "", sizeof(f->sig_alg));
	if (k == NULL)
		return;
	switch (sym_EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		type = "RSA";
		break;
	case EVP_PKEY_EC:
		type = "EC";
		break;
	case EVP_PKEY_DSA:
		type = "DSA";
		break;
	case EVP_PKEY_ED25519:
		type = "ED25519";
		break;
	default:
		type = "UNKNOWN";
	}
	snprintf(f->key_alg, sizeof(f->key_alg), "%s%d", type,
	    sym_EVP_PKEY_get_bits(k));
}

static void
verify_text(struct tls_facts *f)
{
	if (!f->cert)
		strlcpy(f->verify_text, "NONE", sizeof(f->verify_text));
	else if (f->verify == X509_V_OK)
		strlcpy(f->verify_text, "SUCCESS", sizeof(f->verify_text));
	else
		snprintf(f->verify_text, sizeof(f->verify_text), "FAILED:%s",
		    sym_X509_verify_cert_error_string(f->verify));
}

void
tls_facts_fill(struct conn *c, struct tls_facts *f)
{
	SSL		*ssl = c->tls;
	X509		*x;
	const char	*v, *sni;
	const unsigned char *alpn = NULL;
	unsigned int	 alpnlen = 0;

	memset(f, 0, sizeof(*f));
	f->on = 1;
	v = sym_SSL_get_version(ssl);
	strlcpy(f->protocol, v != NULL ? v : "", sizeof(f->protocol));
	v = sym_SSL_CIPHER_get_name(sym_SSL_get_current_cipher(ssl));
	strlcpy(f->cipher, v != NULL ? v : "", sizeof(f->cipher));
	if ((sni = sym_SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
	    != NULL)
		strlcpy(f->sni, sni, sizeof(f->sni));
	sym_SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpn != NULL && alpnlen < sizeof(f->alpn)) {
		memcpy(f->alpn, alpn, alpnlen);
		f->alpn[alpnlen] = '\0';
	}
	f->resumed = sym_SSL_session_reused(ssl) == 1;
	if ((x = sym_SSL_get_certificate(ssl)) != NULL)
		alg_text(x, f);
	if ((x = sym_SSL_get1_peer_certificate(ssl)) != NULL) {
		f->cert = 1;
		f->verify = sym_SSL_get_verify_result(ssl);
		dn_text(sym_X509_get_subject_name(x), f->subject,
		    sizeof(f->subject));
		dn_text(sym_X509_get_issuer_name(x), f->issuer,
		    sizeof(f->issuer));
		serial_text(x, f->serial, sizeof(f->serial));
		fingerprint_text(x, f->fingerprint, sizeof(f->fingerprint));
		if (sym_X509_NAME_get_text_by_NID(sym_X509_get_subject_name(x),
		    NID_commonName, f->cn, sizeof(f->cn)) < 0)
			f->cn[0] = '\0';
		f->cert_pem = pem_text(x);
		sym_X509_free(x);
	}
	verify_text(f);
	sym_ERR_clear_error();
}

void
tls_facts_free(struct tls_facts *f)
{
	if (f->cert_pem != NULL) {
		explicit_bzero(f->cert_pem, strlen(f->cert_pem));
		free(f->cert_pem);
	}
	f->cert_pem = NULL;
}
