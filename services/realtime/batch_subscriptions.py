"""Connections that asked for batched price updates: one `price_updates` list per interval, not one event per symbol.

Per-symbol rooms cost one WebSocket message per subscriber per symbol; a dashboard with 20 symbols
is 20 messages a second. In batch mode (`subscribe {symbols, mode: "batch"}`) the fan-out sends
each such connection a single message per pass with every subscribed symbol that changed
(batching per client is what keeps a Python server's fan-out cheap: docs/BENCHMARKS.md, fan-out).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable

from backend.extensions import app_extensions


class BatchSubscriptions:
    """symbol -> connection ids in batch mode, and the reverse, under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_symbol: dict[str, set[str]] = {}
        self._by_sid: dict[str, set[str]] = {}

    def symbols(self, sid: str) -> set[str]:
        """The symbols `sid` receives in batches."""
        with self._lock:
            return set(self._by_sid.get(sid, ()))

    def add(self, sid: str, symbols: Iterable[str]) -> None:
        """Subscribe `sid` to `symbols`."""
        with self._lock:
            mine = self._by_sid.setdefault(sid, set())
            for symbol in symbols:
                mine.add(symbol)
                self._by_symbol.setdefault(symbol, set()).add(sid)

    def remove(self, sid: str, symbols: Iterable[str]) -> None:
        """Unsubscribe `sid` from `symbols`."""
        with self._lock:
            mine = self._by_sid.get(sid, set())
            for symbol in symbols:
                mine.discard(symbol)
                subscribers = self._by_symbol.get(symbol)
                if subscribers is not None:
                    subscribers.discard(sid)
                    if not subscribers:
                        del self._by_symbol[symbol]
            if not mine:
                self._by_sid.pop(sid, None)

    def all_symbols(self) -> set[str]:
        """Every symbol some connection of this process receives in batches."""
        with self._lock:
            return set(self._by_symbol)

    def drop(self, sid: str) -> None:
        """Forget a disconnected `sid`."""
        self.remove(sid, self.symbols(sid))

    def recipients(self, symbols: Collection[str]) -> dict[str, list[str]]:
        """sid -> the given symbols it receives (only sids with at least one)."""
        with self._lock:
            subscriptions = [(sid, list(mine)) for sid, mine in self._by_sid.items()]
        result = {}
        for sid, mine in subscriptions:
            hits = [symbol for symbol in mine if symbol in symbols]
            if hits:
                result[sid] = hits
        return result


def batch_subscriptions() -> BatchSubscriptions:
    """The current app's registry (created on first use)."""
    return app_extensions().setdefault("batch_subscriptions", BatchSubscriptions())
