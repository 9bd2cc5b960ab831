/*
 * The journal's native protocol, through libsystemd (journal.h).  Only a
 * session whose stderr is the journal's stream loads it, at its end:
 * libsystemd and the libraries it needs cost a session more than the
 * rest of it (bench/results.md, the journal row).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* sd_journal_send itself, not the macro that adds CODE_FILE= and friends */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "dl.h"
#include "journal.h"
#include "session.h"

static __typeof__(sd_journal_send) *sym_sd_journal_send;

static const struct dl_sym systemd_syms[] = { DL_SYM(sd_journal_send) };

DL_LIBRARY(libsystemd, "journal", "the session line with structured "
    "fields, when stderr is the journal", DL_SUGGESTED, "libsystemd.so.0",
    "libsystemd0", systemd_syms);

/*
 * systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it
 * connected stdout or stderr to; a stderr redirected since, or a
 * variable inherited from elsewhere, names another file.
 */
int
journal_stream(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	char			*end;
	unsigned long long	 dev, ino;
	struct stat		 st;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	dev = strtoull(v, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* where libsystemd sends, fixed in it; and sd-journal.h says no more */
#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

int
journal_send(const struct journal_entry *e)
{
	struct stat	st;
	int		rc;

	/*
	 * Without the socket libsystemd drops the entry and says it was
	 * sent ("fail silently if the journal is not available"): then
	 * the line goes to stderr, and libsystemd is never loaded.
	 */
	if (stat(JOURNAL_SOCKET, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	if (dl_load(&libsystemd) == -1)
		return -1;
	rc = sym_sd_journal_send(
	    "MESSAGE=%s", e->message,
	    "PRIORITY=%d", e->priority,
	    "SYSLOG_FACILITY=%d", LOG_MAIL >> 3,
	    "SYSLOG_IDENTIFIER=mailproxy",
	    "SYSLOG_PID=%ld", (long)getpid(),
	    "MAILPROXY_SESSION_ID=%s", e->session_id,
	    "MAILPROXY_PROTOCOL=%s", e->protocol,
	    "MAILPROXY_CLIENT=%s", e->client,
	    "MAILPROXY_USER=%s", e->user,
	    "MAILPROXY_BACKEND=%s", e->backend,
	    "MAILPROXY_TLS_VERSION=%s", e->tls_version,
	    "MAILPROXY_TLS_CIPHER=%s", e->tls_cipher,
	    "MAILPROXY_BACKEND_TLS=%s", e->backend_tls,
	    "MAILPROXY_BYTES_IN=%llu", e->bytes_in,
	    "MAILPROXY_BYTES_OUT=%llu", e->bytes_out,
	    "MAILPROXY_DURATION_MS=%lld", e->duration_ms,
	    "MAILPROXY_RESULT=%s", e->result,
	    "MAILPROXY_OUTCOME=%s", e->outcome,
	    "MAILPROXY_LAUNCHER=%s", e->launcher,
	    NULL);
	if (rc < 0) {
		log_warnx("journal: sd_journal_send: %s (the line goes to "
		    "stderr)", strerror(-rc));
		return -1;
	}
	return 0;
}
