"""The PEG table and a stock's fundamentals as the API serves them, at the current price, from memory.

The stored figures are read once per CACHE_TTL_FUNDAMENTALS_S (and again at once after a crawl in this process).
The app keeps one priced `Book`; a request older than one fan-out interval (FANOUT_INTERVAL_MS) re-prices it when
prices moved (the live-price cache's version, the database snapshot or the market phase changed), at least every
REPRICE_EVERY_S: the current price is the live quote while the market is open and the quote is fresher than
LIVE_CACHE_MAX_AGE_S, else the snapshot. Pages are memoised per book, by query and by the raw query string that asked
for it, so a repeated request is a lookup by its query string (not parsed again) and P/E and PEG follow the live price
within one fan-out interval.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import numpy as np

from backend import db
from backend.extensions import app_extensions
from controller.fundamentals import store
from services.fundamentals.book import SORTABLE, Base, Book, Page
from services.market.live_price_cache import stock_prices
from services.market.market_clock import clock, market_open_now
from services.market.universe_snapshot import exchange_snapshot
from services.platform.cache_service import NamedCache, named_cache
from services.platform.green import pause
from utils.errors import NotFound, ValidationError, field_error
from utils.quote_format import number
from utils.ratios import rounded

REPRICE_EVERY_S = 1.0  # even without new quotes: a quote may have turned stale meanwhile
EXCHANGE = "NSE"


def _settings() -> Any:
    return app_extensions()["settings"]


def _base() -> Base:
    def load() -> Base:
        with db.connection() as conn:
            return Base.from_rows(store.table_rows(conn, pause))

    return named_cache("fundamentals", _settings().cache_ttl_fundamentals_s, maxsize=1).get_or_load("table", load)


def _quarters_cache() -> NamedCache:
    return named_cache("fundamental_quarters", _settings().cache_ttl_fundamentals_s, maxsize=4096)


def forget_stored() -> None:
    """Re-read the stored figures and re-price on the next request (a crawl in this process has just written them),
    so neither the book nor the pages it remembers outlive the figures they were computed from."""
    named_cache("fundamentals", _settings().cache_ttl_fundamentals_s, maxsize=1).invalidate("table")
    _quarters_cache().clear()
    table().recheck()


class PegTable:
    """One app's current book, re-priced at most once per fan-out interval (thread- and greenlet-safe)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._book: Book | None = None
        self._inputs: tuple = ()
        self._built_at = 0.0
        self._checked_at = 0.0
        self._snapshot_prices: tuple[Base | None, Any, np.ndarray] = (None, None, np.empty(0))
        self._lock = threading.Lock()

    def book(self) -> Book:
        """The current book (built now when none is recent enough and prices moved)."""
        current, now = self._book, time.monotonic()
        if current is not None and now - self._checked_at < self.interval_s:
            return current
        inputs = (_base(), exchange_snapshot(EXCHANGE), stock_prices().version, market_open_now())
        if current is not None and now - self._built_at < REPRICE_EVERY_S and self._same(inputs):
            self._checked_at = now  # nothing moved: look again in one interval
            return current
        if not self._lock.acquire(blocking=current is None):
            return current  # another request is re-pricing: serve the previous book meanwhile
        try:
            if self._book is not current:
                return self._book
            base, snapshot, _, is_open = inputs
            price, live = self._prices(base, snapshot, is_open)
            self._book = Book(base, price, live, clock())
            self._inputs = inputs
            self._built_at = self._checked_at = time.monotonic()
            return self._book
        finally:
            self._lock.release()

    def recheck(self) -> None:
        """Look at the inputs again on the next request, however recent the book (a new book if they changed)."""
        self._checked_at = float("-inf")

    def _same(self, inputs: tuple) -> bool:
        """Whether nothing a book is priced from changed: the same stored figures and snapshot (the same objects),
        the same live-cache version and market phase."""
        known = self._inputs
        return bool(known) and inputs[0] is known[0] and inputs[1] is known[1] and inputs[2:] == known[2:]

    def _prices(self, base: Base, snapshot: list, is_open: bool) -> tuple[np.ndarray, bool]:
        """Each instrument's current price: its fresh live quote while the market is open, else the snapshot."""
        known_base, known_snapshot, stored = self._snapshot_prices
        if known_base is not base or known_snapshot is not snapshot:
            ltp = {row.symbol: float(row.ltp) for row in snapshot}
            stored = np.array([ltp.get(symbol, np.nan) for symbol in base.symbols], dtype=np.float64)
            self._snapshot_prices = (base, snapshot, stored)
        price, live = stored.copy(), False
        if is_open:
            oldest = clock() - timedelta(seconds=_settings().live_cache_max_age_s)
            for symbol, quote in stock_prices().snapshot().items():
                i = base.index.get(symbol)
                if i is not None and quote.as_of >= oldest:
                    price[i] = float(quote.ltp)
                    live = True
        return price, live


def table() -> PegTable:
    """The current app's PEG table."""
    found = app_extensions().get("peg_table")
    if found is None:
        found = app_extensions().setdefault("peg_table", PegTable(_settings().fanout_interval_ms / 1000))
    return found


