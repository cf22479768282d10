"""The Upstox adapter against a loopback server: parsing, batching, retries, 429 and the rate limiter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import pytest
from cryptography.fernet import Fernet

from services.market_data.base import ProviderError, TokenRejected
from services.market_data.universe import Universe
from services.market_data.upstox import MAX_KEYS_PER_CALL, Upstox
from services.platform.http_client import HttpClient, RateLimiter, UpstreamError
from tests.realtime.conftest import Clock, reference_universe
from tests.realtime.fake_upstox import FakeUpstoxServer
from utils.timeutil import IST

RELIANCE_KEY = "NSE_EQ|INE002A01018"
TOKEN = "test-token-123"


@pytest.fixture
def upstream():
    with FakeUpstoxServer() as server:
        yield server


BACKOFF_S = 0.1


def gaps(server) -> list[float]:
    """Seconds between the upstream's consecutive requests."""
    times = [r["at"] for r in server.state.requests]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def make_upstox(server, universe: Universe | None = None, retries: int = 3, clock=None):
    client = HttpClient("upstox", timeout_s=2, max_retries=retries, backoff_s=BACKOFF_S)
    provider = Upstox(
        lambda: universe or reference_universe(),
        lambda: TOKEN,
        server.url,
        f"{server.url}/instruments/NSE.json.gz",
        client=client,
        clock=clock or Clock(datetime(2026, 11, 20, 5, 30, tzinfo=UTC)),
    )
    return provider


def test_quotes_are_parsed_from_the_full_market_quote_shape(upstream):
    upstream.state.prices[RELIANCE_KEY] = ("RELIANCE", 1313.2, 3.2, 5_000_000)
    upstream.state.prices["NSE_INDEX|Nifty 50"] = ("Nifty 50", 26101.5, -12.25, 0)
    provider = make_upstox(upstream)
    [quote] = provider.quotes(["RELIANCE", "NOSUCH"])
    assert quote.symbol == "RELIANCE" and quote.source == "upstox"
    assert (quote.ltp, quote.prev_close, quote.volume) == (Decimal("1313.2"), Decimal("1310.0"), 5_000_000)
    assert (quote.day_open, quote.day_high, quote.day_low) == (Decimal("1308.2"), Decimal("1320.7"), Decimal("1303.95"))
    assert quote.as_of == datetime(2026, 11, 20, 5, 30, 1, 250000, tzinfo=UTC)
    [index] = provider.index_quotes(["NIFTY 50"])
    assert index.symbol == "NIFTY 50" and index.ltp == Decimal("26101.5") and index.change_value == Decimal("-12.25")
    assert upstream.state.requests[0]["auth"] == f"Bearer {TOKEN}"


def test_quotes_are_fetched_in_batches_of_at_most_500_keys(upstream):
    base = reference_universe().stocks[0]
    stocks = tuple(
        replace(base, stock_id=n, symbol=f"SYN{n:05d}", instrument_key=f"NSE_EQ|SYN{n:05d}") for n in range(1200)
    )
    for stock in stocks:
        upstream.state.prices[stock.instrument_key] = (stock.symbol, 100.0, 1.0, 10)
    provider = make_upstox(upstream, Universe(stocks, ()))
    quotes = provider.quotes([s.symbol for s in stocks])
    assert len(quotes) == 1200
    sizes = [len(r["args"]["instrument_key"].split(",")) for r in upstream.state.requests]
    assert sizes == [MAX_KEYS_PER_CALL, MAX_KEYS_PER_CALL, 200]


def test_server_errors_are_retried_with_exponential_backoff(upstream):
    upstream.state.prices[RELIANCE_KEY] = ("RELIANCE", 1313.2, 3.2, 5_000_000)
    upstream.state.script("/v2/market-quote", (503, {"status": "error"}, {}), (502, "bad gateway", {}))
    provider = make_upstox(upstream)
    assert [q.symbol for q in provider.quotes(["RELIANCE"])] == ["RELIANCE"]
    assert len(upstream.state.requests) == 3
    first, second = gaps(upstream)  # urllib3's backoff: none before the first retry, then factor x 2^(n-1)
    assert first < BACKOFF_S and 2 * BACKOFF_S <= second < 2 * BACKOFF_S + 0.5


