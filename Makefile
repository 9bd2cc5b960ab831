# mailproxy: make, make test, make install (PREFIX, DESTDIR).
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
VERSION	 = 0.1

CC	?= cc
PKGS	 = libbsd-overlay
# built against for their headers, never linked: dl.c loads them by the
# sessions that use them
DLPKGS	 = libcares libssl libsystemd
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -DVERSION=\"$(VERSION)\"
CFLAGS	+= $(shell pkg-config --cflags $(PKGS) $(DLPKGS))
# libbsd statically (Debian ships libbsd.a): what a session takes from it
# is strlcpy, strlcat, strtonum and strnvisx, and mapping libbsd.so and
# its libmd cost every session 180k instructions.  libc comes first, so
# that arc4random and explicit_bzero are glibc's, not libbsd's copies.
LDLIBS	+= -lc -Wl,-Bstatic $(shell pkg-config --libs $(PKGS)) -Wl,-Bdynamic
# Every symbol bound at start (and the GOT read-only after): a function
# bound lazily, on its first call, goes through the loader's resolver,
# which saves the vector registers on the stack, and after the login they
# may hold pieces of a password that the stack wipe would miss.
LDFLAGS	+= -Wl,-z,relro -Wl,-z,now
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
# GCC links UBSan's runtime apart from ASan's, and the shared one writes
# its reports to stderr whatever UBSAN_OPTIONS' log_path says; linked in,
# it honours it (test-san looks for the report files)
SANLDFLAGS = $(if $(findstring clang,$(shell $(CC) --version)),,-static-libubsan)

SRCS	 = mailproxy.c options.c options_check.c values.c addr.c launch.c front.c session.c conn.c backend.c relay.c \
	   log.c journal.c resolve.c auth.c dl.c sandbox.c \
	   tls.c tls_lib.c tls_server.c tls_client.c tls_facts.c tls_ticket.c \
	   proto/smtp.c proto/smtp_backend.c proto/smtp_parse.c \
	   proto/pop3.c proto/pop3_backend.c proto/pop3_parse.c \
	   proto/imap.c proto/imap_backend.c proto/imap_id.c proto/imap_parse.c proto/cmd_parse.c proto/sasl.c \
	   proto/base64.c proto/xclient.c \
	   proto/proxy.c proto/proxy_parse.c proto/crc32c.c proto/auth_http.c \
	   proto/auth_http_response.c proto/ucspi_parse.c
