"""GET /stocks/search: ranking, literal wildcards, validation and the live overlay."""

import pytest

from controller.sql import fetch_all
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, quote, seconds_ago


def search(client, query: str):
    response = client.get(f"/stocks/search?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def symbols(body) -> list[str]:
    return [r["symbol"] for r in body["data"]]


def test_symbol_prefix_ranks_before_company_name_words(client, db_conn):
    body = search(client, "q=bank&limit=50")
    found = symbols(body)
    by_symbol = [r["symbol"] for r in fetch_all(db_conn, "SELECT symbol FROM stocks WHERE symbol LIKE 'BANK%'")]
    assert by_symbol and set(found[: len(by_symbol)]) == set(by_symbol)
    rest = body["data"][len(by_symbol) :]
    assert rest and all(
        " bank" in r["companyName"].lower() or r["companyName"].lower().startswith("bank") for r in rest
    )
    assert "HDFCBANK" in found  # "HDFC Bank Ltd.": a later word of the name
    assert body["count"] == len(found) and body["source"] == "database"


def test_exact_symbol_first_then_longer_prefixes(client):
    found = symbols(search(client, "q=tata"))
    assert found[0].startswith("TATA")
    assert symbols(search(client, "q=TCS"))[0] == "TCS"
    assert symbols(search(client, "q=infy"))[0] == "INFY"


def test_search_is_case_insensitive_and_strips_spaces(client):
    expected = symbols(search(client, "q=BANK"))
    assert symbols(search(client, "q=Bank")) == symbols(search(client, "q=%20bank%20")) == expected


def test_company_word_prefix_matches(client):
    found = search(client, "q=consultancy")["data"]
    assert [r["symbol"] for r in found] == ["TCS"]
    assert found[0]["companyName"] == "Tata Consultancy Services Ltd." and found[0]["exchange"] == "NSE"


@pytest.mark.parametrize("query", ["%25", "_", "TC_", "T%25S", "%25bank"])
def test_like_wildcards_are_literal(client, query):
    assert search(client, f"q={query}")["data"] == []


def test_ampersand_symbols_are_searchable(client):
    assert symbols(search(client, "q=M%26M"))[0] == "M&M"


def test_limit_caps_the_results(client):
    assert search(client, "q=a&limit=3")["count"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        (f"q={'x' * 51}", "q"),
        ("q=tcs&limit=0", "limit"),
        ("q=tcs&limit=51", "limit"),
        ("q=tcs&limit=ten", "limit"),
    ],
)
def test_bad_search_parameters_are_400(client, query, field):
    response = client.get(f"/stocks/search?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["fields"][0]["field"] == field


def test_search_prices_follow_the_live_cache_only_while_open(app, client):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("TCS", "3300.00", "3089.90", seconds_ago(now, 1)))
    body = search(client, "q=TCS&limit=1")
    assert (body["data"][0]["currentPrice"], body["data"][0]["changePercent"], body["source"]) == (
        3300.0,
        6.8,
        "websocket_cache",
    )
    freeze(app, CLOSED_NOW)
    closed = search(client, "q=TCS&limit=1")
    assert closed["source"] == "database" and closed["data"][0]["currentPrice"] != 3300.0
