/*
 * The loader of optional libraries (dl.h): dlopen by soname, then the
 * symbols, all or nothing.
 */
#include <dlfcn.h>
#include <string.h>

#include "dl.h"
#include "session.h"

/* POSIX: a function's address fits in, and comes back from, a void * */
_Static_assert(sizeof(void (*)(void)) == sizeof(void *),
    "function pointers are not the size of void *");

int
dl_load(struct dl_lib *l)
{
	void		*h, *p;
	const char	*err;
	size_t		 i;

	if (l->handle != NULL)
		return 0;
	if (l->failed)
		return -1;
	/*
	 * RTLD_NOW: a library too old for one of our symbols fails here,
	 * once, not at a call in mid-session.  RTLD_LOCAL: its symbols
	 * stay out of the global scope, and out of the next library's way.
	 */
	dlerror();
	if ((h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		log_warnx("%s: cannot load %s (Debian package %s): %s",
		    l->feature, l->soname, l->package,
		    err != NULL ? err : "dlopen failed");
		l->failed = 1;
		return -1;
	}
	for (i = 0; i < l->nsyms; i++) {
		dlerror();
		p = dlsym(h, l->syms[i].name);
		if (p == NULL) {
			err = dlerror();
			log_warnx("%s: %s has no %s (Debian package %s): %s",
			    l->feature, l->soname, l->syms[i].name, l->package,
			    err != NULL ? err : "not found");
			/* no pointer into a library that goes away */
			for (; i > 0; i--)
				memset(l->syms[i - 1].slot, 0, sizeof(p));
			dlclose(h);
			l->failed = 1;
			return -1;
		}
		/* the slot is a function pointer: copied, not aliased */
		memcpy(l->syms[i].slot, &p, sizeof(p));
	}
	l->handle = h;
	return 0;
}
