"""Trading fixtures: test instruments with known prices, a frozen market clock, live ticks and traders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from flask_jwt_extended import create_access_token

from backend.db import connect
from backend.mysql_wire import Connection
from controller.sql import execute
from controller.trading.paper_accounts import create_account
from services.market.live_price_cache import Quote
from services.trading.matcher import match_ticks
from tests.market_helpers import freeze
from utils.timeutil import IST, UTC

OPEN_AT = datetime(2026, 11, 20, 11, 0, tzinfo=IST)  # a Friday, mid-session
CLOSED_AT = datetime(2026, 11, 20, 18, 0, tzinfo=IST)  # the same evening
NEXT_OPEN = datetime(2026, 11, 23, 9, 15, 5, tzinfo=IST)  # Monday, just after the open
STARTING_CASH = Decimal("100000")

# symbol, tick size, lot size, previous close (= last price in the database snapshot)
INSTRUMENTS = {
    "ZZTEST": (Decimal("0.05"), 1, Decimal("100.00")),
    "ZZLOT": (Decimal("0.05"), 25, Decimal("200.00")),
    "ZZBIG": (Decimal("1.00"), 1, Decimal("10000.00")),
}


@pytest.fixture(scope="module")
def instruments(db_config):
    """Three made-up stocks with database quotes, removed again after the module."""
    conn = connect(db_config)
    ids = {}
    try:
        for symbol, (tick, lot, close) in INSTRUMENTS.items():
            _, stock_id = execute(
                conn,
                "INSERT INTO stocks (symbol, exchange, company_name, sector, tick_size, "
                "lot_size) VALUES (%s, 'NSE', %s, 'Testing', %s, %s)",
                (symbol, f'=HYPERLINK("{symbol}") Test Ltd', tick, lot),
            )
            execute(
                conn,
                "INSERT INTO stock_quotes (stock_id, ltp, prev_close, day_open, day_high, day_low, volume, "
                "as_of) VALUES (%s, %s, %s, %s, %s, %s, 1000, %s)",
                (stock_id, close, close, close, close, close, OPEN_AT.astimezone(UTC).replace(tzinfo=None)),
            )
            ids[symbol] = stock_id
        yield ids
    finally:
        execute(conn, "DELETE FROM users")
        for stock_id in ids.values():
            execute(conn, "DELETE FROM stocks WHERE stock_id = %s", (stock_id,))
        conn.close()


class Market:
    """The frozen clock and the live-price cache of one app."""

    def __init__(self, app) -> None:
        self.app = app
        self.now = OPEN_AT

    def at(self, when: datetime) -> None:
        """Freeze the app's clock."""
        self.now = when
        freeze(self.app, when.astimezone(UTC))

    def quote(self, symbol: str, ltp: str | Decimal, as_of: datetime | None = None) -> Quote:
        """A quote of a test instrument around its database previous close."""
        close = INSTRUMENTS[symbol][2]
        return Quote(
            symbol,
            Decimal(str(ltp)),
            close,
            close,
            max(close, Decimal(str(ltp))),
            min(close, Decimal(str(ltp))),
            5000,
            (as_of or self.now).astimezone(UTC),
        )

    def publish(self, symbol: str, ltp: str | Decimal) -> Quote:
        """Put a fresh quote into the live cache (as the tick bus would)."""
        quote = self.quote(symbol, ltp)
        self.app.extensions["live_prices"]["stocks"].update([quote])
        return quote

    def tick(self, symbol: str, ltp: str | Decimal) -> list:
        """A tick: update the cache and run the matcher on it."""
        quote = self.publish(symbol, ltp)
        with self.app.app_context():
            return match_ticks([quote])


@pytest.fixture
def market(app, instruments) -> Market:
    """The market, frozen mid-session on a trading day."""
    m = Market(app)
    m.at(OPEN_AT)
    return m


@dataclass
class Trader:
    """A user with an account and a token, talking to the app through the test client."""

    user_id: int
    token: str
    client: object

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def patch(self, path, json=None):
        return self.client.patch(path, json=json, headers=self.headers)

    def put(self, path, json=None):
        return self.client.put(path, json=json, headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)

    def order(self, expect: int | None = None, **fields):
        """POST /orders (defaults: BUY 10 ZZTEST MARKET DAY); assert the status when `expect` is given."""
        body = {"symbol": "ZZTEST", "side": "BUY", "order_type": "MARKET", "quantity": 10, **fields}
        response = self.post("/orders", json=body)
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response.get_json()["data"] if response.status_code < 300 else response.get_json()

    def account(self) -> dict:
        """GET /account data."""
        return self.get("/account").get_json()["data"]


def make_user(app, conn, name: str, with_account: bool = True) -> tuple[int, str]:
    """Insert a user (and an account); return (user_id, access token)."""
    _, user_id = execute(conn, "INSERT INTO users (email, name) VALUES (%s, %s)", (f"{name}@example.com", name))
    if with_account:
        create_account(conn, user_id, STARTING_CASH)
    with app.app_context():
        token = create_access_token(identity=str(user_id))
    return user_id, token


@pytest.fixture
def make_trader(app, client, db_conn):
    """Factory: make_trader("alice") → Trader."""

    def make(name: str, with_account: bool = True) -> Trader:
        user_id, token = make_user(app, db_conn, name, with_account)
        return Trader(user_id, token, client)

    return make


@pytest.fixture
def trader(make_trader) -> Trader:
    """Alice, with the starting cash."""
    return make_trader("alice")


@pytest.fixture
def round_trips(monkeypatch) -> list[bytes]:
    """The queries sent from now on, one per round trip (with their deferred writes in front); the pool's
    switches of a connection's autocommit mode aside (they depend on which connection a test's small pool has).
    Every query the driver sends (a cursor's, a COMMIT, a ROLLBACK) goes through its public `cmd_query`."""
    sent: list[bytes] = []
    original = Connection.cmd_query

    def send(conn: Connection, query: bytes | str, *args, **kwargs):
        query = query.encode() if isinstance(query, str) else bytes(query)
        if not query.startswith(b"SET @@session.autocommit"):
            sent.append(query)
        return original(conn, query, *args, **kwargs)

    monkeypatch.setattr(Connection, "cmd_query", send)
    return sent
