"""The leader's writers of the snapshot tables do not race: a tick-writer flush (the start-up refresh's, or the
scheduled one) and the end-of-day candles job upsert and lock the same stock_quotes rows in different orders
(the flush in the order the quotes arrived, the job in primary-key order, first with shared locks), which
deadlocked at boot (MariaDB 1213). Reproduced here with real connections: a third one holds a row in the
middle, so that each writer holds its half of the table and waits for that row when it is released."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from backend.db import connect
from controller.sql import fetch_all, fetch_one
from services.market_data.universe import load_universe
from services.realtime import feed_jobs
from services.realtime.tick_bus import TickBatch
from services.realtime.tick_writer import TickWriter
from tests.market_helpers import CLOSED_NOW, freeze
from tests.waiting import wait_for
from utils.market_hours import MarketCalendar
from utils.timeutil import to_db


@pytest.fixture
def app(make_rt_app):
    application = make_rt_app()
    freeze(application, CLOSED_NOW)  # the end-of-day job runs after the close (whatever the real clock says)
    with application.app_context():
        yield application


def _row_lock_waits(conn) -> int:
    return int(fetch_one(conn, "SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_current_waits'")["Value"])


def _run(app, func, errors: list[BaseException]) -> threading.Thread:
    def target() -> None:
        with app.app_context():
            try:
                func()
            except BaseException as exc:  # reported by the test's assertion
                errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_a_flush_and_the_end_of_day_job_on_the_same_rows_both_complete(app, rt_db_config, rt_conn):
    universe = load_universe()
    writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
    jobs = {job.name: job for job in feed_jobs.writer_jobs(app.extensions["settings"], writer)}
    later = max(stock.quote.as_of for stock in universe.stocks) + timedelta(seconds=1)  # the same trading day
    arriving = sorted(universe.stocks, key=lambda stock: stock.stock_id, reverse=True)  # not primary-key order
    writer.on_batch(TickBatch("stocks", tuple(s.quote._replace(as_of=later, source="simulator") for s in arriving)))
    ids = sorted(stock.stock_id for stock in universe.stocks)
    middle = ids[len(ids) // 2]

    gate = connect(rt_db_config, autocommit=False)
    errors: list[BaseException] = []
    try:
        fetch_one(gate, "SELECT stock_id FROM stock_quotes WHERE stock_id = %s FOR UPDATE", (middle,))
        baseline = _row_lock_waits(rt_conn)
        flush = _run(app, jobs["quote_writer"].func, errors)  # locks the upper half, then waits for the middle
        wait_for(lambda: _row_lock_waits(rt_conn) > baseline, timeout_s=20)
        end_of_day = _run(app, jobs["eod_candles"].func, errors)  # would lock the lower half, then wait
        deadline = time.monotonic() + 3  # it gets that far within milliseconds, unless it waits for the flush
        while _row_lock_waits(rt_conn) < baseline + 2 and time.monotonic() < deadline and end_of_day.is_alive():
            time.sleep(0.02)
    finally:
        gate.rollback()  # the middle row is free: the two writers now meet
        gate.close()
    flush.join(60)
    end_of_day.join(60)
    assert errors == []  # before the fix: InternalError 1213 (40001): Deadlock found
    stored = fetch_all(rt_conn, "SELECT DISTINCT as_of FROM stock_quotes")
    assert [row["as_of"] for row in stored] == [to_db(later)]  # the flush wrote every quote