def parse_sort(sort: str) -> tuple[str, bool]:
    """`FIELD` or `FIELD:asc|desc` (ascending by default); 400 listing the valid fields otherwise."""
    name, _, direction = sort.partition(":")
    if name not in SORTABLE or direction not in ("", "asc", "desc"):
        raise ValidationError(
            f"unknown sort {sort!r}",
            details={"allowed": list(SORTABLE), "directions": ["asc", "desc"]},
            fields=[field_error("sort", f"FIELD or FIELD:asc|desc, FIELD one of {', '.join(SORTABLE)}")],
        )
    return name, direction == "desc"


def sector_index(book: Book, sector: str | None) -> int | None:
    """The book's index of a sector name (exact); 400 listing the sectors otherwise."""
    if sector is None:
        return None
    try:
        return book.base.sector_names.index(sector)
    except ValueError:
        names = list(book.base.sector_names)
        raise ValidationError(
            f"unknown sector {sector[:64]!r}",
            details={"allowed": names},
            fields=[field_error("sector", f"one of {', '.join(names)}")],
        ) from None


def rows(filters: dict[str, Any], sort: str, limit: int, offset: int, query_string: bytes | None = None) -> Page:
    """(one page of rows, the envelope's other fields) for the PEG table query; the same objects for a repeated
    query within a book. With the request's `query_string` (validated into this query), `answered` finds the page
    by that string alone until the book is replaced."""
    book = table().book()
    key = (tuple(sorted(filters.items())), sort, limit, offset)
    page = book.pages.get(key)
    if page is None:
        page = _page(book, filters, sort, limit, offset)
        book.pages.put(key, page)
    if query_string is not None:
        book.answered.put(query_string, page)
    return page


def answered(query_string: bytes) -> Page | None:
    """The current book's page for a query string that `rows` has already answered, or None: a repeated request
    skips parsing and validation (the first one with this string passed them), and a re-priced book answers anew."""
    return table().book().answered.get(query_string)


def _page(book: Book, filters: dict[str, Any], sort: str, limit: int, offset: int) -> Page:
    order = parse_sort(sort)
    chosen = book.select(order, sector_index(book, filters.get("sector")), **_numeric(filters))
    data = [book.row(int(i)) for i in chosen[offset : offset + limit]]
    extra = {
        "count": len(data),
        "total": int(chosen.size),
        "limit": limit,
        "offset": offset,
        "sort": f"{order[0]}:{'desc' if order[1] else 'asc'}",
        "price_source": book.price_source,
        "priced_at": book.priced_at,
        "simulated": book.base.simulated,
    }
    return data, extra


def _numeric(filters: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in filters.items() if name != "sector"}


CSV_HEADER = [
    "symbol",
    "company_name",
    "sector",
    "price",
    "pe",
    "eps_ttm",
    "eps_growth_yoy_pct",
    "eps_cagr_3y_pct",
    "peg",
    "peg_basis",
    "market_cap",
    "pb",
    "dividend_yield",
    "roe",
    "as_of",
    "source",
    "reasons",
]


def csv_table(filters: dict[str, Any], sort: str, max_rows: int) -> list[list[Any]]:
    """Every row of the query (at most `max_rows`) as CSV cells; reasons as `pe=negative_earnings;peg=...`."""
    data, _ = rows(filters, sort, max_rows, 0)
    return [
        [*(row[h] for h in CSV_HEADER[:-1]), ";".join(f"{k}={v}" for k, v in row["reasons"].items())] for row in data
    ]


def stock(symbol: str) -> dict[str, Any]:
    """A stock's fundamentals at the current price: stored figures, ratios, sector median P/E, its rank in the sector
    by PEG and its quarters; NotFound for a symbol outside the table."""
    book = table().book()
    i = book.base.index.get(symbol)
    if i is None:
        raise NotFound(f"unknown symbol {symbol!r}")
    base, v = book.base, book.values
    stock_id = base.stock_ids[i]

    def load() -> list[dict[str, Any]]:
        with db.connection() as conn:
            found = store.quarters_of(conn, stock_id)
        return [
            {
                "period_end": q["period_end"].isoformat(),
                "revenue": number(q["revenue"]),
                "net_profit": number(q["net_profit"]),
                "eps": number(q["eps"]),
            }
            for q in found
        ]

    shares = v["shares"][i]
    return {
        **book.row(i),
        "shares_outstanding": None if np.isnan(shares) else int(shares),
        "book_value_per_share": rounded(v["book_value_per_share"][i]),
        "dividend_per_share": rounded(v["dividend_per_share"][i]),
        "debt_to_equity": rounded(v["debt_to_equity"][i]),
        "period_end": base.period_end[i],
        "price_source": book.price_source,
        "priced_at": book.priced_at,
        "simulated": base.sources[i] == "simulator",
        "sector_median_pe": rounded(book.sector_median_pe[base.sector_of[i]]),
        "sector_peg_rank": book.sector_rank(i),
        "quarters": _quarters_cache().get_or_load(stock_id, load),
    }
