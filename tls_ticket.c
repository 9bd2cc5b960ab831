/*
 * Session tickets sealed with the operator's keys (ssl_session_ticket_key),
 * the only ones another process of ours can open.
 *
 * A key file is read as nginx reads it: 80 bytes (16 of name, 32 of
 * HMAC-SHA256 key, 32 of AES-256-CBC key) or 48 (16, 16, AES-128-CBC).
 * The first key seals new tickets; every key opens them, and a ticket
 * opened with a key that is not the first is renewed.
 *
 * The keys live in one malloc'd struct, found by the ticket callback
 * through the context's app data.  One handshake per process, and it
 * seals one ticket at most (one in TLSv1.3, no renegotiation): once that
 * ticket is sealed the keys are wiped.  A session that seals none (a
 * TLSv1.2 resumption by the first key, a client without tickets) wipes
 * them when its SSL is freed; the context's free wipes them too and
 * frees the struct.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>

#include "options.h"
#include "tls.h"
#include "tls_lib.h"

#define TICKET_NAME	16
#define TICKET_IV	16		/* AES-CBC's block */

struct ticket_key {
	unsigned char	 name[TICKET_NAME];
	unsigned char	 hmac[32];
	unsigned char	 aes[32];
	size_t		 len;		/* of hmac and aes: 32 or 16 */
};

struct ticket_keys {
	size_t			 n;	/* 0 once wiped */
	struct ticket_key	 key[];	/* key[0] seals */
};

static void
keys_wipe(struct ticket_keys *k)
{
	size_t	n = k->n;

	explicit_bzero(k->key, n * sizeof(k->key[0]));
	k->n = 0;
}

/* The context's ex_data: ptr is its keys (NULL for another context). */
static void
keys_free_ctx(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (ptr == NULL)
		return;
	keys_wipe(ptr);
	free(ptr);
}

/* Any SSL freed: if of a context with keys (at index argl), wipe them. */
static void
keys_free_ssl(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	SSL_CTX			*ctx;
	struct ticket_keys	*k;

	(void)ptr, (void)ad, (void)idx, (void)argp;
	if (parent == NULL || (ctx = sym_SSL_get_SSL_CTX(parent)) == NULL)
		return;
	if ((k = sym_SSL_CTX_get_ex_data(ctx, (int)argl)) != NULL)
		keys_wipe(k);
}

static int
hmac_init(EVP_MAC_CTX *hctx, struct ticket_key *key)
{
	OSSL_PARAM	p[3];

	p[0] = sym_OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    "SHA256", 0);
	p[1] = sym_OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    key->hmac, key->len);
	p[2] = sym_OSSL_PARAM_construct_end();
	return sym_EVP_MAC_CTX_set_params(hctx, p) == 1 ? 0 : -1;
}

static const EVP_CIPHER *
cipher_of(const struct ticket_key *key)
{
	return key->len == 32 ? sym_EVP_aes_256_cbc() : sym_EVP_aes_128_cbc();
}

/*
 * OpenSSL's ticket callback.  Sealing (enc 1): the first key's name, a
 * fresh IV, its keys, then the keys wiped; 1, 0 to send no ticket (the
 * keys are gone already), -1 on error.  Opening: the key the ticket
 * names; 0 when none (a full handshake), 1 for the first key, 2 for
 * another (the session resumes and gets a ticket of the first).
 */
static int
ticket_cb(SSL *ssl, unsigned char name[TICKET_NAME], unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_keys	*k;
	struct ticket_key	*key;
	size_t			 i;

	k = sym_SSL_CTX_get_ex_data(sym_SSL_get_SSL_CTX(ssl), 0);
	if (k == NULL || k->n == 0)
		return 0;
	if (enc) {
		key = &k->key[0];
		if (sym_RAND_bytes(iv, TICKET_IV) != 1 ||
		    sym_EVP_EncryptInit_ex(ectx, cipher_of(key), NULL,
		    key->aes, iv) != 1 || hmac_init(hctx, key) == -1)
			return -1;
		memcpy(name, key->name, TICKET_NAME);
		/* the contexts hold what sealing needs: ours are done */
		keys_wipe(k);
		return 1;
	}
	for (i = 0; i < k->n; i++)
		if (memcmp(name, k->key[i].name, TICKET_NAME) == 0)
			break;
	if (i == k->n)
		return 0;
	key = &k->key[i];
	if (hmac_init(hctx, key) == -1 ||
	    sym_EVP_DecryptInit_ex(ectx, cipher_of(key), NULL, key->aes,
	    iv) != 1)
		return -1;
	return i == 0 ? 1 : 2;
}

