"""The quote writer's lag: the age of its oldest unwritten quote and its last flush, in /healthz and /metrics, and
its CPU per flush counted apart from what other green threads ran meanwhile."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import greenlet
import pytest

from backend import db
from services.market_data.universe import load_universe
from services.platform.cpu_time import GreenCpu
from services.realtime.tick_bus import TickBatch
from services.realtime.tick_writer import LAG_LIMIT_INTERVALS, TickWriter
from services.runtime.lifecycle import start_services, stop_services
from tests.waiting import wait_for
from utils.market_hours import MarketCalendar

DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_green_cpu_leaves_out_the_other_green_threads_cpu():
    other = greenlet.greenlet(lambda: _burn(0.2))
    with GreenCpu() as cpu:
        _burn(0.02)
        other.switch()  # another green thread runs while this one "waits", as under gevent on a socket read
        _burn(0.02)
    assert 0.035 <= cpu.seconds < 0.15
    assert greenlet.gettrace() is None  # the switch hook is gone after the block


def test_the_lag_counts_from_the_oldest_unwritten_quote_and_a_flush_resets_it(make_rt_app):
    app = make_rt_app()
    with app.app_context():
        universe = load_universe()
        writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
        assert writer.health(0.1) == {**writer.health(0.1), "ok": True, "lag_s": 0.0, "since_last_flush_s": None}
        batch = tuple(s.quote._replace(as_of=DAY, source="simulator") for s in universe.stocks[:50])
        writer.on_batch(TickBatch("stocks", batch))
        time.sleep(0.35)
        writer.on_batch(TickBatch("stocks", tuple(q._replace(as_of=DAY.replace(second=1)) for q in batch)))
        lagging = writer.health(0.1)  # 0.35 s > 3 x 0.1 s: the first quote still waits
        assert (
            lagging["ok"] is False and lagging["lag_s"] >= 0.35 and lagging["lag_limit_s"] == LAG_LIMIT_INTERVALS * 0.1
        )
        writer.flush(final=True)
        flushed = writer.health(0.1)
        assert flushed["ok"] is True and flushed["lag_s"] == 0.0 and flushed["flushes"] == 1
        assert flushed["last_flush_lag_s"] >= 0.35 and flushed["since_last_flush_s"] < 0.3
        assert flushed["last_flush_s"] > 0 and 0 < flushed["last_flush_cpu_s"] <= flushed["last_flush_s"] + 0.01


def test_a_failed_flush_keeps_the_lag_counting(make_rt_app, monkeypatch):
    app = make_rt_app()
    with app.app_context():
        writer = TickWriter(load_universe, MarketCalendar().is_trading_day)
        stock = load_universe().stocks[0]
        writer.on_batch(TickBatch("stocks", (stock.quote._replace(as_of=DAY, source="simulator"),)))

        def refuse():
            raise RuntimeError("database down")

        monkeypatch.setattr(db, "transaction", refuse)
        time.sleep(0.05)
        with pytest.raises(RuntimeError):
            writer.flush()
        health = writer.health(10)
        assert health["lag_s"] >= 0.05 and health["failures"] == 1 and health["flushes"] == 0


@pytest.fixture
def running_app(make_rt_app):
    app = make_rt_app(
        sim_always_open=True, sim_tick_interval_s=0.1, quote_write_interval_s=0.2, enable_eod_scheduler=False
    )
    assert start_services(app) is True
    yield app
    stop_services()


def test_healthz_and_metrics_show_the_writer_of_a_running_server(running_app):
    client = running_app.test_client()

    def writer():
        return client.get("/healthz").get_json()["data"]["checks"]["writer"]

    wait_for(lambda: writer()["flushes"] >= 2 and writer()["last_flush_lag_s"] > 0)
    check = writer()
    assert check["ok"] is True and check["active"] is True and check["interval_s"] == 0.2
    assert check["lag_s"] < check["lag_limit_s"] == LAG_LIMIT_INTERVALS * 0.2
    assert check["last_flush_cpu_s"] > 0 and check["since_last_flush_s"] < 1.0
    metrics = client.get("/metrics").get_data(as_text=True)
    for name in (
        "quote_writer_flush_seconds_bucket",
        "quote_writer_flush_cpu_seconds_bucket",
        "quote_writer_flush_lag_seconds_count",
        "quote_writer_lag_seconds",
        "quote_writer_last_flush_timestamp_seconds",
    ):
        assert name in metrics, name
