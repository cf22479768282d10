"""The state machine on live ticks: LIMIT, SL, SL-M, IOC, AMO at the open, DAY expiry at the close."""

import itertools
from datetime import timedelta
from decimal import Decimal as D

from controller.sql import execute, fetch_all, fetch_one
from controller.trading import order_queries
from controller.trading.audit import audit
from controller.trading.models import ORDER_COLUMNS, Order
from controller.trading.order_rules import may_act
from services.realtime.tick_bus import TickBatch
from services.trading.matcher import match_ticks, process_open_market, tick_subscriber
from services.trading.order_jobs import expire_day_orders, last_session_close, trading_jobs
from tests.trading.conftest import CLOSED_AT, NEXT_OPEN, OPEN_AT
from utils.timeutil import IST


def status_of(trader, order):
    return trader.get(f"/orders/{order['order_id']}").get_json()["data"]


def test_a_limit_buy_fills_when_a_tick_crosses_at_the_tick_price(market, trader, db_conn):
    order = trader.order(expect=201, order_type="LIMIT", price=99, quantity=10)
    assert market.tick("ZZTEST", "99.50") == []
    [changed] = market.tick("ZZTEST", "98.70")
    assert (changed.status, changed.average_price) == ("COMPLETE", D("98.7"))
    after = status_of(trader, order)
    assert (after["status"], after["filled_quantity"], after["average_price"]) == ("COMPLETE", 10, 98.7)
    account = trader.account()
    assert (account["cash"], account["reserved"]) == (100000 - 987, 0)  # 990 reserved, 987 paid
    assert market.tick("ZZTEST", "90") == []  # filled once, never again
    assert audit(db_conn) == []


def test_a_fill_by_the_matcher_takes_two_round_trips_in_its_transaction(market, trader, db_conn, round_trips):
    order = trader.order(expect=201, order_type="LIMIT", price=99, quantity=10)
    round_trips.clear()
    [changed] = market.tick("ZZTEST", "98.70")
    assert changed.status == "COMPLETE"
    assert any(b"JSON_TABLE" in query for query in round_trips)  # which orders the prices reach, read first
    [start] = [n for n, query in enumerate(round_trips) if b"FOR UPDATE" in query]
    lock, commit = round_trips[start:]
    assert lock.count(b"FOR UPDATE") == 2 and b"FROM orders o JOIN holdings h" in lock  # account, order, holding
    assert commit.endswith(b"COMMIT") and commit.index(b"INSERT INTO trades") < commit.index(b"INSERT INTO ledger")
    trade = fetch_one(db_conn, "SELECT trade_id FROM trades WHERE order_id = %s", (order["order_id"],))
    assert trader.get("/trades").get_json()["data"][0]["trade_id"] == trade["trade_id"]
    assert fetch_one(db_conn, "SELECT trade_id FROM ledger WHERE order_id = %s", (order["order_id"],)) == trade


def test_a_limit_sell_fills_at_or_above_its_limit_and_books_realized_pnl(market, trader, db_conn):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    market.publish("ZZTEST", "104")
    trader.order(expect=201, quantity=10)  # average cost 102
    sell = trader.order(expect=201, side="SELL", order_type="LIMIT", price=105, quantity=15)
    assert market.tick("ZZTEST", "104.95") == []
    market.tick("ZZTEST", "105.50")
    assert status_of(trader, sell)["average_price"] == 105.5
    account = trader.account()
    assert account["realized_pnl"] == (105.5 - 102) * 15
    assert account["cash"] == 100000 - 1000 - 1040 + 1582.5
    [holding] = trader.get("/portfolio/holdings").get_json()["data"]["holdings"]
    assert (holding["quantity"], holding["reserved_quantity"], holding["avg_buy_price"]) == (5, 0, 102)
    assert audit(db_conn) == []


def test_sl_buy_triggers_then_rests_as_a_limit_then_fills(market, trader, db_conn):
    order = trader.order(expect=201, order_type="SL", trigger_price=105, price=105.5)
    assert order["status"] == "TRIGGER_PENDING" and order["reserved_amount"] == 1055
    assert market.tick("ZZTEST", "104.95") == []
    [triggered] = market.tick("ZZTEST", "106")  # triggered, but 106 is above the limit
    assert triggered.status == "OPEN"
    [filled] = market.tick("ZZTEST", "105.25")
    assert (filled.status, filled.average_price) == ("COMPLETE", 105.25)
    assert audit(db_conn) == []


def test_sl_buy_fills_on_the_triggering_tick_when_it_is_inside_the_limit(market, trader):
    trader.order(expect=201, order_type="SL", trigger_price=105, price=106)
    [filled] = market.tick("ZZTEST", "105.10")
    assert (filled.status, filled.average_price) == ("COMPLETE", D("105.1"))