/*
 * Opens a key file and checks its size: the descriptor, or -1 with err
 * naming the file.  At start (tls_files_check) as at the first session.
 */
static int
key_open(const char *file, size_t *size, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "--ssl-session-ticket-key: %s: %s", file,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1)
		snprintf(err, errlen, "--ssl-session-ticket-key: %s: %s", file,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode) || (st.st_size != 80 &&
	    st.st_size != 48))
		snprintf(err, errlen, "--ssl-session-ticket-key: %s is %lld "
		    "bytes: it must be 80 or 48", file,
		    (long long)st.st_size);
	else {
		*size = (size_t)st.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

int
tls_ticket_file_check(const char *file, char *err, size_t errlen)
{
	size_t	size;
	int	fd;

	if ((fd = key_open(file, &size, err, errlen)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* One key file into key: 0, or -1 with err naming the file. */
static int
key_read(const char *file, struct ticket_key *key, char *err, size_t errlen)
{
	unsigned char	 buf[80];
	size_t		 size;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = key_open(file, &size, err, errlen)) == -1)
		return -1;
	if ((n = read(fd, buf, size)) != (ssize_t)size)
		snprintf(err, errlen, "--ssl-session-ticket-key: %s: %s", file,
		    n == -1 ? strerror(errno) : "short read");
	else {
		key->len = n == 80 ? 32 : 16;
		memcpy(key->name, buf, TICKET_NAME);
		memcpy(key->hmac, buf + TICKET_NAME, key->len);
		memcpy(key->aes, buf + TICKET_NAME + key->len, key->len);
		rc = 0;
	}
	close(fd);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Every file of the '\n'-joined list, in order; NULL with err. */
static struct ticket_keys *
keys_read(const char *list, char *err, size_t errlen)
{
	struct ticket_keys	*k;
	char			 file[PATH_MAX];
	size_t			 n = options_count(list);

	if ((k = calloc(1, sizeof(*k) + n * sizeof(k->key[0]))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (k->n < n) {
		if (options_value_next(&list, file, sizeof(file)) <= 0) {
			snprintf(err, errlen, "--ssl-session-ticket-key: "
			    "an empty or overlong file name");
			break;
		}
		if (key_read(file, &k->key[k->n], err, errlen) == -1)
			break;
		k->n++;
	}
	if (k->n < n) {
		keys_wipe(k);
		free(k);
		return NULL;
	}
	return k;
}

int
tls_ticket_setup(const struct options *o, SSL_CTX *ctx, char *err,
    size_t errlen)
{
	struct ticket_keys	*k;
	char			 e[256];
	int			 ctx_idx, ssl_idx;

	if ((k = keys_read(o->ssl_session_ticket_key, err, errlen)) == NULL)
		return -1;
	ctx_idx = sym_CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL,
	    NULL, NULL, keys_free_ctx);
	if (ctx_idx <= 0 || sym_SSL_CTX_set_ex_data(ctx, ctx_idx, k) != 1) {
		keys_wipe(k);
		free(k);
		snprintf(err, errlen, "tls: tickets: %s",
		    tls_error(e, sizeof(e)));
		return -1;
	}
	/* from here the context owns k: its free wipes and frees it */
	ssl_idx = sym_CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, ctx_idx,
	    NULL, NULL, NULL, keys_free_ssl);
	if (ssl_idx < 0 || sym_SSL_CTX_set_ex_data(ctx, 0, k) != 1 ||
	    sym_SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1) {
		snprintf(err, errlen, "tls: tickets: %s",
		    tls_error(e, sizeof(e)));
		return -1;
	}
	/* TLSv1.3: one ticket, as TLSv1.2 sends */
	sym_SSL_CTX_set_num_tickets(ctx, 1);
	return 0;
}
