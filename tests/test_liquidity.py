"""The liquidity profile: every stock trades as its standing on NSE says (index membership and weight, price), in
the seeded history, in the simulator's live volume, and so in most active by value and the sector tiles."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from controller.sql import fetch_all
from tests.conftest import SEED_NOW
from tests.market_helpers import CLOSED_NOW, freeze
from tests.realtime.conftest import Clock
from tests.realtime.test_simulator import make_sim, run
from utils.liquidity import CRORE, typical_traded_value

HEAVY, SMALL = ("HDFCBANK", "ICICIBANK"), ("YESBANK", "AUBANK")


def test_the_profile_follows_index_standing():
    crores = {s: typical_traded_value(s) / CRORE for s in (*HEAVY, *SMALL, "RELIANCE", "IOC")}
    for heavy in HEAVY:
        assert crores[heavy] >= 1_000  # thousands of crores a day
        assert all(crores[heavy] >= 5 * crores[small] for small in SMALL)
    assert crores["RELIANCE"] > crores["IOC"] > crores["YESBANK"]  # NIFTY 50 > NIFTY NEXT 50 > the rest


def _daily_traded_value(db_conn) -> dict[str, Decimal]:
    rows = fetch_all(
        db_conn,
        """SELECT s.symbol, AVG(c.volume * c.close) AS value FROM stock_candles c JOIN stocks s USING (stock_id)
        WHERE c.timeframe = '1d' GROUP BY s.symbol""",
    )
    return {r["symbol"]: r["value"] for r in rows}


def test_seeded_history_trades_thousands_of_crores_in_the_heavyweights(db_conn):
    value = _daily_traded_value(db_conn)
    for heavy in HEAVY:
        assert value[heavy] >= 900 * CRORE, heavy
        assert all(value[heavy] >= 4 * value[small] for small in SMALL), heavy
    ranked = sorted(value, key=value.get, reverse=True)
    assert {"HDFCBANK", "RELIANCE", "ICICIBANK"} <= set(ranked[:6])


def test_simulated_volume_follows_the_profile():
    clock = Clock(SEED_NOW.astimezone(UTC))
    sim = make_sim(clock)
    start = {q.symbol: q for q in sim.quotes(sim.symbols)}
    end = run(sim, clock, 120, seconds=5.0)[-1]
    traded = {s: float(end[s].ltp) * (end[s].volume - start[s].volume) for s in (*HEAVY, *SMALL)}
    for heavy in HEAVY:
        assert all(traded[heavy] >= 4 * traded[small] for small in SMALL), traded


def test_most_active_by_value_and_sector_tiles_look_like_nse(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    by_value = client.get("/stocks/most-active?by=value&limit=5").get_json()["data"]
    nifty50 = {
        r["symbol"]
        for r in fetch_all(
            db_conn,
            """SELECT s.symbol FROM index_constituents c JOIN indices i USING (index_id) JOIN stocks s USING (stock_id)
            WHERE i.name = 'NIFTY 50'""",
        )
    }
    assert {r["symbol"] for r in by_value} <= nifty50 and "HDFCBANK" in {r["symbol"] for r in by_value}
    values = [r["priceNum"] * r["volume"] for r in by_value]
    assert values == sorted(values, reverse=True)
    by_volume = client.get("/stocks/most-active?limit=5").get_json()["data"]
    assert [r["symbol"] for r in by_volume] != [r["symbol"] for r in by_value]  # cheap shares trade the most shares
    sectors = client.get("/stocks/sectors").get_json()["data"]
    assert max(sectors, key=lambda s: s["tradedValue"])["sector"] == "Financial Services"
