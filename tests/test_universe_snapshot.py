"""The exchange snapshot's rows: names interned, and a reload shares every value that did not change with the rows
it replaces (two snapshots held at once, e.g. the live board's and the cache's, cost little more than one)."""

from dataclasses import fields, replace
from decimal import Decimal

from controller.market import stocks
from controller.market.stocks import StockQuote
from services.market.universe_snapshot import exchange_snapshot
from tests.waiting import wait_for
from utils.interning import shared


def test_shared_values_are_one_object_per_exact_value():
    assert shared(Decimal("0.05")) is shared(Decimal("0.05"))
    assert shared(Decimal("0.050")) is not shared(Decimal("0.05")) and str(shared(Decimal("0.050"))) == "0.050"
    assert shared("".join(["N", "SE"])) is shared("NSE")


def test_a_reload_shares_the_unchanged_values_of_the_rows_it_replaces(db_conn):
    first = {quote.stock_id: quote for quote in stocks.exchange_quotes(db_conn, "NSE")}
    assert len({id(quote.exchange) for quote in first.values()}) == 1
    assert len({id(quote.sector) for quote in first.values()}) == len({quote.sector for quote in first.values()})
    assert len({id(quote.tick_size) for quote in first.values()}) == len({quote.tick_size for quote in first.values()})
    moved = next(iter(first.values()))
    # an earlier row of one stock with another price, and a previous close equal in value but not in its exponent
    earlier = replace(moved, ltp=moved.ltp + 1, prev_close=Decimal(f"{moved.prev_close:.3f}"))
    previous = [earlier if quote is moved else quote for quote in first.values()]
    again = {quote.stock_id: quote for quote in stocks.exchange_quotes(db_conn, "NSE", None, previous)}
    assert again == first
    for stock_id, quote in again.items():
        if stock_id != moved.stock_id:
            assert all(getattr(quote, f.name) is getattr(first[stock_id], f.name) for f in fields(StockQuote))
    reloaded = again[moved.stock_id]
    assert reloaded.company_name is earlier.company_name and reloaded.day_open is earlier.day_open
    assert reloaded.ltp is not earlier.ltp and reloaded.ltp == moved.ltp
    assert reloaded.prev_close is not earlier.prev_close and str(reloaded.prev_close) == str(moved.prev_close)


def test_the_cached_snapshot_reloads_onto_the_rows_it_replaces(make_app, db_config):
    app = make_app(db_config, cache_ttl_quotes_s=0.05)
    with app.app_context():
        first = exchange_snapshot("NSE")
        wait_for(lambda: exchange_snapshot("NSE") is not first)  # stale: served, and reloaded in the background
        second = exchange_snapshot("NSE")
    assert second == first
    earlier = {quote.stock_id: quote for quote in first}
    assert all(
        q.company_name is earlier[q.stock_id].company_name and q.as_of is earlier[q.stock_id].as_of for q in second
    )
