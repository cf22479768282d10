"""Stock market data: detail, movers, search, history and sectors (public, cached)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from flask import Blueprint
from pydantic import Field, field_validator

from controller.market.history import INTERVALS
from routes.http_cache import HISTORY_MAX_AGE_S, QUOTE_MAX_AGE_S, SLOW_MAX_AGE_S, Query, cached_json
from services.market import stock_history, stock_views
from utils.errors import NotFound, ValidationError, field_error

bp = Blueprint("stocks", __name__)
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9&._-]{0,31}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EARLIEST, _LATEST = date(1990, 1, 1), date(2100, 12, 31)
_DEFAULT_HISTORY_LIMIT = {
    "1minute": 375,
    "5minute": 150,
    "15minute": 100,
    "30minute": 100,
    "day": 250,
    "week": 104,
    "month": 60,
}


def _symbol(raw: str) -> str:
    symbol = raw.strip().upper()
    if not _SYMBOL.match(symbol):
        raise NotFound(f"unknown symbol {raw[:40]!r}")
    return symbol


class DetailQuery(Query):
    """?forceLive=1|0|true|false"""

    force_live: bool = Field(False, alias="forceLive")


class MoversQuery(Query):
    """?limit=1..50&exchange=NSE|BSE&intraday=true|false"""

    limit: int = Field(10, ge=1, le=50)
    exchange: Literal["NSE", "BSE"] = "NSE"
    intraday: bool = False

    @field_validator("exchange", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class SearchQuery(Query):
    """?q=1..50 characters&limit=1..50"""

    q: str = Field(min_length=1, max_length=50)
    limit: int = Field(10, ge=1, le=50)


class HistoryQuery(Query):
    """?interval=...&from=YYYY-MM-DD&to=YYYY-MM-DD&limit=1..1000 (bars)"""

    interval: Literal[INTERVALS] = "day"  # type: ignore[valid-type]
    first: date | None = Field(None, alias="from")
    last: date | None = Field(None, alias="to")
    limit: int | None = Field(None, ge=1, le=1000)

    @field_validator("first", "last", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        if isinstance(value, str) and not _DATE.match(value.strip()):
            raise ValueError("must be a date as YYYY-MM-DD")
        return value

    @field_validator("first", "last")
    @classmethod
    def _in_range(cls, value: date | None) -> date | None:
        if value is not None and not _EARLIEST <= value <= _LATEST:
            raise ValueError(f"must be between {_EARLIEST} and {_LATEST}")
        return value

    @classmethod
    def parse(cls) -> HistoryQuery:
        """Validate the query string; `from` after `to` is a 400 naming `from`."""
        query = super().parse()
        if query.first and query.last and query.first > query.last:
            message = "`from` must not be after `to`"
            raise ValidationError(message, fields=[field_error("from", message)])
        return query


@bp.get("/detail/<symbol>")
def detail(symbol: str):
    """One stock's quote, live while the market is open (forceLive=1 asks the provider on a miss)."""
    query = DetailQuery.parse()
    data = stock_views.stock_detail(_symbol(symbol), force_live=query.force_live)
    return cached_json(data, QUOTE_MAX_AGE_S, no_cache=query.force_live)


def _movers_list(kind: str):
    query = MoversQuery.parse()
    result = stock_views.movers(kind, query.exchange, query.intraday, query.limit)
    return cached_json(result["rows"], QUOTE_MAX_AGE_S, count=len(result["rows"]), source=result["source"])


@bp.get("/top-gainers")
def top_gainers():
    """Top gainers (vs previous close, or vs day open with intraday=true)."""
    return _movers_list("gainers")


@bp.get("/top-losers")
def top_losers():
    """Top losers (vs previous close, or vs day open with intraday=true)."""
    return _movers_list("losers")


@bp.get("/most-active")
def most_active():
    """Most active stocks by traded volume."""
    return _movers_list("active")


@bp.get("/movers-all")
def movers_all():
    """Gainers, losers and most active in one response."""
    query = MoversQuery.parse()
    return cached_json(stock_views.movers_all(query.exchange, query.intraday, query.limit), QUOTE_MAX_AGE_S)


@bp.get("/search")
def search():
    """Search by symbol prefix, then by word prefixes of the company name."""
    query = SearchQuery.parse()
    results, source = stock_views.search(query.q, query.limit)
    return cached_json(results, QUOTE_MAX_AGE_S, count=len(results), source=source)


@bp.get("/history/<symbol>")
def history(symbol: str):
    """OHLCV bars of a stock for an interval and date range."""
    query = HistoryQuery.parse()
    limit = query.limit or _DEFAULT_HISTORY_LIMIT[query.interval]
    data = stock_history.stock_history(_symbol(symbol), query.interval, query.first, query.last, limit)
    return cached_json(data, HISTORY_MAX_AGE_S)


@bp.get("/sectors")
def sectors():
    """Sector performance: average change, advances and declines."""
    result = stock_views.sectors()
    return cached_json(result["rows"], SLOW_MAX_AGE_S, count=len(result["rows"]), source=result["source"])
