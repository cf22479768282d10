"""Fixtures of the realtime tests: a scratch database of their own (the session database stays as seeded),
an in-memory universe for the simulator, and a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.db import connect
from services.market.live_price_cache import Quote
from services.market_data.universe import IndexSnapshot, StockSnapshot, Universe
from tests.conftest import SEED_NOW, migrate_and_seed
from tests.realtime.fake_upstox import SAMPLE_PRICES, FakeUpstoxServer
from utils.reference_data import load_indices, load_stocks

RT_DB = "test_realtime"


@pytest.fixture(scope="session")
def rt_db_config(make_database):
    """A migrated database seeded like the session one but with 5 days of history; tests may write to it."""
    return migrate_and_seed(make_database(RT_DB), days=5)


@pytest.fixture
def rt_conn(rt_db_config):
    """A raw autocommit connection to the scratch database."""
    conn = connect(rt_db_config)
    yield conn
    conn.close()


@pytest.fixture
def make_rt_app(make_app, rt_db_config):
    """Factory: an app on the scratch database with settings overrides; pools closed afterwards."""
    return lambda **overrides: make_app(rt_db_config, **overrides)


@pytest.fixture
def upstox():
    """The loopback Upstox (REST, feed authorisation, feed WebSocket) quoting SAMPLE_PRICES."""
    with FakeUpstoxServer() as server:
        server.state.prices.update(SAMPLE_PRICES)
        yield server


class Clock:
    """A settable clock for providers."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock starting at the seed's moment (a Friday, 11:00 IST, mid-session)."""
    return Clock(SEED_NOW.astimezone(UTC))


def reference_universe(as_of: datetime = SEED_NOW) -> Universe:
    """The reference stocks and indices, every quote at its reference price (no database)."""
    at = as_of.astimezone(UTC)

    def flat(name, price, volume=0):
        return Quote(name, price, price, price, price, price, volume, at, "database")

    stocks = tuple(
        StockSnapshot(
            n + 1,
            s.symbol,
            s.company_name,
            s.sector,
            f"NSE_EQ|{s.isin}" if s.isin else None,
            s.tick_size,
            flat(s.symbol, s.ref_price),
        )
        for n, s in enumerate(load_stocks())
    )
    indices = tuple(
        IndexSnapshot(
            n + 1,
            i.name,
            i.tag,
            i.instrument_key,
            flat(i.name, i.ref_value),
            tuple((c.symbol, c.weight) for c in i.constituents),
            i.ref_value,
        )
        for n, i in enumerate(load_indices())
    )
    return Universe(stocks, indices)
