/*
 * The session's line in the journal, with structured fields, when
 * systemd's journal is what stderr goes to: libsystemd's
 * sd_journal_send, loaded (dl.h) by such a session only, once the
 * client has been answered.  Elsewhere nothing here is ever called.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

/* One session's fields; "" where the session has none (no user, no TLS). */
struct journal_entry {
	int			 priority;	/* LOG_INFO, LOG_NOTICE, ... */
	const char		*message;	/* the log line's text */
	const char		*session_id;
	const char		*protocol;
	const char		*client;	/* IP:PORT, [IPv6]:PORT, unknown */
	const char		*user;		/* made printable */
	const char		*backend;
	const char		*tls_version;
	const char		*tls_cipher;
	const char		*backend_tls;
	const char		*result;	/* the result word */
	const char		*outcome;	/* the free text */
	const char		*launcher;	/* systemd, inetd, ... */
	unsigned long long	 bytes_in;	/* from the client */
	unsigned long long	 bytes_out;	/* to the client */
	long long		 duration_ms;
};

/* JOURNAL_STREAM names stderr (systemd.exec(5)): the journal reads it */
int	journal_stream(void);

/*
 * 0, or -1 when libsystemd cannot be loaded or the journal did not
 * take the entry: then the caller writes the line to stderr.
 */
int	journal_send(const struct journal_entry *);

#endif
