"""What the leader streams from Upstox: named sources of instruments, each with a priority and a mode.

The hook for every feature that needs live prices of some instruments: register a source once per app,

    stream_targets(app).register("alerts", active_alert_symbols, mode="ltpc", priority=30)

where `active_alert_symbols()` returns stock symbols (or, with kind="indices", index names); registering a
name again replaces its source (a shared cross-process registry can take over "client_subscriptions").
Every UPSTOX_FEED_TARGETS_INTERVAL_S the leader gathers all sources, highest priority (lowest number)
first, and subscribes what fits in the feed's limits (services/market_data/stream_plan.py); the rest is
polled over REST. The built-in sources:

| name | priority | mode | what |
|---|---|---|---|
| indices | 0 | full | every index (the index strip) |
| client_subscriptions | 10 | full | every symbol a Socket.IO client of this process subscribed to |
| open_orders | 20 | ltpc | the instruments of working orders (registered by services/runtime) |
| alerts, alert_volumes | 30 | ltpc, full | stocks with active alerts; in full for volume alerts (services/runtime) |
| movers_candidates | 40 | full | largest absolute change and highest traded value (UPSTOX_STREAM_MOVERS of each) |

A source that raises is logged and skipped; the others still count.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from flask import Flask

from services.market_data.stream_plan import Target
from services.market_data.upstox_codec import Kind, Mode
from services.realtime import payloads
from services.realtime.websocket_manager import process_subscriptions

log = logging.getLogger(__name__)
MOVERS_EVERY_S = 30.0


@dataclass(frozen=True)
class Source:
    """One registered source of instruments to stream."""

    name: str
    symbols: Callable[[], Iterable[str]]
    kind: Kind
    mode: Mode
    priority: int


class StreamTargets:
    """The registry of sources; `gather` turns them into feed targets (instrument keys), best first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, Source] = {}

    def register(
        self,
        name: str,
        symbols: Callable[[], Iterable[str]],
        mode: Mode = "full",
        priority: int = 50,
        kind: Kind = "stocks",
    ) -> None:
        """Stream what `symbols()` returns (stock symbols, or index names with kind="indices")."""
        with self._lock:
            self._sources[name] = Source(name, symbols, kind, mode, priority)

    def unregister(self, name: str) -> None:
        """Forget a source (nothing if it is not registered)."""
        with self._lock:
            self._sources.pop(name, None)

    def names(self) -> list[str]:
        """The registered sources, highest priority first."""
        return [source.name for source in self._ordered()]

    def gather(self, keys: Mapping[Kind, Mapping[str, str]]) -> list[Target]:
        """Every source's instruments as feed targets, highest priority first, each key once (at its best
        priority, in full when any source wants it so); `keys` maps kind -> symbol -> instrument key
        (instruments without a key are skipped)."""
        targets: dict[str, Target] = {}
        for source in self._ordered():
            try:
                symbols = list(source.symbols())
            except Exception:  # one broken source must not stop the feed from following the others
                log.exception("stream target source %s failed", source.name)
                continue
            known = keys.get(source.kind, {})
            for symbol in symbols:
                key = known.get(symbol)
                if key is None:
                    continue
                if key not in targets or source.mode == "full":
                    targets[key] = Target(key, source.mode)  # an upgrade keeps the key's place
        return list(targets.values())

    def _ordered(self) -> list[Source]:
        with self._lock:
            return sorted(self._sources.values(), key=lambda source: source.priority)


def stream_targets(app: Flask) -> StreamTargets:
    """The app's registry (created on first use)."""
    return app.extensions.setdefault("stream_targets", StreamTargets())


def register_default_sources(targets: StreamTargets, app: Flask) -> None:
    """The built-in stream sources: the indices, this process's clients' symbols, the movers' candidates
    (sources are asked inside the leader's jobs, in an app context)."""
    movers = MoversCandidates(app, app.extensions["settings"].upstox_stream_movers)
    targets.register("indices", lambda: payloads.directory().index_order, "full", 0, "indices")
    targets.register("client_subscriptions", process_subscriptions, "full", 10)
    targets.register("movers_candidates", movers, "full", 40)


class MoversCandidates:
    """The `count` stocks with the largest absolute change and the `count` with the highest traded value
    (ltp x volume) in the live cache, which for every instrument not streamed is its latest REST quote;
    recomputed every MOVERS_EVERY_S, and sooner while the cache is still filling (after a start)."""

    def __init__(self, app: Flask, count: int) -> None:
        self.cache = app.extensions["live_prices"]["stocks"]
        self.count = count
        self._at = -MOVERS_EVERY_S
        self._seen = 0  # quotes in the cache at the last computation
        self._symbols: list[str] = []

    def __call__(self) -> list[str]:
        """The candidates, by absolute change first."""
        if not self.count:
            return []
        cached = self.cache.snapshot()
        if time.monotonic() - self._at >= MOVERS_EVERY_S or len(cached) != self._seen:
            self._seen = len(cached)
            quotes = list(cached.values())
            moved = heapq.nlargest(self.count, quotes, key=lambda q: abs(q.change_pct))
            traded = heapq.nlargest(self.count, quotes, key=lambda q: q.ltp * q.volume)
            self._symbols = list(dict.fromkeys(q.symbol for q in moved + traded))
            self._at = time.monotonic()
        return self._symbols
