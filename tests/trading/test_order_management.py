"""Modify and cancel rules, ownership, order and trade lists with filters and cursors, reset, CSV exports."""

import csv
import io
from datetime import timedelta

from controller.sql import fetch_one
from controller.trading.audit import audit
from tests.trading.conftest import CLOSED_AT


def test_modify_re_reserves_and_re_validates(market, trader, db_conn):
    order = trader.order(expect=201, order_type="LIMIT", price=95, quantity=10)
    changed = trader.patch(f"/orders/{order['order_id']}", json={"price": 96.5, "quantity": 20}).get_json()["data"]
    assert (changed["price"], changed["quantity"], changed["reserved_amount"]) == (96.5, 20, 1930)
    assert trader.account()["reserved"] == 1930
    bad = trader.patch(f"/orders/{order['order_id']}", json={"price": 96.53})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["rule"] == "tick_size"
    too_big = trader.patch(f"/orders/{order['order_id']}", json={"quantity": 5000})
    assert too_big.status_code == 422 and too_big.get_json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert trader.account()["reserved"] == 1930  # a refused modification changes nothing
    assert trader.patch(f"/orders/{order['order_id']}", json={}).status_code == 400
    assert trader.patch(f"/orders/{order['order_id']}", json={"trigger_price": 90}).status_code == 422
    assert audit(db_conn) == []


def test_a_modification_that_crosses_the_market_fills(market, trader):
    market.publish("ZZTEST", "100")
    order = trader.order(expect=201, order_type="LIMIT", price=95)
    filled = trader.patch(f"/orders/{order['order_id']}", json={"price": 100.5}).get_json()["data"]
    assert (filled["status"], filled["average_price"]) == ("COMPLETE", 100)


def test_modify_a_stop_and_a_triggered_stop(market, trader):
    stop = trader.order(expect=201, order_type="SL", trigger_price=105, price=106)
    moved = trader.patch(f"/orders/{stop['order_id']}", json={"trigger_price": 107, "price": 108})
    assert moved.status_code == 200 and moved.get_json()["data"]["reserved_amount"] == 1080
    market.tick("ZZTEST", "109")  # triggers, above the limit: rests as a limit at 108
    relimit = trader.patch(f"/orders/{stop['order_id']}", json={"price": 107.5}).get_json()["data"]
    assert (relimit["status"], relimit["price"], relimit["reserved_amount"]) == ("OPEN", 107.5, 1075)


def test_cancel_releases_and_finished_orders_cannot_change(market, trader, db_conn):
    order = trader.order(expect=201, order_type="LIMIT", price=95)
    cancelled = trader.delete(f"/orders/{order['order_id']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["data"]["status"] == "CANCELLED"
    assert trader.account()["reserved"] == 0
    again = trader.delete(f"/orders/{order['order_id']}")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "CONFLICT"
    assert trader.patch(f"/orders/{order['order_id']}", json={"price": 96}).status_code == 409
    assert audit(db_conn) == []


def test_a_cancel_takes_two_round_trips_and_writes_only_what_changed(market, trader, db_conn, round_trips):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, order_type="MARKET", quantity=10)
    sell = trader.order(expect=201, side="SELL", order_type="LIMIT", price=105, quantity=4)
    buy = trader.order(expect=201, order_type="LIMIT", price=95, quantity=3)
    round_trips.clear()
    assert trader.delete(f"/orders/{sell['order_id']}").status_code == 200
    assert len(round_trips) == 2  # account, order and holding locked/read together; then the writes and COMMIT
    assert round_trips[1].count(b"UPDATE holdings") == 1  # the 4 reserved shares go back
    round_trips.clear()
    assert trader.delete(f"/orders/{buy['order_id']}").status_code == 200
    assert len(round_trips) == 2 and b" holdings " not in round_trips[1]  # the holding read is unchanged
    assert fetch_one(
        db_conn, "SELECT quantity, reserved_quantity FROM holdings WHERE user_id = %s", (trader.user_id,)
    ) == {"quantity": 10, "reserved_quantity": 0}
    assert trader.account()["reserved"] == 0 and audit(db_conn) == []


def test_another_users_orders_are_404(market, trader, make_trader):
    order = trader.order(expect=201, order_type="LIMIT", price=95)
    mallory = make_trader("mallory")
    path = f"/orders/{order['order_id']}"
    assert mallory.get(path).status_code == 404
    assert mallory.patch(path, json={"price": 96}).status_code == 404
    assert mallory.delete(path).status_code == 404
    assert mallory.get("/orders").get_json()["data"] == []
    assert trader.get(path).get_json()["data"]["status"] == "OPEN"
    assert trader.get("/orders/999999999").status_code == 404


