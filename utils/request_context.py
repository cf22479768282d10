"""Per-request context (request id, time spent in the database and caches), held in contextvars.

Works in threads, gevent greenlets and eventlet green threads alike; pure, imports no framework.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_timings: ContextVar[dict[str, float] | None] = ContextVar("timings", default=None)


def start_request(rid: str) -> dict[str, float]:
    """Begin a request: set its id and give it empty timing buckets (returned: seconds per category, filled as the
    request runs)."""
    request_id.set(rid)
    buckets: dict[str, float] = {}
    _timings.set(buckets)
    return buckets


def add_time(category: str, seconds: float) -> None:
    """Add `seconds` to a timing bucket (e.g. "db", "cache") of the current request, if any."""
    buckets = _timings.get()
    if buckets is not None:
        buckets[category] = buckets.get(category, 0.0) + seconds


@contextmanager
def timed(category: str) -> Iterator[None]:
    """Measure the enclosed block into a timing bucket."""
    started = time.perf_counter()
    try:
        yield
    finally:
        add_time(category, time.perf_counter() - started)
