"""The honest simulated market: /market/status says whether the session is the exchange's or simulated and why
the exchange is closed; an administrator switches the session at run time for every process sharing the database;
the switch is announced on the socket (and the close with an `indices_update` whose status is "closed")."""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import datetime

import pytest

from backend.db import connect
from backend.extensions import socketio
from backend.local_mariadb import free_port
from backend.settings import DatabaseConfig
from controller.sql import execute
from services.market.market_clock import SESSION_CHECK_S, set_session_mode
from services.realtime.feed_jobs import MarketStatusWatch
from tests.auth_helpers import access_token, bearer, make_user
from tests.conftest import migrated
from tests.market_helpers import freeze
from tests.waiting import wait_for
from utils.timeutil import IST

SUNDAY = datetime(2026, 11, 22, 21, 0, tzinfo=IST)
HOLIDAY = datetime(2026, 11, 24, 12, 0, tzinfo=IST)  # Guru Nanak Jayanti, a Tuesday
FRIDAY = datetime(2026, 11, 20, 11, 0, tzinfo=IST)


@pytest.fixture(scope="module")
def session_db(make_database):
    """A migrated database of this module's own (the stored session must not leak into other tests)."""
    return migrated(make_database("test_market_session"))


@pytest.fixture(autouse=True)
def _no_stored_session(session_db):
    yield
    with closing(connect(session_db)) as conn:
        execute(conn, "DELETE FROM market_session")
        execute(conn, "DELETE FROM users")


def status(app) -> dict:
    return app.test_client().get("/market/status").get_json()["data"]


@pytest.mark.parametrize(
    ("moment", "phase", "reason"),
    [
        (SUNDAY, "closed", "weekend"),
        (HOLIDAY, "closed", "holiday"),
        (datetime(2026, 11, 20, 8, 0, tzinfo=IST), "closed", "before_open"),
        (datetime(2026, 11, 20, 9, 3, tzinfo=IST), "pre_open", "before_open"),
        (FRIDAY, "open", None),
        (datetime(2026, 11, 20, 15, 30, tzinfo=IST), "closed", "after_hours"),
    ],
)
def test_the_exchange_session_says_why_it_is_closed(make_app, session_db, moment, phase, reason):
    app = make_app(session_db)
    freeze(app, moment)
    data = status(app)
    assert (data["session"], data["phase"], data["exchange_phase"], data["closed_reason"]) == (
        "exchange",
        phase,
        phase,
        reason,
    )


def test_a_simulated_session_is_open_and_says_the_exchange_is_closed(make_app, session_db):
    app = make_app(session_db, sim_always_open=True)  # what `make run` sets
    freeze(app, SUNDAY)
    data = status(app)
    assert (data["phase"], data["is_market_open"], data["session"]) == ("open", True, "simulated")
    assert (data["exchange_phase"], data["closed_reason"], data["is_trading_day"]) == ("closed", "weekend", False)
    freeze(app, HOLIDAY)
    data = status(app)
    assert (data["closed_reason"], data["holiday_name"]) == ("holiday", "Guru Nanak Jayanti")
    freeze(app, FRIDAY)
    data = status(app)
    assert (data["session"], data["exchange_phase"], data["closed_reason"]) == ("simulated", "open", None)


def test_an_admin_switches_the_session_of_every_process(make_app, session_db):
    """Two apps on one database stand for two processes (or machines): the switch made through one reaches the
    other within SESSION_CHECK_S, in both directions."""
    first, second = make_app(session_db, sim_always_open=True), make_app(session_db, sim_always_open=True)
    for app in (first, second):
        freeze(app, SUNDAY)
        assert status(app)["session"] == "simulated"
    with closing(connect(session_db)) as conn:
        admin = make_user(conn, "ops@example.com", role="admin")
    headers = bearer(access_token(first, admin, role="admin"))
    response = first.test_client().put("/admin/market/session", json={"mode": "exchange"}, headers=headers)
    assert response.status_code == 200
    assert (response.get_json()["data"]["session"], response.get_json()["data"]["phase"]) == ("exchange", "closed")
    assert status(first)["phase"] == "closed"  # at once in the process that made the switch
    took = wait_for(lambda: status(second)["phase"] == "closed", timeout_s=SESSION_CHECK_S + 3)
    assert took <= SESSION_CHECK_S + 1
    assert status(second)["closed_reason"] == "weekend"
    first.test_client().put("/admin/market/session", json={"mode": "simulated"}, headers=headers)
    wait_for(lambda: status(second)["session"] == "simulated", timeout_s=SESSION_CHECK_S + 3)
    third = make_app(session_db)  # a process started later (default: the exchange) follows the stored choice too
    freeze(third, SUNDAY)
    assert status(third)["session"] == "simulated"


