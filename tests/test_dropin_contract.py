"""Drop-in shapes for the existing MockMarket dashboard clients: where such a client reads each field.

History and indices put their payload at the top-level `data` with the metadata beside it; index rows carry
display strings beside numbers; /user/verify answers a top-level `valid` and `user`; errors a top-level `message`.
"""

import re

import pytest

from tests.auth_helpers import access_token, bearer, make_user
from tests.market_helpers import CLOSED_NOW, INDEX_ROW, OPEN_NOW, freeze, put_index_quotes, quote, seconds_ago

DISPLAY = re.compile(r"^\d{1,3}(,\d{3})*\.\d{2}$")  # "26,072.29"
SIGNED = re.compile(r"^([+-]\d{1,3}(,\d{3})*\.\d{2}|0\.00)$")  # "+62.08", "-1,204.50", "0.00"


def test_history_body_has_the_candle_array_at_the_top_level_data(app, client):
    freeze(app, OPEN_NOW)
    body = client.get("/stocks/history/RELIANCE?interval=day&limit=5").get_json()
    assert set(body) == {"status", "symbol", "interval", "count", "data"}
    assert (body["status"], body["symbol"], body["interval"], body["count"]) == ("success", "RELIANCE", "day", 5)
    assert isinstance(body["data"], list) and len(body["data"]) == 5
    assert set(body["data"][0]) == {"time", "open", "high", "low", "close", "volume"}
    intraday = client.get("/stocks/history/RELIANCE?interval=5minute&limit=3").get_json()
    assert intraday["interval"] == "5minute" and all(isinstance(bar["time"], int) for bar in intraday["data"])


def _check_row(row: dict) -> None:
    assert set(row) == INDEX_ROW
    for name in ("value", "open", "high", "low", "prevClose"):
        assert DISPLAY.match(row[name]), (name, row[name])
    assert re.match(r"^([+-]\d+\.\d{2}|0\.00)%$", row["change"]), row["change"]
    assert SIGNED.match(row["changeValue"]), row["changeValue"]
    for name in ("valueNum", "changePercentNum", "changeValueNum"):
        assert isinstance(row[name], int | float) and not isinstance(row[name], bool), name
    assert float(row["value"].replace(",", "")) == row["valueNum"]
    assert float(row["changeValue"].replace(",", "")) == row["changeValueNum"]
    assert row["change"] == f"{row['changePercentNum']:+.2f}%" or row["change"] == "0.00%"
    assert row["direction"] == ("down" if row["changeValueNum"] < 0 else "up")


def test_indices_all_from_the_database(app, client):
    freeze(app, CLOSED_NOW)
    body = client.get("/indices/all").get_json()
    assert set(body) == {"status", "source", "market_status", "data", "totalIndices"}
    assert (body["source"], body["market_status"], body["totalIndices"]) == ("database", "closed", 9)
    assert sorted(body["data"]) == ["BSE", "NSE"]
    for rows in body["data"].values():
        for row in rows:
            _check_row(row)


def test_indices_all_live_has_the_same_row_shape(app, client):
    now = freeze(app, OPEN_NOW)
    put_index_quotes(app, quote("NIFTY 50", "26072.29", "26010.21", seconds_ago(now, 1)))
    body = client.get("/indices/all").get_json()
    assert body["source"] == "websocket_cache"
    nifty = body["data"]["NSE"][0]
    _check_row(nifty)
    assert (nifty["value"], nifty["valueNum"], nifty["change"], nifty["changeValue"]) == (
        "26,072.29",
        26072.29,
        "+0.24%",
        "+62.08",
    )
    assert (nifty["changePercentNum"], nifty["changeValueNum"], nifty["direction"]) == (0.24, 62.08, "up")
    one = client.get("/indices/NIFTY%2050").get_json()["data"]
    assert one == nifty


def test_a_falling_index_points_down_with_a_minus_sign(app, client):
    now = freeze(app, OPEN_NOW)
    put_index_quotes(app, quote("SENSEX", "83795.50", "85000", seconds_ago(now, 1)))
    row = client.get("/indices/SENSEX").get_json()["data"]
    _check_row(row)
    assert (row["changeValue"], row["change"], row["direction"]) == ("-1,204.50", "-1.42%", "down")


def test_user_verify_answers_valid_and_user_at_the_top_level(app, client, db_conn):
    user_id = make_user(db_conn, "dev@example.com", name="Dev")
    headers = bearer(access_token(app, user_id))
    body = client.get("/user/verify", headers=headers).get_json()
    assert body["valid"] is True and body["status"] == "success"
    assert body["user"]["user_id"] == user_id and body["user"]["email"] == "dev@example.com"
    assert body["data"] == client.get("/auth/me", headers=headers).get_json()["data"] == {"user": body["user"]}


@pytest.mark.parametrize(("status", "expected"), [("blocked", 403), (None, 401)])
def test_user_verify_still_refuses_blocked_users_and_missing_tokens(app, client, db_conn, status, expected):
    user_id = make_user(db_conn, "dev@example.com", status=status or "active")
    response = client.get("/user/verify", headers=bearer(access_token(app, user_id)) if status else {})
    assert response.status_code == expected
    body = response.get_json()
    assert "valid" not in body and body["status"] == "error" and body["message"] == body["error"]["message"]
