"""Stock search from an in-memory index, per process: no database round trip per query.

The instruments and their snapshot quotes are the universe's shared snapshot rows
(services/market/universe_snapshot.py), and the ranking (utils.search_rank) orders matches by those rows' traded values.
Both are re-read every CACHE_TTL_SEARCH_S (60 s), in the background while the previous ranking keeps serving (a
NamedCache's stale-while-revalidate): traded values move slowly, and while the market is open a row's price is the
live quote's. Not every CACHE_TTL_QUOTES_S: re-reading the universe's snapshot costs ~0.3 s of CPU at 10,000
instruments (docs/BENCHMARKS.md, search). The symbol and word index is rebuilt only when the rows show the instrument
list changed (a stock added, removed, renamed, moved exchange), or after CACHE_TTL_UNIVERSE_S (index memberships, which
rank NIFTY 50 members first, change with no such sign).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.market import search as search_sql
from controller.market.stocks import StockQuote
from services.market.live_overlay import fresh_stock_quotes
from services.market.live_price_cache import Quote
from services.market.universe_snapshot import universe_snapshot
from services.platform.cache_service import app_cache, named_cache
from services.platform.green import pause
from utils.search_index import Instrument, RankedSearch, SearchIndex


@dataclass(frozen=True)
class _Built:
    """A symbol and word index and the instrument list it was built from."""

    index: SearchIndex
    signature: tuple


@dataclass(frozen=True)
class _Snapshot:
    """The ranked index, the snapshot quote of each of its instruments (same order), and their JSON rows once encoded:
    a search result's rows are encoded once per snapshot (and once per live quote while the market is open), not per
    query."""

    ranked: RankedSearch
    quotes: tuple[StockQuote, ...]
    encoded: list[bytes | None]
    live: dict[int, tuple[Quote, bytes]]  # instrument's position -> the live quote its row was last encoded with


def _settings() -> Any:
    return app_extensions()["settings"]


def _signature(quotes: list[StockQuote]) -> tuple:
    return tuple((q.stock_id, q.symbol, q.company_name, q.exchange) for q in quotes)


def _index_for(quotes: list[StockQuote]) -> SearchIndex:
    """The kept index while the instrument list is unchanged (for up to CACHE_TTL_UNIVERSE_S), else a new one."""
    kept = app_cache("search_instruments", _settings().cache_ttl_universe_s, maxsize=1)
    signature = _signature(quotes)
    built: _Built | None = kept.get("all")
    if built is None or built.signature != signature:
        with db.connection() as conn:
            memberships = search_sql.index_memberships(conn)
        instruments = [
            Instrument(q.stock_id, q.symbol, q.company_name, q.exchange, memberships.get(q.stock_id, ()))
            for q in quotes
        ]
        built = _Built(SearchIndex(instruments), signature)
        kept.put("all", built)
    return built.index


def _load() -> _Snapshot:
    quotes = universe_snapshot()
    ranked = _index_for(quotes).ranked([quote.traded_value for quote in quotes], pause)
    return _Snapshot(ranked, tuple(quotes), [None] * len(quotes), {})


def _snapshot() -> _Snapshot:
    return named_cache("search_index", _settings().cache_ttl_search_s, maxsize=1).get_or_load("all", _load)


def ranking() -> RankedSearch:
    """This process's ranked index (loaded on first use)."""
    return _snapshot().ranked


def search_stocks(query: str, limit: int) -> list[StockQuote]:
    """Active stocks matching `query` (case-insensitive), best match first, with their snapshot quotes."""
    snapshot = _snapshot()
    return [snapshot.quotes[n] for n in snapshot.ranked.search(query, limit)]


def search_results(
    query: str, limit: int, encode: Callable[[StockQuote, Quote | None], bytes]
) -> tuple[list[bytes], bool]:
    """The JSON rows of `search_stocks`' results (`encode(row, live quote or None)`: fresh live quotes are laid over
    while the market is open), and whether any was live. Each row is encoded once per snapshot, or per live quote (rows
    are shared between responses)."""
    snapshot = _snapshot()
    encoded, lives, quotes = snapshot.encoded, snapshot.live, snapshot.quotes
    found = snapshot.ranked.search(query, limit)
    fresh = fresh_stock_quotes() if found else None
    rows, any_live = [], False
    for n in found:
        quote = quotes[n]
        live = None if fresh is None else fresh(quote.symbol)
        if live is None:
            row = encoded[n]
            if row is None:
                row = encoded[n] = encode(quote, None)
        else:
            any_live = True
            kept = lives.get(n)
            if kept is None or kept[0] is not live:
                kept = lives[n] = (live, encode(quote, live))
            row = kept[1]
        rows.append(row)
    return rows, any_live
