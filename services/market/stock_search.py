"""Stock search from an in-memory index, per process: no database round trip per query.

The instruments and their snapshot quotes are the universe's shared snapshot rows (services/market/universe_snapshot.py,
refreshed every CACHE_TTL_QUOTES_S). The ranking (utils.search_rank) orders matches by the traded value of the
`stock_quotes` snapshot, which the quote writer refreshes every QUOTE_WRITE_INTERVAL_S; so the traded values are
re-read on that cadence (one two-column query, in the background while the previous ranking keeps serving: a
NamedCache's stale-while-revalidate). The symbol and word index
is rebuilt only when that read shows the instrument list changed (a stock added, removed, renamed, moved exchange),
or after CACHE_TTL_UNIVERSE_S (index memberships, which rank NIFTY 50 members first, change with no such sign).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.market import search as search_sql
from controller.market.stocks import StockQuote
from services.market.live_overlay import WEBSOCKET_CACHE, fresh_stock_quote, overlay_enabled, with_stock_quote
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
    with db.connection() as conn:
        traded = search_sql.traded_values(conn, pause)
    ranked = _index_for(quotes).ranked([traded.get(quote.stock_id) for quote in quotes], pause)
    return _Snapshot(ranked, tuple(quotes), [None] * len(quotes), {})


def _snapshot() -> _Snapshot:
    return named_cache("search_index", _settings().quote_write_interval_s, maxsize=1).get_or_load("all", _load)


def ranking() -> RankedSearch:
    """This process's ranked index (loaded on first use)."""
    return _snapshot().ranked


def search_stocks(query: str, limit: int) -> list[StockQuote]:
    """Active stocks matching `query` (case-insensitive), best match first, with their snapshot quotes."""
    snapshot = _snapshot()
    return [snapshot.quotes[n] for n in snapshot.ranked.search(query, limit)]


def search_results(query: str, limit: int, encode: Callable[[StockQuote], bytes]) -> tuple[list[bytes], bool]:
    """The JSON rows (`encode(row)`) of `search_stocks`' results, with fresh live quotes laid over while the market is
    open, and whether any was live. Each row is encoded once per snapshot, or per live quote (rows are shared
    between responses)."""
    snapshot = _snapshot()
    encoded, lives, quotes = snapshot.encoded, snapshot.live, snapshot.quotes
    is_open = overlay_enabled()
    rows, any_live = [], False
    for n in snapshot.ranked.search(query, limit):
        quote = quotes[n]
        live = fresh_stock_quote(quote.symbol) if is_open else None
        if live is None:
            row = encoded[n]
            if row is None:
                row = encoded[n] = encode(quote)
        else:
            any_live = True
            kept = lives.get(n)
            if kept is None or kept[0] is not live:
                kept = lives[n] = (live, encode(with_stock_quote(quote, live, WEBSOCKET_CACHE)))
            row = kept[1]
        rows.append(row)
    return rows, any_live
