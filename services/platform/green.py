"""Cooperative yielding for long CPU-bound work under gevent/eventlet (a no-op switch under threads)."""

import time
from collections.abc import Callable

from backend.extensions import socketio

# Long work pauses once it has held the event loop this long: a pause puts it behind every green thread that is
# ready (on a fan-out server, a writer per client after each pass: tens of ms), so pausing at every step delayed
# each tick's quotes by ~150 ms (docs/BENCHMARKS.md, fan-out at 10,000 instruments).
PAUSE_AFTER_S = 0.010


def pause() -> None:
    """Let other green threads (requests, the fan-out) run before the work goes on."""
    socketio.sleep(0)


class HeldPauses:
    """Pauses a piece of work once it has held the event loop for PAUSE_AFTER_S since it began or last paused."""

    def __init__(self, pause_fn: Callable[[], None] | None = None) -> None:
        self.pause = pause_fn or pause
        self._since = time.perf_counter()

    def begin(self) -> None:
        """The work (re)starts holding the loop now."""
        self._since = time.perf_counter()

    def check(self) -> None:
        """Pause if the work has held the loop for PAUSE_AFTER_S."""
        if time.perf_counter() - self._since >= PAUSE_AFTER_S:
            self.pause()
            self._since = time.perf_counter()
