/*
 * The sandbox: what a session may ask of the kernel once it talks to the
 * client.  mailproxy reads hostile bytes from the network, and a bug in a
 * parser or in a library it loads (libssl, c-ares) must not become a
 * shell: after start-up the process cannot gain privileges (no_new_privs)
 * and a seccomp filter allows only the system calls a session makes.
 *
 * What the filter allows is what strace -f saw over the test suite (every
 * protocol, TLS on both sides, auth_http over http, https and unix, the
 * resolver, the journal, PROXY headers, both relay engines): the file and
 * memory calls stay, because libssl, libcrypto, libcares and libsystemd
 * are dlopen()ed on demand, after the filter is in.  socket() is allowed
 * for the families a session uses, ioctl() and prctl() for the requests
 * the libraries make.  What would turn a bug into more than a crashed
 * session (execve, ptrace, mount, kernel modules, bpf, namespaces, ...)
 * kills the process (SECCOMP_RET_KILL_PROCESS); anything else fails with
 * EPERM, which every caller already handles as an error.
 *
 * The filter is built for x86_64 and aarch64, and checks the architecture
 * first: a call through another ABI (i386's int 0x80, x32) kills.  On any
 * other architecture nothing is installed.  No libseccomp: the program is
 * a few hundred instructions built here, installed with seccomp(2).
 * Installing it costs a session about 0.2 ms of CPU, the kernel's (bench/
 * measures it against a build with SANDBOX_OFF); a failure to install is
 * logged and the session goes on, as on a kernel without seccomp.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <valgrind/valgrind.h>

#include "sandbox.h"

/*
 * The sanitizers' runtime needs what a session does not: LeakSanitizer,
 * at exit, clones a thread that ptrace()s the process to stop it while
 * it looks for leaks.  It cannot attach to an undumpable process, nor
 * under the strict filter; the sanitizer build (mailproxy-san, a test
 * build) stays dumpable and gets the relaxed filter.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

#define ARG_LO(n)	(offsetof(struct seccomp_data, args) + 8 * (n))
#define RET_ERRNO	(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

/* A session made undumpable: no core file holds a password, no ptrace. */
void
sandbox_undumpable(void)
{
#ifndef SANITIZED
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

#ifdef SANDBOX_ARCH

/*
 * The calls a session makes, the relay's first: the filter tries them in
 * this order.  (A name an architecture does not have, open or poll on
 * aarch64, is left out there.)
 */
static const int allowed[] = {
	/* the relay and the login's I/O */
	__NR_read, __NR_write, __NR_readv, __NR_writev,
#ifdef __NR_poll
	__NR_poll,
#endif
	__NR_ppoll, __NR_splice, __NR_recvfrom, __NR_sendto,
	__NR_recvmsg, __NR_sendmsg, __NR_sendmmsg, __NR_recvmmsg,
	__NR_getrandom, __NR_clock_gettime, __NR_gettimeofday,
#ifdef __NR_time
	__NR_time,
#endif
	__NR_clock_getres, __NR_nanosleep, __NR_clock_nanosleep,
	/* sockets: the backend, auth_http, DNS, the journal */
	__NR_connect, __NR_bind, __NR_getsockname, __NR_getpeername,
	__NR_setsockopt, __NR_getsockopt, __NR_shutdown, __NR_close,
	__NR_fcntl,
#ifdef __NR_pipe
	__NR_pipe,
#endif
	__NR_pipe2, __NR_dup, __NR_dup3,
#ifdef __NR_dup2
	__NR_dup2,
#endif
#ifdef __NR_select
	__NR_select,
#endif
	__NR_pselect6, __NR_epoll_create1, __NR_epoll_ctl, __NR_epoll_pwait,
#ifdef __NR_epoll_wait
	__NR_epoll_wait,
#endif
	/* files and memory: dlopen(), certificates, keys, resolv.conf */
#ifdef __NR_open
	__NR_open,
#endif
	__NR_openat, __NR_lseek, __NR_pread64, __NR_fstat, __NR_newfstatat,
#ifdef __NR_stat
	__NR_stat, __NR_lstat,
#endif
	__NR_statx,
#ifdef __NR_access
	__NR_access,
#endif
	__NR_faccessat, __NR_faccessat2,
#ifdef __NR_readlink
	__NR_readlink,
#endif
	__NR_readlinkat, __NR_getdents64, __NR_getcwd, __NR_fstatfs,
	__NR_statfs, __NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap,
	__NR_madvise, __NR_brk,
	/* the process itself */
	__NR_futex, __NR_getpid, __NR_gettid, __NR_getppid, __NR_getuid,
	__NR_geteuid, __NR_getgid, __NR_getegid, __NR_getgroups,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_sigaltstack, __NR_uname, __NR_sysinfo, __NR_prlimit64,
#ifdef __NR_getrlimit
	__NR_getrlimit,
#endif
	__NR_getrusage, __NR_sched_getaffinity, __NR_sched_yield,
	__NR_set_robust_list, __NR_rseq, __NR_membarrier,
	/* abort() signals itself */
	__NR_tgkill, __NR_exit, __NR_exit_group,
};

/*
 * What no session ever does, and an attacker would: the process dies on
 * the spot, and the kernel logs the call (audit).
 */
static const int killed[] = {
	__NR_execve, __NR_execveat, __NR_ptrace, __NR_process_vm_readv,
	__NR_process_vm_writev, __NR_mount, __NR_umount2, __NR_pivot_root,
	__NR_chroot, __NR_unshare, __NR_setns, __NR_init_module,
	__NR_finit_module, __NR_delete_module, __NR_kexec_load,
#ifdef __NR_kexec_file_load
	__NR_kexec_file_load,
#endif
	__NR_reboot, __NR_swapon, __NR_swapoff, __NR_bpf,
	__NR_perf_event_open, __NR_userfaultfd, __NR_keyctl, __NR_add_key,
	__NR_request_key, __NR_open_by_handle_at, __NR_name_to_handle_at,
	__NR_fsopen, __NR_fsmount, __NR_move_mount, __NR_open_tree,
	__NR_personality, __NR_acct, __NR_settimeofday, __NR_clock_settime,
	__NR_adjtimex, __NR_sethostname, __NR_setdomainname,
#ifdef __NR_iopl
	__NR_iopl, __NR_ioperm,
#endif
};

/* LeakSanitizer's stop-the-world, in the sanitizer build only */
static const int relaxed_extra[] = {
	__NR_clone, __NR_clone3, __NR_wait4, __NR_ptrace, __NR_prctl,
	__NR_kill,
#ifdef __NR_getdents
	__NR_getdents,
#endif
};

/* getaddrinfo's AI_ADDRCONFIG asks netlink which families are up */
static const unsigned socket_families[] = {
	AF_UNIX, AF_INET, AF_INET6, AF_NETLINK,
};

/* isatty() (stdio), FIONREAD, and if_nametoindex() for a scope id */
static const unsigned ioctl_requests[] = {
	TCGETS, FIONREAD, FIONBIO, SIOCGIFINDEX, SIOCGIFNAME,
};

/*
 * libsystemd reads the capability bounding set; never PR_SET_DUMPABLE,
 * which would undo sandbox_undumpable().
 */
static const unsigned prctl_options[] = {
	PR_CAPBSET_READ, PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP,
	PR_GET_NAME, PR_SET_NAME,
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))

