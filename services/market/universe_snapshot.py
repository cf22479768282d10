"""Every active stock's database snapshot, per exchange: the one cached copy per process that the views (movers,
sectors), the live board, the search index and the PEG table share (a copy of the universe's rows is megabytes at
10,000 instruments: docs/BENCHMARKS.md, memory). A reload shares the unchanged values of the rows it replaces."""

from __future__ import annotations

from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.market import stocks
from controller.market.stocks import StockQuote
from services.platform.cache_service import named_cache
from services.platform.green import pause
from utils.reference_data import EXCHANGES


def exchange_snapshot(exchange: str) -> list[StockQuote]:
    """Every active stock of an exchange with its database snapshot (cached for CACHE_TTL_QUOTES_S)."""

    cache = named_cache("exchange_quotes", _settings().cache_ttl_quotes_s, maxsize=4)

    def load() -> list[StockQuote]:
        # The rows of the snapshot being replaced (still served while this one loads, and kept by the live boards
        # built from it) lend the new rows every value that did not change: names, previous close, 52-week range.
        with db.connection() as conn:
            return stocks.exchange_quotes(conn, exchange, pause, cache.get(exchange) or ())

    return cache.get_or_load(exchange, load)


def universe_snapshot() -> list[StockQuote]:
    """Every active stock of every exchange, by stock id (the exchanges' cached snapshots)."""
    return sorted((q for exchange in sorted(EXCHANGES) for q in exchange_snapshot(exchange)), key=_stock_id)


def _stock_id(quote: StockQuote) -> int:
    return quote.stock_id


def _settings() -> Any:
    return app_extensions()["settings"]
