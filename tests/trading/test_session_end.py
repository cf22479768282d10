"""Authorisation ends for live connections and resting orders too (in one process; tests/scaleout has several):
a logout ends the sockets signed in with that token, a block or a deletion all the user's sockets (told why),
a block cancels the user's working orders with `account_blocked` and releases what they held, and the matcher
never executes an order of a user who is not active. Another process's change is caught by `check_sessions`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.extensions import socketio
from controller.sql import execute, fetch_all, fetch_one
from services.realtime.sessions import check_sessions, socket_sessions
from services.trading.matcher import process_open_market
from tests.auth_helpers import access_token, bearer
from tests.auth_helpers import make_user as make_account_user
from tests.trading.conftest import CLOSED_AT, NEXT_OPEN

REVOKED = "session_revoked"


@pytest.fixture
def admin(app, db_conn):
    return bearer(access_token(app, make_account_user(db_conn, "admin@example.com", role="admin"), role="admin"))


def connect(app, token: str):
    client = socketio.test_client(app, auth={"token": token})
    assert client.is_connected()
    client.get_received()  # market_status
    return client


def received(client, event: str) -> list:
    """The payloads of `event` received so far (read from the test client's queue: get_received() refuses once
    the server has disconnected the client)."""
    messages, client.queue = client.queue, []
    return [m["args"][0] for m in messages if m["name"] == event]


def holdings(db_conn, user_id: int) -> dict:
    return fetch_one(db_conn, "SELECT quantity, reserved_quantity FROM holdings WHERE user_id = %s", (user_id,))


def test_a_block_cancels_working_orders_releases_them_and_ends_the_sockets(app, client, db_conn, market, trader, admin):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=10)  # MARKET: fills, 10 held
    sell = trader.order(expect=201, side="SELL", order_type="LIMIT", price=110, quantity=4)
    buy = trader.order(expect=201, order_type="LIMIT", price=95, quantity=5)
    stop = trader.order(expect=201, order_type="SL-M", trigger_price=105, quantity=2)
    assert trader.account()["reserved"] > 0 and holdings(db_conn, trader.user_id)["reserved_quantity"] == 4
    sockets = [connect(app, trader.token), connect(app, access_token(app, trader.user_id))]

    response = client.patch(f"/admin/users/{trader.user_id}", json={"status": "blocked"}, headers=admin)
    assert response.status_code == 200 and response.get_json()["data"]["user"]["status"] == "blocked"

    rows = fetch_all(
        db_conn,
        "SELECT order_id, status, reject_reason, reserved_amount FROM orders WHERE user_id = %s",
        (trader.user_id,),
    )
    working = {sell["order_id"], buy["order_id"], stop["order_id"]}
    assert {r["order_id"]: (r["status"], r["reject_reason"]) for r in rows if r["order_id"] in working} == {
        order_id: ("CANCELLED", "account_blocked") for order_id in working
    }
    assert all(r["reserved_amount"] == 0 for r in rows)
    account = fetch_one(db_conn, "SELECT cash, reserved FROM accounts WHERE user_id = %s", (trader.user_id,))
    assert account["reserved"] == 0 and holdings(db_conn, trader.user_id) == {"quantity": 10, "reserved_quantity": 0}
    for socket in sockets:
        assert received(socket, REVOKED) == [
            {"reason": "account_blocked", "message": "This account has been blocked by an administrator."}
        ]
        assert not socket.is_connected()
        assert received(socket, "order_update") == []  # no private event reaches a blocked user
    assert market.tick("ZZTEST", "90") == [] and market.tick("ZZTEST", "120") == []  # nothing left to fill


def test_the_matcher_never_executes_an_order_of_a_blocked_user(app, db_conn, market, trader):
    market.publish("ZZTEST", "100")
    order = trader.order(expect=201, order_type="LIMIT", price=95)
    # blocked without the admin route's cancellation: as if the order came in while a process still trusted them
    execute(db_conn, "UPDATE users SET status = 'blocked' WHERE user_id = %s", (trader.user_id,))
    assert market.tick("ZZTEST", "94") == []
    row = fetch_one(db_conn, "SELECT status FROM orders WHERE order_id = %s", (order["order_id"],))
    assert row["status"] == "OPEN"


def test_after_market_orders_of_a_blocked_user_wait(app, db_conn, market, trader):
    market.at(CLOSED_AT)
    order = trader.order(expect=201, quantity=3)  # an after-market MARKET order
    execute(db_conn, "UPDATE users SET status = 'blocked' WHERE user_id = %s", (trader.user_id,))
    market.at(NEXT_OPEN)
    market.publish("ZZTEST", "100")
    with app.app_context():
        assert process_open_market() == []
    assert fetch_one(db_conn, "SELECT status FROM orders WHERE order_id = %s", (order["order_id"],))["status"] == "OPEN"


def test_a_logout_ends_the_sockets_of_that_token_only(app, client, trader):
    other_token = access_token(app, trader.user_id)
    ended, kept = connect(app, trader.token), connect(app, other_token)
    assert client.post("/auth/logout", headers=bearer(trader.token)).status_code == 200
    assert received(ended, REVOKED)[0]["reason"] == "token_revoked" and not ended.is_connected()
    assert kept.is_connected() and received(kept, REVOKED) == []
    with app.app_context():
        assert len(socket_sessions().all()) == 1  # the ended one is forgotten


def test_a_deletion_ends_the_users_sockets(app, client, trader, admin):
    socket = connect(app, trader.token)
    assert client.delete(f"/admin/users/{trader.user_id}", headers=admin).status_code == 200
    assert received(socket, REVOKED)[0]["reason"] == "user_deleted" and not socket.is_connected()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("UPDATE users SET status = 'blocked' WHERE user_id = %(user)s", "account_blocked"),
        ("DELETE FROM users WHERE user_id = %(user)s", "user_deleted"),
        (
            "INSERT INTO revoked_tokens (jti, user_id, token_type, expires_at) "
            "VALUES (%(jti)s, %(user)s, 'access', '2099-01-01')",
            "token_revoked",
        ),
    ],
    ids=["blocked", "deleted", "revoked"],
)
def test_the_periodic_check_ends_sockets_changed_elsewhere(app, db_conn, trader, change, reason):
    socket = connect(app, trader.token)
    bystander = connect(app, access_token(app, make_account_user(db_conn, "bystander@example.com")))
    with app.app_context():
        assert check_sessions() == 0
        [session] = [s for s in socket_sessions().all().values() if s.user_id == trader.user_id]
    db_conn.cursor().execute(change, {"user": trader.user_id, "jti": session.jti})
    with app.app_context():
        assert check_sessions() == 1
    assert received(socket, REVOKED)[0]["reason"] == reason and not socket.is_connected()
    assert bystander.is_connected()


def test_a_sell_reservation_is_released_exactly_once(app, client, db_conn, market, trader, admin):
    market.publish("ZZTEST", "100")
    trader.order(expect=201, quantity=6)
    trader.order(expect=201, side="SELL", order_type="LIMIT", price=120, quantity=6)
    client.patch(f"/admin/users/{trader.user_id}", json={"status": "blocked"}, headers=admin)
    client.patch(f"/admin/users/{trader.user_id}", json={"status": "blocked"}, headers=admin)  # again: no-op
    assert holdings(db_conn, trader.user_id) == {"quantity": 6, "reserved_quantity": 0}
    cash = fetch_one(db_conn, "SELECT cash, reserved FROM accounts WHERE user_id = %s", (trader.user_id,))
    assert cash["reserved"] == 0 and cash["cash"] == Decimal("100000") - 6 * Decimal("100.00")