def test_order_list_filters_and_cursor_pagination(market, trader):
    market.publish("ZZTEST", "100")
    ids = [trader.order(expect=201, order_type="LIMIT", price=90 + i, quantity=1)["order_id"] for i in range(5)]
    trader.order(expect=201, symbol="ZZLOT", order_type="LIMIT", price=190, quantity=25)
    trader.order(expect=201, quantity=1)  # COMPLETE
    first = trader.get("/orders?symbol=zztest&status=OPEN&limit=2").get_json()
    assert [o["order_id"] for o in first["data"]] == ids[:-3:-1] and first["count"] == 2
    second = trader.get(f"/orders?symbol=ZZTEST&status=OPEN&limit=2&cursor={first['next_cursor']}").get_json()
    third = trader.get(f"/orders?symbol=ZZTEST&status=OPEN&limit=2&cursor={second['next_cursor']}").get_json()
    assert [o["order_id"] for o in second["data"] + third["data"]] == ids[2::-1]
    assert third["next_cursor"] is None
    assert trader.get("/orders?status=COMPLETE,OPEN").get_json()["count"] == 7
    assert trader.get("/orders?status=COMPLETE").get_json()["count"] == 1
    assert trader.get("/orders?from=2026-11-20&to=2026-11-20").get_json()["count"] == 7
    assert trader.get("/orders?from=2026-11-21").get_json()["count"] == 0
    assert trader.get("/orders?to=2026-11-20T10:59:59%2B05:30").get_json()["count"] == 0
    for bad in ("status=DONE", "limit=0", "limit=501", "cursor=abc", "from=yesterday", "symbol=a%20b"):
        response = trader.get(f"/orders?{bad}")
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "VALIDATION_ERROR", bad


def test_trades_list_only_fills(market, trader):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=3)
    trader.order(expect=201, order_type="LIMIT", price=95)
    trades = trader.get("/trades").get_json()
    assert trades["count"] == 1
    assert {k: trades["data"][0][k] for k in ("symbol", "side", "quantity", "price", "value")} == {
        "symbol": "ZZTEST",
        "side": "BUY",
        "quantity": 3,
        "price": 100,
        "value": 300,
    }
    assert trader.get("/trades?symbol=ZZLOT").get_json()["data"] == []


def test_reset_needs_confirmation_and_restores_the_starting_cash(market, trader, db_conn):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    trader.order(expect=201, order_type="LIMIT", price=95)
    trader.order(expect=201, side="SELL", order_type="LIMIT", price=110, quantity=5)
    market.publish("ZZTEST", "90")
    assert trader.post("/account/reset", json={}).status_code == 400
    assert trader.post("/account/reset", json={"confirm": "yes"}).status_code == 400
    reset = trader.post("/account/reset", json={"confirm": "RESET"}).get_json()["data"]
    assert reset == {
        "cash": 100000,
        "reserved": 0,
        "available": 100000,
        "holdings_value": 0,
        "equity": 100000,
        "realized_pnl": 0,
        "unrealized_pnl": 0,
        "starting_cash": 100000,
    }
    statuses = {o["status"] for o in trader.get("/orders").get_json()["data"]}
    assert statuses == {"COMPLETE", "CANCELLED"}
    assert trader.get("/portfolio/holdings").get_json()["data"]["holdings"] == []
    assert audit(db_conn) == []


def test_csv_exports_quote_formula_cells(market, trader):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=2, client_order_id="-cid")
    trader.order(expect=201, order_type="LIMIT", price=95)
    response = trader.get("/orders/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2 and rows[1]["client_order_id"] == "'-cid" and rows[1]["average_price"] == "100.0"
    holdings = list(csv.DictReader(io.StringIO(trader.get("/portfolio/export.csv").get_data(as_text=True))))
    assert holdings[0]["company_name"] == '\'=HYPERLINK("ZZTEST") Test Ltd'
    assert holdings[0]["quantity"] == "2" and holdings[0]["profit_loss"] == "0.0"


def test_trades_export_as_csv_with_the_lists_filters(market, trader, make_trader):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=2)
    trader.order(expect=201, side="SELL", quantity=1)
    make_trader("bob").order(expect=201, quantity=5)  # someone else's fill is not in the file
    response = trader.get("/trades/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="trades.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["side"], r["quantity"], r["price"], r["value"]) for r in rows] == [
        ("SELL", "1", "100.0", "100.0"),
        ("BUY", "2", "100.0", "200.0"),
    ]
    assert rows[0]["executed_at"] == "2026-11-20T11:00:00.000+05:30" and rows[0]["symbol"] == "ZZTEST"
    assert list(csv.DictReader(io.StringIO(trader.get("/trades/export.csv?symbol=INFY").get_data(as_text=True)))) == []
    assert trader.get("/trades/export.csv?status=OPEN").status_code == 400  # trades have no status
    assert trader.client.get("/trades/export.csv").status_code == 401


def test_orders_keep_their_placement_time(market, trader):
    market.at(CLOSED_AT)
    order = trader.order(expect=201, order_type="LIMIT", price=95)
    market.at(CLOSED_AT + timedelta(minutes=5))
    modified = trader.patch(f"/orders/{order['order_id']}", json={"price": 94}).get_json()["data"]
    assert modified["created_at"] == "2026-11-20T18:00:00.000+05:30"
    assert modified["updated_at"] == "2026-11-20T18:05:00.000+05:30"
