/*
 * maxrss FILE PROGRAM [ARG ...]: runs PROGRAM as a child and appends its
 * peak resident set (wait4's ru_maxrss, KiB) to FILE when it ends.  Goes
 * between a launcher and the program it starts: under systemd socket
 * activation LISTEN_PID is set to the child, which keeps fd 3.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct rusage	ru;
	char		line[64], pid[24];
	pid_t		child;
	int		status, fd, n;

	if (argc < 3)
		return 64;
	if ((child = fork()) == -1)
		return 71;
	if (child == 0) {
		if (getenv("LISTEN_PID") != NULL) {
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			setenv("LISTEN_PID", pid, 1);
		}
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(child, &status, 0, &ru) == -1)
		return 71;
	n = snprintf(line, sizeof(line), "%ld\n", ru.ru_maxrss);
	if ((fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644)) != -1) {
		write(fd, line, n);
		close(fd);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
