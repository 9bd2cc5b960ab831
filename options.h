/*
 * Options: one table (options.c) drives argv, the MAILPROXY_* environment,
 * the defaults and --help.  Values follow the nginx directive syntax.
 * Strings point into argv or the environment: nothing is copied, except
 * that the values of a repeatable option are joined in rep_buf.
 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stddef.h>
#include <stdio.h>

/* room for the values of all repeatable options together */
#define OPT_REPBUF	4096

enum protocol { PROTO_NONE, PROTO_SMTP, PROTO_POP3, PROTO_IMAP };

/* SASL and protocol auth methods, as bits of smtp_auth, pop3_auth, imap_auth */
#define AUTH_PLAIN	0x01
#define AUTH_LOGIN	0x02
#define AUTH_APOP	0x04
#define AUTH_CRAM_MD5	0x08
#define AUTH_EXTERNAL	0x10
#define AUTH_NONE	0x20
#define AUTH_XOAUTH2	0x40
#define AUTH_OAUTHBEARER 0x80

enum starttls { STARTTLS_OFF, STARTTLS_ON, STARTTLS_ONLY };
enum engine { ENGINE_READWRITE, ENGINE_SPLICE };
enum verify { VERIFY_OFF, VERIFY_ON, VERIFY_OPTIONAL, VERIFY_OPTIONAL_NO_CA };
enum proxyproto { PROXYPROTO_OFF, PROXYPROTO_V1, PROXYPROTO_V2 };

struct options {
	int		 protocol;		/* enum protocol */
	const char	*backend;		/* repeatable HOST:PORT, in order */
	const char	*client_addr;		/* IP[:PORT] in a pipeline */

	/* the Angie mail_proxy directives */
	size_t		 proxy_buffer;		/* bytes */
	int		 proxy_pass_error_message;
	int		 proxy_protocol;	/* enum proxyproto */
	int		 proxy_smtp_auth;
	long long	 proxy_timeout;		/* ms */
	int		 xclient;

	/* mail core */
	const char	*server_name;		/* NULL: the host name */
	long long	 timeout;		/* ms */
	long long	 login_timeout;		/* ms until the relay; 0: none */
	long long	 half_close_timeout;	/* ms, once a side has closed */
	int		 relay_engine;		/* enum engine */
	const char	*resolver;		/* NULL when off */
	long long	 resolver_timeout;	/* ms */
	int		 max_errors;
	int		 max_commands;		/* before authentication */

	unsigned	 smtp_auth;		/* AUTH_* bits */
	const char	*smtp_capabilities;	/* space-separated list */
	long long	 smtp_greeting_delay;	/* ms, 0: none */
	size_t		 smtp_client_buffer;

	unsigned	 pop3_auth;
	const char	*pop3_capabilities;
	unsigned	 imap_auth;
	const char	*imap_capabilities;
	size_t		 imap_client_buffer;

	const char	*auth_http;		/* URL or NULL */
	const char	*auth_http_header;	/* repeatable: '\n'-separated */
	long long	 auth_http_timeout;	/* ms */
	int		 auth_http_pass_client_cert;

	/* TLS with the client */
	int		 starttls;		/* enum starttls */
	int		 ssl;
	const char	*ssl_certificate;	/* repeatable */
	const char	*ssl_certificate_key;	/* repeatable */
	const char	*ssl_password_file;
	const char	*ssl_protocols;
	const char	*ssl_ciphers;
	const char	*ssl_ecdh_curve;
	int		 ssl_session_tickets;
	const char	*ssl_session_ticket_key;	/* repeatable */
	int		 ssl_verify_client;	/* enum verify */
	const char	*ssl_client_certificate;
	const char	*ssl_trusted_certificate;
	int		 ssl_verify_depth;
	const char	*ssl_crl;

	/* TLS with the backend */
	int		 proxy_ssl;
	int		 proxy_starttls;
	int		 proxy_ssl_verify;
	const char	*proxy_ssl_name;
	const char	*proxy_ssl_trusted_certificate;
	int		 proxy_ssl_verify_depth;
	const char	*proxy_ssl_certificate;
	const char	*proxy_ssl_certificate_key;
	const char	*proxy_ssl_protocols;
	const char	*proxy_ssl_ciphers;

	/* the client's identity */
	const char	*set_real_ip_from;	/* repeatable */
	int		 listen_proxy_protocol;
	int		 proxy_imap_id;		/* IMAP ID to the backend */
	int		 proxy_pop3_xclient;	/* POP3 XCLIENT to the backend */

	int		 check;			/* --check: load all, then exit */

	/*
	 * The repeatable options' '\n'-joined values live here: a copy of
	 * a struct options still points into the original's rep_buf.
	 */
	char		 rep_buf[OPT_REPBUF];
	size_t		 rep_len;		/* bytes of rep_buf in use */
};

enum { OPT_RUN, OPT_HELP, OPT_VERSION, OPT_ERROR };

/* bytes of one value: bounded at the edge */
#define OPTIONS_VALUE_MAX	1024
/* nginx's ssl_protocols since 1.23.4, and proxy_ssl_protocols' */
#define OPTIONS_TLS_PROTOCOLS	"TLSv1.2 TLSv1.3"

/* The values of a repeatable option ('\n'-joined in rep_buf): how many. */
size_t	options_count(const char *);
/* a value as a message shows it: printable, cut short */
const char *options_shown(const char *, size_t, char *buf, size_t len);

/*
 * Fills o from the defaults, then the environment, then argv (argv wins).
 * --help and --version anywhere in argv are answered before the rest is
 * read, so a broken environment cannot hide the help.
 * Returns OPT_RUN, OPT_HELP, OPT_VERSION, or OPT_ERROR with a one-line
 * message in err naming the option.
 */
int	options_parse(struct options *o, int argc, char **argv, char **envp,
	    char *err, size_t errlen);
void	options_help(FILE *fp);
/* options_check.c: what no one option can say; -1 with err */
int	options_check(const struct options *, char *err, size_t errlen);

/*
 * How options_set takes a value: as argv's first for that option, as
 * argv's next (a repeatable option appends it), or as the environment's
 * (a repeatable option's items are split at blanks or newlines, the
 * "Name: value" lines of --auth-http-header at newlines only).
 */
enum { SET_ARGV, SET_ARGV_MORE, SET_ENV };

/*
 * Sets one option by its command-line name, as options_parse does, so
 * that the tests reach its storage.  0, or -1 with a message in err.
 */
int	options_set(struct options *o, const char *name, const char *value,
	    int how, char *err, size_t errlen);

/*
 * Copies the next word of a list option (smtp_capabilities, say: words
 * separated by blanks or newlines) into item, NUL-terminated, and moves
 * *list past it.  Returns the word's length, 0 at the end of the list
 * (or when *list is NULL), or -1 when the word does not fit in len (it
 * is skipped, so the caller may go on).
 */
int	options_list_next(const char **list, char *item, size_t len);

/*
 * The next value of a repeatable option (a file name may hold blanks:
 * only newlines separate them), as options_list_next returns a word.
 */
int	options_value_next(const char **list, char *item, size_t len);

/* Value parsers, exposed for the tests: 0 on success, -1 when malformed. */
int	parse_flag(const char *s, int *v);
int	parse_size(const char *s, size_t *v);
int	parse_msec(const char *s, long long *v);

#endif
