"""GET /stocks/detail/<symbol>: seeded snapshot, 404s, the live overlay rules, forceLive, HTTP caching."""

from decimal import Decimal

import pytest

from controller.sql import fetch_one
from services.market.live_price_cache import stock_prices
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, quote, seconds_ago
from utils.timeutil import iso_ist

_SNAPSHOT = """SELECT s.stock_id, s.company_name, s.sector, s.tick_size, q.* FROM stocks s
JOIN stock_quotes q ON q.stock_id = s.stock_id WHERE s.symbol = %s"""


def detail(client, symbol: str, query: str = ""):
    response = client.get(f"/stocks/detail/{symbol}{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_detail_is_the_seeded_snapshot(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    row = fetch_one(db_conn, _SNAPSHOT, ("TCS",))
    data = detail(client, "tcs")  # symbols are case-insensitive
    assert data == {
        "stock_id": row["stock_id"],
        "symbol": "TCS",
        "companyName": row["company_name"],
        "exchange": "NSE",
        "sector": row["sector"],
        "currentPrice": float(row["ltp"]),
        "previousClose": float(row["prev_close"]),
        "dayOpen": float(row["day_open"]),
        "dayHigh": float(row["day_high"]),
        "dayLow": float(row["day_low"]),
        "volume": row["volume"],
        "changePercent": float(round(row["change_pct"], 2)),
        "changeValue": float(row["change_value"]),
        "upperCircuit": data["upperCircuit"],
        "lowerCircuit": data["lowerCircuit"],
        "week52High": float(row["week52_high"]),
        "week52Low": float(row["week52_low"]),
        "asOf": iso_ist(row["as_of"]),
        "tickSize": float(row["tick_size"]),
        "priceSource": "database",
        "timestamp": iso_ist(CLOSED_NOW),
    }
    assert detail(client, "RELIANCE")["tickSize"] == 0.1  # the order panel steps its prices by it
    # circuits: previous close ± 20% (PRICE_BAND_PERCENT), on the tick grid, inside the band
    prev, tick = row["prev_close"], row["tick_size"]
    upper, lower = Decimal(str(data["upperCircuit"])), Decimal(str(data["lowerCircuit"]))
    assert upper % tick == 0 and lower % tick == 0
    assert prev * Decimal("1.2") - tick < upper <= prev * Decimal("1.2")
    assert prev * Decimal("0.8") <= lower < prev * Decimal("0.8") + tick


def test_symbols_with_punctuation_are_found(client):
    assert detail(client, "M%26M")["symbol"] == "M&M"
    assert detail(client, "bajaj-auto")["symbol"] == "BAJAJ-AUTO"


@pytest.mark.parametrize("symbol", ["NOPE", "TCSX", "T%25", "a" * 80, "%20"])
def test_unknown_symbols_are_404(client, symbol):
    response = client.get(f"/stocks/detail/{symbol}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_bad_force_live_is_400(client):
    response = client.get("/stocks/detail/TCS?forceLive=maybe")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["fields"][0]["field"] == "forceLive"


def test_open_market_with_a_fresh_quote_serves_the_live_price(app, client):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("TCS", "3200.50", "3089.90", seconds_ago(now, 3), day_open="3100", volume=42))
    data = detail(client, "TCS")
    assert data["priceSource"] == "websocket_cache"
    assert (data["currentPrice"], data["previousClose"], data["dayOpen"], data["volume"]) == (
        3200.5,
        3089.9,
        3100.0,
        42,
    )
    assert data["changeValue"] == 110.6 and data["changePercent"] == 3.58
    assert data["asOf"] == iso_ist(seconds_ago(now, 3))
    assert data["timestamp"] == iso_ist(now)


def test_a_live_detail_is_made_once_per_quote(app, client):
    """While the same live quote is fresh every request gets the same payload (one encoding, one ETag); a newer quote
    is served at once."""
    from services.market import stock_views

    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("TCS", "3200.50", "3089.90", seconds_ago(now, 3)))
    with app.app_context():
        first = stock_views.stock_detail("TCS")
        assert stock_views.stock_detail("TCS") is first and first["priceSource"] == "websocket_cache"
    etag = client.get("/stocks/detail/TCS").headers["ETag"]
    assert client.get("/stocks/detail/TCS", headers={"If-None-Match": etag}).status_code == 304
    put_stock_quotes(app, quote("TCS", "3201.00", "3089.90", seconds_ago(now, 1)))
    with app.app_context():
        moved = stock_views.stock_detail("TCS")
    assert moved is not first and moved["currentPrice"] == 3201.0
    assert client.get("/stocks/detail/TCS", headers={"If-None-Match": etag}).status_code == 200