def test_429_waits_for_retry_after_then_succeeds(upstream):
    upstream.state.prices[RELIANCE_KEY] = ("RELIANCE", 1313.2, 3.2, 5_000_000)
    upstream.state.script(
        "/v2/market-quote", (429, {"status": "error", "errors": [{"errorCode": "UDAPI10005"}]}, {"Retry-After": "1"})
    )
    provider = make_upstox(upstream)
    assert len(provider.quotes(["RELIANCE"])) == 1
    assert 1.0 <= gaps(upstream)[0] < 1.5


def test_persistent_failures_give_up_after_the_retries(upstream):
    upstream.state.script("/v2/market-quote", *[(500, {"status": "error"}, {})] * 5)
    provider = make_upstox(upstream, retries=2)
    with pytest.raises(ProviderError, match="HTTP 500"):
        provider.quotes(["RELIANCE"])
    assert len(upstream.state.requests) == 3


def test_client_errors_are_not_retried(upstream):
    upstream.state.script("/v2/market-quote", (400, {"status": "error", "errors": [{"errorCode": "UDAPI100011"}]}, {}))
    provider = make_upstox(upstream)
    with pytest.raises(ProviderError, match="HTTP 400"):
        provider.quotes(["RELIANCE"])
    assert len(upstream.state.requests) == 1


def test_connection_errors_are_retried_then_reported():
    with FakeUpstoxServer() as server:
        url_of_a_stopped_server = server.url
    client = HttpClient("upstox", timeout_s=1, max_retries=2, backoff_s=BACKOFF_S)
    with pytest.raises(UpstreamError, match="ConnectionError after 3 tries"):
        client.get_json(url_of_a_stopped_server + "/v2/market/status/NSE")


def test_historical_and_intraday_candles_use_the_v3_paths(upstream):
    key = RELIANCE_KEY  # sent percent-encoded; the server sees it decoded
    upstream.state.candles[f"/v3/historical-candle/{key}/minutes/1/2026-11-20/2026-11-19"] = [
        ["2026-11-19T15:29:00+05:30", 1300.0, 1301.5, 1299.0, 1300.5, 1200, 0],
        ["2026-11-19T15:28:00+05:30", 1299.0, 1300.0, 1298.5, 1300.0, 900, 0],
    ]
    upstream.state.candles[f"/v3/historical-candle/intraday/{key}/minutes/1"] = [
        ["2026-11-20T09:16:00+05:30", 1302.0, 1303.0, 1301.0, 1302.5, 500, 0],
        ["2026-11-20T09:15:00+05:30", 1301.0, 1302.0, 1300.0, 1302.0, 700, 0],
    ]
    provider = make_upstox(upstream)
    start = datetime(2026, 11, 19, 9, 15, tzinfo=IST)
    bars = provider.candles("RELIANCE", "1minute", start, start + timedelta(days=2))
    assert [b.ts.astimezone(IST).strftime("%d %H:%M") for b in bars] == ["19 15:28", "19 15:29", "20 09:15", "20 09:16"]
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (
        Decimal("1299.0"),
        Decimal("1300.0"),
        Decimal("1298.5"),
        Decimal("1300.0"),
        900,
    )
    with pytest.raises(ProviderError):
        provider.candles("RELIANCE", "2minute", start, start + timedelta(days=1))


