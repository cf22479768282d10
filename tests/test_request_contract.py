"""The OpenAPI document describes what the server accepts: the date bounds of /stocks/history and the
permutation rule of PUT /watchlists/<id>/items, checked against the server's answers."""

from __future__ import annotations

import re

import pytest

from tests.auth_helpers import access_token, bearer, make_user
from tests.openapi_helpers import documented_api


def history_parameter(name: str) -> dict:
    parameters = documented_api()["paths"]["/stocks/history/{symbol}"]["get"]["parameters"]
    return next(p for p in parameters if p.get("name") == name)


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize(
    "day",
    ["1989-12-31", "1990-01-01", "1999-12-31", "2026-11-20", "2099-12-31", "2100-12-31", "2101-01-01", "0001-01-01"],
)
def test_history_dates_match_the_documented_bounds(client, name, day):
    schema = history_parameter(name)["schema"]
    assert schema["format"] == "date"
    documented = re.fullmatch(schema["pattern"], day) is not None
    assert client.get(f"/stocks/history/TCS?{name}={day}").status_code == (200 if documented else 400)


def test_history_documents_that_from_is_not_after_to(client):
    assert "not after `to`" in history_parameter("from")["description"]
    assert client.get("/stocks/history/TCS?from=2026-11-20&to=2026-11-19").status_code == 400


def test_reorder_documents_and_enforces_the_permutation_rule(app, client, db_conn):
    symbols = documented_api()["components"]["schemas"]["WatchlistReorder"]["properties"]["symbols"]
    assert symbols["uniqueItems"] is True and "permutation" in symbols["description"]
    headers = bearer(access_token(app, make_user(db_conn, "lists@example.com")))
    watchlist = client.post("/watchlists", json={"name": "Order"}, headers=headers).get_json()["data"]["watchlist_id"]
    for symbol in ("TCS", "INFY"):
        client.post(f"/watchlists/{watchlist}/items", json={"symbol": symbol}, headers=headers)
    path = f"/watchlists/{watchlist}/items"
    for wrong in (["TCS", "TCS"], ["TCS"], ["TCS", "INFY", "SBIN"], ["TCS", "tcs"]):
        response = client.put(path, json={"symbols": wrong}, headers=headers)
        assert response.status_code == 422 and response.get_json()["error"]["details"]["rule"] == "permutation"
    moved = client.put(path, json={"symbols": ["infy", "TCS"]}, headers=headers).get_json()["data"]
    assert [item["symbol"] for item in moved["items"]] == ["INFY", "TCS"]
