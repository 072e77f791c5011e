"""The benches' timer: the best of several runs (the machine is shared: the best run is the least
disturbed), in wall time or in this process's CPU time."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int = 15, clock: Callable[[], float] = time.perf_counter) -> float:
    """Best time of `repeat` calls of `fn`, in ms; `clock=time.process_time` for CPU time."""
    best = float("inf")
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best * 1000
