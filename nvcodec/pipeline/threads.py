"""The CPU threads an encode trains with: ``--threads``, or as many as the cores this process may
run on that other processes leave free, sampled from ``/proc/stat`` just before the work they
serve (on 2 cores beside one CPU-bound process, one thread: two threads on one free core lose far
more than half their speed, as each waits on the other at every operation).

Outside Linux (no ``/proc/stat``) every allowed core counts as free.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

SAMPLE_SECONDS = 0.1
"""How long the machine's load is sampled."""
PROC_STAT = Path("/proc/stat")


def allowed_cores() -> int:
    """Cores this process may run on (its affinity mask; all of them where there is none)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of all CPUs since boot, or None where they cannot be read."""
    try:
        fields = PROC_STAT.read_text().split("\n", 1)[0].split()
        values = [float(v) for v in fields[1:]]
    except (OSError, ValueError, IndexError):
        return None
    if fields[0] != "cpu" or len(values) < 4:
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


def busy_elsewhere(seconds: float = SAMPLE_SECONDS) -> float | None:
    """Cores kept busy by other processes over the next ``seconds`` (this one's CPU time taken
    out), or None where the load cannot be read."""
    before, own = _cpu_times(), time.process_time()
    time.sleep(seconds)
    after, own = _cpu_times(), time.process_time() - own
    if before is None or after is None or after[1] <= before[1]:
        return None
    share = (after[0] - before[0]) / (after[1] - before[1])
    return max(0.0, share * (os.cpu_count() or 1) - own / seconds)


def free_cores(seconds: float = SAMPLE_SECONDS) -> int:
    """Allowed cores that other processes leave free (at least one)."""
    allowed = allowed_cores()
    if allowed == 1:
        return 1  # nothing to choose: the load is not sampled
    busy = busy_elsewhere(seconds)
    if busy is None:
        return allowed
    return max(1, min(allowed, round((os.cpu_count() or allowed) - busy)))


def choose_threads(requested: int | None) -> int:
    """``requested`` (``--threads``), else :func:`free_cores`; torch set to it."""
    threads = requested or free_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


@contextmanager
def fit_threads(requested: int | None) -> Iterator[int]:
    """Torch on :func:`choose_threads`'s count (yielded) for the block, then back to what it was."""
    previous = torch.get_num_threads()
    try:
        yield choose_threads(requested)
    finally:
        torch.set_num_threads(previous)
