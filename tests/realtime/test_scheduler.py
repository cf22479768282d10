"""The scheduler loop (survives failing jobs, phase gating, records runs) and the running tick path."""

from __future__ import annotations

import pytest

from controller.sql import fetch_one
from services.market import market_clock
from services.platform.scheduler import Job, Scheduler
from services.runtime.lifecycle import start_services, stop_services
from tests.waiting import wait_for


def run_row(conn, name):
    return fetch_one(conn, "SELECT * FROM scheduler_runs WHERE job_name = %s", (name,))


def test_the_loop_survives_a_failing_job_and_records_every_run(make_rt_app, rt_conn):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError(f"boom {len(calls)}")

    scheduler = Scheduler(make_rt_app(), [Job("test_flaky", 0.05, flaky)])
    scheduler.start()
    try:  # the row is written after each run: wait for the 4th record, not the 4th call
        wait_for(lambda: (run_row(rt_conn, "test_flaky") or {}).get("run_count", 0) >= 4)
    finally:
        scheduler.stop()
    job = scheduler.jobs["test_flaky"]
    assert job.error_count == 2 and job.last_status == "ok" and job.consecutive_errors == 0
    row = run_row(rt_conn, "test_flaky")
    assert row["error_count"] == 2 and row["last_status"] == "ok"
    assert row["last_error"] is None and row["last_duration_ms"] is not None


def test_jobs_outside_their_phase_are_skipped_and_run_now_ignores_the_gate(make_rt_app, rt_conn):
    calls = []
    app = make_rt_app(force_market_open=True)
    scheduler = Scheduler(
        app, [Job("test_gated", 60, lambda: calls.append(1), frozenset({"closed"}))], phase=market_clock.current_phase
    )
    assert scheduler.run_once(scheduler.jobs["test_gated"]) == "skipped"
    assert calls == [] and run_row(rt_conn, "test_gated")["last_status"] == "skipped"
    assert scheduler.run_now("test_gated") == "ok" and calls == [1]
    failing = Scheduler(app, [Job("test_failing", 60, lambda: 1 / 0)])
    assert failing.run_now("test_failing") == "error"
    assert "ZeroDivisionError" in run_row(rt_conn, "test_failing")["last_error"]


@pytest.fixture
def live_app(make_rt_app):
    app = make_rt_app(
        sim_always_open=True,
        sim_tick_interval_s=0.1,
        quote_write_interval_s=0.2,
        fanout_interval_ms=50,
        enable_eod_scheduler=False,
    )
    assert start_services(app) is True
    yield app
    stop_services()


def test_services_run_the_tick_path_end_to_end(live_app, rt_conn):
    stocks = live_app.extensions["live_prices"]["stocks"]
    indices = live_app.extensions["live_prices"]["indices"]
    wait_for(lambda: len(stocks.snapshot()) > 200 and len(indices.snapshot()) == 9)
    assert start_services(live_app) is False  # once per process
    cached = stocks.get("RELIANCE")
    wait_for(
        lambda: (
            run_row(rt_conn, "quote_writer")
            and fetch_one(
                rt_conn,
                "SELECT COUNT(*) AS n FROM stock_quotes q JOIN stocks s USING (stock_id) "
                "WHERE s.symbol = 'RELIANCE' AND q.source = 'simulator' AND q.as_of >= %s",
                (cached.as_of.replace(tzinfo=None),),
            )["n"]
            == 1
        )
    )
    assert set(live_app.extensions["jobs"]) >= {
        "stock_quotes",
        "index_quotes",
        "quote_writer",
        "eod_candles",
        "startup_refresh",
        "market_status",
        "market_views",
    }
    assert live_app.extensions["jobs"]["eod_candles"]() == "ok"  # the admin "run now" hook
    client = live_app.test_client()
    health = client.get("/healthz").get_json()["data"]["checks"]
    assert health["feed"]["ok"] and health["scheduler"]["ok"]
    assert health["scheduler"]["jobs"]["stock_quotes"]["run_count"] > 0
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'ticks_total{kind="stocks"}' in metrics and "scheduler_lag_seconds" in metrics
    assert "socketio_connected_clients" in metrics and "scheduler_job_duration_seconds_bucket" in metrics