def test_instrument_master_and_market_status(upstream):
    upstream.state.instruments = [
        {
            "segment": "NSE_EQ",
            "name": "RELIANCE INDUSTRIES LTD",
            "exchange": "NSE",
            "isin": "INE002A01018",
            "instrument_type": "EQ",
            "instrument_key": RELIANCE_KEY,
            "lot_size": 1,
            "freeze_quantity": 100000.0,
            "exchange_token": "2885",
            "tick_size": 10.0,
            "trading_symbol": "RELIANCE",
            "short_name": "Reliance",
            "security_type": "NORMAL",
        },
        {
            "segment": "NSE_INDEX",
            "name": "Nifty 50",
            "exchange": "NSE",
            "instrument_type": "INDEX",
            "instrument_key": "NSE_INDEX|Nifty 50",
            "exchange_token": "26000",
            "trading_symbol": "NIFTY",
        },
        {
            "segment": "NSE_FO",
            "name": "RELIANCE",
            "exchange": "NSE",
            "instrument_type": "FUT",
            "instrument_key": "NSE_FO|36702",
            "trading_symbol": "RELIANCE FUT 27 NOV 26",
            "tick_size": 10.0,
        },
    ]
    provider = make_upstox(upstream)
    equity, index = provider.instruments()
    assert (equity.symbol, equity.tick_size, equity.isin, equity.segment) == (
        "RELIANCE",
        Decimal("0.1"),
        "INE002A01018",
        "NSE_EQ",
    )
    assert index.instrument_key == "NSE_INDEX|Nifty 50"
    assert provider.market_status().phase == "open"
    upstream.state.status = "NORMAL_CLOSE"
    assert provider.market_status().is_market_open is False


def test_rate_limiter_keeps_every_window():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(((1, 3), (10, 5)), clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        assert limiter.acquire() == 0
    assert limiter.acquire() == pytest.approx(1.0)  # 4th call in the same second waits for the 1 s window
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(9.0)  # 6th call waits for the 10 s window


def test_a_retry_after_beyond_the_cap_waits_only_the_cap(upstream, monkeypatch):
    monkeypatch.setattr("services.platform.http_client._Retry.MAX_RETRY_AFTER_S", 0.3)
    later = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    upstream.state.script("/v2/market-quote", (429, {"status": "error"}, {"Retry-After": later}))
    upstream.state.prices[RELIANCE_KEY] = ("RELIANCE", 1313.2, 3.2, 5_000_000)
    assert len(make_upstox(upstream).quotes(["RELIANCE"])) == 1
    assert 0.3 <= gaps(upstream)[0] < 1.0


def test_a_missing_or_refused_token_is_a_token_rejection_not_retried(upstream):
    with pytest.raises(TokenRejected, match="no Upstox access token"):
        Upstox(reference_universe, lambda: "", upstream.url).quotes(["RELIANCE"])
    assert upstream.state.requests == []  # nothing was sent without a token
    upstream.state.valid_tokens = {"another-token"}
    with pytest.raises(TokenRejected, match="HTTP 401"):
        make_upstox(upstream).feed_url()
    assert len(upstream.state.requests) == 1


def test_the_upstox_provider_needs_its_token_in_the_settings():
    from backend.settings import ConfigError, Settings

    with pytest.raises(ConfigError, match="UPSTOX_ACCESS_TOKEN"):
        Settings.load(_env_file=None, market_data_provider="upstox")
    settings = Settings.load(_env_file=None, market_data_provider="upstox", upstox_access_token="t0k3n")
    assert "t0k3n" not in repr(settings) and "t0k3n" not in str(settings.model_dump())
    key = Fernet.generate_key().decode()
    settings = Settings.load(_env_file=None, market_data_provider="upstox", provider_token_key=key)
    assert key not in repr(settings)  # a token can be set at run time instead
    with pytest.raises(ConfigError, match="PROVIDER_TOKEN_KEY: .*Fernet key"):
        Settings.load(_env_file=None, provider_token_key="not-a-key")
    with pytest.raises(ConfigError, match="UPSTOX_POLL_CALLS_PER_MIN=70 exceeds"):
        Settings.load(
            _env_file=None, market_data_provider="upstox", upstox_access_token="t", upstox_poll_calls_per_min=70
        )


def test_the_app_registers_the_configured_provider(make_rt_app):
    assert make_rt_app().extensions["market_data_provider"].name == "simulator"
    app = make_rt_app(market_data_provider="upstox", upstox_access_token="t0k3n", upstox_base_url="http://127.0.0.1:9")
    provider = app.extensions["market_data_provider"]
    assert provider.name == "upstox" and provider.base_url == "http://127.0.0.1:9"
