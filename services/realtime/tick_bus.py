"""The tick bus: providers' quote batches go out to every subscriber of this process.

In process by default (publish calls each subscriber in turn); with REDIS_URL set, the Redis-backed
bus (services/realtime/tick_bus_redis.py, chosen by services/realtime/bus.py) also carries each batch to
every other process (docs/ARCHITECTURE.md, scale-out). Subscribers are the live-price cache, the Socket.IO
fan-out, the writer (leader only) and the order matcher.
A subscriber that raises is logged and counted; the others still get the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from backend.extensions import app_extensions
from services.market.live_price_cache import Quote
from utils import metrics
from utils.errors import already_logged
from utils.timeutil import now_utc

log = logging.getLogger(__name__)
Kind = Literal["stocks", "indices"]


@dataclass(frozen=True)
class TickBatch:
    """Quotes of one kind polled together; indices are keyed by name."""

    kind: Kind
    quotes: tuple[Quote, ...]
    published_at: datetime = field(default_factory=now_utc)


Subscriber = Callable[[TickBatch], None]


class TickBus(Protocol):
    """Publish batches; subscribe callbacks that receive every batch."""

    def publish(self, batch: TickBatch) -> None:
        """Deliver `batch` to every subscriber."""
        ...

    def subscribe(self, callback: Subscriber, name: str | None = None) -> None:
        """Call `callback(batch)` for every batch published from now on."""
        ...

    def unsubscribe(self, callback: Subscriber) -> None:
        """Stop calling `callback`."""
        ...

    def start(self) -> None:
        """Start receiving other processes' batches (a no-op in process)."""
        ...

    def stop(self) -> None:
        """Stop receiving other processes' batches."""
        ...


class InProcessTickBus:
    """Subscribers run synchronously in the publisher's green thread, in subscription order."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []

    def publish(self, batch: TickBatch) -> None:
        """Deliver `batch` to every subscriber; one that raises does not stop the others."""
        metrics.TICKS.labels(batch.kind).inc(len(batch.quotes))
        for name, callback in list(self._subscribers):
            try:
                callback(batch)
            except Exception as exc:  # a subscriber's bug must not stall the feed for the others
                metrics.TICK_SUBSCRIBER_ERRORS.labels(name).inc()
                if not already_logged(exc):
                    log.exception("tick subscriber %s failed", name)

    def subscribe(self, callback: Subscriber, name: str | None = None) -> None:
        """Add a subscriber (named for logs and metrics)."""
        self._subscribers.append((name or getattr(callback, "__qualname__", "subscriber"), callback))

    def unsubscribe(self, callback: Subscriber) -> None:
        """Remove a subscriber (no error if it is not subscribed)."""
        self._subscribers = [(n, cb) for n, cb in self._subscribers if cb != callback]

    def start(self) -> None:
        """Nothing to receive: every batch is published in this process."""

    def stop(self) -> None:
        """Nothing to stop."""


def tick_bus() -> TickBus:
    """The current app's tick bus."""
    return app_extensions()["tick_bus"]
