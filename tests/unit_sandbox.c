/*
 * Unit tests of the seccomp filter (sandbox.c): each case forks, the
 * child installs the strict filter (the one the normal build runs under)
 * and makes one call; the parent reads how the child ended.  The calls
 * that would make a bug an attack kill the child with SIGSYS, the others
 * outside the list fail with EPERM, and a session's calls still work.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>

#include "unit.h"
#include "../sandbox.h"

#define CHILD_OK	0
#define CHILD_BAD	3	/* the call did what the filter should stop */
#define CHILD_NOFILTER	4

enum call {
	CALL_EXECVE, CALL_PTRACE, CALL_MOUNT, CALL_I386, CALL_FORK,
	CALL_PACKET, CALL_DUMPABLE, CALL_TIOCSTI, CALL_SESSION
};

/* the child's one call: exits CHILD_OK when it failed with EPERM */
static int
child_call(enum call c)
{
	char		*argv[] = { "true", NULL }, buf[16];
	long		 r = 0;
	int		 fd;

	switch (c) {
	case CALL_EXECVE:
		execve("/bin/true", argv, NULL);
		return CHILD_BAD;
	case CALL_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		return CHILD_BAD;
	case CALL_MOUNT:
		syscall(__NR_mount, "none", "/mnt", "tmpfs", 0, NULL);
		return CHILD_BAD;
	case CALL_I386:
#ifdef __x86_64__
		/* getpid through the i386 ABI: another arch to the filter */
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
#endif
		return CHILD_BAD;
	case CALL_FORK:
		r = syscall(__NR_clone, SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			_exit(CHILD_BAD);
		break;
	case CALL_PACKET:
		r = socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case CALL_DUMPABLE:
		r = prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		break;
	case CALL_TIOCSTI:
		r = ioctl(0, TIOCSTI, "x");
		break;
	case CALL_SESSION:
		/* what a login and the relay do, each allowed */
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
		    close(fd) == -1 ||
		    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
		    read(fd, buf, sizeof(buf)) != 0 || close(fd) == -1 ||
		    getrandom(buf, sizeof(buf), 0) != sizeof(buf) ||
		    prctl(PR_CAPBSET_READ, 0, 0, 0, 0) == -1 ||
		    write(-1, buf, 1) != -1 || errno != EBADF)
			return CHILD_BAD;
		return CHILD_OK;
	}
	return r == -1 && errno == EPERM ? CHILD_OK : CHILD_BAD;
}

/* how a child that installed the filter and made the call c ended */
static int
under_filter(enum call c)
{
	char	err[256];
	pid_t	pid;
	int	st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (sandbox_install(SANDBOX_STRICT, err, sizeof(err)) == -1)
			_exit(CHILD_NOFILTER);
		_exit(child_call(c));
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static int
killed(enum call c)
{
	int	st = under_filter(c);

	return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static int
refused(enum call c)
{
	int	st = under_filter(c);

	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == CHILD_OK;
}

void
test_sandbox(void)
{
	struct sock_filter	f[SANDBOX_PROG_MAX];
	int			n;

	n = sandbox_filter(f, SANDBOX_PROG_MAX, SANDBOX_STRICT);
	ok(n > 0 && n <= SANDBOX_PROG_MAX && n <= BPF_MAXINSNS,
	    "sandbox: the strict filter fits");
	ok(sandbox_filter(f, SANDBOX_PROG_MAX, SANDBOX_RELAXED) > n,
	    "sandbox: the relaxed filter allows more");
	ok(sandbox_filter(f, 8, SANDBOX_STRICT) == -1,
	    "sandbox: a program too long for its buffer is refused");
	ok(killed(CALL_EXECVE), "sandbox: execve kills (SIGSYS)");
	ok(killed(CALL_PTRACE), "sandbox: ptrace kills");
	ok(killed(CALL_MOUNT), "sandbox: mount kills");
#ifdef __x86_64__
	ok(killed(CALL_I386), "sandbox: a call through the i386 ABI kills");
#endif
	ok(refused(CALL_FORK), "sandbox: clone (fork) fails with EPERM");
	ok(refused(CALL_PACKET), "sandbox: socket(AF_PACKET) fails with EPERM");
	ok(refused(CALL_DUMPABLE),
	    "sandbox: prctl(PR_SET_DUMPABLE, 1) fails with EPERM");
	ok(refused(CALL_TIOCSTI), "sandbox: ioctl(TIOCSTI) fails with EPERM");
	ok(refused(CALL_SESSION),
	    "sandbox: a session's calls (socket, open, read, getrandom) work");
}
