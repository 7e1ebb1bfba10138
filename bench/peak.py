"""A bench process's own peak memory, in KB.

`getrusage().ru_maxrss` is no good here: Linux carries the peak RSS across fork and exec, so
a process the bench starts would report at least the bench's own peak. `VmHWM` in
/proc/self/status belongs to the new program's address space alone.
"""

from __future__ import annotations

import resource


def peak_kb() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is
