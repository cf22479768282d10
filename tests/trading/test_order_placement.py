"""Placing orders over HTTP: immediate execution, reservations, every rejection, idempotency."""

import pytest

from controller.sql import fetch_one
from controller.trading.audit import audit
from tests.trading.conftest import CLOSED_AT


def test_requests_without_a_token_are_refused(client, instruments):
    for method, path in [
        ("get", "/account"),
        ("post", "/orders"),
        ("get", "/orders"),
        ("get", "/orders/1"),
        ("delete", "/orders/1"),
        ("get", "/trades"),
        ("get", "/portfolio/holdings"),
        ("get", "/watchlists"),
        ("post", "/account/reset"),
    ]:
        assert getattr(client, method)(path).status_code == 401, (method, path)


def test_a_market_buy_fills_at_the_live_price_and_debits_cash(market, trader, db_conn):
    market.publish("ZZTEST", "101.35")
    order = trader.order(expect=201, quantity=10)
    assert (order["status"], order["filled_quantity"], order["average_price"]) == ("COMPLETE", 10, 101.35)
    assert order["is_amo"] is False and order["reserved_amount"] == 0
    account = trader.account()
    assert account["cash"] == 100000 - 1013.50 and account["reserved"] == 0
    assert account["holdings_value"] == 1013.50 and account["equity"] == 100000
    ledger = db_conn.cursor(dictionary=True)
    ledger.execute("SELECT amount, kind, balance_after, trade_id FROM ledger WHERE user_id = %s", (trader.user_id,))
    [row] = ledger.fetchall()
    assert (float(row["amount"]), row["kind"], float(row["balance_after"])) == (-1013.50, "BUY", 98986.50)
    assert row["trade_id"] is not None
    assert audit(db_conn) == []


def test_a_market_order_without_a_fresh_live_price_is_refused(market, trader, db_conn):
    body = trader.order(expect=503)
    assert body["error"]["code"] == "MARKET_DATA_UNAVAILABLE"
    market.publish("ZZTEST", "100")
    market.at(market.now.replace(minute=1))  # 60 s later the quote is stale (LIVE_CACHE_MAX_AGE_S=10)
    assert trader.order(expect=503)["error"]["code"] == "MARKET_DATA_UNAVAILABLE"
    assert trader.get("/orders").get_json()["count"] == 0


def test_a_marketable_limit_fills_at_once_at_the_better_price_and_releases_the_rest(market, trader):
    market.publish("ZZTEST", "98.00")
    order = trader.order(expect=201, order_type="LIMIT", price=99.5, quantity=100)
    assert (order["status"], order["average_price"]) == ("COMPLETE", 98.0)
    account = trader.account()
    assert (account["cash"], account["reserved"]) == (100000 - 9800, 0)


def test_a_resting_limit_reserves_its_value_and_a_limit_may_rest_without_a_live_price(market, trader):
    order = trader.order(expect=201, order_type="LIMIT", price=95, quantity=100)
    assert (order["status"], order["reserved_amount"]) == ("OPEN", 9500)
    account = trader.account()
    assert (account["cash"], account["reserved"], account["available"]) == (100000, 9500, 90500)


def test_a_resting_order_takes_two_round_trips_and_gets_its_id_with_the_commit(market, trader, db_conn, round_trips):
    trader.order(expect=201, order_type="LIMIT", price=95, quantity=1)  # warms the app's caches
    round_trips.clear()
    order = trader.order(expect=201, order_type="LIMIT", price=95, quantity=2)
    assert len(round_trips) == 2  # the account lock; then the order's INSERT, the account and the COMMIT together
    assert round_trips[1].count(b"INSERT INTO orders") == 1 and round_trips[1].endswith(b"COMMIT")
    row = fetch_one(db_conn, "SELECT user_id, quantity, status FROM orders WHERE order_id = %s", (order["order_id"],))
    assert row == {"user_id": trader.user_id, "quantity": 2, "status": "OPEN"}


def test_a_market_order_takes_three_round_trips(market, trader, round_trips):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=1)  # warms the app's caches
    round_trips.clear()
    assert trader.order(expect=201, quantity=2)["status"] == "COMPLETE"
    lock, insert, commit = round_trips  # the account and holding; the order (its trade needs its id); the rest
    assert b"FOR UPDATE" in lock and insert.strip().startswith(b"INSERT INTO orders")
    assert commit.endswith(b"COMMIT") and all(
        part in commit
        for part in (
            b"UPDATE orders",
            b"INSERT INTO trades",
            b"INSERT INTO ledger",
            b"UPDATE holdings",
            b"UPDATE accounts",
        )
    )


