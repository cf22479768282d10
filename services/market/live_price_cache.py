"""The live-price cache: the latest quote per instrument with its timestamp, laid over DB snapshots.

Filled by the tick path (every process updates its own copy from the tick bus); read by the
market-data routes, the order matcher and the Socket.IO fan-out. Readers ask for a *fresh* quote
(`fresh_since(oldest)`: a lookup for a pass over rows) so a stalled feed falls back to the database instead of serving
stale prices as live.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from backend.extensions import app_extensions

_HUNDRED = Decimal(100)


class Quote(NamedTuple):
    """One instrument's latest quote (stocks and indices alike; indices have volume 0). A named tuple: immutable like
    a frozen dataclass, and made in a quarter of the time (0.28 against 0.91 µs; the tick path makes one per
    instrument per tick)."""

    symbol: str
    ltp: Decimal
    prev_close: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    volume: int
    as_of: datetime  # aware UTC
    source: str = "websocket_cache"

    @property
    def change_value(self) -> Decimal:
        """ltp - previous close."""
        return self.ltp - self.prev_close

    @property
    def change_pct(self) -> Decimal:
        """Percent change vs the previous close (4 decimals)."""
        if not self.prev_close:
            return Decimal(0)
        return (self.change_value * _HUNDRED / self.prev_close).quantize(Decimal("0.0001"))

    @property
    def intraday_change_pct(self) -> Decimal:
        """Percent change vs the day's open (4 decimals)."""
        if not self.day_open:
            return Decimal(0)
        return ((self.ltp - self.day_open) * _HUNDRED / self.day_open).quantize(Decimal("0.0001"))


class LivePriceCache:
    """Thread-safe map symbol → latest Quote, with a version counter bumped on every update."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._quotes: dict[str, Quote] = {}
        self._newest: datetime | None = None  # kept by update: a quote never gives way to an older one
        self._listeners: list[Callable[[list[Quote]], None]] = []
        self.version = 0
        self.generation = 0  # bumped by clear(): what listeners kept is void

    def listen(self, listener: Callable[[list[Quote]], None]) -> None:
        """Call `listener(stored quotes)` after every update that stored some (in-memory rankings kept per tick)."""
        with self._lock:
            self._listeners = [*self._listeners, listener]

    def update(self, quotes: Iterable[Quote]) -> int:
        """Store quotes (an older quote never replaces a newer one); return how many were stored."""
        stored: list[Quote] = []
        with self._lock:
            cached, newest = self._quotes, self._newest
            for quote in quotes:
                current = cached.get(quote.symbol)
                as_of = quote.as_of
                if current is None or as_of >= current.as_of:
                    cached[quote.symbol] = quote
                    stored.append(quote)
                    if newest is None or as_of > newest:
                        newest = as_of
            if stored:
                self.version += 1
                self._newest = newest
            listeners = self._listeners
        for listener in listeners if stored else ():
            listener(stored)
        return len(stored)

    def get(self, symbol: str) -> Quote | None:
        """The latest quote of `symbol`, however old."""
        return self._quotes.get(symbol)

    def fresh_since(self, oldest: datetime) -> Callable[[str], Quote | None]:
        """A lookup of the latest quote of a symbol if it is from `oldest` on, else None: for a pass over many rows
        (one comparison per row rather than an age worked out for each)."""
        quotes = self._quotes  # clear() empties this same dict

        def lookup(symbol: str) -> Quote | None:
            quote = quotes.get(symbol)
            return quote if quote is not None and quote.as_of >= oldest else None

        return lookup

    def snapshot(self) -> dict[str, Quote]:
        """A copy of every cached quote."""
        with self._lock:
            return dict(self._quotes)

    def newest_as_of(self) -> datetime | None:
        """The timestamp of the most recent quote (feed freshness), or None when empty."""
        return self._newest

    def clear(self) -> None:
        """Forget everything (tests, provider switch)."""
        with self._lock:
            self._quotes.clear()
            self._newest = None
            self.version += 1
            self.generation += 1


def stock_prices() -> LivePriceCache:
    """The current app's stock price cache."""
    return app_extensions()["live_prices"]["stocks"]


def index_prices() -> LivePriceCache:
    """The current app's index price cache."""
    return app_extensions()["live_prices"]["indices"]


def init_app(app) -> None:
    """Give the app its two caches (stocks by symbol, indices by name)."""
    app.extensions["live_prices"] = {"stocks": LivePriceCache("stocks"), "indices": LivePriceCache("indices")}
