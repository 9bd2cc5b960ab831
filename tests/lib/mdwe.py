#!/usr/bin/env python3
"""mdwe.py CMD [ARG...]: run CMD with prctl(PR_SET_MDWE,
PR_MDWE_REFUSE_EXEC_GAIN), inherited across execve: no mapping may be
writable and executable at once, nor become executable, as under systemd's
MemoryDenyWriteExecute=yes (which denies the same with a seccomp filter)."""
import ctypes
import os
import sys

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit("mdwe.py: PR_SET_MDWE: %s (Linux 6.3 or later)"
             % os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