HDRS	 = $(wildcard *.h proto/*.h)
OBJS	 = $(SRCS:%.c=obj/%.o)
SANOBJS	 = $(SRCS:%.c=obj-san/%.o)

all: mailproxy

mailproxy: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

# the same program under AddressSanitizer and UndefinedBehaviorSanitizer
mailproxy-san: $(SANOBJS)
	$(CC) $(CFLAGS) $(SANFLAGS) $(SANLDFLAGS) $(LDFLAGS) -o $@ $(SANOBJS) $(LDLIBS)

obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

obj-san/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

# the unit tests of the pure parsers, then the suite through the binary
UNITSRCS = $(wildcard tests/unit*.c)
tests/unit: $(UNITSRCS) tests/unit.h $(filter-out obj-san/mailproxy.o,$(SANOBJS))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

tests/options_test: tests/options_test.c obj-san/options.o obj-san/options_check.o \
    obj-san/values.o obj-san/addr.o
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# (BATS_FILES=tests/smtp.bats for one file)
BATS_FILES ?= tests/*.bats
test: mailproxy tests/unit tests/options_test
	tests/unit
	tests/options_test
	tests/run-bats $(BATS_FILES)

# the whole suite again with the sanitizer build; the sessions run under
# launchers, so their reports go to files that must stay absent.  They are
# looked for once every test has ended, failed or not.  (tests/perf.bats
# counts the normal build's instructions, even here.)
SANLOG	 = $(CURDIR)/obj-san/reports
test-san: mailproxy mailproxy-san
	rm -rf $(SANLOG) && mkdir -p $(SANLOG)
	SANLOG=$(SANLOG) MAILPROXY=$(CURDIR)/mailproxy-san LAUNCH_ENV="ASAN_OPTIONS UBSAN_OPTIONS" \
	ASAN_OPTIONS=log_path=$(SANLOG)/asan \
	UBSAN_OPTIONS=log_path=$(SANLOG)/ubsan:print_stacktrace=1 \
	    tests/run-bats $(BATS_FILES); suite=$$?; \
	SANLOG=$(SANLOG) tests/run-bats tests/sanitizers.check && exit $$suite

# libFuzzer targets over the parsers fed from outside (tests/fuzz/):
# every object but main's built with clang into obj-fuzz, one binary a
# target.  make fuzz replays each committed corpus, then fuzzes each for
# FUZZ_TIME seconds in a copy of it (obj-fuzz/corpus-NAME), one TAP line
# a target; a crash, hang, leak or UB fails it and names the reproducer.
FUZZ_CC	 = clang
FUZZ_TIME ?= 60
FUZZFLAGS = -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_NAMES:%=obj-fuzz/fuzz_%)
FUZZOBJS = $(filter-out obj-fuzz/mailproxy.o,$(SRCS:%.c=obj-fuzz/%.o))
# (built only through the pattern below: kept, not removed as intermediates)
.SECONDARY: $(FUZZOBJS)

obj-fuzz/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) $(FUZZFLAGS) -c -o $@ $<

obj-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZOBJS)
	$(FUZZ_CC) $(CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZOBJS) $(LDLIBS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run $(FUZZ_TIME) $(FUZZ_NAMES)

# The whole suite again, every mailproxy of the normal build under
# valgrind memcheck (tests/valgrind-mailproxy): an error, or a definite or
# indirect leak, writes its report to $(VGLOG), checked once every test
# has ended (tests/valgrind.check).  Possible and still reachable blocks
# are not counted: each process serves one connection and exits, and what
# libcrypto and c-ares hold in their globals then is neither lost nor
# growing.  A process starts 0.5-1 s later, a TLS handshake takes a
# second or two: the bounds on a session's time allow for it (SLOW in
# tests/lib/common.bash), peak RSS is asserted only of the normal build,
# and sandbox.bats looks at the program itself.  VG_FILES=... runs a part.
VGLOG	 = $(CURDIR)/obj/valgrind
VG_FILES = $(BATS_FILES)
VG_WAIT_TIMEOUT = 30

test-valgrind: mailproxy tests/unit tests/options_test
	rm -rf $(VGLOG) && mkdir -p $(VGLOG)
	VGLOG=$(VGLOG) MAILPROXY=$(CURDIR)/tests/valgrind-mailproxy LAUNCH_ENV="VGLOG" \
	MPELF=$(CURDIR)/mailproxy WAIT_TIMEOUT=$(VG_WAIT_TIMEOUT) \
	    tests/run-bats $(VG_FILES); suite=$$?; \
	VGLOG=$(VGLOG) tests/run-bats tests/valgrind.check && exit $$suite

install: mailproxy
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(UNITDIR)
	install -m 755 mailproxy $(DESTDIR)$(SBINDIR)/mailproxy
	install -m 644 man/mailproxy.8 $(DESTDIR)$(MANDIR)/man8/mailproxy.8
	install -m 644 units/*.socket $(DESTDIR)$(UNITDIR)/
	# ExecStart= names the mailproxy just installed (PREFIX=/usr: /usr/sbin)
	for u in units/*.service; do \
	    sed 's|/usr/local/sbin/mailproxy|$(SBINDIR)/mailproxy|g' $$u \
	        >$(DESTDIR)$(UNITDIR)/$${u#units/} && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$${u#units/} || exit 1; \
	done

# the benchmark against nginx, a direct connection and a minimal relay
# (bench/run.py says what it measures): its programs, libc only, in
# obj/bench; make bench-smoke is the same with tiny sizes, for CI
BENCH_CFLAGS = -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
BENCH_BINS = obj/bench/backend obj/bench/load obj/bench/relay0 \
	     obj/bench/maxrss obj/bench/empty obj/bench/empty-static \
	     obj/bench/mailproxy-nofilter

# mailproxy without its seccomp filter (sandbox.c built with SANDBOX_OFF):
# what the filter costs a session, beside the real one
obj/bench/sandbox-off.o: sandbox.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DSANDBOX_OFF -c -o $@ sandbox.c

obj/bench/mailproxy-nofilter: $(filter-out obj/sandbox.o,$(OBJS)) obj/bench/sandbox-off.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

obj/bench/backend obj/bench/load: obj/bench/%: bench/%.c bench/io.c bench/io.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -pthread -o $@ $< bench/io.c

obj/bench/relay0 obj/bench/empty: obj/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

# static, so that its own pages, which the child's ru_maxrss includes
# from before the exec, are fewer than any program's it measures
obj/bench/maxrss: bench/maxrss.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

obj/bench/empty-static: bench/empty.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

bench: mailproxy $(BENCH_BINS)
	python3 bench/run.py

bench-smoke: mailproxy $(BENCH_BINS)
	python3 bench/run.py --smoke

# mixed SMTP, POP3 and IMAP sessions with faults on both sides through
# mailproxy to a private Postfix and Dovecot, then the books: no process
# left, no message lost (tests/soak.py says what it does).  SOAK_TIME
# seconds (180); make soak-smoke is 30 s
soak: mailproxy
	tests/soak

soak-smoke: mailproxy
	tests/soak --smoke

clean:
	rm -rf obj obj-san obj-fuzz mailproxy mailproxy-san tests/unit tests/options_test

.PHONY: all test test-san test-valgrind fuzz install clean bench bench-smoke soak soak-smoke