def test_sl_m_sell_triggers_and_fills_at_the_market(market, trader, db_conn):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    stop = trader.order(expect=201, side="SELL", order_type="SL-M", trigger_price=95, quantity=10)
    assert market.tick("ZZTEST", "95.05") == []
    [filled] = market.tick("ZZTEST", "94.20")
    assert (filled.order_id, filled.status, filled.average_price) == (stop["order_id"], "COMPLETE", D("94.2"))
    assert trader.account()["realized_pnl"] == -58
    assert trader.get("/portfolio/holdings").get_json()["data"]["holdings"] == []
    assert audit(db_conn) == []


def test_ioc_that_cannot_fill_now_is_cancelled_and_releases_its_cash(market, trader, db_conn):
    market.publish("ZZTEST", "100")
    order = trader.order(expect=201, order_type="LIMIT", price=99, validity="IOC")
    assert (order["status"], order["reject_reason"]) == ("CANCELLED", "IOC order could not be filled immediately")
    assert trader.account()["reserved"] == 0
    filled = trader.order(expect=201, order_type="LIMIT", price=101, validity="IOC")
    assert (filled["status"], filled["average_price"]) == ("COMPLETE", 100)
    assert trader.order(expect=201, validity="IOC")["status"] == "COMPLETE"  # market IOC
    assert audit(db_conn) == []


def test_ioc_needs_a_live_price_while_the_market_is_open(market, trader):
    body = trader.order(expect=503, order_type="LIMIT", price=99, validity="IOC")
    assert body["error"]["code"] == "MARKET_DATA_UNAVAILABLE"


def test_stale_quotes_and_a_closed_market_execute_nothing(market, trader, app):
    trader.order(expect=201, order_type="LIMIT", price=99)
    stale = market.quote("ZZTEST", "90", as_of=OPEN_AT - timedelta(minutes=5))
    with app.app_context():
        assert match_ticks([stale]) == []
        assert match_ticks([market.quote("ZZTEST", "90", as_of=CLOSED_AT)], now=CLOSED_AT) == []
    assert trader.get("/orders").get_json()["data"][0]["status"] == "OPEN"


def test_after_market_orders_execute_at_the_next_open(market, trader, app, db_conn):
    market.at(CLOSED_AT)
    buy = trader.order(expect=201, quantity=10)  # MARKET AMO
    limit = trader.order(expect=201, order_type="LIMIT", price=99, quantity=10)
    ioc = trader.order(expect=201, order_type="LIMIT", price=90, quantity=10, validity="IOC")
    stop = trader.order(expect=201, order_type="SL-M", trigger_price=110, quantity=5)
    with app.app_context():
        assert process_open_market(CLOSED_AT) == []  # still closed: nothing happens
    market.at(NEXT_OPEN)
    market.publish("ZZTEST", "98.50")
    with app.app_context():
        changed = {o.order_id: o for o in process_open_market()}
        assert process_open_market() == []  # idempotent
    assert changed[buy["order_id"]].status == "COMPLETE" and changed[buy["order_id"]].average_price == 98.5
    assert changed[limit["order_id"]].status == "COMPLETE"
    assert (changed[ioc["order_id"]].status, changed[ioc["order_id"]].reject_reason) == (
        "CANCELLED",
        "IOC order could not be filled immediately",
    )
    assert stop["order_id"] not in changed and status_of(trader, stop)["status"] == "TRIGGER_PENDING"
    assert audit(db_conn) == []


def test_an_amo_buy_the_cash_no_longer_covers_at_the_open_is_rejected(market, trader, db_conn):
    market.at(CLOSED_AT)
    amo = trader.order(expect=201, symbol="ZZBIG", quantity=9)  # reserves 9 x 10,300 = 92,700
    trader.order(expect=201, order_type="LIMIT", price=95, quantity=70)  # 6,650 more: 650 stay free
    market.at(NEXT_OPEN)
    [rejected] = market.tick("ZZBIG", "11900")  # gap up: 107,100 > 92,700 reserved + 650 free
    assert (rejected.order_id, rejected.status) == (amo["order_id"], "REJECTED")
    assert rejected.reject_reason == "insufficient funds at the execution price"
    account = trader.account()
    assert (account["cash"], account["reserved"]) == (100000, 6650)
    assert audit(db_conn) == []


def test_day_orders_expire_at_the_close_and_after_market_orders_survive_it(market, trader, app, db_conn):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    day = trader.order(expect=201, order_type="LIMIT", price=95, quantity=10)
    sell = trader.order(expect=201, side="SELL", order_type="LIMIT", price=110, quantity=10)
    close = OPEN_AT.replace(hour=15, minute=30)
    with app.app_context():
        assert expire_day_orders(close - timedelta(seconds=1)) == []
        market.at(CLOSED_AT)
        amo = trader.order(expect=201, order_type="LIMIT", price=95, quantity=10)
        expired = expire_day_orders(close + timedelta(minutes=1))
    assert {o.order_id for o in expired} == {day["order_id"], sell["order_id"]}
    assert all(o.status == "EXPIRED" for o in expired)
    assert status_of(trader, amo)["status"] == "OPEN"
    account = trader.account()
    assert account["reserved"] == 950  # only the after-market order still holds cash
    [holding] = trader.get("/portfolio/holdings").get_json()["data"]["holdings"]
    assert holding["reserved_quantity"] == 0
    with app.app_context():  # the next evening the after-market order (unfilled all day) expires too
        assert [o.order_id for o in expire_day_orders(NEXT_OPEN.replace(hour=16))] == [amo["order_id"]]
    assert audit(db_conn) == []