@pytest.mark.parametrize(
    "fields,rule",
    [
        ({"order_type": "LIMIT", "price": 99.03}, "tick_size"),
        ({"order_type": "LIMIT", "price": 130}, "price_band"),
        ({"order_type": "LIMIT", "price": 50}, "price_band"),
        ({"symbol": "ZZLOT", "order_type": "LIMIT", "price": 200, "quantity": 30}, "lot_size"),
        ({"symbol": "ZZBIG", "order_type": "LIMIT", "price": 10000, "quantity": 101}, "max_order_value"),
        ({"order_type": "SL", "price": 99, "trigger_price": 98}, "trigger_side"),
        ({"side": "SELL", "order_type": "SL-M", "trigger_price": 101}, "trigger_side"),
        ({"order_type": "MARKET", "price": 100}, "price_presence"),
    ],
)
def test_exchange_rules_reject_with_422_and_store_nothing(market, trader, fields, rule):
    body = trader.order(expect=422, **fields)
    assert body["error"]["code"] == "VALIDATION_ERROR" and body["error"]["details"]["rule"] == rule
    assert trader.get("/orders").get_json()["count"] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": 0},
        {"quantity": -5},
        {"quantity": 1.5},
        {"quantity": "10"},
        {"quantity": True},
        {"side": "HOLD"},
        {"order_type": "STOP"},
        {"validity": "GTC"},
        {"price": "abc"},
        {"price": -1},
        {"symbol": ""},
        {"symbol": "BAD SYMBOL"},
        {"client_order_id": "x" * 65},
        {"unexpected": 1},
    ],
)
def test_malformed_orders_get_400(market, trader, fields):
    assert trader.order(expect=400, **fields)["error"]["code"] == "VALIDATION_ERROR"


def test_non_json_bodies_get_400(trader, instruments):
    response = trader.client.post("/orders", data="not json", headers=trader.headers)
    assert response.status_code == 400
    assert trader.post("/orders", json=[1, 2]).status_code == 400


def test_unknown_symbols_are_404(market, trader):
    assert trader.order(expect=404, symbol="NOSUCH")["error"]["code"] == "NOT_FOUND"


def test_buys_beyond_the_available_cash_are_refused(market, trader, db_conn):
    trader.order(expect=201, symbol="ZZBIG", order_type="LIMIT", price=9000, quantity=10)  # reserves 90,000
    body = trader.order(expect=422, symbol="ZZBIG", order_type="LIMIT", price=9000, quantity=2)
    assert body["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert body["error"]["details"] == {"required": 18000.0, "available": 10000.0}
    assert audit(db_conn) == []


def test_no_short_selling_and_sells_reserve_the_shares(market, trader, db_conn):
    market.publish("ZZTEST", "100")
    assert trader.order(expect=422, side="SELL")["error"]["code"] == "INSUFFICIENT_HOLDINGS"
    trader.order(expect=201, quantity=10)
    trader.order(expect=201, side="SELL", order_type="LIMIT", price=110, quantity=6)
    body = trader.order(expect=422, side="SELL", order_type="LIMIT", price=110, quantity=5)
    assert body["error"]["details"] == {"required": 5, "available": 4}
    [holding] = trader.get("/portfolio/holdings").get_json()["data"]["holdings"]
    assert (holding["quantity"], holding["reserved_quantity"]) == (10, 6)
    assert audit(db_conn) == []


def test_the_same_client_order_id_returns_the_same_order(market, trader, make_trader):
    first = trader.order(expect=201, order_type="LIMIT", price=95, client_order_id="abc-1")
    again = trader.order(expect=200, order_type="LIMIT", price=96, client_order_id="abc-1")
    assert again == first
    assert trader.get("/orders").get_json()["count"] == 1
    assert trader.account()["reserved"] == 950
    # ids are per user: another user may use the same one
    other = make_trader("bob").order(expect=201, order_type="LIMIT", price=95, client_order_id="abc-1")
    assert other["order_id"] != first["order_id"]


def test_outside_market_hours_orders_wait_as_after_market_orders(market, trader):
    market.at(CLOSED_AT)
    order = trader.order(expect=201, quantity=10)  # no live price needed: it executes at the next open
    assert (order["status"], order["is_amo"], order["reserved_amount"]) == ("OPEN", True, 1030.0)
    stop = trader.order(expect=201, order_type="SL", price=106, trigger_price=105)
    assert (stop["status"], stop["is_amo"]) == ("TRIGGER_PENDING", True)


def test_a_user_without_an_account_gets_one_with_the_starting_cash(market, make_trader):
    newcomer = make_trader("carol", with_account=False)
    assert newcomer.account()["cash"] == 100000
    assert newcomer.order(expect=201, order_type="LIMIT", price=95)["status"] == "OPEN"
