"""What the benchmark reads about a process (Linux ``/proc``): CPU time and memory.

Measured from outside, so the figures are the process's own: none of the load generator's
or the observer's work is in them. Elsewhere than Linux the functions return 0.0.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

PROC = Path("/proc")


def cpu_seconds(pid: int | str = "self") -> float:
    """User plus system CPU seconds the process has used so far (all its threads)."""
    return _stat_cpu_seconds(PROC / str(pid) / "stat")


def main_thread_cpu_seconds(pid: int | str = "self") -> float:
    """CPU seconds of the process's main thread alone. The hub's Python runs there (both
    stages, the event loop, the client calls); librdkafka's threads are the rest, so this
    says whether one core's worth of Python is what bounds a drain."""
    if pid == "self":
        pid = os.getpid()
    return _stat_cpu_seconds(PROC / str(pid) / "task" / str(pid) / "stat")


def _stat_cpu_seconds(path: Path) -> float:
    try:
        stat = path.read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces; everything after its ')' is space-separated.
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def memory_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """A ``/proc/<pid>/status`` memory field in MB: ``VmRSS`` now, ``VmHWM`` the peak."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int | str = "self") -> float:
    return memory_mb(pid, "VmHWM")


def interpreter() -> str:
    """The Python that ran the figures, by version and base executable: the same code costs
    ~15 % more CPU on a plain CPython build than on an optimised (PGO + LTO) one, so figures
    are only compared when they came from the same (see scripts/pick-python.sh)."""
    executable = os.path.realpath(sys.executable)  # a virtualenv's python links to its base
    return f"{platform.python_implementation()} {platform.python_version()} ({executable})"
