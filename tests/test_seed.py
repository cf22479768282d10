"""The seed: counts, invariants, index consistency, determinism and idempotency on the real server."""

from decimal import Decimal

import pytest

from backend.db import connect
from backend.migrate import migrate
from backend.seed import HISTORY_DAYS, current_session, seed_market
from controller.sql import fetch_all, fetch_one, fetch_value
from tests.conftest import SEED, SEED_NOW
from utils.market_hours import MarketCalendar
from utils.reference_data import load_indices, load_stocks


def checksum(conn, table):
    """A digest of a table's content (CHECKSUM TABLE depends on the physical row layout)."""
    columns = [
        r["COLUMN_NAME"]
        for r in fetch_all(
            conn,
            "SELECT column_name AS COLUMN_NAME FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]
    row = fetch_one(conn, f"SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', {', '.join(columns)}))) AS s FROM {table}")
    return row["n"], row["s"]


def test_universe_and_history_counts(db_conn):
    stocks = len(load_stocks())
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM stocks") == stocks >= 200
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM indices") == 9
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM stock_quotes") == stocks
    per_stock = fetch_all(
        db_conn,
        "SELECT timeframe, COUNT(*) AS n, COUNT(DISTINCT stock_id) AS s "
        "FROM stock_candles GROUP BY timeframe ORDER BY timeframe",
    )
    # 11:00 IST is minute 106 of the session (09:15 counts as the first).
    assert [(r["timeframe"], r["n"], r["s"]) for r in per_stock] == [
        ("1m", 106 * stocks, stocks),
        ("1d", HISTORY_DAYS * stocks, stocks),
    ]


def test_history_covers_at_least_two_years_of_sessions():
    session = current_session(MarketCalendar(), SEED_NOW, HISTORY_DAYS)
    assert (session.day - session.history_days[0]).days >= 2 * 365
    assert session.minutes == 106 and not session.complete


def test_candles_are_well_formed_and_on_tick(db_conn):
    bad = fetch_value(
        db_conn,
        """
        SELECT COUNT(*) FROM stock_candles c JOIN stocks s USING (stock_id)
        WHERE c.high < GREATEST(c.open, c.close) OR c.low > LEAST(c.open, c.close) OR c.low <= 0
           OR MOD(c.close, s.tick_size) <> 0 OR MOD(c.open, s.tick_size) <> 0 OR c.volume <= 0""",
    )
    assert bad == 0
    assert (
        fetch_value(
            db_conn,
            """
        SELECT COUNT(*) FROM index_candles WHERE high < GREATEST(open, close) OR low > LEAST(open, close)
    """,
        )
        == 0
    )


def test_reference_price_is_the_last_daily_close_and_quotes_match_minutes(db_conn):
    refs = {s.symbol: s.ref_price for s in load_stocks()}
    rows = fetch_all(
        db_conn,
        """
        SELECT s.symbol, q.prev_close, q.ltp, q.day_open, q.volume,
               (SELECT c.close FROM stock_candles c WHERE c.stock_id = s.stock_id AND c.timeframe = '1m'
                 ORDER BY c.ts DESC LIMIT 1) AS last_minute_close,
               (SELECT SUM(c.volume) FROM stock_candles c WHERE c.stock_id = s.stock_id AND c.timeframe = '1m')
                 AS minute_volume
        FROM stocks s JOIN stock_quotes q USING (stock_id) WHERE s.symbol IN ('RELIANCE', 'TCS', 'INFY')""",
    )
    assert len(rows) == 3
    for row in rows:
        assert row["prev_close"] == refs[row["symbol"]]
        assert row["ltp"] == row["last_minute_close"]
        assert row["volume"] == row["minute_volume"]


def test_indices_are_computed_from_their_constituents(db_conn):
    refs = {s.symbol: s.ref_price for s in load_stocks()}
    ltp = {
        r["symbol"]: r["ltp"]
        for r in fetch_all(db_conn, "SELECT s.symbol, q.ltp FROM stocks s JOIN stock_quotes q USING (stock_id)")
    }
    for index in load_indices():
        if index.volatility_index:
            continue
        weights = sum(c.weight for c in index.constituents)
        expected = (
            index.ref_value * sum(c.weight * ltp[c.symbol] / refs[c.symbol] for c in index.constituents) / weights
        )
        stored = fetch_value(
            db_conn, "SELECT q.ltp FROM index_quotes q JOIN indices i USING (index_id) WHERE i.name = %s", (index.name,)
        )
        assert abs(stored - expected) <= Decimal("0.02"), index.name
        prev = fetch_value(
            db_conn,
            "SELECT q.prev_close FROM index_quotes q JOIN indices i USING (index_id) WHERE i.name = %s",
            (index.name,),
        )
        assert prev == index.ref_value


def test_seed_is_idempotent(db_config, db_conn):
    before = {t: checksum(db_conn, t) for t in ("stocks", "stock_candles", "stock_quotes", "index_candles")}
    seed_market(db_config, seed=SEED, now=SEED_NOW)
    assert {t: checksum(db_conn, t) for t in before} == before


@pytest.fixture
def seeded(make_database):
    def run(name, seed, **kwargs):
        config = make_database(name)
        conn = connect(config)
        migrate(conn)
        seed_market(config, seed=seed, now=SEED_NOW, **kwargs)
        return conn

    return run


def test_seed_is_deterministic_for_a_seed(seeded, db_conn):
    same = seeded("test_seed_same", SEED)
    other = seeded("test_seed_other", SEED + 1, days=20)
    try:
        assert checksum(same, "stock_candles") == checksum(db_conn, "stock_candles")
        assert checksum(same, "index_quotes") == checksum(db_conn, "index_quotes")
        assert fetch_value(other, "SELECT ltp FROM stock_quotes WHERE stock_id = 1") != fetch_value(
            db_conn, "SELECT ltp FROM stock_quotes WHERE stock_id = 1"
        )
    finally:
        same.close()
        other.close()


def test_extra_symbols_add_synthetic_instruments(seeded):
    conn = seeded("test_seed_extra", SEED, extra_symbols=25, days=5)
    try:
        assert fetch_value(conn, "SELECT COUNT(*) FROM stocks WHERE symbol LIKE 'SYN%'") == 25
        assert (
            fetch_value(
                conn,
                "SELECT COUNT(*) FROM stock_candles c JOIN stocks s USING (stock_id) "
                "WHERE s.symbol = 'SYN00025' AND c.timeframe = '1d'",
            )
            == 5
        )
    finally:
        conn.close()


def test_bulk_load_falls_back_to_upserts_when_local_infile_is_refused(db_conn, tmp_path):
    from controller.market.candles import bulk_load_stock_candles

    stock_id = fetch_value(db_conn, "SELECT stock_id FROM stocks WHERE symbol = 'TCS'")
    rows = [(stock_id, "1d", f"2020-01-0{day} 03:45:00", 10.5, 11, 10, 10.75, 100) for day in (1, 2)]
    # db_conn was opened without allow_local_infile, so the server refuses LOAD DATA LOCAL
    assert bulk_load_stock_candles(db_conn, rows, str(tmp_path)) == 2
    stored = fetch_all(
        db_conn, "SELECT close FROM stock_candles WHERE stock_id = %s AND ts < '2021-01-01'", (stock_id,)
    )
    assert [r["close"] for r in stored] == [Decimal("10.75"), Decimal("10.75")]
    db_conn.cursor().execute("DELETE FROM stock_candles WHERE stock_id = %s AND ts < '2021-01-01'", (stock_id,))
    assert list(tmp_path.iterdir()) == []
