"""The PEG table's data: the stored fundamentals of every instrument as arrays (`Base`), and those priced at one
moment (`Book`): ratios, sector medians and ranks, sort orders and served rows, each computed once per book.

A book is immutable once built (its memo dicts only grow), so any number of requests read it at once; the app
replaces it with a newly priced one as prices move (services/fundamentals/peg_table.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from utils import ratios
from utils.locked_cache import LockedCache
from utils.ratios import BASES, rounded
from utils.timeutil import iso_ist

FIGURES = {  # array name -> column of controller/fundamentals/store.table_rows
    "shares": "shares_outstanding",
    "eps_ttm": "eps_ttm",
    "eps_growth_yoy_pct": "eps_growth_yoy_pct",
    "eps_cagr_3y_pct": "eps_cagr_3y_pct",
    "book_value_per_share": "book_value_per_share",
    "dividend_per_share": "dividend_per_share",
    "roe": "roe_pct",
    "debt_to_equity": "debt_to_equity",
}
TEXT_FIELDS = ("symbol", "company_name", "sector")
NUMBER_FIELDS = (
    "peg",
    "pe",
    "price",
    "eps_ttm",
    "eps_growth_yoy_pct",
    "eps_cagr_3y_pct",
    "market_cap",
    "pb",
    "dividend_yield",
    "roe",
)
SORTABLE = NUMBER_FIELDS + TEXT_FIELDS
PAGES_KEPT = 256  # distinct queries (and query strings) one book remembers the answer of, the least recent go first
Page = tuple[list[dict[str, Any]], dict[str, Any]]  # (rows, the envelope's other fields)


def _floats(rows: Sequence[dict[str, Any]], column: str) -> np.ndarray:
    return np.array([np.nan if row[column] is None else float(row[column]) for row in rows], dtype=np.float64)


def _ascending(values: Sequence[str]) -> np.ndarray:
    return np.array(sorted(range(len(values)), key=lambda i: (values[i].casefold(), values[i])), dtype=np.int64)


@dataclass(frozen=True)
class Base:
    """Every instrument of the table with its stored figures (NaN where missing), in symbol order."""

    stock_ids: tuple[int, ...]
    symbols: tuple[str, ...]
    company_names: tuple[str, ...]
    sectors: tuple[str, ...]
    sector_names: tuple[str, ...]
    sector_of: np.ndarray
    index: dict[str, int]
    figures: dict[str, np.ndarray]
    sources: tuple[str | None, ...]
    as_of: tuple[str | None, ...]
    period_end: tuple[str | None, ...]
    orders: dict[str, np.ndarray]  # ascending order of each text field
    symbol_rank: np.ndarray  # each row's position in symbol order (the tie-break of every sort)

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> Base:
        """Build from controller/fundamentals/store.table_rows."""
        symbols = tuple(row["symbol"] for row in rows)
        sectors = tuple(row["sector"] for row in rows)
        sector_names = tuple(sorted(set(sectors)))
        position = {name: i for i, name in enumerate(sector_names)}
        sector_of = np.array([position[s] for s in sectors], dtype=np.int64)
        by_symbol = _ascending(symbols)
        symbol_rank = np.empty(len(rows), dtype=np.int64)
        symbol_rank[by_symbol] = np.arange(len(rows))
        orders = {
            "symbol": by_symbol,
            "company_name": _ascending([row["company_name"] for row in rows]),
            "sector": np.lexsort((symbol_rank, sector_of)),
        }
        return cls(
            stock_ids=tuple(row["stock_id"] for row in rows),
            symbols=symbols,
            company_names=tuple(row["company_name"] for row in rows),
            sectors=sectors,
            sector_names=sector_names,
            sector_of=sector_of,
            index={symbol: i for i, symbol in enumerate(symbols)},
            figures={name: _floats(rows, column) for name, column in FIGURES.items()},
            sources=tuple(row["source"] for row in rows),
            as_of=tuple(iso_ist(row["as_of"]) if row["as_of"] else None for row in rows),
            period_end=tuple(row["period_end"].isoformat() if row["period_end"] else None for row in rows),
            orders=orders,
            symbol_rank=symbol_rank,
        )

    @property
    def simulated(self) -> bool:
        """Whether any instrument's figures come from the simulator."""
        return "simulator" in self.sources


