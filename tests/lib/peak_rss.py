#!/usr/bin/env python3
"""peak_rss.py - run a command, as a launcher's child would run it, and
record how much memory it took and how it ended.

Usage: peak_rss.py OUT CMD [ARG...]

CMD runs as this process's child with the same file descriptors (the
socket a launcher hands over stays where it is).  While it runs, its
VmHWM (/proc/PID/status: the peak resident set) is read every 10 ms;
once it ended, the kernel's own last word on it, getrusage's ru_maxrss
(the same high-water mark, taken as the memory was let go), is added.
One line is appended to OUT:

  pid=N hwm_kb=N maxrss_kb=N ms=N exit=N     (or signal=N)

hwm_kb is the larger of the two; ms the time from start to the end.
Exits as CMD did (128+N for a signal).  Stdlib only.
"""
import os
import sys
import time


def vmhwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    # the socket is the child's: the peer sees its close, not ours later
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    hwm = 0
    while True:
        got, status, ru = os.wait4(pid, os.WNOHANG)
        if got == pid:
            break
        hwm = max(hwm, vmhwm(pid))
        time.sleep(0.01)
    ms = int((time.monotonic() - start) * 1000)
    hwm = max(hwm, ru.ru_maxrss)
    if os.WIFSIGNALED(status):
        end, code = "signal=%d" % os.WTERMSIG(status), 128 + os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
        end = "exit=%d" % code
    with open(out, "a") as f:
        f.write("pid=%d hwm_kb=%d maxrss_kb=%d ms=%d %s\n" % (
            pid, hwm, ru.ru_maxrss, ms, end))
    sys.exit(code)


if __name__ == "__main__":
    main()