def test_open_market_with_a_stale_quote_serves_the_database(app, client):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("TCS", "3200.50", "3089.90", seconds_ago(now, 11)))  # LIVE_CACHE_MAX_AGE_S=10
    data = detail(client, "TCS")
    assert data["priceSource"] == "database" and data["currentPrice"] != 3200.5


def test_closed_market_ignores_even_a_fresh_quote(app, client):
    now = freeze(app, CLOSED_NOW)
    put_stock_quotes(app, quote("TCS", "3200.50", "3089.90", seconds_ago(now, 1)))
    assert detail(client, "TCS")["priceSource"] == "database"


def test_force_live_uses_a_fresh_cached_quote_at_any_hour(app, client):
    now = freeze(app, CLOSED_NOW)
    put_stock_quotes(app, quote("TCS", "3200.50", "3089.90", seconds_ago(now, 1)))
    data = detail(client, "TCS", "?forceLive=1")
    assert (data["priceSource"], data["currentPrice"]) == ("websocket_cache", 3200.5)


class FakeProvider:
    """The outer edge: a market-data provider answering quotes(symbols)."""

    def __init__(self, name: str, answer) -> None:
        self.name = name
        self.answer = answer
        self.calls: list[list[str]] = []

    def quotes(self, symbols):
        self.calls.append(list(symbols))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(("name", "source"), [("upstox", "upstox_api"), ("simulator", "websocket_cache")])
def test_force_live_asks_the_provider_on_a_cache_miss_and_caches_the_answer(app, client, name, source):
    now = freeze(app, OPEN_NOW)
    provider = FakeProvider(name, [quote("TCS", "3111.00", "3089.90", seconds_ago(now, 0.5))])
    app.extensions["market_data_provider"] = provider
    data = detail(client, "TCS", "?forceLive=1")
    assert (data["priceSource"], data["currentPrice"]) == (source, 3111.0)
    assert provider.calls == [["TCS"]]
    with app.app_context():
        assert stock_prices().get("TCS").ltp == Decimal("3111.00")
    assert detail(client, "TCS")["priceSource"] == "websocket_cache"  # now a fresh cache hit
    assert provider.calls == [["TCS"]]


@pytest.mark.parametrize("answer", [[], ConnectionError("provider down"), TimeoutError("slow")])
def test_force_live_falls_back_to_the_database_when_the_provider_cannot_answer(app, client, answer):
    freeze(app, OPEN_NOW)
    app.extensions["market_data_provider"] = FakeProvider("upstox", answer)
    assert detail(client, "TCS", "?forceLive=1")["priceSource"] == "database"


def test_force_live_asks_the_configured_simulator_by_default(app, client):
    freeze(app, OPEN_NOW)
    assert app.extensions["market_data_provider"].name == "simulator"
    data = detail(client, "TCS", "?forceLive=true")
    assert data["priceSource"] == "websocket_cache" and data["currentPrice"] > 0


def test_responses_carry_etag_and_cache_control_and_answer_304(app, client):
    freeze(app, CLOSED_NOW)
    first = client.get("/stocks/detail/TCS")
    assert first.headers["Cache-Control"] == "public, max-age=2"
    etag = first.headers["ETag"]
    again = client.get("/stocks/detail/TCS", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    changed = client.get("/stocks/detail/TCS", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200
    assert client.get("/stocks/detail/TCS?forceLive=1").headers["Cache-Control"] == "no-cache"


def test_detail_is_served_from_the_cache_after_the_first_request(app, client):
    freeze(app, CLOSED_NOW)
    missed = client.get("/stocks/detail/INFY").headers["Server-Timing"]
    timing = client.get("/stocks/detail/INFY").headers["Server-Timing"]
    assert "db;" in missed and "cache;" in missed  # the miss reads the database, timed in the cache bucket
    assert "db;" not in timing and "cache;" not in timing  # a fresh hit is a lookup: not timed
