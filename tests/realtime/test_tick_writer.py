"""The tick writer and end-of-day candles on the real database: batched upserts, minute bars, 52-week range,
day rollover, idempotent daily candles."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from controller.sql import execute, fetch_all, fetch_one, fetch_value
from services.market.live_price_cache import Quote
from services.market_data.universe import load_universe
from services.realtime import feed_jobs
from services.realtime.tick_bus import TickBatch
from services.realtime.tick_writer import TickWriter, ist_day_bounds
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze
from utils.market_hours import MarketCalendar, session_open_utc
from utils.timeutil import IST

DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # 11:30 IST on the seeded session day


@pytest.fixture
def app(make_rt_app):
    application = make_rt_app()
    with application.app_context():
        yield application


def quote(symbol, ltp, volume, at, day_high=None, day_low=None, prev_close="1000"):
    ltp = Decimal(ltp)
    return Quote(
        symbol,
        ltp,
        Decimal(prev_close),
        Decimal("1000"),
        Decimal(day_high or max(ltp, 1000)),
        Decimal(day_low or min(ltp, 1000)),
        volume,
        at,
        "simulator",
    )


def stock_row(conn, symbol):
    return fetch_one(
        conn, "SELECT q.* FROM stock_quotes q JOIN stocks s USING (stock_id) WHERE s.symbol = %s", (symbol,)
    )


def minute_bar(conn, symbol, ts):
    return fetch_one(
        conn,
        "SELECT open, high, low, close, volume FROM stock_candles c JOIN stocks s USING (stock_id) "
        "WHERE s.symbol = %s AND timeframe = '1m' AND ts = %s",
        (symbol, ts.replace(tzinfo=None)),
    )


def com_insert(conn):
    return int(fetch_one(conn, "SHOW GLOBAL STATUS LIKE 'Com_insert'")["Value"])


def test_a_flush_writes_quotes_and_minute_bars_in_one_statement_each(app, rt_conn):
    universe = load_universe()
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    t0 = DAY.replace(minute=1, second=5)
    batch = tuple(s.quote._replace(volume=s.quote.volume + 10, as_of=t0, source="simulator") for s in universe.stocks)
    writer.on_batch(TickBatch("stocks", batch))
    before = com_insert(rt_conn)
    report = writer.flush(final=True)
    assert com_insert(rt_conn) - before == 2  # one multi-row upsert for quotes, one for minute bars
    assert report.stock_quotes == report.stock_bars == len(universe.stocks) > 200
    row = stock_row(rt_conn, "RELIANCE")
    assert row["as_of"] == t0.replace(tzinfo=None) and row["source"] == "simulator"
    assert writer.flush().stock_quotes == 0  # nothing new


def test_flushes_run_one_at_a_time(app, monkeypatch):
    """The scheduled flush and the start-up refresh may call flush() together; concurrent upserts of the same
    rows can deadlock and lose the loser's minute bars, so the second flush waits for the first."""
    from controller.market import quotes

    writer, active, overlaps = TickWriter(load_universe, MarketCalendar().is_trading_day), [], []
    upsert = quotes.upsert_live_stock_quotes

    def slow_upsert(*args):
        active.append(1)
        overlaps.append(len(active))
        time.sleep(0.2)
        try:
            return upsert(*args)
        finally:
            active.pop()

    monkeypatch.setattr(quotes, "upsert_live_stock_quotes", slow_upsert)
    reports = []

    def flush(symbol, minute):
        with app.app_context():
            writer.on_batch(TickBatch("stocks", (quote(symbol, "1001", 10, DAY.replace(minute=minute)),)))
            reports.append(writer.flush(final=True))

    threads = [threading.Thread(target=flush, args=(symbol, n)) for n, symbol in enumerate(["RELIANCE", "TCS"], 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert max(overlaps) == 1 and len(reports) == 2
    assert sum(report.stock_quotes for report in reports) == 2


def test_minute_bars_keep_open_widen_high_low_and_count_volume_deltas(app, rt_conn):
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    t0 = DAY.replace(minute=10, second=0)
    ticks = [("1010", 5_000, 1), ("1030", 5_600, 20), ("990", 6_000, 40)]
    for ltp, volume, second in ticks[:2]:
        writer.on_batch(TickBatch("stocks", (quote("TCS", ltp, volume, t0 + timedelta(seconds=second)),)))
    assert writer.flush().stock_bars == 0  # the minute is still running
    writer.flush(final=True)
    writer.on_batch(TickBatch("stocks", (quote("TCS", ticks[2][0], ticks[2][1], t0 + timedelta(seconds=40)),)))
    writer.flush(final=True)
    bar = minute_bar(rt_conn, "TCS", t0)
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (
        Decimal("1010"),
        Decimal("1030"),
        Decimal("990"),
        Decimal("990"),
    )
    assert bar["volume"] == 1_000  # 6,000 - 5,000 since the writer joined the minute
    writer.on_batch(TickBatch("stocks", (quote("TCS", "995", 6_700, t0 + timedelta(seconds=65)),)))
    writer.on_batch(TickBatch("stocks", (quote("TCS", "996", 6_800, t0 + timedelta(seconds=125)),)))
    assert writer.flush().stock_bars == 1  # the minute that ended, not the one running
    assert minute_bar(rt_conn, "TCS", t0 + timedelta(minutes=1))["volume"] == 700


def test_the_52_week_range_only_widens(app, rt_conn):
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    stored = stock_row(rt_conn, "INFY")
    at = DAY.replace(minute=20)
    high = stored["week52_high"] + 100
    tick = quote("INFY", high, 10, at, day_high=high, day_low=stored["week52_low"] + 1)
    writer.on_batch(TickBatch("stocks", (tick,)))
    writer.flush()
    row = stock_row(rt_conn, "INFY")
    assert row["week52_high"] == high and row["week52_low"] == stored["week52_low"]


def test_a_new_day_first_writes_the_previous_days_daily_candle(app, rt_conn):
    """Friday's candle is written when the next day's ticks arrive; the simulated weekend sessions that follow write
    their minute bars but no daily candle (daily history holds exchange trading days only), even at the end of day."""
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    friday = DAY.replace(minute=30)
    writer.on_batch(TickBatch("stocks", (quote("SBIN", "1012.5", 90_000, friday, "1020", "995"),)))
    writer.flush()
    reports = []
    for day in (21, 22):  # a simulated Saturday and Sunday session
        at = datetime(2026, 11, day, 5, 0, tzinfo=UTC)
        writer.on_batch(TickBatch("stocks", (quote("SBIN", "1030", 500, at, prev_close="1012.5"),)))
        writer.on_batch(
            TickBatch("stocks", (quote("SBIN", "1031", 700, at + timedelta(minutes=1), prev_close="1012.5"),))
        )
        reports.append(writer.flush())
        assert feed_jobs.write_eod_candles(writer) == (0, 0)  # the newest quote is a weekend's
        assert minute_bar(rt_conn, "SBIN", at) is not None  # the weekend's minute bars keep their real time
    assert reports[0].daily_candles_for == friday.date() and reports[1].daily_candles_for is None
    monday = datetime(2026, 11, 23, 3, 46, tzinfo=UTC)
    writer.on_batch(TickBatch("stocks", (quote("SBIN", "1013", 100, monday, prev_close="1012.5"),)))
    report = writer.flush()
    assert report.daily_candles_for is None  # Sunday was no trading day
    weekend = fetch_value(
        rt_conn,
        "SELECT COUNT(*) FROM stock_candles WHERE timeframe = '1d' AND ts > %s AND ts < %s",
        (friday.replace(tzinfo=None), monday.replace(tzinfo=None)),
    )
    assert weekend == 0
    daily = fetch_one(
        rt_conn,
        "SELECT open, high, low, close, volume FROM stock_candles c JOIN stocks s "
        "USING (stock_id) WHERE s.symbol = 'SBIN' AND timeframe = '1d' AND ts = %s",
        (session_open_utc(friday.date()).replace(tzinfo=None),),
    )
    assert (daily["high"], daily["low"], daily["close"], daily["volume"]) == (
        Decimal("1020"),
        Decimal("995"),
        Decimal("1012.5"),
        90_000,
    )


def test_end_of_day_candles_are_idempotent(app, rt_conn):
    def daily_rows():
        return fetch_all(
            rt_conn,
            "SELECT stock_id, ts, open, high, low, close, volume FROM stock_candles "
            "WHERE timeframe = '1d' ORDER BY stock_id, ts",
        )

    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    feed_jobs.write_eod_candles(writer)
    first = daily_rows()
    feed_jobs.write_eod_candles(writer)
    assert daily_rows() == first
    newest = fetch_value(rt_conn, "SELECT MAX(as_of) FROM stock_quotes")
    ist_day = newest.replace(tzinfo=UTC).astimezone(IST).date()  # the IST day, whatever the UTC date
    day_ts = session_open_utc(ist_day).replace(tzinfo=None)
    quoted_that_day = fetch_value(
        rt_conn, "SELECT COUNT(*) FROM stock_quotes WHERE as_of >= %s AND as_of < %s", ist_day_bounds(ist_day)
    )
    candles = fetch_all(
        rt_conn,
        "SELECT c.high, c.low, c.volume, q.day_high, q.day_low, q.volume AS qv "
        "FROM stock_quotes q LEFT JOIN stock_candles c ON c.stock_id = q.stock_id "
        "AND c.timeframe = '1d' AND c.ts = %s WHERE q.as_of >= %s AND q.as_of < %s",
        (day_ts, *ist_day_bounds(ist_day)),
    )
    assert len(candles) == quoted_that_day > 0  # every stock quoted that day has its daily candle
    assert all((c["high"], c["low"], c["volume"]) == (c["day_high"], c["day_low"], c["qv"]) for c in candles)


def test_end_of_day_lets_extremes_older_than_52_weeks_drop_out_of_the_range(app, rt_conn):
    stock_id = fetch_value(rt_conn, "SELECT stock_id FROM stocks WHERE symbol = 'INFY'")
    newest = fetch_value(rt_conn, "SELECT MAX(as_of) FROM stock_quotes")
    ist_day = newest.replace(tzinfo=UTC).astimezone(IST).date()
    window_start = ist_day_bounds(ist_day - timedelta(weeks=52))[0]
    old = window_start - timedelta(days=30)  # a year-old spike that ticks alone would keep forever
    execute(
        rt_conn,
        "INSERT INTO stock_candles (stock_id, timeframe, ts, open, high, low, close, volume) "
        "VALUES (%s, '1d', %s, 1, 99999, 0.5, 1, 1) ON DUPLICATE KEY UPDATE high = 99999, low = 0.5",
        (stock_id, old),
    )
    execute(rt_conn, "UPDATE stock_quotes SET week52_high = 99999, week52_low = 0.5 WHERE stock_id = %s", (stock_id,))
    feed_jobs.write_eod_candles(TickWriter(load_universe, MarketCalendar().is_trading_day))
    row = fetch_one(
        rt_conn, "SELECT week52_high, week52_low, day_high, day_low FROM stock_quotes WHERE stock_id = %s", (stock_id,)
    )
    year = fetch_one(
        rt_conn,
        "SELECT MAX(high) AS high, MIN(low) AS low FROM stock_candles "
        "WHERE stock_id = %s AND timeframe = '1d' AND ts >= %s",
        (stock_id, window_start),
    )
    assert row["week52_high"] == max(year["high"], row["day_high"]) < 99999
    assert row["week52_low"] == min(year["low"], row["day_low"]) > Decimal("0.5")


def test_execute_values_builds_one_statement_escaped_by_the_driver(rt_conn):
    from controller.sql import execute_values

    cursor = rt_conn.cursor()
    cursor.execute(
        "CREATE TEMPORARY TABLE ev (id INT PRIMARY KEY, price DECIMAL(10,2), at DATETIME(3), "
        "note VARCHAR(40), kind VARCHAR(4))"
    )
    pauses = []
    rows = [
        (1, Decimal("1.50"), datetime(2026, 1, 1, 9, 15, 0, 250000), 'it\'s 100% "fine" \\ %s'),
        (2, None, datetime(2026, 1, 2), "; DROP TABLE ev; --"),
        (3, Decimal("3"), datetime(2026, 1, 3), ""),
    ]
    before = com_insert(rt_conn)
    sql = "INSERT INTO ev (id, price, at, note, kind) VALUES (%s, %s, %s, %s, '1m') ON DUPLICATE KEY UPDATE note = 'x'"
    assert execute_values(rt_conn, sql, rows, pause=lambda: pauses.append(1), every=2) == 3
    assert com_insert(rt_conn) - before == 1 and pauses == [1]
    stored = fetch_all(rt_conn, "SELECT id, price, at, note, kind FROM ev ORDER BY id")
    assert [(r["id"], r["price"], r["at"], r["note"], r["kind"]) for r in stored] == [(*row, "1m") for row in rows]


def test_fetch_all_with_pause_reads_the_rows_in_chunks_and_pauses_between_them(rt_conn):
    pauses = []
    sql = "WITH RECURSIVE s (seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM s WHERE seq < 7) SELECT seq FROM s"
    assert fetch_all(rt_conn, sql, pause=lambda: pauses.append(1), every=3) == [{"seq": n} for n in range(1, 8)]
    assert pauses == [1, 1, 1]  # after rows 1-3, 4-6 and 7
    assert fetch_all(rt_conn, sql) == [{"seq": n} for n in range(1, 8)] and len(pauses) == 3


def test_the_scheduled_end_of_day_job_waits_for_the_close_unless_the_session_is_simulated(make_rt_app):
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    for overrides, moment, runs in (
        ({}, OPEN_NOW, False),  # the exchange's session: not before the close
        ({}, CLOSED_NOW, True),
        ({"sim_always_open": True}, OPEN_NOW, True),  # a simulated session has no close
    ):
        app = make_rt_app(**overrides)
        freeze(app, moment)
        with app.app_context():
            feed_jobs.scheduled_eod_candles(writer)
        ran = app.extensions.get("week52_rolled_for") is not None  # set by each run of the end-of-day candles
        assert ran is runs, (overrides, moment)


def test_taking_a_batch_and_flushing_let_other_green_threads_run(app, rt_conn, monkeypatch):
    stored = {s.symbol: s.quote for s in load_universe().stocks}  # written back as they are: the table keeps its rows
    pauses = []
    monkeypatch.setattr("services.realtime.tick_writer._QUOTES_BETWEEN_PAUSES", 40)
    monkeypatch.setattr("services.realtime.tick_writer._ROWS_BETWEEN_PAUSES", 50)
    monkeypatch.setattr("services.realtime.tick_writer.pause", lambda: pauses.append(1))
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    writer.on_batch(TickBatch("stocks", tuple(stored.values())))
    assert len(pauses) == (len(stored) - 1) // 40  # between chunks of the batch
    assert writer.flush().stock_quotes == len(stored) and len(pauses) >= (len(stored) - 1) // 40 + len(stored) // 50
    assert stock_row(rt_conn, "TCS")["ltp"] == stored["TCS"].ltp
