"""GET /fundamentals/peg, /fundamentals/peg.csv and /stocks/fundamentals/<symbol> on the seeded (simulated)
fundamentals: shapes, sorting with nulls last, filters, pages, CSV, sector median and rank, bad input, and P/E and
PEG that follow the live price."""

from __future__ import annotations

import csv
import io
import statistics
import time
from urllib.parse import quote_plus

import pytest

from backend.db import connect
from controller.sql import fetch_all, fetch_one
from services.fundamentals.book import SORTABLE
from tests.auth_helpers import assert_error
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, quote
from tests.waiting import wait_for

ROW = {
    "symbol",
    "company_name",
    "sector",
    "price",
    "pe",
    "eps_ttm",
    "eps_growth_yoy_pct",
    "eps_cagr_3y_pct",
    "peg",
    "peg_basis",
    "market_cap",
    "pb",
    "dividend_yield",
    "roe",
    "as_of",
    "source",
    "reasons",
}
_STORED = """SELECT f.*, q.ltp FROM fundamentals f JOIN stocks s ON s.stock_id = f.stock_id
JOIN stock_quotes q ON q.stock_id = s.stock_id WHERE s.symbol = %s"""


def peg(client, query: str = "") -> dict:
    response = client.get(f"/fundamentals/peg{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def everything(client, query: str = "") -> list[dict]:
    return peg(client, f"?limit=500{query}")["data"]


def test_the_default_page_is_the_cheapest_fifty_by_peg_with_the_envelope(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    body = peg(client)
    universe = fetch_one(
        db_conn,
        "SELECT COUNT(*) AS n FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id "
        "WHERE s.is_active = 1 AND s.exchange = 'NSE'",
    )["n"]
    assert body["count"] == 50 and body["total"] == universe and body["limit"] == 50 and body["offset"] == 0
    assert body["sort"] == "peg:asc" and body["price_source"] == "database" and body["simulated"] is True
    rows = body["data"]
    assert all(set(row) == ROW for row in rows) and all(row["source"] == "simulator" for row in rows)
    pegs = [row["peg"] for row in rows]
    assert None not in pegs and pegs == sorted(pegs)


def test_ratios_are_the_stored_figures_at_the_snapshot_price(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    stored = fetch_one(db_conn, _STORED, ("TCS",))
    [row] = [r for r in everything(client) if r["symbol"] == "TCS"]
    price, eps = float(stored["ltp"]), float(stored["eps_ttm"])
    assert row["price"] == round(price, 2) and row["eps_ttm"] == round(eps, 2)
    assert row["pe"] == round(price / eps, 2)
    growth = stored["eps_cagr_3y_pct"] if stored["eps_cagr_3y_pct"] is not None else stored["eps_growth_yoy_pct"]
    assert row["peg_basis"] == ("eps_cagr_3y" if stored["eps_cagr_3y_pct"] is not None else "eps_growth_yoy")
    assert row["peg"] == round(price / eps / growth, 2)
    assert row["market_cap"] == round(price * stored["shares_outstanding"])
    assert row["pb"] == round(price / float(stored["book_value_per_share"]), 2)
    assert row["dividend_yield"] == round(float(stored["dividend_per_share"]) * 100 / price, 2)


def test_nulls_come_last_in_either_direction_and_carry_their_reasons(app, client):
    freeze(app, CLOSED_NOW)
    for direction in ("asc", "desc"):
        rows = everything(client, f"&sort=peg:{direction}")
        pegs = [row["peg"] for row in rows]
        defined = [p for p in pegs if p is not None]
        assert pegs[: len(defined)] == sorted(defined, reverse=direction == "desc")
        assert all(p is None for p in pegs[len(defined) :]) and len(defined) < len(pegs)
    undefined = [row for row in everything(client) if row["peg"] is None]
    assert all(row["reasons"]["peg"] in ("negative_earnings", "negative_growth", "no_data") for row in undefined)
    assert any(row["reasons"].get("pe") == "negative_earnings" for row in undefined)
    assert any(row["reasons"]["peg"] == "negative_growth" for row in undefined)


@pytest.mark.parametrize("field", ["pe", "market_cap", "dividend_yield", "symbol", "company_name"])
def test_every_sortable_field_sorts(app, client, field):
    freeze(app, CLOSED_NOW)
    rows = everything(client, f"&sort={field}:desc")
    values = [row[field] for row in rows if row[field] is not None]
    key = str.casefold if isinstance(values[0], str) else None
    assert values == sorted(values, key=key, reverse=True)


def test_filters(app, client):
    freeze(app, CLOSED_NOW)
    rows = everything(client, "&sector=Financial%20Services&peg_max=1")
    assert rows and all(row["sector"] == "Financial Services" and row["peg"] <= 1 for row in rows)
    assert all(row["pe"] <= 20 for row in everything(client, "&pe_max=20"))
    growth = everything(client, "&growth_min=15")
    assert all(
        (r["eps_cagr_3y_pct"] if r["peg_basis"] == "eps_cagr_3y" else r["eps_growth_yoy_pct"]) >= 15 for r in growth
    )
    big = everything(client, "&min_market_cap=500000000000")
    assert big and all(row["market_cap"] >= 5e11 for row in big)
    assert all(row["peg"] is not None for row in everything(client, "&exclude_null=true"))
    assert peg(client, "?peg_max=0")["total"] == 0


def test_pages_follow_each_other(app, client):
    freeze(app, CLOSED_NOW)
    first, second = peg(client, "?limit=20"), peg(client, "?limit=20&offset=20")
    whole = everything(client)
    assert [r["symbol"] for r in first["data"] + second["data"]] == [r["symbol"] for r in whole[:40]]
    assert second["offset"] == 20 and second["total"] == len(whole)


@pytest.mark.parametrize(
    ("query", "field", "listed"),
    [
        ("?sort=bogus", "sort", "peg"),
        ("?sort=peg:sideways", "sort", "dividend_yield"),
        ("?sector=Nope", "sector", "Financial Services"),
        ("?limit=0", "limit", None),
        ("?limit=501", "limit", None),
        ("?offset=-1", "offset", None),
        ("?peg_max=abc", "peg_max", None),
        ("?peg_max=inf", "peg_max", None),
        ("?min_market_cap=-5", "min_market_cap", None),
        ("?pegmax=1", "pegmax", "peg_max"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_the_valid_values(app, client, query, field, listed):
    body = assert_error(client.get(f"/fundamentals/peg{query}"), 400, "VALIDATION_ERROR")
    fields = body["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == [field]
    if listed:
        assert listed in fields[0]["message"] and listed in body["error"]["details"]["allowed"]


def test_a_repeated_query_is_served_from_the_book_with_an_etag(make_app, db_config):
    app = make_app(db_config, fanout_interval_ms=10_000)
    client = app.test_client()
    freeze(app, CLOSED_NOW)
    first = client.get("/fundamentals/peg?sector=Healthcare")
    book = app.extensions["peg_table"]._book
    again = client.get("/fundamentals/peg?sector=Healthcare", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and app.extensions["peg_table"]._book is book
    assert len(book.pages) == 1  # computed once, the second answer came from memory


def test_csv_has_every_matching_row_and_is_formula_safe(app, client, db_config):
    freeze(app, CLOSED_NOW)
    conn = connect(db_config)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "INSERT INTO stocks (symbol, exchange, company_name, sector) VALUES ('ZZEVIL', 'NSE', %s, 'Realty')",
            ('=HYPERLINK("http://evil.example")',),
        )
        stock_id = cursor.lastrowid
        cursor.execute(
            "INSERT INTO stock_quotes (stock_id, ltp, prev_close, day_open, day_high, day_low, as_of) "
            "VALUES (%s, 10, 10, 10, 10, 10, NOW(3))",
            (stock_id,),
        )
        response = client.get("/fundamentals/peg.csv?sector=Realty&sort=symbol:asc")
    finally:
        conn.cursor().execute("DELETE FROM stocks WHERE symbol = 'ZZEVIL'")
        conn.close()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0][:4] == ["symbol", "company_name", "sector", "price"] and table[0][-1] == "reasons"
    evil = table[-1]
    assert evil[0] == "ZZEVIL" and evil[1] == '\'=HYPERLINK("http://evil.example")'
    assert "pe=no_data" in evil[-1] and "peg=no_data" in evil[-1]  # a stock without fundamentals
    assert [row[2] for row in table[1:]] == ["Realty"] * (len(table) - 1)


def test_one_stock_has_its_figures_quarters_sector_median_and_rank(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    response = client.get("/stocks/fundamentals/reliance")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert set(data) >= ROW | {"quarters", "sector_median_pe", "sector_peg_rank", "period_end", "simulated"}
    assert data["symbol"] == "RELIANCE" and data["simulated"] is True and data["price_source"] == "database"
    quarters = data["quarters"]
    assert len(quarters) == 8 and [q["period_end"] for q in quarters] == sorted(q["period_end"] for q in quarters)
    assert sum(q["eps"] for q in quarters[-4:]) == pytest.approx(data["eps_ttm"], abs=0.03)
    sector = everything(client, f"&sector={quote_plus(data['sector'])}")
    assert data["sector_median_pe"] == pytest.approx(
        statistics.median(r["pe"] for r in sector if r["pe"] is not None), abs=0.01
    )
    ranked = [r["symbol"] for r in sector if r["peg"] is not None]
    if data["peg"] is None:
        assert data["sector_peg_rank"] is None
    else:
        assert data["sector_peg_rank"] == {"rank": ranked.index("RELIANCE") + 1, "of": len(ranked)}
    stored = fetch_all(db_conn, "SELECT COUNT(*) AS n FROM fundamental_quarters GROUP BY stock_id LIMIT 1")
    assert stored[0]["n"] == 8


def test_a_stock_without_fundamentals_has_null_figures_with_no_data(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    db_conn.cursor().execute(
        "DELETE f FROM fundamentals f JOIN stocks s ON s.stock_id = f.stock_id WHERE s.symbol = 'INFY'"
    )
    data = client.get("/stocks/fundamentals/INFY").get_json()["data"]
    assert data["pe"] is None and data["source"] is None and data["price"] is not None
    assert data["reasons"] == {
        "market_cap": "no_data",
        "pe": "no_data",
        "peg": "no_data",
        "pb": "no_data",
        "dividend_yield": "no_data",
    }


def test_an_unknown_symbol_is_a_404(client):
    assert_error(client.get("/stocks/fundamentals/NOSUCHCO"), 404, "NOT_FOUND")
    assert_error(client.get("/stocks/fundamentals/bad%20symbol"), 404, "NOT_FOUND")


def test_pe_and_peg_follow_a_live_price_change_within_a_fanout_interval(app, client, db_conn):
    stored = fetch_one(db_conn, _STORED, ("RELIANCE",))
    eps = float(stored["eps_ttm"])
    growth = stored["eps_cagr_3y_pct"] or stored["eps_growth_yoy_pct"]
    freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("RELIANCE", "2000.00", "1950.00", OPEN_NOW))

    def row() -> dict:
        return next(r for r in everything(client) if r["symbol"] == "RELIANCE")

    first = client.get("/stocks/fundamentals/RELIANCE").get_json()["data"]
    assert first["price"] == 2000.0 and first["price_source"] == "websocket_cache"
    assert first["pe"] == round(2000 / eps, 2) and first["peg"] == round(2000 / eps / growth, 2)
    put_stock_quotes(app, quote("RELIANCE", "2500.00", "1950.00", OPEN_NOW))
    started = time.monotonic()
    wait_for(lambda: row()["price"] == 2500.0, timeout_s=5, interval_s=0.01)
    assert time.monotonic() - started < 1.0  # within the 50 ms fan-out interval and the request's own time
    assert row()["pe"] == round(2500 / eps, 2) and row()["peg"] == round(2500 / eps / growth, 2)
    freeze(app, CLOSED_NOW)  # closed: the snapshot again, whatever the live cache holds
    wait_for(lambda: row()["price"] == float(stored["ltp"]), timeout_s=5)


def test_every_sortable_field_is_documented(client):
    document = client.get("/openapi.json").get_json()
    [sort] = [p for p in document["paths"]["/fundamentals/peg"]["get"]["parameters"] if p["name"] == "sort"]
    assert {value.split(":")[0] for value in sort["schema"]["enum"]} == set(SORTABLE)
