"""The market-data provider interface: instruments, quotes, candles and market status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from services.market.live_price_cache import Quote
from utils.errors import ServiceUnavailable
from utils.market_hours import MarketStatus

# Candle intervals every provider understands (the /stocks/history vocabulary).
INTERVALS = ("1minute", "5minute", "15minute", "30minute", "day", "week", "month")


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable instrument (or index) as the provider lists it."""

    symbol: str
    name: str
    exchange: str
    segment: str  # e.g. NSE_EQ, NSE_INDEX
    instrument_key: str | None
    isin: str | None = None
    tick_size: Decimal = Decimal("0.05")
    lot_size: int = 1


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; `ts` is the bar's start (aware UTC)."""

    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


class ProviderError(ServiceUnavailable):
    """The provider could not answer (upstream down, bad response, missing token): a 503 should it reach a
    response, though request paths fall back to the database snapshot (`forceLive`)."""


class TokenRejected(ProviderError):
    """The provider refused the access token (HTTP 401/403): it expired or was revoked; retrying will not help."""


@runtime_checkable
class MarketDataProvider(Protocol):
    """What the schedulers and routes need from a market-data source."""

    name: str  # "simulator" | "upstox"

    def quotes(self, symbols: list[str]) -> list[Quote]:
        """Latest quotes of the given stock symbols (unknown symbols are left out)."""
        ...

    def index_quotes(self, names: list[str]) -> list[Quote]:
        """Latest quotes of the given indices, `Quote.symbol` being the index name."""
        ...

    def candles(self, symbol: str, interval: str, start: datetime, end: datetime) -> list[Candle]:
        """Candles of `symbol` at `interval` (one of INTERVALS) between start and end, oldest first."""
        ...

    def instruments(self) -> list[Instrument]:
        """The instrument universe the provider can quote."""
        ...

    def market_status(self) -> MarketStatus:
        """The exchange's phase now, with the next session boundaries."""
        ...
