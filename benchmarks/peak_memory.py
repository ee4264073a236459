"""The peak resident memory of this process, for benchmarks that measure in a child process.

getrusage's ru_maxrss is kept across fork and exec on Linux: a child started by a parent that
once held 300 MB reports at least 300 MB. /proc/self/status's VmHWM belongs to the process's own
memory since its exec.
"""

from __future__ import annotations

import resource
from pathlib import Path

STATUS = Path("/proc/self/status")


def peak_mb() -> float:
    if STATUS.exists():
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
