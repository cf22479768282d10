"""Stock market data: detail, movers, search, history and sectors (public, cached)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from flask import Blueprint
from pydantic import Field, field_validator, model_validator

from controller.market.history import INTERVALS
from routes.http_cache import HISTORY_MAX_AGE_S, QUOTE_MAX_AGE_S, SLOW_MAX_AGE_S, Query, cached_json, cached_json_rows
from routes.validation import query_params
from services.market import stock_history, stock_views
from utils.errors import NotFound, ValidationError, field_error
from utils.validators import SYMBOL_PATTERN

bp = Blueprint("stocks", __name__)
_SYMBOL = re.compile(SYMBOL_PATTERN)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EARLIEST, _LATEST = date(1990, 1, 1), date(2100, 12, 31)
# The same bounds for the document's readers and fuzzers: the days from _EARLIEST to _LATEST, as a pattern.
DATE_IN_RANGE = r"^(199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
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

    force_live: bool = Field(
        False, alias="forceLive", description="Ask the provider when no fresh live quote is cached (market open)"
    )


_NSE_ONLY = "Only NSE is available on this server: use exchange=NSE or leave it out"


class MoversQuery(Query):
    """?limit=1..50&exchange=NSE&intraday=true|false"""

    limit: int = Field(10, ge=1, le=50, description="Rows per list")
    exchange: Literal["NSE"] = Field("NSE", description="Only NSE is available (anything else is a 400)")
    intraday: bool = Field(False, description="Change vs the day's open instead of the previous close")

    @field_validator("exchange", mode="before")
    @classmethod
    def _nse_only(cls, value: object) -> object:
        """Any other exchange (BSE included) is a 400 that says so, raised as is (pydantic wraps only ValueError)."""
        if isinstance(value, str) and value.strip().upper() == "NSE":
            return "NSE"
        raise ValidationError(_NSE_ONLY, fields=[field_error("exchange", _NSE_ONLY)])


class MostActiveQuery(MoversQuery):
    """MoversQuery plus ?by=volume|value"""

    by: Literal["volume", "value"] = Field("volume", description="Rank by traded volume (shares) or value (₹)")


class SearchQuery(Query):
    """?q=1..50 characters&limit=1..50"""

    q: str = Field(min_length=1, max_length=50, description="Symbol prefix or word prefixes of the company name")
    limit: int = Field(10, ge=1, le=50)


class HistoryQuery(Query):
    """?interval=...&from=YYYY-MM-DD&to=YYYY-MM-DD&limit=1..1000 (bars)"""

    interval: Literal[INTERVALS] = "day"  # type: ignore[valid-type]
    first: date | None = Field(
        None,
        alias="from",
        description=f"First day (YYYY-MM-DD), {_EARLIEST} to {_LATEST}, not after `to`",
        json_schema_extra={"pattern": DATE_IN_RANGE},
    )
    last: date | None = Field(
        None,
        alias="to",
        description=f"Last day (YYYY-MM-DD), {_EARLIEST} to {_LATEST}, not before `from`",
        json_schema_extra={"pattern": DATE_IN_RANGE},
    )
    limit: int | None = Field(None, ge=1, le=1000, description="Most bars (the newest); a default per interval")

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

    @model_validator(mode="after")
    def _ordered(self) -> HistoryQuery:
        """`from` after `to` is a 400 naming `from` (raised as is: pydantic wraps only ValueError)."""
        if self.first and self.last and self.first > self.last:
            message = "`from` must not be after `to`"
            raise ValidationError(message, fields=[field_error("from", message)])
        return self


@bp.get("/detail/<symbol>")
@query_params(DetailQuery)
def detail(symbol: str, query: DetailQuery):
    """One stock's quote, live while the market is open (forceLive=1 asks the provider on a miss)."""
    data = stock_views.stock_detail(_symbol(symbol), force_live=query.force_live)
    return cached_json(data, QUOTE_MAX_AGE_S, no_cache=query.force_live)


def _movers_list(kind: str, query: MoversQuery):
    result = stock_views.movers(kind, query.exchange, query.intraday, query.limit)
    return cached_json(result["rows"], QUOTE_MAX_AGE_S, count=len(result["rows"]), source=result["source"])


@bp.get("/top-gainers")
@query_params(MoversQuery)
def top_gainers(query: MoversQuery):
    """Top gainers (vs previous close, or vs day open with intraday=true)."""
    return _movers_list("gainers", query)


@bp.get("/top-losers")
@query_params(MoversQuery)
def top_losers(query: MoversQuery):
    """Top losers (vs previous close, or vs day open with intraday=true)."""
    return _movers_list("losers", query)


@bp.get("/most-active")
@query_params(MostActiveQuery)
def most_active(query: MostActiveQuery):
    """Most active stocks by traded volume (or by traded value with by=value)."""
    return _movers_list("active" if query.by == "volume" else "active_value", query)


@bp.get("/movers-all")
@query_params(MoversQuery)
def movers_all(query: MoversQuery):
    """Gainers, losers and most active in one response."""
    return cached_json(stock_views.movers_all(query.exchange, query.intraday, query.limit), QUOTE_MAX_AGE_S)


@bp.get("/search")
@query_params(SearchQuery, repeats=False)
def search(query: SearchQuery):
    """Search by symbol prefix, then by word prefixes of the company name."""
    rows, source = stock_views.search(query.q, query.limit)
    return cached_json_rows(rows, QUOTE_MAX_AGE_S, source)


@bp.get("/history/<symbol>")
@query_params(HistoryQuery)
def history(symbol: str, query: HistoryQuery):
    """OHLCV bars of a stock for an interval and date range: the bar array is the top-level `data`, with `symbol`,
    `interval` and `count` beside it (the shape existing dashboard clients read)."""
    limit = query.limit or _DEFAULT_HISTORY_LIMIT[query.interval]
    found = stock_history.stock_history(_symbol(symbol), query.interval, query.first, query.last, limit)
    return cached_json(
        found["data"], HISTORY_MAX_AGE_S, symbol=found["symbol"], interval=found["interval"], count=found["count"]
    )


@bp.get("/sectors")
def sectors():
    """Sector performance: average change, advances, declines and traded value."""
    result = stock_views.sectors()
    return cached_json(result["rows"], SLOW_MAX_AGE_S, count=len(result["rows"]), source=result["source"])


@bp.get("/sectors/<sector>")
def sector(sector: str):
    """A sector's stocks in the movers' row shape, largest traded value first (404 for an unknown sector)."""
    result = stock_views.sector_stocks(sector)
    return cached_json(
        result["rows"], QUOTE_MAX_AGE_S, sector=result["sector"], count=len(result["rows"]), source=result["source"]
    )
