"""The EODHD provider against its loopback fake: a full answer, missing fields, 429 with Retry-After, 404, errors,
and timeouts; the API token never shows in what is recorded."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from controller.fundamentals.models import CrawlTarget
from services.fundamentals import providers
from services.fundamentals.base import ProviderError
from services.fundamentals.eodhd import parse
from services.platform.http_client import UpstreamError
from tests.fundamentals.fake_eodhd import fundamentals_body

# 16 quarters: TTM now 40, a year earlier 32, three years earlier 20.
EPS = [5.0] * 4 + [6.0] * 4 + [8.0] * 4 + [10.0] * 4
NOW = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)


def target(symbol: str = "RELIANCE") -> CrawlTarget:
    return CrawlTarget(1, symbol, f"{symbol} Ltd", "Oil Gas & Consumable Fuels", Decimal("1000"))


@pytest.fixture
def provider(eodhd_app):
    with eodhd_app.app_context():
        source = providers.create("eodhd", eodhd_app.extensions["settings"])
        yield source
        source.close()


def test_a_full_answer_gives_every_figure(provider, eodhd):
    eodhd.state.bodies["RELIANCE"] = fundamentals_body("RELIANCE", EPS)
    figures = provider.fetch(target())
    assert figures.source == "eodhd" and figures.period_end == date(2026, 9, 30)
    assert figures.eps_ttm == Decimal("40.0000") and figures.shares_outstanding == 1_000_000_000
    assert figures.eps_growth_yoy_pct == 25.0  # 40 / 32
    assert figures.eps_cagr_3y_pct == round(((40 / 20) ** (1 / 3) - 1) * 100, 2)  # 25.99
    assert figures.book_value_per_share == Decimal("400.0000") and figures.dividend_per_share == Decimal("10.0000")
    assert figures.roe_pct == 9.25 and figures.debt_to_equity == 0.5
    assert [q.period_end.isoformat() for q in figures.quarters][-1] == "2026-09-30" and len(figures.quarters) == 8
    last = figures.quarters[-1]
    assert last.eps == Decimal("10.0000") and last.net_profit == Decimal("10000000000.00")
    assert last.revenue == Decimal("80000000000.00")
    [request] = eodhd.state.requests
    assert request["path"] == "/api/fundamentals/RELIANCE.NSE"
    assert request["args"]["fmt"] == "json" and request["args"]["api_token"] == "test-token"
    assert set(request["args"]["filter"].split(",")) == {
        "General",
        "Highlights",
        "SharesStats",
        "Earnings",
        "Financials",
    }


def test_symbols_with_punctuation_are_quoted_in_the_path(provider, eodhd):
    eodhd.state.bodies["M&M"] = fundamentals_body("M&M", EPS)
    assert provider.fetch(target("M&M")).eps_ttm == Decimal("40.0000")
    assert eodhd.state.requests[0]["path"] == "/api/fundamentals/M&M.NSE"  # sent as M%26M.NSE, decoded by the server


def test_missing_fields_are_none_not_errors():
    body = {"General": {"Code": "NEWCO"}, "Highlights": {"BookValue": "NA", "DividendShare": None}}
    figures = parse("NEWCO", body, NOW)
    assert figures.source == "eodhd" and figures.quarters == () and figures.period_end is None
    assert (figures.eps_ttm, figures.shares_outstanding, figures.eps_growth_yoy_pct, figures.eps_cagr_3y_pct) == (
        None,
        None,
        None,
        None,
    )
    assert figures.book_value_per_share is None and figures.dividend_per_share is None and figures.roe_pct is None


def test_without_highlights_eps_comes_from_the_quarters_and_book_value_from_the_balance_sheet():
    body = fundamentals_body("ABC", EPS[-8:])
    del body["Highlights"], body["SharesStats"]
    figures = parse("ABC", body, NOW)
    assert figures.eps_ttm == Decimal("40.0000") and figures.eps_growth_yoy_pct == 25.0
    assert figures.eps_cagr_3y_pct is None  # two years of quarters: no 3-year figure (the PEG falls back to YoY)
    assert figures.shares_outstanding == 1_000_000_000 and figures.book_value_per_share == Decimal("400.0000")


def test_losses_a_year_ago_leave_growth_undefined():
    figures = parse("LOSS", fundamentals_body("LOSS", [-2.0] * 4 + [3.0] * 4), NOW)
    assert figures.eps_ttm == Decimal("12.0000") and figures.eps_growth_yoy_pct is None


def test_a_429_is_retried_after_its_retry_after(provider, eodhd):
    eodhd.state.bodies["TCS"] = fundamentals_body("TCS", EPS)
    eodhd.state.script("TCS", (429, {"message": "Too Many Requests"}, {"Retry-After": "1"}))
    started = time.monotonic()
    assert provider.fetch(target("TCS")).eps_ttm == Decimal("40.0000")
    assert time.monotonic() - started >= 0.9 and len(eodhd.state.requests) == 2


def test_an_unknown_ticker_is_a_provider_error(provider, eodhd):
    with pytest.raises(ProviderError, match="no fundamentals for NOPE.NSE"):
        provider.fetch(target("NOPE"))


def test_an_empty_answer_is_a_provider_error(provider, eodhd):
    eodhd.state.bodies["EMPTY"] = {}
    with pytest.raises(ProviderError, match="no fundamentals"):
        provider.fetch(target("EMPTY"))


def test_server_errors_after_the_retries_are_upstream_errors(provider, eodhd):
    eodhd.state.script("INFY", *[(503, {"message": "busy"}, {})] * 2)
    with pytest.raises(UpstreamError, match="HTTP 503") as raised:
        provider.fetch(target("INFY"))
    assert raised.value.status == 503 and len(eodhd.state.requests) == 2  # one retry (HTTP_MAX_RETRIES=1)


def test_a_timeout_is_an_upstream_error_without_the_token(provider, eodhd):
    eodhd.state.bodies["SLOW"] = fundamentals_body("SLOW", EPS)
    eodhd.state.delays["SLOW"] = 2.0
    started = time.monotonic()
    with pytest.raises(UpstreamError) as raised:
        provider.fetch(target("SLOW"))
    assert raised.value.timed_out and "Timeout" in str(raised.value)
    assert "test-token" not in str(raised.value) and raised.value.__cause__ is None
    assert time.monotonic() - started < 1.9  # two tries of 0.5 s, not the server's 2 s


def test_a_refused_token_is_an_upstream_error(eodhd_app, eodhd):
    with eodhd_app.app_context():
        settings = eodhd_app.extensions["settings"].model_copy(update={"eodhd_api_token": SecretStr("wrong")})
        source = providers.create("eodhd", settings)
    eodhd.state.bodies["RELIANCE"] = fundamentals_body("RELIANCE", EPS)
    with eodhd_app.app_context(), pytest.raises(UpstreamError, match="HTTP 401"):
        source.fetch(target())
