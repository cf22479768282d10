"""GET /stocks/search: ranking, literal wildcards, validation and the live overlay."""

import json

import pytest

from controller.sql import fetch_all
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, quote, seconds_ago
from utils.quote_format import number
from utils.search_rank import search_rank


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


def test_a_search_row_follows_each_new_live_quote_and_answers_304_when_unchanged(app, client):
    """Rows are encoded once per live quote: a newer quote of the same stock is served at once, and an unchanged
    answer is a 304 for a client that has its ETag."""
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("TCS", "3300.00", "3089.90", seconds_ago(now, 2)))
    first = client.get("/stocks/search?q=TCS&limit=1")
    assert first.get_json()["data"][0]["currentPrice"] == 3300.0
    again = client.get("/stocks/search?q=TCS&limit=1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    put_stock_quotes(app, quote("TCS", "3310.00", "3089.90", seconds_ago(now, 1)))
    moved = client.get("/stocks/search?q=TCS&limit=1", headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and moved.get_json()["data"][0]["currentPrice"] == 3310.0
    assert moved.get_json()["count"] == 1 and moved.get_json()["source"] == "websocket_cache"


def test_a_search_row_is_the_json_of_the_row_with_the_live_quote_laid_over(app):
    """Rows are written as text, not dumped from a dict: the same bytes as dumping the laid-over row's fields, for a
    company name that needs escaping too."""
    from dataclasses import replace

    from services.market import stock_search, stock_views
    from services.market.live_overlay import WEBSOCKET_CACHE, with_stock_quote

    with app.app_context():
        row = replace(stock_search.search_stocks("TCS", 1)[0], company_name='Tata "Consultancy" Services Ltd. — Café')
        live = quote("TCS", "3310.05", "3089.90", seconds_ago(OPEN_NOW, 1))
        for laid_over, given in ((row, None), (with_stock_quote(row, live, WEBSOCKET_CACHE), live)):
            expected = {
                "symbol": laid_over.symbol,
                "companyName": laid_over.company_name,
                "exchange": laid_over.exchange,
                "currentPrice": number(laid_over.ltp),
                "changePercent": number(laid_over.change_pct),
            }
            assert stock_views._search_row(row, given) == json.dumps(expected, separators=(",", ":")).encode()
        assert json.loads(stock_views._search_row(row, live))["changePercent"] == 7.12


def test_bank_finds_the_banks_a_trader_means_among_the_dashboards_eight(client, db_conn):
    """Symbol prefixes first (BANKBARODA, BANKINDIA), then company-word matches by index membership and traded
    value: the NIFTY 50 banks lead, HDFC Bank and ICICI Bank first (the largest traded values)."""
    found = symbols(search(client, "q=bank&limit=8"))
    prefixed = sorted(r["symbol"] for r in fetch_all(db_conn, "SELECT symbol FROM stocks WHERE symbol LIKE 'BANK%'"))
    assert sorted(found[: len(prefixed)]) == prefixed
    assert found[len(prefixed) : len(prefixed) + 2] == ["HDFCBANK", "ICICIBANK"]
    assert {"HDFCBANK", "ICICIBANK", "KOTAKBANK", "AXISBANK"} <= set(found)


def test_company_word_matches_rank_nifty_50_then_other_indices_then_traded_value(client, db_conn):
    members = fetch_all(
        db_conn,
        """SELECT s.symbol, GROUP_CONCAT(i.name SEPARATOR '|') AS names, MAX(q.traded_value) AS traded
        FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id
        LEFT JOIN index_constituents c ON c.stock_id = s.stock_id LEFT JOIN indices i ON i.index_id = c.index_id
        GROUP BY s.symbol""",
    )
    by_symbol = {r["symbol"]: r for r in members}
    found = [s for s in symbols(search(client, "q=india&limit=50")) if not s.startswith("INDIA")]

    def tier(symbol):
        names = (by_symbol[symbol]["names"] or "").split("|")
        return 0 if "NIFTY 50" in names else 1 if names != [""] else 2

    keys = [(tier(s), -by_symbol[s]["traded"]) for s in found]
    assert keys == sorted(keys) and {k[0] for k in keys} == {0, 1, 2}


def test_the_ranking_rule_is_one_pure_function():
    assert search_rank("bank", "BANKBARODA", "Bank of Baroda", {"NIFTY NEXT 50"}, 10) < search_rank(
        "bank", "HDFCBANK", "HDFC Bank Ltd.", {"NIFTY 50"}, 10**12
    )
    hdfc = search_rank("bank", "HDFCBANK", "HDFC Bank Ltd.", {"NIFTY 50", "NIFTY BANK"}, 2e10)
    yes = search_rank("bank", "YESBANK", "Yes Bank Ltd.", set(), 9e10)
    au = search_rank("bank", "AUBANK", "AU Small Finance Bank Ltd.", {"NIFTY MIDCAP 50"}, 1e9)
    assert hdfc < au < yes
    assert search_rank("tcs", "TCS", "Tata Consultancy Services Ltd.", set(), 0)[0] == 0  # exact symbol first
    assert search_rank("services", "TCS", "Tata Consultancy Services Ltd.", set(), 0)[0] == 2
    assert search_rank("ank", "HDFCBANK", "HDFC Bank Ltd.", {"NIFTY 50"}, 1) is None  # not a word start
