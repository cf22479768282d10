"""What a fundamentals provider delivers for one instrument (docs/FUNDAMENTALS.md), as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

QUARTERS_KEPT = 8


@dataclass(frozen=True, slots=True)
class Quarter:
    """One quarter's results: revenue and net profit (₹), EPS (₹ per share), the period's last day."""

    period_end: date
    revenue: Decimal | None
    net_profit: Decimal | None
    eps: Decimal | None


@dataclass(frozen=True, slots=True)
class Fundamentals:
    """An instrument's fundamentals from one source, current as of `as_of`; None where the source has no figure."""

    symbol: str
    source: str
    as_of: datetime  # aware UTC
    period_end: date | None  # the latest quarter the figures include
    shares_outstanding: int | None
    eps_ttm: Decimal | None
    eps_growth_yoy_pct: float | None
    eps_cagr_3y_pct: float | None
    book_value_per_share: Decimal | None
    dividend_per_share: Decimal | None
    roe_pct: float | None
    debt_to_equity: float | None
    quarters: tuple[Quarter, ...] = ()  # oldest first, at most QUARTERS_KEPT


@dataclass(frozen=True, slots=True)
class CrawlTarget:
    """An instrument to crawl, with what a simulated source derives its figures from."""

    stock_id: int
    symbol: str
    company_name: str
    sector: str
    price: Decimal  # the snapshot's previous close
