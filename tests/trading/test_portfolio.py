"""Holdings at live prices (or the database), totals, the account object and the daily equity curve."""

from datetime import timedelta

from mysql.connector import errors as mysql_errors

from backend.mysql_wire import Connection
from controller.sql import fetch_value
from services.trading import desk
from services.trading.order_jobs import snapshot_equity
from tests.trading.conftest import CLOSED_AT, NEXT_OPEN, OPEN_AT, Market, Trader


def test_holdings_use_fresh_live_prices_else_the_database(market, trader):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    market.publish("ZZTEST", "110")
    live = trader.get("/portfolio/holdings").get_json()["data"]
    [h] = live["holdings"]
    assert (h["current_price"], h["price_source"], h["profit_loss"], h["profit_loss_percent"]) == (
        110,
        "websocket_cache",
        100,
        10,
    )
    assert (h["day_change"], h["day_change_percentage"]) == (100, 10)  # previous close 100
    assert live["market_open"] is True
    assert live["totals"] == {
        "invested": 1000,
        "current_value": 1100,
        "profit_loss": 100,
        "profit_loss_percent": 10,
        "day_change": 100,
        "day_change_percentage": 10,
    }
    market.at(OPEN_AT + timedelta(minutes=5))  # the live quote is stale now: the database snapshot (100) counts
    [h] = trader.get("/portfolio/holdings").get_json()["data"]["holdings"]
    assert (h["current_price"], h["price_source"]) == (100, "database")
    market.at(CLOSED_AT)
    assert trader.get("/portfolio/holdings").get_json()["data"]["market_open"] is False


def test_the_account_object(market, trader):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    trader.order(expect=201, order_type="LIMIT", price=90, quantity=10)
    market.publish("ZZTEST", "95")
    assert trader.account() == {
        "cash": 99000,
        "reserved": 900,
        "available": 98100,
        "holdings_value": 950,
        "equity": 99950,
        "realized_pnl": 0,
        "unrealized_pnl": -50,
        "starting_cash": 100000,
    }


def test_holdings_version_changes_with_what_the_holdings_are_worth(market, trader, db_conn):
    def version() -> int:
        return fetch_value(db_conn, "SELECT holdings_version FROM accounts WHERE user_id = %s", (trader.user_id,))

    market.publish("ZZTEST", "100")
    before = version()
    trader.order(expect=201, quantity=10)
    bought = version()
    assert bought != before
    trader.order(expect=201, order_type="LIMIT", price=90, quantity=1)  # rests: cash is reserved, holdings unchanged
    sell = trader.order(expect=201, side="SELL", order_type="LIMIT", price=120, quantity=5)  # shares reserved
    trader.delete(f"/orders/{sell['order_id']}")
    assert version() == bought
    trader.order(expect=201, side="SELL", quantity=5)
    sold = version()
    assert sold not in (before, bought)
    assert trader.post("/account/reset", json={"confirm": "RESET"}).status_code == 200
    assert version() not in (before, bought, sold)


def test_account_updates_value_the_holdings_as_they_are_now_even_if_another_process_changed_them(
    market, trader, make_app, db_config, monkeypatch, round_trips
):
    pushed = []
    monkeypatch.setattr(desk, "publish", pushed.append)
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    trader.order(expect=201, order_type="LIMIT", price=90, quantity=1)  # valued from the cached holding costs
    assert pushed[-1].account == trader.account()
    assert pushed[-1].account["holdings_value"] == 1000
    other = Market(make_app(db_config))  # another worker, with caches of its own
    other.at(OPEN_AT)
    other.publish("ZZTEST", "100")
    Trader(trader.user_id, trader.token, other.app.test_client()).order(expect=201, quantity=5)
    round_trips.clear()
    trader.order(expect=201, order_type="LIMIT", price=90, quantity=1)  # costs of a version this app never saw
    assert len(round_trips) == 2  # they are read in the transaction, in the COMMIT's round trip
    assert b"FROM holdings h" in round_trips[1] and round_trips[1].endswith(b"COMMIT")
    assert pushed[-1].account == trader.account()
    assert pushed[-1].account["holdings_value"] == 1500


def test_after_a_fill_the_cached_costs_are_updated_without_a_query(market, trader, monkeypatch):
    pushed, queries = [], []
    monkeypatch.setattr(desk, "publish", pushed.append)
    query = desk.holding_costs
    monkeypatch.setattr(desk, "holding_costs", lambda *args: queries.append(1) or query(*args))
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)  # the costs before this first fill were never cached: one query
    assert len(queries) == 1
    market.publish("ZZTEST", "110")
    trader.order(expect=201, quantity=5)  # bought more: average cost (1000 + 550) / 15
    assert pushed[-1].account == trader.account()
    assert (pushed[-1].account["holdings_value"], pushed[-1].account["unrealized_pnl"]) == (1650, 100)
    trader.order(expect=201, side="SELL", quantity=15)  # sold out
    assert pushed[-1].account == trader.account()
    assert pushed[-1].account["holdings_value"] == 0 and pushed[-1].account["realized_pnl"] == 100
    assert len(queries) == 1


def test_a_fill_rolled_back_after_its_valuation_leaves_no_wrong_costs_behind(market, trader, monkeypatch):
    pushed = []
    monkeypatch.setattr(desk, "publish", pushed.append)
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    commit = Connection.commit

    def lost_at_commit(conn):
        monkeypatch.setattr(Connection, "commit", commit)
        raise mysql_errors.OperationalError("connection lost")

    monkeypatch.setattr(Connection, "commit", lost_at_commit)
    trader.order(expect=503, quantity=5)  # valued (costs cached) inside the transaction, then rolled back
    trader.order(expect=201, side="SELL", quantity=4)
    assert pushed[-1].account == trader.account()
    assert pushed[-1].account["holdings_value"] == 600


def test_the_equity_snapshot_job_builds_the_daily_curve(market, trader, make_trader, app):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)
    idle = make_trader("idle")
    with app.app_context():
        assert snapshot_equity(OPEN_AT) == 0  # the session is not over
        assert snapshot_equity(CLOSED_AT.replace(hour=15, minute=31)) >= 2
        assert snapshot_equity(CLOSED_AT) >= 2  # a rerun overwrites the same day
        assert snapshot_equity(NEXT_OPEN - timedelta(days=1)) == 0  # Sunday: no session
    curve = trader.get("/portfolio/history").get_json()
    assert curve["count"] == 1
    assert curve["data"] == [
        {"time": "2026-11-20T15:30:00.000+05:30", "equity": 100000, "cash": 99000, "holdings_value": 1000}
    ]
    assert idle.get("/portfolio/history?days=5").get_json()["data"][0]["equity"] == 100000
    assert trader.get("/portfolio/history?days=0").status_code == 400
