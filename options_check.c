/*
 * The checks no one option can make: what is required, and the options
 * that only make sense together, as nginx checks them at start.  Run once
 * the defaults, the environment and argv are read, so that a session
 * never meets a combination that cannot work.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "options.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* ssl_protocols: the names nginx takes, one or more of them. */
static int
protocols_valid(const char *list)
{
	static const char *const names[] = { "SSLv2", "SSLv3", "TLSv1",
	    "TLSv1.1", "TLSv1.2", "TLSv1.3" };
	char		item[16];
	size_t		i;
	int		n, any = 0;

	while ((n = options_list_next(&list, item, sizeof(item))) != 0) {
		for (i = 0; n > 0 && i < nitems(names); i++)
			if (strcmp(item, names[i]) == 0)
				break;
		if (n == -1 || i == nitems(names))
			return 0;
		any = 1;
	}
	return any;
}

/* The TLS options that only make sense together, as nginx checks them. */
static int
options_tls(const struct options *o, char *err, size_t errlen)
{
	unsigned	auth = o->protocol == PROTO_SMTP ? o->smtp_auth :
			    o->protocol == PROTO_POP3 ? o->pop3_auth : o->imap_auth;
	int		tls = o->ssl || o->starttls != STARTTLS_OFF;

	/* the defaults are valid: a plaintext session checks nothing */
	if (strcmp(o->ssl_protocols, OPTIONS_TLS_PROTOCOLS) != 0 &&
	    !protocols_valid(o->ssl_protocols))
		snprintf(err, errlen, "--ssl-protocols: one or more of TLSv1.2 "
		    "TLSv1.3 (and the old TLSv1 TLSv1.1 SSLv3)");
	else if (strcmp(o->proxy_ssl_protocols, OPTIONS_TLS_PROTOCOLS) != 0 &&
	    !protocols_valid(o->proxy_ssl_protocols))
		snprintf(err, errlen, "--proxy-ssl-protocols: one or more of "
		    "TLSv1.2 TLSv1.3 (and the old TLSv1 TLSv1.1 SSLv3)");
	else if (tls && o->ssl_certificate == NULL)
		snprintf(err, errlen, "--ssl-certificate: required with "
		    "--ssl=on or --starttls");
	else if (options_count(o->ssl_certificate) !=
	    options_count(o->ssl_certificate_key))
		snprintf(err, errlen, "--ssl-certificate-key: one for each "
		    "--ssl-certificate, in the same order");
	else if ((o->ssl_verify_client == VERIFY_ON ||
	    o->ssl_verify_client == VERIFY_OPTIONAL) &&
	    o->ssl_client_certificate == NULL &&
	    o->ssl_trusted_certificate == NULL)
		snprintf(err, errlen, "--ssl-verify-client: needs "
		    "--ssl-client-certificate or --ssl-trusted-certificate");
	else if ((auth & AUTH_EXTERNAL) && (!tls ||
	    o->ssl_verify_client == VERIFY_OFF || o->auth_http == NULL))
		snprintf(err, errlen, "--%s-auth: external needs TLS, "
		    "--ssl-verify-client and --auth-http (which decides who "
		    "a certificate may log in as)", o->protocol == PROTO_SMTP ?
		    "smtp" : o->protocol == PROTO_POP3 ? "pop3" : "imap");
	else if (o->proxy_ssl && o->proxy_starttls)
		snprintf(err, errlen, "--proxy-starttls: not with "
		    "--proxy-ssl=on (choose one)");
	else if ((o->proxy_ssl_certificate == NULL) !=
	    (o->proxy_ssl_certificate_key == NULL))
		snprintf(err, errlen, "--proxy-ssl-certificate-key: needed "
		    "with --proxy-ssl-certificate, and only with it");
	else
		return 0;
	return -1;
}

/*
 * --set-real-ip-from: each network valid, checked once here so that a
 * session never meets a bad one.
 */
static int
options_real_ip(const struct options *o, char *err, size_t errlen)
{
	const char	*list = o->set_real_ip_from;
	char		 item[OPTIONS_VALUE_MAX + 1], buf[256];
	struct cidr	 c;
	int		 n;

	while ((n = options_value_next(&list, item, sizeof item)) != 0)
		if (n == -1 || cidr_parse(item, n, &c) == -1) {
			snprintf(err, errlen, "--set-real-ip-from: bad network "
			    "\"%s\" (use IP, IP/BITS, IPv6 or IPv6/BITS)",
			    options_shown(item, n == -1 ? 0 : n, buf,
			    sizeof buf));
			return -1;
		}
	return 0;
}

int
options_check(const struct options *o, char *err, size_t errlen)
{
	if (o->protocol == PROTO_NONE)
		snprintf(err, errlen, "--protocol: required (smtp, pop3 or "
		    "imap)");
	else if (o->backend == NULL && o->auth_http == NULL)
		snprintf(err, errlen, "--backend: required (or --auth-http)");
	else if (options_real_ip(o, err, errlen) == 0 &&
	    options_tls(o, err, errlen) == 0)
		return 0;
	return -1;
}
