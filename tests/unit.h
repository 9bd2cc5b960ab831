/* The unit tests' one helper, and each area's entry. */
#ifndef UNIT_H
#define UNIT_H

#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void	ok(int, const char *);

void	test_addr(void);
void	test_xclient(void);
void	test_identity(void);
void	test_proxy(void);
void	test_proxy_v2(void);
void	test_proxy_parse(void);
void	test_cidr(void);
void	test_dl(void);
void	test_base64(void);
void	test_sasl(void);
void	test_smtp(void);
void	test_pop3(void);
void	test_imap(void);
void	test_resolve(void);
void	test_auth_http(void);
void	test_tls(void);
void	test_ucspi(void);
void	test_sandbox(void);

#endif
