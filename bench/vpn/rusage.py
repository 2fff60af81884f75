#!/usr/bin/env python3
"""rusage.py OUT CMD... - run CMD, then write "wall user sys maxrss_kb" to OUT.

GNU time prints user and sys time in hundredths of a second: a probe run of
a few hundred VPN targets uses 0.1 s, so its figures would move by 10 % at
each tick. wait4's rusage has microseconds. Exits with CMD's status.
"""
import os
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: rusage.py OUT CMD...\n")
        return 2
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    with open(out, "w") as f:
        f.write("%.3f %.6f %.6f %d\n" % (wall, ru.ru_utime, ru.ru_stime,
                                         ru.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
