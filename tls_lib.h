/*
 * OpenSSL, loaded on demand (dl.h): every function the tls*.c files call
 * is a pointer sym_NAME of the library's own type, filled by tls_load().
 * OpenSSL's function-like macros (SSL_CTX_set_min_proto_version and the
 * like) expand to SSL_CTX_ctrl and friends, which the tls files call
 * through their pointers by hand.
 *
 * One list for each library; a symbol is added to its list, nowhere else.
 */
#ifndef TLS_LIB_H
#define TLS_LIB_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TLS_CRYPTO_SYMS(X)						\
	X(BIO_ctrl) X(BIO_free) X(BIO_new) X(BIO_new_file) X(BIO_s_mem)	\
	X(ERR_clear_error) X(ERR_error_string_n) X(ERR_get_error)	\
	X(ERR_peek_last_error)						\
	X(EVP_PKEY_free) X(EVP_PKEY_get_base_id) X(EVP_PKEY_get_bits)	\
	X(EVP_sha1)							\
	X(OBJ_nid2sn) X(OPENSSL_sk_num) X(OPENSSL_sk_pop_free)		\
	X(OPENSSL_sk_new_null) X(OPENSSL_sk_push)			\
	X(PEM_read_bio_PrivateKey) X(PEM_read_bio_X509)			\
	X(PEM_read_bio_X509_AUX) X(PEM_read_bio_X509_CRL)		\
	X(PEM_write_bio_X509)						\
	X(X509_CRL_free) X(X509_NAME_get_text_by_NID)			\
	X(X509_NAME_print_ex) X(X509_STORE_add_crl) X(X509_STORE_set_flags) \
	X(X509_VERIFY_PARAM_set1_host) X(X509_VERIFY_PARAM_set1_ip_asc)	\
	X(X509_VERIFY_PARAM_set_hostflags)				\
	X(X509_check_host) X(X509_check_private_key) X(X509_digest)	\
	X(X509_free) X(X509_get0_pubkey) X(X509_get_issuer_name)	\
	X(X509_get_serialNumber) X(X509_get_signature_nid)		\
	X(X509_get_subject_name) X(X509_verify_cert_error_string)	\
	X(i2a_ASN1_INTEGER)						\
	X(CRYPTO_get_ex_new_index) X(EVP_DecryptInit_ex)		\
	X(EVP_EncryptInit_ex) X(EVP_MAC_CTX_set_params)		\
	X(EVP_aes_128_cbc) X(EVP_aes_256_cbc)				\
	X(OSSL_PARAM_construct_end) X(OSSL_PARAM_construct_octet_string) \
	X(OSSL_PARAM_construct_utf8_string) X(RAND_bytes)

#define TLS_SSL_SYMS(X)							\
	X(OPENSSL_init_ssl) X(SSL_CIPHER_get_name)			\
	X(SSL_CTX_callback_ctrl) X(SSL_CTX_ctrl) X(SSL_CTX_free)	\
	X(SSL_CTX_get_cert_store) X(SSL_CTX_load_verify_locations)	\
	X(SSL_CTX_new) X(SSL_CTX_set_alpn_select_cb)			\
	X(SSL_CTX_set_cert_cb) X(SSL_CTX_set_cipher_list)		\
	X(SSL_CTX_set_client_CA_list) X(SSL_CTX_set_default_verify_paths) \
	X(SSL_CTX_set_num_tickets) X(SSL_CTX_set_options)		\
	X(SSL_CTX_set_tlsext_ticket_key_evp_cb)				\
	X(SSL_CTX_set_verify) X(SSL_CTX_set_verify_depth)		\
	X(SSL_CTX_use_PrivateKey) X(SSL_CTX_use_certificate_chain_file)	\
	X(SSL_accept) X(SSL_connect) X(SSL_ctrl) X(SSL_free)		\
	X(SSL_get0_param) X(SSL_get1_peer_certificate)			\
	X(SSL_get_current_cipher) X(SSL_get_error) X(SSL_get_servername) \
	X(SSL_get_verify_result) X(SSL_get_version)			\
	X(SSL_load_client_CA_file) X(SSL_new) X(SSL_pending) X(SSL_read) \
	X(SSL_set_fd) X(SSL_set_rfd) X(SSL_set_wfd) X(SSL_shutdown)	\
	X(SSL_use_cert_and_key) X(SSL_write)				\
	X(TLS_client_method) X(TLS_server_method)			\
	X(SSL_get_certificate) X(SSL_get0_alpn_selected) X(SSL_session_reused) \
	X(SSL_CTX_get_ex_data) X(SSL_CTX_set_ex_data) X(SSL_get_SSL_CTX)	\
	X(SSL_CTX_check_private_key) X(SSL_CTX_get0_param)		\
	X(SSL_CTX_set_info_callback) X(SSL_CTX_use_PrivateKey_file)

#define TLS_SYM_EXTERN(f)	extern __typeof__(f) *sym_##f;
TLS_CRYPTO_SYMS(TLS_SYM_EXTERN)
TLS_SSL_SYMS(TLS_SYM_EXTERN)
#undef TLS_SYM_EXTERN

/*
 * Loads libcrypto and libssl and initialises them, once: 0, or -1 after
 * a log line naming what to install.
 */
int	tls_load(void);

/* tls.c: c in TLS with a new SSL of ctx, handshake done; or -1, why. */
struct conn;
int	tls_handshake(struct conn *, SSL_CTX *, int server,
	    long long timeout_ms, char *why, size_t whylen);

/* --check's halves: tls_server.c's and tls_client.c's */
int	tls_server_check(const struct options *, char *, size_t);
int	tls_client_check(const struct options *, char *, size_t);

/* tls.c: a context with what both sides set (see there); NULL and err */
SSL_CTX	*tls_ctx_new(int server, const char *protocols, const char *ciphers,
	    const char *opt, char *err, size_t errlen);

/* tls.c: the SSL_OP_NO_* bits that leave only the versions listed */
long	tls_protocol_mask(const char *list);

/* tls_ticket.c: ssl_session_ticket_key's keys on ctx; or -1, err. */
struct options;
int	tls_ticket_setup(const struct options *, SSL_CTX *, char *err,
	    size_t errlen);

/* OpenSSL's last error, as text for the log (and the queue cleared). */
const char *tls_error(char *buf, size_t len);

#endif
