"""GET /stocks/sectors (with traded value) and GET /stocks/sectors/<sector> (its stocks in the movers' row shape)."""

from urllib.parse import quote as urlquote

from controller.sql import fetch_all
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, quote, seconds_ago

MOVER_ROW = {"name", "symbol", "price", "change", "priceNum", "changePercentNum", "changeValueNum", "volume", "asOf"}


def _snapshot(db_conn) -> list[dict]:
    return fetch_all(
        db_conn,
        """SELECT s.symbol, s.sector, q.volume, q.ltp, q.traded_value FROM stocks s
        JOIN stock_quotes q ON q.stock_id = s.stock_id WHERE s.exchange = 'NSE' AND s.is_active = 1""",
    )


def test_sector_rows_carry_their_traded_value(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    rows = client.get("/stocks/sectors").get_json()["data"]
    expected = {}
    for r in _snapshot(db_conn):
        expected[r["sector"]] = expected.get(r["sector"], 0) + r["traded_value"]
    assert {r["sector"]: r["tradedValue"] for r in rows} == {k: float(v) for k, v in expected.items()}


def test_a_sectors_stocks_in_the_movers_shape_largest_traded_value_first(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    response = client.get(f"/stocks/sectors/{urlquote('financial services')}")  # case-insensitive
    assert response.status_code == 200
    body = response.get_json()
    expected = sorted(
        (r for r in _snapshot(db_conn) if r["sector"] == "Financial Services"), key=lambda r: -r["traded_value"]
    )
    assert body["sector"] == "Financial Services" and body["count"] == len(expected) == len(body["data"])
    assert [r["symbol"] for r in body["data"]] == [r["symbol"] for r in expected]
    assert set(body["data"][0]) == MOVER_ROW and body["source"] == "database"
    assert response.headers["ETag"]


def test_an_unknown_sector_is_404(client):
    response = client.get("/stocks/sectors/Tulip%20Mania")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "NOT_FOUND"


def test_sector_stocks_are_live_while_the_market_is_open(app, client):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("TCS", "3300.00", "3089.90", seconds_ago(now, 1), volume=10**9))
    body = client.get("/stocks/sectors/Information%20Technology").get_json()
    assert body["source"] == "websocket_cache"
    assert (body["data"][0]["symbol"], body["data"][0]["priceNum"]) == ("TCS", 3300.0)  # now the most traded
