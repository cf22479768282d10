"""A crawl: ask a provider for each instrument's fundamentals and store them, a chunk at a time.

The same loop serves the crawler jobs (services/fundamentals/runs.py), the CLI and the seed. An instrument the
provider cannot answer for is recorded as failed with the reason and the crawl goes on; only the store failing (the
database) ends it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from controller.fundamentals.models import CrawlTarget, Fundamentals
from services.fundamentals.base import FundamentalsProvider, ProviderError
from services.platform.http_client import UpstreamError

log = logging.getLogger(__name__)
CHUNK = 100  # instruments stored per transaction
FAILURES_KEPT = 100  # failed instruments listed in a run's result (all are counted)

Store = Callable[[list[tuple[int, Fundamentals]]], None]


@dataclass
class CrawlReport:
    """How far a crawl got: instruments processed, updated (stored) and failed, with the first failures' reasons."""

    total: int
    processed: int = 0
    updated: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def fail(self, symbol: str, error: str) -> None:
        """Count one instrument as failed (and keep its reason while fewer than FAILURES_KEPT are kept)."""
        self.failed += 1
        if len(self.failures) < FAILURES_KEPT:
            self.failures.append({"symbol": symbol, "error": error[:300]})

    def summary(self) -> str:
        """One line: `12 updated, 1 failed of 13 in 0.4 s`."""
        return f"{self.updated} updated, {self.failed} failed of {self.total} in {self.seconds:.1f} s"


def describe(exc: Exception) -> str:
    """An instrument's failure as recorded: the provider's own message, or the exception's type and message."""
    if isinstance(exc, ProviderError | UpstreamError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def crawl(
    targets: Sequence[CrawlTarget],
    provider: FundamentalsProvider,
    store: Store,
    *,
    missing: Sequence[str] = (),
    on_progress: Callable[[CrawlReport, str], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    pause: Callable[[], None] | None = None,
) -> CrawlReport:
    """Fetch and store every target's fundamentals; `missing` symbols (asked for but unknown) count as failed."""
    started = time.perf_counter()
    report = CrawlReport(total=len(targets) + len(missing))
    for symbol in missing:
        report.fail(symbol, "unknown symbol (not an active NSE instrument with a quote)")
        report.processed += 1
    for first in range(0, len(targets), CHUNK):
        fetched: list[tuple[int, Fundamentals]] = []
        for target in targets[first : first + CHUNK]:
            if should_stop():
                report.cancelled = True
                break
            try:
                fetched.append((target.stock_id, provider.fetch(target)))
            except (ProviderError, UpstreamError) as exc:
                report.fail(target.symbol, describe(exc))
            except Exception as exc:  # a failure of one instrument must not stop the run
                log.exception("crawl: %s failed", target.symbol)
                report.fail(target.symbol, describe(exc))
            report.processed += 1
            if on_progress is not None:
                on_progress(report, target.symbol)
            if pause is not None:
                pause()
        if fetched:
            store(fetched)
            report.updated += len(fetched)
        if report.cancelled:
            break
    report.seconds = time.perf_counter() - started
    return report
