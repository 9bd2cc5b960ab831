/*
 * The OpenSSL loader (tls_lib.h): libcrypto, then libssl, by soname, as
 * dl.c loads every optional library.  A plaintext session never comes
 * here, so it maps neither.
 */
#include <string.h>

#include "dl.h"
#include "session.h"
#include "tls_lib.h"

#define TLS_SYM_DEFINE(f)	__typeof__(f) *sym_##f;
TLS_CRYPTO_SYMS(TLS_SYM_DEFINE)
TLS_SSL_SYMS(TLS_SYM_DEFINE)

#define TLS_SYM_ENTRY(f)	DL_SYM(f),
static const struct dl_sym crypto_syms[] = { TLS_CRYPTO_SYMS(TLS_SYM_ENTRY) };
static const struct dl_sym ssl_syms[] = { TLS_SSL_SYMS(TLS_SYM_ENTRY) };

DL_LIBRARY(libcrypto, "tls", "TLS with clients and backends",
    DL_RECOMMENDED, "libcrypto.so.3", "libssl3", crypto_syms);
DL_LIBRARY(libssl, "tls", "TLS with clients and backends",
    DL_RECOMMENDED, "libssl.so.3", "libssl3", ssl_syms);

int
tls_load(void)
{
	static int	done;

	if (done)
		return 0;
	if (dl_load(&libcrypto) == -1 || dl_load(&libssl) == -1)
		return -1;
	/*
	 * No openssl.cnf: the options say what TLS we speak, and reading
	 * the system's file (and the engines and providers it may name)
	 * would cost every TLS session for settings we override anyway.
	 * No exit handler: the process ends with the session, and freeing
	 * the library's tables one by one on the way out is work for nothing.
	 */
	if (sym_OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ATEXIT, NULL) != 1) {
		log_warnx("tls: OpenSSL failed to initialise");
		return -1;
	}
	done = 1;
	return 0;
}

const char *
tls_error(char *buf, size_t len)
{
	unsigned long	e = sym_ERR_peek_last_error();

	if (e == 0)
		strlcpy(buf, "unknown error", len);
	else
		sym_ERR_error_string_n(e, buf, len);
	sym_ERR_clear_error();
	return buf;
}
