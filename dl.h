/*
 * Optional libraries, loaded by the sessions that use them and by no
 * other, as systemd loads its own: dlopen(3) by soname on first use,
 * then a table of symbols.  Every connection is a new process, and each
 * shared object linked in would be mapped and relocated by all of them.
 *
 * A library is declared once, with DL_LIBRARY: that gives the loader's
 * record and, in the same stroke, the binary's ".note.dlopen" entry
 * (https://systemd.io/ELF_DLOPEN_METADATA/), so that packagers and
 * tools see the soname as they see a DT_NEEDED one:
 *
 *	static __typeof__(ares_query) *sym_ares_query;
 *	static const struct dl_sym cares_syms[] = { DL_SYM(ares_query) };
 *	DL_LIBRARY(cares, "resolver", "the client's name from the DNS",
 *	    DL_RECOMMENDED, "libcares.so.2", "libc-ares2", cares_syms);
 *	...
 *	if (dl_load(&cares) == -1)
 *		(fail as the feature fails)
 *
 * The pointers have the types of the library's own prototypes, so the
 * compiler checks every call made through them.
 */
#ifndef DL_H
#define DL_H

#include <stddef.h>
#include <stdint.h>

/*
 * One symbol: its name, and the pointer that receives its address.  The
 * name is held in the entry, not pointed to: a pointer in a table is one
 * more relocation at every process's start, and OpenSSL's table is long.
 */
#define DL_NAME_MAX	40

struct dl_sym {
	char		 name[DL_NAME_MAX];
	void		*slot;
};

#define DL_SYM(fn)	{ #fn, &sym_##fn }

struct dl_lib {
	const char		*soname;
	const char		*package;	/* Debian's, for the log */
	const char		*feature;	/* what it serves, for the log */
	const struct dl_sym	*syms;
	size_t			 nsyms;
	void			*handle;	/* loaded */
	int			 failed;	/* tried, failed and logged */
};

/*
 * Loads the library and fills its symbol table, once per process:
 * 0, or -1 after one log line naming the soname and the package to
 * install (and nothing more on later calls).
 */
int	dl_load(struct dl_lib *);

/* how much a feature needs its library, in the note's words */
#define DL_REQUIRED	"required"
#define DL_RECOMMENDED	"recommended"
#define DL_SUGGESTED	"suggested"

/*
 * The ELF note of one library: name "FDO", type 0x407c0c0a, and as its
 * descriptor a NUL-terminated JSON array of one object.  The strings are
 * ours, so they need no JSON escaping; keep quotes and backslashes out.
 */
#define DL_NOTE_TYPE	UINT32_C(0x407c0c0a)
#define DL_NOTE_OWNER	"FDO"
#define DL_NOTE_JSON(feature, description, priority, soname)		\
	"[{\"feature\":\"" feature "\",\"description\":\"" description	\
	"\",\"priority\":\"" priority "\",\"soname\":[\"" soname "\"]}]"

#define DL_NOTE(var, json)						\
	__attribute__((used, section(".note.dlopen")))			\
	_Alignas(uint32_t) static const struct {			\
		uint32_t	namesz, descsz, type;			\
		char		owner[sizeof(DL_NOTE_OWNER)];		\
		_Alignas(uint32_t) char desc[sizeof(json)];		\
	} var = {							\
		sizeof(DL_NOTE_OWNER), sizeof(json), DL_NOTE_TYPE,	\
		DL_NOTE_OWNER, json					\
	}

#define DL_LIBRARY(var, feature, description, priority, soname, package,	\
    syms)									\
	DL_NOTE(var##_note, DL_NOTE_JSON(feature, description, priority,	\
	    soname));								\
	static struct dl_lib var = { soname, package, feature, syms,		\
	    sizeof(syms) / sizeof((syms)[0]), NULL, 0 }

#endif
