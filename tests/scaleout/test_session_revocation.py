"""Signed-in Socket.IO connections end with their authorisation across processes: two gunicorn + gevent
processes (P and Q) on one database and Redis, real python-socketio clients on the WebSocket transport.

A logout through P ends the sockets signed in with that token on P and on Q, and only those; an admin's block
through P ends all the user's sockets on both, with a reason the client can show, and cancels the user's
resting order (reject_reason account_blocked, reservation released); a deletion ends them too. All within the
auth cache's bound (5 s)."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import closing

import pytest
import requests
import socketio

from backend.db import connect
from controller.sql import execute, fetch_one
from tests.waiting import wait_for

BOUND_S = 5.0  # AUTH_CACHE_TTL_S at most
PASSWORD = "correct horse battery"


class SignedInClient:
    """A python-socketio client signed in with a token; records session_revoked, private events, disconnects."""

    def __init__(self, url: str, token: str) -> None:
        self.revoked: list[dict] = []
        self.private: list[str] = []
        self.disconnected_at: float | None = None
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_revoked", self._on_revoked)
        self.client.on("disconnect", self._on_disconnect)
        for event in ("order_update", "trade", "account_update"):
            self.client.on(event, lambda data, event=event: self._on_private(event))
        self.client.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=10)

    def _on_revoked(self, data: dict) -> None:
        with self._lock:
            self.revoked.append(data)

    def _on_private(self, event: str) -> None:
        with self._lock:
            self.private.append(event)

    def _on_disconnect(self, *args) -> None:
        self.disconnected_at = time.monotonic()

    @property
    def connected(self) -> bool:
        return self.client.connected and self.disconnected_at is None

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture(scope="module")
def pair(start_app):
    return start_app("p", "q")


@pytest.fixture(scope="module")
def users(scaleout_db):
    """Emails registered by this module, deleted afterwards (the scale-out database outlives the module)."""
    emails: list[str] = []
    yield emails
    with closing(connect(scaleout_db)) as conn:
        for email in emails:
            execute(conn, "DELETE FROM users WHERE email = %s", (email,))


@pytest.fixture
def clients():
    made: list[SignedInClient] = []

    def make(url: str, token: str) -> SignedInClient:
        made.append(SignedInClient(url, token))
        return made[-1]

    yield make
    for client in made:
        client.close()


def register(url: str, users: list[str]) -> tuple[int, dict]:
    email = f"s-{uuid.uuid4().hex[:10]}@example.com"
    users.append(email)
    response = requests.post(
        url + "/auth/register", json={"email": email, "password": PASSWORD, "name": "Session"}, timeout=10
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return data["user"]["user_id"], data


def login(url: str, user_id: int, scaleout_db) -> dict:
    with closing(connect(scaleout_db)) as conn:
        email = fetch_one(conn, "SELECT email FROM users WHERE user_id = %s", (user_id,))["email"]
    response = requests.post(url + "/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def admin(pair, users, scaleout_db) -> dict:
    user_id, session = register(pair[0].url, users)
    with closing(connect(scaleout_db)) as conn:
        execute(conn, "UPDATE users SET role = 'admin' WHERE user_id = %s", (user_id,))
    return auth(session["access_token"])


def ended_within(clients: list[SignedInClient], reason: str) -> float:
    took = wait_for(lambda: all(not c.connected for c in clients), BOUND_S + 1)
    for client in clients:
        assert [r["reason"] for r in client.revoked] == [reason], client.revoked
        assert client.revoked[0]["message"]
    return took


def test_a_logout_ends_that_tokens_sockets_in_every_process(pair, users, clients, scaleout_db):
    p, q = pair
    user_id, first = register(p.url, users)
    second = login(q.url, user_id, scaleout_db)
    doomed = [clients(p.url, first["access_token"]), clients(q.url, first["access_token"])]
    kept = clients(q.url, second["access_token"])
    response = requests.post(p.url + "/auth/logout", headers=auth(first["access_token"]), timeout=10)
    assert response.status_code == 200
    assert ended_within(doomed, "token_revoked") <= BOUND_S
    # Q ended its socket of the revoked token in a check that saw the other token's socket too; a private event
    # sent after it still arrives there (a connection delivers in order: an end would have come first)
    requests.post(q.url + "/account/reset", json={"confirm": "RESET"}, headers=auth(second["access_token"]), timeout=10)
    wait_for(lambda: "account_update" in kept.private, 5)
    assert kept.connected and kept.revoked == []


def test_a_block_ends_every_socket_and_cancels_the_resting_order(pair, users, clients, admin, scaleout_db):
    p, q = pair
    user_id, session = register(q.url, users)
    token = session["access_token"]
    band = requests.get(q.url + "/stocks/detail/TCS", timeout=10).json()["data"]["lowerCircuit"]
    order = requests.post(
        q.url + "/orders",
        json={"symbol": "TCS", "side": "BUY", "order_type": "LIMIT", "price": band, "quantity": 1},
        headers=auth(token),
        timeout=10,
    )
    assert order.status_code == 201 and order.json()["data"]["status"] == "OPEN", order.text
    sockets = [clients(p.url, token), clients(q.url, token)]
    blocked = requests.patch(f"{p.url}/admin/users/{user_id}", json={"status": "blocked"}, headers=admin, timeout=10)
    assert blocked.status_code == 200
    assert ended_within(sockets, "account_blocked") <= BOUND_S
    assert all(c.private == [] for c in sockets)  # no private event after the block
    with closing(connect(scaleout_db)) as conn:
        row = fetch_one(
            conn, "SELECT status, reject_reason FROM orders WHERE order_id = %s", (order.json()["data"]["order_id"],)
        )
        reserved = fetch_one(conn, "SELECT reserved FROM accounts WHERE user_id = %s", (user_id,))["reserved"]
    assert row == {"status": "CANCELLED", "reject_reason": "account_blocked"} and reserved == 0
    account = q.url + "/account"  # HTTP: refused once Q's cached auth state (at most AUTH_CACHE_TTL_S old) expires
    wait_for(lambda: requests.get(account, headers=auth(token), timeout=10).status_code == 403, BOUND_S + 1)
    refused = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(q.url, transports=["websocket"], auth={"token": token}, wait_timeout=10)


def test_a_deletion_ends_every_socket(pair, users, clients, admin):
    p, q = pair
    user_id, session = register(p.url, users)
    sockets = [clients(p.url, session["access_token"]), clients(q.url, session["access_token"])]
    assert requests.delete(f"{q.url}/admin/users/{user_id}", headers=admin, timeout=10).status_code == 200
    assert ended_within(sockets, "user_deleted") <= BOUND_S
