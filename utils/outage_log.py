"""The log of a dependency's outage: said once when it starts, summarised while it lasts, said again when it ends.

A database that stops answering fails every request; a WARNING per failure buried everything else in the
log (about 17,000 lines in 15 s). Each failure is counted by its caller's metric instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable


class OutageLog:
    """Failures of one dependency: the first of an outage is logged at once, the rest in a summary line at most
    every `summary_every_s` while they go on, and the first success after them ends the outage with one line."""

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        summary_every_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log, self.what, self.summary_every_s, self.clock = log, what, summary_every_s, clock
        self._lock = threading.Lock()
        self.down = False
        self._started = self._summarised = 0.0
        self._total: Counter[str] = Counter()
        self._unsummarised: Counter[str] = Counter()

    def failed(self, reason: str, error: BaseException | None = None) -> None:
        """Record one failure; log it only if it starts an outage, or if a summary is due."""
        with self._lock:
            now = self.clock()
            if not self.down:
                self.down, self._started, self._summarised = True, now, now
                self._total = Counter({reason: 1})
                self._unsummarised = Counter()
                cause = f": {error.__class__.__name__}" if error is not None else ""
                self.log.warning(
                    "%s unavailable (%s%s); further failures are counted and summarised every %.0f s until it is back",
                    self.what,
                    reason,
                    cause,
                    self.summary_every_s,
                )
                return
            self._total[reason] += 1
            self._unsummarised[reason] += 1
            if now - self._summarised < self.summary_every_s:
                return
            window, self._summarised = now - self._summarised, now
            counts, self._unsummarised = self._unsummarised, Counter()
        self.log.warning(
            "%s still unavailable after %.0f s: %d failures in the last %.0f s (%s)",
            self.what,
            now - self._started,
            sum(counts.values()),
            window,
            _breakdown(counts),
        )

    def succeeded(self) -> None:
        """Record a success: it ends an outage, if one is going on (a cheap check when none is)."""
        if not self.down:
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
            lasted, total = self.clock() - self._started, self._total
        self.log.warning(
            "%s available again after %.1f s; %d failures during the outage (%s)",
            self.what,
            lasted,
            sum(total.values()),
            _breakdown(total),
        )


def _breakdown(counts: Counter[str]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in counts.most_common())