def test_only_an_admin_switches_and_only_to_a_known_mode(make_app, session_db):
    app = make_app(session_db)
    with closing(connect(session_db)) as conn:
        user, admin = make_user(conn, "u@example.com"), make_user(conn, "a@example.com", role="admin")
    client = app.test_client()
    assert client.put("/admin/market/session", json={"mode": "simulated"}).status_code == 401
    forbidden = client.put("/admin/market/session", json={"mode": "simulated"}, headers=bearer(access_token(app, user)))
    assert forbidden.status_code == 403
    admin_headers = bearer(access_token(app, admin, role="admin"))
    bad = client.put("/admin/market/session", json={"mode": "always"}, headers=admin_headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["fields"][0]["field"] == "mode"
    freeze(app, SUNDAY)
    assert status(app)["session"] == "exchange"  # nothing was stored


def test_the_switch_and_the_close_are_announced_on_the_socket(make_app, session_db, db_config):
    """Switching a Sunday's simulated session to the exchange closes the market: `market_status` says so, and one
    `indices_update` with status "closed" carries the last levels."""
    app = make_app(db_config, sim_always_open=True)  # the seeded database: the indices' levels
    freeze(app, SUNDAY)
    client = socketio.test_client(app)
    client.get_received()
    watch = MarketStatusWatch()
    try:
        with app.app_context():
            assert watch() is False  # records the simulated, open state
            set_session_mode("exchange", None)
            assert watch() is True
            assert watch() is False  # once
        received = client.get_received()
        [status_event] = [m["args"][0] for m in received if m["name"] == "market_status"]
        assert (status_event["phase"], status_event["session"], status_event["closed_reason"]) == (
            "closed",
            "exchange",
            "weekend",
        )
        [closing_update] = [m["args"][0] for m in received if m["name"] == "indices_update"]
        assert closing_update["status"] == "closed" and len(closing_update["data"]) == 9
        assert {row["name"] for row in closing_update["data"]} >= {"NIFTY 50", "SENSEX50"}
    finally:
        client.disconnect()
        with closing(connect(db_config)) as conn:
            execute(conn, "DELETE FROM market_session")


def test_after_the_switch_orders_wait_as_after_market_orders(make_app, db_config):
    """In the simulated Sunday session a limit order works at once; after switching to the exchange's calendar the
    same order waits for Monday's open as an after-market order."""
    app = make_app(db_config, sim_always_open=True)
    freeze(app, SUNDAY)
    with closing(connect(db_config)) as conn:
        admin = make_user(conn, "ops@example.com", role="admin")
    headers = bearer(access_token(app, admin, role="admin"))
    client = app.test_client()
    detail = client.get("/stocks/detail/RELIANCE").get_json()["data"]
    limit = round(round(detail["previousClose"] * 0.95 / detail["tickSize"]) * detail["tickSize"], 2)
    order = {"symbol": "RELIANCE", "side": "BUY", "order_type": "LIMIT", "quantity": 1, "price": limit}
    try:
        simulated = client.post("/orders", json=order, headers=headers).get_json()["data"]
        assert (simulated["status"], simulated["is_amo"]) == ("OPEN", False)
        assert client.put("/admin/market/session", json={"mode": "exchange"}, headers=headers).status_code == 200
        waiting = client.post("/orders", json=order, headers=headers).get_json()["data"]
        assert (waiting["status"], waiting["is_amo"]) == ("OPEN", True)
    finally:
        with closing(connect(db_config)) as conn:
            execute(conn, "DELETE FROM market_session")


def test_without_the_database_the_status_keeps_the_default_session_and_asks_again_later(make_app, caplog):
    """The stored choice is read at most every SESSION_CHECK_S: a database outage costs one attempt per period,
    not one per request, and the status still answers (with the session this process knew, here the default)."""
    dead = DatabaseConfig("127.0.0.1", free_port(), "app", "x", "nowhere")
    app = make_app(dead, sim_always_open=True, db_connect_timeout_s=1, db_pool_timeout_s=0.5)
    freeze(app, SUNDAY)
    with caplog.at_level(logging.WARNING, logger="services.market.market_clock"):
        first, second = status(app), status(app)
    assert first["session"] == second["session"] == "simulated" and first["closed_reason"] == "weekend"
    assert caplog.text.count("market session not read") == 1
