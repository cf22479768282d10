"""A database outage is said once, summarised while it lasts and said again when it ends; every failure is
counted (db_errors_total, db_available), and no request, job or tick logs it again."""

import logging
import time

import pytest
from prometheus_client import REGISTRY

from backend.db import Database
from backend.local_mariadb import LocalMariaDB, free_port
from backend.settings import DatabaseConfig
from controller.sql import fetch_value
from services.platform.scheduler import Job, Scheduler
from tests.conftest import app_with_db_probe
from utils.errors import DatabaseUnavailable, ServiceUnavailable
from utils.outage_log import OutageLog


def _warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


def test_an_outage_is_said_once_summarised_at_most_every_interval_and_its_end_is_said(caplog):
    ticks = [10_000]  # hundredths of a second
    outage = OutageLog(logging.getLogger("test.outage"), "database", summary_every_s=15, clock=lambda: ticks[0] / 100)
    caplog.set_level(logging.WARNING)
    for _ in range(1000):  # 1,000 failures in 10 s
        outage.failed("unreachable", ConnectionRefusedError())
        ticks[0] += 1
    assert _warnings(caplog) == [
        "database unavailable (unreachable: ConnectionRefusedError); "
        "further failures are counted and summarised every 15 s until it is back"
    ]
    for _ in range(1000):  # 10 s more: one summary, 15 s after the first line
        outage.failed("connection_lost")
        ticks[0] += 1
    assert len(_warnings(caplog)) == 2  # the failure at 15 s brings the one summary
    assert _warnings(caplog)[1] == (
        "database still unavailable after 15 s: 1500 failures in the last 15 s (unreachable 999, connection_lost 501)"
    )
    caplog.clear()
    outage.succeeded()
    outage.succeeded()
    [back] = _warnings(caplog)
    assert back.startswith("database available again after 20.0 s; 2000 failures during the outage (")
    assert back.endswith("(unreachable 1000, connection_lost 1000)") and not outage.down


def _metric(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_requests_against_an_unreachable_database_log_one_line_and_count_every_failure(caplog):
    closed = DatabaseConfig("127.0.0.1", free_port(), "app", "secret", "nowhere")  # nothing listens there
    app = app_with_db_probe(closed)
    client = app.test_client()
    before = _metric("db_errors_total", {"kind": "connect"})
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    responses = [client.get("/_probe/db") for _ in range(300)]
    elapsed = time.monotonic() - started
    assert {response.status_code for response in responses} == {503}
    assert responses[-1].get_json()["error"]["details"] == {"reason": "unreachable"}
    lines = _warnings(caplog)
    assert lines[0].startswith("database unavailable (unreachable: ")
    assert len(lines) <= 1 + elapsed // 15  # no line per request: the first, then a summary per 15 s at most
    assert _metric("db_errors_total", {"kind": "connect"}) - before == 300 and _metric("db_available") == 0
    app.extensions["db"].close()


def test_a_stopped_server_is_said_once_summarised_and_its_return_is_said_with_the_count(tmp_path, caplog):
    server = LocalMariaDB(tmp_path / "outage").start()
    database = Database(server.config(), pool_size=2, wait_timeout_s=1, connect_timeout_s=2, outage_summary_s=0.4)
    try:
        with database.connection() as conn:
            assert fetch_value(conn, "SELECT 1") == 1
        server.stop()
        caplog.set_level(logging.WARNING, logger="backend.db")
        failures, deadline = 0, time.monotonic() + 1.3
        while time.monotonic() < deadline:
            with pytest.raises(DatabaseUnavailable), database.connection() as conn:
                fetch_value(conn, "SELECT 1")
            failures += 1
        lines = _warnings(caplog)
        assert lines[0].startswith("database unavailable (")
        summaries = [line for line in lines[1:] if line.startswith("database still unavailable after ")]
        assert len(lines) == 1 + len(summaries) and 1 <= len(summaries) <= 4 < failures  # ~every 0.4 s, not per failure
        caplog.clear()
        server.start()
        for _ in range(3):
            with database.connection() as conn:
                assert fetch_value(conn, "SELECT 2") == 2
        [back] = _warnings(caplog)
        assert back.startswith("database available again after ") and f"; {failures} failures during" in back
        assert _metric("db_available") == 1
    finally:
        database.close()
        server.stop()


def test_jobs_that_fail_for_the_outage_do_not_log_it_again(app, caplog):
    failure: list[Exception] = [DatabaseUnavailable(details={"reason": "unreachable"})]

    def job():
        raise failure[0]

    scheduler = Scheduler(app, [Job("outage_probe", None, job)])
    caplog.set_level(logging.WARNING)
    assert scheduler.run_now("outage_probe") == "error"
    assert _warnings(caplog) == []  # the pool's outage log said it; the job's failure is recorded and counted
    failure[0] = ServiceUnavailable("provider down")
    assert scheduler.run_now("outage_probe") == "error"
    assert any("job outage_probe failed" in line for line in _warnings(caplog))  # other failures still are
