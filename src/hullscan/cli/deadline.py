"""`--timeout`: a deadline on the main thread (SIGALRM), leaving no worker process behind.

When it expires, the signal handler terminates the walker processes this process forked (they are
`multiprocessing` children: walk/layers.py's pool), so the pool's shutdown does not wait for their
walks, then raises `_Expired` in the main thread wherever it is. `_Expired` is a BaseException: the
guards that turn a parser's or an analyzer's exception into a warning (`except Exception`) let it
through. Leaving the `with` block turns it into a FetchError (exit 3, DESIGN.md "Gates"). Threads
(blob hashing) are joined by their pools on the way out; nothing is written after expiry, because the
report is written after the deadline is disarmed.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType

from hullscan.errors import FetchError


class _Expired(BaseException):
    """Raised by the SIGALRM handler in the main thread."""


class Deadline:
    """`with Deadline(seconds, "5m"):` — the block raises FetchError when it runs longer (None: no limit)."""

    def __init__(self, seconds: float | None, text: str = "") -> None:
        self.seconds = seconds
        self.text = text or f"{seconds}s"
        self.armed = False
        self._installed = False
        self._previous: object = None

    def __enter__(self) -> Deadline:
        if self.seconds is None or not hasattr(signal, "setitimer"):
            return self
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            return self
        self._previous = signal.signal(signal.SIGALRM, self._expire)
        self._installed = self.armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def _expire(self, signum: int, frame: FrameType | None) -> None:
        if not self.armed:  # disarmed while the signal was on its way
            return
        self.armed = False
        _stop_children()
        raise _Expired

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if self._installed:
            self.armed = self._installed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]  # what signal.signal returned
        if isinstance(err, _Expired):
            raise FetchError(f"the scan took longer than --timeout {self.text} and was stopped") from None


def _stop_children() -> None:
    """Terminate this process's multiprocessing children (the layer walkers), if any were started."""
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return
    for child in mp.active_children():
        child.terminate()
