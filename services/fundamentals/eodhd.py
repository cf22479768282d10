"""The `eodhd` fundamentals provider: EODHD's Fundamentals API (https://eodhd.com/financial-apis/), NSE listings as
`<SYMBOL>.NSE`, through the project's HTTP client (its timeout, urllib3 retries honouring Retry-After, and a rate
limit under EODHD's published 1,000 requests a minute).

GET {EODHD_BASE_URL}/fundamentals/RELIANCE.NSE?api_token=…&fmt=json&filter=General,Highlights,SharesStats,Earnings,
Financials answers one JSON object per section. What is read (every field may be missing or null; numbers may come
as numbers or as strings such as "6004000000.00"):

- Highlights: DilutedEpsTTM (else EarningsShare), BookValue, DividendShare, ReturnOnEquityTTM (a fraction);
- SharesStats: SharesOutstanding;
- Earnings.History: {"2026-09-30": {"date", "reportDate", "epsActual", ...}, ...}, quarterly EPS keyed by period end;
- Financials.Income_Statement.quarterly: {"2026-09-30": {"totalRevenue", "netIncome", ...}, ...};
- Financials.Balance_Sheet.quarterly: the latest quarter's totalStockholderEquity, shortLongTermDebtTotal and
  commonStockSharesOutstanding, where Highlights or SharesStats lack a figure.

Growth is computed from the quarterly EPS: year on year = TTM against the TTM a year earlier, the 3-year CAGR =
TTM against the TTM three years earlier (docs/FUNDAMENTALS.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from backend.settings import Settings
from controller.fundamentals.models import QUARTERS_KEPT, CrawlTarget, Fundamentals, Quarter
from services.fundamentals.base import ProviderError
from services.platform.http_client import HttpClient, RateLimiter, UpstreamError
from utils.timeutil import now_utc

NAME = "eodhd"
EXCHANGE = "NSE"
SECTIONS = "General,Highlights,SharesStats,Earnings,Financials"
# EODHD allows 1,000 requests a minute per key; stay below, and spread them.
CLIENT_LIMITS = ((1, 10), (60, 600))


def client_for(settings: Settings) -> HttpClient:
    """The HTTP client of one crawl run (closed with the provider)."""
    return HttpClient(
        NAME,
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        limiter=RateLimiter(CLIENT_LIMITS),
        headers={"Accept": "application/json"},
    )


class Eodhd:
    """Fundamentals of NSE instruments from EODHD (token from EODHD_API_TOKEN)."""

    name = NAME
    simulated = False

    def __init__(self, token: str, base_url: str, client: HttpClient, clock: Callable[[], datetime] = now_utc) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.clock = clock

    def fetch(self, target: CrawlTarget) -> Fundamentals:
        """One instrument's figures; ProviderError when EODHD has none, UpstreamError when it cannot be asked."""
        ticker = f"{target.symbol}.{EXCHANGE}"
        url = f"{self.base_url}/fundamentals/{quote(ticker, safe='')}"
        params = {"api_token": self._token, "fmt": "json", "filter": SECTIONS}
        try:
            response = self.client.request("GET", url, params=params)
        except UpstreamError as exc:
            raise UpstreamError(self._scrub(str(exc)), timed_out=exc.timed_out) from None
        if response.status_code == 404:
            raise ProviderError(f"no fundamentals for {ticker}")
        if response.status_code >= 400:
            raise UpstreamError(f"{NAME}: HTTP {response.status_code} for {ticker}", response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise ProviderError(f"{NAME}: the answer for {ticker} is not JSON") from None
        if not isinstance(body, dict) or not any(isinstance(body.get(s), dict) for s in ("General", "Highlights")):
            raise ProviderError(f"no fundamentals for {ticker}")
        return parse(target.symbol, body, self.clock())

    def _scrub(self, text: str) -> str:
        """`text` without the API token (a secret is never logged or stored)."""
        return text.replace(self._token, "***") if self._token else text

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()


def _section(parent: Any, name: str) -> dict[str, Any]:
    value = parent.get(name) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string; None for null, "NA", booleans and the rest."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _decimal(value: float | None, places: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(repr(value)).quantize(Decimal(places))
    except InvalidOperation:  # beyond the column's precision: not a figure we can keep
        return None


def _dated(entries: dict[str, Any]) -> list[tuple[date, dict[str, Any]]]:
    """Entries keyed by period end ("YYYY-MM-DD"), oldest first; keys that are not dates are skipped."""
    found = []
    for key, value in entries.items():
        try:
            day = date.fromisoformat(str(key)[:10])
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append((day, value))
    return sorted(found, key=lambda item: item[0])


def trailing_sums(quarterly: list[float], years: int) -> list[float | None]:
    """TTM sums now, a year earlier, ... `years` earlier (None where four quarters are not there)."""
    sums: list[float | None] = []
    for k in range(years + 1):
        end = len(quarterly) - 4 * k
        sums.append(sum(quarterly[end - 4 : end]) if end >= 4 else None)
    return sums


def growth_pct(now: float | None, before: float | None, years: int = 1) -> float | None:
    """Compound annual growth (%) from `before` to `now` over `years`; None unless both are positive (for one year,
    only `before` must be: a fall into losses is a growth below -100 %)."""
    if now is None or before is None or before <= 0 or (years > 1 and now <= 0):
        return None
    return round(((now / before) ** (1 / years) - 1) * 100, 2)


def parse(symbol: str, body: dict[str, Any], as_of: datetime) -> Fundamentals:
    """The figures of one EODHD fundamentals answer; missing fields are None."""
    highlights, shares_stats = _section(body, "Highlights"), _section(body, "SharesStats")
    financials = _section(body, "Financials")
    eps_history = [
        (day, eps)
        for day, entry in _dated(_section(_section(body, "Earnings"), "History"))
        if day <= as_of.date() and (eps := number(entry.get("epsActual"))) is not None
    ]
    income = _dated(_section(_section(financials, "Income_Statement"), "quarterly"))
    balance = _dated(_section(_section(financials, "Balance_Sheet"), "quarterly"))
    latest_balance = balance[-1][1] if balance else {}

    ttm = trailing_sums([eps for _, eps in eps_history], 3)
    eps_ttm = number(highlights.get("DilutedEpsTTM"))
    eps_ttm = eps_ttm if eps_ttm is not None else number(highlights.get("EarningsShare"))
    eps_ttm = eps_ttm if eps_ttm is not None else ttm[0]
    shares = number(shares_stats.get("SharesOutstanding")) or number(latest_balance.get("commonStockSharesOutstanding"))
    equity = number(latest_balance.get("totalStockholderEquity"))
    book_value = number(highlights.get("BookValue"))
    if book_value is None and equity is not None and shares:
        book_value = equity / shares
    debt = number(latest_balance.get("shortLongTermDebtTotal"))
    roe = number(highlights.get("ReturnOnEquityTTM"))

    eps_by_day = dict(eps_history)
    quarters = tuple(
        Quarter(
            day,
            _decimal(number(entry.get("totalRevenue")), "0.01"),
            _decimal(number(entry.get("netIncome")), "0.01"),
            _decimal(eps_by_day.get(day), "0.0001"),
        )
        for day, entry in income[-QUARTERS_KEPT:]
    )
    period_ends = [day for day, _ in eps_history[-1:] + income[-1:]]
    return Fundamentals(
        symbol=symbol,
        source=NAME,
        as_of=as_of,
        period_end=max(period_ends) if period_ends else None,
        shares_outstanding=int(shares) if shares and shares > 0 else None,
        eps_ttm=_decimal(eps_ttm, "0.0001"),
        eps_growth_yoy_pct=growth_pct(ttm[0], ttm[1]),
        eps_cagr_3y_pct=growth_pct(ttm[0], ttm[3], years=3),
        book_value_per_share=_decimal(book_value, "0.0001"),
        dividend_per_share=_decimal(number(highlights.get("DividendShare")), "0.0001"),
        roe_pct=None if roe is None else round(roe * 100, 2),
        debt_to_equity=round(debt / equity, 2) if debt is not None and equity and equity > 0 else None,
        quarters=quarters,
    )
