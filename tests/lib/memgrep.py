#!/usr/bin/env python3
"""memgrep.py - count the copies of a byte string in a process's memory.

  memgrep.py PID STRING...

Reads every writable mapping of PID (heap, stack, anonymous memory, the
data of the binary and its libraries) through /proc/PID/mem and prints
"STRING N" for each STRING: N copies found.  Mappings larger than 1 GiB
are reserved, not used (AddressSanitizer's shadow memory): skipped.  The process is neither
stopped nor changed.  Needs the right to ptrace PID (root, or the same
user with kernel.yama.ptrace_scope 0).  Exit 0, or 2 when PID's memory
cannot be read.  Stdlib only.
"""
import re
import sys

HUGE = 1 << 30
CHUNK = 4 << 20


def regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            perms = fields[1]
            name = fields[5] if len(fields) > 5 else ""
            if perms[0] == "r" and perms[1] == "w" and hi - lo <= HUGE and \
                    name not in ("[vvar]", "[vsyscall]"):
                yield lo, hi


def chunks(mem, lo, hi, overlap):
    """The region in pieces, each overlapping the last by overlap bytes."""
    at = lo
    while at < hi:
        mem.seek(at)
        data = mem.read(min(CHUNK + overlap, hi - at))
        if not data:
            return
        yield data
        at += CHUNK


def main():
    pid = int(sys.argv[1])
    needles = [s.encode("latin-1") for s in sys.argv[2:]]
    counts = [0] * len(needles)
    try:
        mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
        overlap = max(len(n) for n in needles) - 1
        for lo, hi in regions(pid):
            try:
                for data in chunks(mem, lo, hi, overlap):
                    for i, n in enumerate(needles):
                        # a copy inside the overlap is the next chunk's
                        counts[i] += sum(1 for m in re.finditer(
                            re.escape(n), data) if m.start() < CHUNK)
            except OSError:
                continue
    except OSError as e:
        sys.stderr.write("memgrep.py: %d: %s\n" % (pid, e))
        return 2
    for n, c in zip(sys.argv[2:], counts):
        print("%s %d" % (n, c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