struct prog {
	struct sock_filter	*f;
	size_t			 len, cap;
};

static void
emit(struct prog *p, unsigned short code, unsigned k, unsigned char jt,
    unsigned char jf)
{
	if (p->len < p->cap)
		p->f[p->len] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	p->len++;
}

/* nr: allowed when its argument arg (its low 32 bits) is one of v[] */
static void
emit_arg(struct prog *p, int nr, int arg, const unsigned *v, size_t n)
{
	size_t	i;

	/* past the block (n + 3 instructions) when it is another call */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, nr, 0, n + 3);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg), 0, 0);
	for (i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, v[i], n - i, 0);
	emit(p, BPF_RET | BPF_K, RET_ERRNO, 0, 0);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
}

static void
emit_list(struct prog *p, const int *nr, size_t n, unsigned ret)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, nr[i], 0, 1);
		emit(p, BPF_RET | BPF_K, ret, 0, 0);
	}
}

/*
 * The filter's program in f (cap instructions): its length, or -1 when
 * it does not fit.  Pure: the unit tests read it, sandbox_install loads
 * it.  relaxed lets the sanitizers' runtime do what it needs at exit.
 */
int
sandbox_filter(struct sock_filter *f, size_t cap, int relaxed)
{
	struct prog	p = { f, 0, cap };

	emit(&p, BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch), 0, 0);
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	emit(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	emit(&p, BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr), 0, 0);
#ifdef __x86_64__
	/* the x32 ABI's calls have the same arch, and this bit */
	emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	emit(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
#endif
	emit_list(&p, allowed, N(allowed), SECCOMP_RET_ALLOW);
	if (relaxed)
		emit_list(&p, relaxed_extra, N(relaxed_extra),
		    SECCOMP_RET_ALLOW);
	emit_arg(&p, __NR_socket, 0, socket_families, N(socket_families));
	emit_arg(&p, __NR_ioctl, 1, ioctl_requests, N(ioctl_requests));
	emit_arg(&p, __NR_prctl, 0, prctl_options, N(prctl_options));
	emit_list(&p, killed, N(killed), SECCOMP_RET_KILL_PROCESS);
	emit(&p, BPF_RET | BPF_K, RET_ERRNO, 0, 0);
	return p.len <= cap ? (int)p.len : -1;
}

