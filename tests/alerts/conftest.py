"""Alert fixtures: the trading fixtures (test instruments, a frozen market, traders), an alert engine loaded from
the database, and ticks that go through the engine and the firing path as the tick bus would deliver them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
import socketio

from controller.sql import fetch_all, fetch_value
from services.alerts.engine import AlertEngine
from services.alerts.firing import fire
from services.market.live_price_cache import Quote
from tests.trading import conftest as trading
from tests.trading.conftest import INSTRUMENTS, OPEN_AT, Market, Trader
from tests.waiting import wait_for
from utils.timeutil import UTC

# the trading fixtures: test instruments, the frozen market, traders
instruments, market, make_trader, trader = trading.instruments, trading.market, trading.make_trader, trading.trader


class Ticks:
    """Quotes of the test instruments sent through one app's alert engine and fired synchronously."""

    def __init__(self, app, market: Market, engine: AlertEngine) -> None:
        self.app, self.market, self.engine = app, market, engine

    def quote(
        self, symbol: str, ltp: str, volume: int = 5000, prev_close: Decimal | None = None, at: datetime | None = None
    ) -> Quote:
        close = INSTRUMENTS[symbol][2] if prev_close is None else prev_close
        price = Decimal(ltp)
        when = (at or self.market.now).astimezone(UTC)
        return Quote(symbol, price, close, close, max(close, price), min(close, price), volume, when)

    def tick(self, symbol: str, ltp: str, **kw) -> list:
        """One quote: into the live cache, through the index, then fired (in this thread); what fired."""
        quote = self.quote(symbol, ltp, **kw)
        self.app.extensions["live_prices"]["stocks"].update([quote])
        with self.app.app_context():
            return fire(self.engine.evaluate("stocks", [quote]), self.engine.forget)

    def sync(self) -> None:
        """The engine's sync job, once."""
        with self.app.app_context():
            self.engine.sync()


@pytest.fixture
def engine(app, market) -> AlertEngine:
    """The app's alert engine, registered as start_services would and loaded from the database."""
    running = AlertEngine(app)
    app.extensions["alert_engine"] = running
    with app.app_context():
        running.sync()
    return running


@pytest.fixture
def ticks(app, market, engine) -> Ticks:
    """Ticks through the engine of `app`."""
    return Ticks(app, market, engine)


def price_alert(trader: Trader, expect: int = 201, **fields) -> dict:
    """POST /alerts (default: price_above 101 on ZZTEST); the alert, or the error body."""
    body = {"symbol": "ZZTEST", "kind": "price_above", "value": 101, **fields}
    response = trader.post("/alerts", json=body)
    assert response.status_code == expect, response.get_json()
    return response.get_json()["data"] if response.status_code < 300 else response.get_json()


def triggers(db_conn, user_id: int) -> list[dict]:
    """The user's trigger rows, oldest first."""
    return fetch_all(db_conn, "SELECT * FROM alert_triggers WHERE user_id = %s ORDER BY trigger_id", (user_id,))


def alert_count(db_conn, user_id: int) -> int:
    """How many alert rows the user has (tombstones included)."""
    return int(fetch_value(db_conn, "SELECT COUNT(*) FROM alerts WHERE user_id = %s", (user_id,)))


class Ears:
    """A Socket.IO client signed in with `token` (so in its user's room), recording the private events it gets."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, data: event != "market_status" and self.events.append((event, data)))
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def wait_for(self, event: str, timeout: float = 10) -> list[tuple[str, dict]]:
        """Every event received, once `event` is among them."""
        wait_for(lambda: any(name == event for name, _ in self.events), timeout)
        return list(self.events)


__all__ = ["OPEN_AT", "Ears", "Ticks", "alert_count", "price_alert", "triggers"]