def test_the_last_close_follows_the_exchange_calendar(app):
    with app.app_context():
        monday_morning = NEXT_OPEN.replace(hour=8)
        assert last_session_close(monday_morning).astimezone(IST) == CLOSED_AT.replace(hour=15, minute=30)
        assert last_session_close(OPEN_AT).astimezone(IST).date().isoformat() == "2026-11-19"


def test_the_tick_bus_callback_runs_the_matcher_in_the_app_context(market, trader, app):
    order = trader.order(expect=201, order_type="LIMIT", price=99)
    # called from the bus, outside any context; index batches are ignored
    tick_subscriber(app)(TickBatch("indices", (market.quote("ZZTEST", "90.00"),)))
    tick_subscriber(app)(TickBatch("stocks", (market.quote("ZZTEST", "98.90"),)))
    assert status_of(trader, order)["status"] == "COMPLETE"


def test_the_job_registry_names_plain_callables(app):
    jobs = trading_jobs()
    assert set(jobs) == {
        "orders_open_market",
        "orders_expire_day",
        "portfolio_equity_snapshot",
        "portfolio_equity_points",
    }
    assert all(callable(job) and interval > 0 and phase in ("open", "any") for job, interval, phase in jobs.values())


def test_stop_orders_with_ioc_validity_fill_or_cancel_on_the_triggering_tick(market, trader, db_conn):
    sl = trader.order(expect=201, order_type="SL", trigger_price=105, price=105.5, validity="IOC")
    slm = trader.order(expect=201, order_type="SL-M", trigger_price=104, validity="IOC")
    assert market.tick("ZZTEST", "103.95") == []  # neither has triggered: both keep waiting
    changed = {o.order_id: o for o in market.tick("ZZTEST", "106")}  # both trigger; 106 is above the SL limit
    assert (changed[sl["order_id"]].status, changed[sl["order_id"]].reject_reason) == (
        "CANCELLED",
        "IOC order could not be filled immediately",
    )
    assert (changed[slm["order_id"]].status, changed[slm["order_id"]].average_price) == ("COMPLETE", D("106"))
    assert trader.account()["reserved"] == 0
    assert audit(db_conn) == []


def test_the_matchers_read_returns_exactly_the_orders_a_price_may_act_on(trader, instruments, db_conn):
    """reachable_orders (SQL) agrees with order_rules.may_act (Python) over every kind of working order."""
    at = OPEN_AT.replace(tzinfo=None)
    kinds = [
        ("OPEN", "LIMIT", "DAY"),
        ("OPEN", "LIMIT", "IOC"),
        ("OPEN", "MARKET", "DAY"),
        ("OPEN", "SL", "DAY"),
        ("OPEN", "SL-M", "DAY"),
        ("TRIGGER_PENDING", "SL", "DAY"),
        ("TRIGGER_PENDING", "SL-M", "DAY"),
        ("COMPLETE", "LIMIT", "DAY"),
        ("CANCELLED", "LIMIT", "DAY"),
    ]
    for (status, order_type, validity), side, level in itertools.product(kinds, ("BUY", "SELL"), ("99", "101")):
        price = None if order_type in ("MARKET", "SL-M") else level
        trigger = level if order_type in ("SL", "SL-M") else None
        execute(
            db_conn,
            "INSERT INTO orders (user_id, stock_id, symbol, side, order_type, validity, quantity, "
            "price, trigger_price, reserved_amount, status, is_amo, created_at, updated_at) "
            "VALUES (%s, %s, 'ZZTEST', %s, %s, %s, 1, %s, %s, 0, %s, 0, %s, %s)",
            (trader.user_id, instruments["ZZTEST"], side, order_type, validity, price, trigger, status, at, at),
        )
    working = [
        Order.from_row(r)
        for r in fetch_all(
            db_conn, f"SELECT {ORDER_COLUMNS} FROM orders WHERE status IN ('OPEN', 'TRIGGER_PENDING') ORDER BY order_id"
        )
    ]
    for ltp in (D("98"), D("99"), D("100"), D("101"), D("102")):
        expected = [o.order_id for o in working if may_act(o, ltp)]
        found = order_queries.reachable_orders(db_conn, {"ZZTEST": ltp, "ZZLOT": D("1")})
        assert [o.order_id for o, _ in found] == expected and {p for _, p in found} <= {ltp}
        assert 0 < len(expected) < len(working)
    assert order_queries.reachable_orders(db_conn, {}) == []