class Book:
    """The base priced at one moment: every ratio, the sectors' median P/E, each stock's rank in its sector by
    PEG; sort orders, filters and served rows on demand (memoised)."""

    def __init__(self, base: Base, price: np.ndarray, live: bool, priced_at: datetime) -> None:
        self.base = base
        self.price = price
        self.price_source = "websocket_cache" if live else "database"
        self.priced_at = iso_ist(priced_at)
        f = base.figures
        self.ratios = ratios.compute(
            price,
            f["shares"],
            f["eps_ttm"],
            f["eps_cagr_3y_pct"],
            f["eps_growth_yoy_pct"],
            f["book_value_per_share"],
            f["dividend_per_share"],
        )
        self.values = {**f, **self.ratios.values, "price": price}
        self.sector_median_pe = ratios.group_medians(self.values["pe"], base.sector_of, len(base.sector_names))
        self.peg_rank, self.peg_rank_of = ratios.group_ranks(self.values["peg"], base.sector_of)
        self.pages = LockedCache(PAGES_KEPT)  # normalised query -> Page
        self.answered = LockedCache(PAGES_KEPT)  # raw query string -> Page: a repeated request is not parsed again
        self._orders: dict[tuple[str, bool], np.ndarray] = {}
        self._rows: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def order(self, field: str, descending: bool) -> np.ndarray:
        """Row indices sorted by `field` (one of SORTABLE), undefined values last either way, ties by symbol."""
        key = (field, descending)
        found = self._orders.get(key)
        if found is None:
            if field in TEXT_FIELDS:
                found = self.base.orders[field][::-1] if descending else self.base.orders[field]
            else:
                values = self.values[field]
                found = np.lexsort((self.base.symbol_rank, -values if descending else values))
            self._orders[key] = found
        return found

    def select(
        self,
        sort: tuple[str, bool],
        sector: int | None = None,
        peg_max: float | None = None,
        pe_max: float | None = None,
        growth_min: float | None = None,
        min_market_cap: float | None = None,
        exclude_null: bool = False,
    ) -> np.ndarray:
        """The indices of the rows that pass every given filter, in `sort` order (undefined values never pass)."""
        keep = np.ones(self.price.size, dtype=bool)
        v = self.values
        with np.errstate(invalid="ignore"):
            if sector is not None:
                keep &= self.base.sector_of == sector
            if peg_max is not None:
                keep &= v["peg"] <= peg_max
            if pe_max is not None:
                keep &= v["pe"] <= pe_max
            if growth_min is not None:
                keep &= self.ratios.growth >= growth_min
            if min_market_cap is not None:
                keep &= v["market_cap"] >= min_market_cap
            if exclude_null:
                keep &= ~np.isnan(v["peg"])
        order = self.order(*sort)
        return order[keep[order]]

    def row(self, i: int) -> dict[str, Any]:
        """The served row of instrument `i` (the same dict for every page of this book)."""
        found = self._rows.get(i)
        if found is None:
            base, v = self.base, self.values
            market_cap = v["market_cap"][i]
            found = {
                "symbol": base.symbols[i],
                "company_name": base.company_names[i],
                "sector": base.sectors[i],
                "price": rounded(v["price"][i]),
                "pe": rounded(v["pe"][i]),
                "eps_ttm": rounded(v["eps_ttm"][i]),
                "eps_growth_yoy_pct": rounded(v["eps_growth_yoy_pct"][i]),
                "eps_cagr_3y_pct": rounded(v["eps_cagr_3y_pct"][i]),
                "peg": rounded(v["peg"][i]),
                "peg_basis": BASES[self.ratios.basis[i]],
                "market_cap": None if np.isnan(market_cap) else int(round(market_cap)),
                "pb": rounded(v["pb"][i]),
                "dividend_yield": rounded(v["dividend_yield"][i]),
                "roe": rounded(v["roe"][i]),
                "as_of": base.as_of[i],
                "source": base.sources[i],
                "reasons": self.ratios.reasons_of(i),
            }
            with self._lock:
                self._rows[i] = found
        return found

    def sector_rank(self, i: int) -> dict[str, int] | None:
        """{rank, of}: instrument `i`'s place in its sector by PEG (1 = lowest); None when its PEG is undefined."""
        rank = int(self.peg_rank[i])
        return {"rank": rank, "of": int(self.peg_rank_of[i])} if rank else None