/*
 * no_new_privs, then the filter (no_new_privs is what lets a process
 * without CAP_SYS_ADMIN install one); with load 0, all but the seccomp(2)
 * call.  0, or -1 with err set.
 */
static int
sandbox_load(int relaxed, int load, char *err, size_t errlen)
{
	struct sock_filter	f[SANDBOX_PROG_MAX];
	struct sock_fprog	prog;
	int			n;

	if ((n = sandbox_filter(f, SANDBOX_PROG_MAX, relaxed)) == -1) {
		snprintf(err, errlen, "seccomp: the filter does not fit in %d "
		    "instructions", SANDBOX_PROG_MAX);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return -1;
	}
	if (!load)
		return 0;
	prog.len = n;
	prog.filter = f;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == -1) {
		snprintf(err, errlen, "seccomp(SECCOMP_SET_MODE_FILTER): %s "
		    "(a kernel without CONFIG_SECCOMP_FILTER?)",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_install(int relaxed, char *err, size_t errlen)
{
	return sandbox_load(relaxed, 1, err, errlen);
}

/*
 * Valgrind runs the program on its own system calls, which no filter
 * made for the program's would let through: under it the filter is built
 * and no_new_privs set, but the filter is not installed, so that callgrind
 * counts all the program does for it (bench/'s instruction table, beside
 * SANDBOX_OFF's); the kernel's part no instruction count can show.
 */
int
sandbox_enter(char *err, size_t errlen)
{
	if (RUNNING_ON_VALGRIND)
		return sandbox_load(SANDBOX_STRICT, 0, err, errlen) == -1 ? -1 :
		    SANDBOX_SKIPPED;
#if defined(SANDBOX_OFF)
	/* bench/'s copy without the filter, to measure what it costs */
	(void)err, (void)errlen;
	return SANDBOX_SKIPPED;
#elif defined(SANITIZED)
	return sandbox_install(SANDBOX_RELAXED, err, errlen) == -1 ? -1 :
	    SANDBOX_ON;
#else
	return sandbox_install(SANDBOX_STRICT, err, errlen) == -1 ? -1 :
	    SANDBOX_ON;
#endif
}

#else	/* no filter for this architecture */

int
sandbox_filter(struct sock_filter *f, size_t cap, int relaxed)
{
	(void)f, (void)cap, (void)relaxed;
	return -1;
}

int
sandbox_install(int relaxed, char *err, size_t errlen)
{
	(void)relaxed;
	snprintf(err, errlen, "seccomp: no filter for this architecture");
	return -1;
}

int
sandbox_enter(char *err, size_t errlen)
{
	(void)err, (void)errlen;
	return SANDBOX_SKIPPED;
}

#endif
