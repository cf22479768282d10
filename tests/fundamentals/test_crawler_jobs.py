"""Crawler jobs through the admin API (403 for users), runs claimed by a job runner and followed by an admin's
Socket.IO client, a run failing on some symbols, the leader's schedule, and per-kind job slots."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from backend.db import connect
from controller.jobs import jobs
from controller.sql import fetch_one
from services.fundamentals.schedule import enqueue_due_runs
from services.jobs.runner import JobRunner, Outcome
from tests.auth_helpers import assert_error
from tests.conftest import SEED_NOW
from tests.fundamentals.conftest import Client, Listener
from tests.fundamentals.fake_eodhd import fundamentals_body
from tests.market_helpers import OPEN_NOW, freeze
from tests.waiting import wait_for
from utils.timeutil import IST, iso_ist, to_db

BANKS = {"name": "Banks", "symbols": ["hdfcbank", "ICICIBANK"], "metadata": {"owner": "ops", "note": "नमस्ते"}}
ROUTES = [
    ("get", "/admin/crawler-jobs"),
    ("post", "/admin/crawler-jobs"),
    ("patch", "/admin/crawler-jobs/1"),
    ("delete", "/admin/crawler-jobs/1"),
    ("post", "/admin/crawler-jobs/1/run"),
    ("get", "/admin/crawler-jobs/1/runs"),
]


def created(admin: Client, body: dict) -> dict:
    response = admin.post("/admin/crawler-jobs", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_users_get_403_and_strangers_401_on_every_admin_route(app, user_client, method, path):
    call = getattr(user_client.client, method)
    body = {"json": BANKS} if method in ("post", "patch") else {}
    assert_error(call(path, headers=user_client.headers, **body), 403, "FORBIDDEN")
    assert_error(call(path, **body), 401, "UNAUTHORIZED")


def test_create_list_change_and_delete_a_job(app, admin_client):
    freeze(app, OPEN_NOW)  # Friday 11:00 IST
    job = created(admin_client, {**BANKS, "schedule": "0 16 * * 1-5"})
    assert job["name"] == "Banks" and job["symbols"] == ["HDFCBANK", "ICICIBANK"] and job["universe"] is None
    assert job["source"] == "simulator" and job["metadata"] == BANKS["metadata"] and job["enabled"] is True
    assert job["next_run_at"] == "2026-11-20T16:00:00.000+05:30" and job["last_run"] is None
    listed = admin_client.get("/admin/crawler-jobs").get_json()["data"]
    assert job in listed

    path = f"/admin/crawler-jobs/{job['job_id']}"
    off = admin_client.patch(path, {"enabled": False}).get_json()["data"]
    assert off["enabled"] is False and off["next_run_at"] is None
    on = admin_client.patch(path, {"enabled": True, "schedule": "30 9 * * *", "metadata": {"k": "v"}}).get_json()
    assert on["data"]["next_run_at"] == "2026-11-21T09:30:00.000+05:30" and on["data"]["metadata"] == {"k": "v"}
    unscheduled = admin_client.patch(path, {"schedule": None}).get_json()["data"]
    assert unscheduled["schedule"] is None and unscheduled["next_run_at"] is None
    universe = admin_client.patch(path, {"universe": "all"}).get_json()["data"]
    assert universe["universe"] == "all" and universe["symbols"] == []

    assert admin_client.delete(path).status_code == 204
    assert_error(admin_client.delete(path), 404, "NOT_FOUND")
    assert_error(admin_client.patch(path, {"enabled": True}), 404, "NOT_FOUND")
    assert_error(admin_client.get(f"{path}/runs"), 404, "NOT_FOUND")


def test_a_universe_job_is_scheduled_daily_after_the_close_unless_told_otherwise(app, admin_client):
    freeze(app, OPEN_NOW)
    default = created(admin_client, {"name": "Everything", "universe": "all"})
    assert default["schedule"] == "0 16 * * 1-5" and default["next_run_at"] == "2026-11-20T16:00:00.000+05:30"
    manual = created(admin_client, {"name": "Everything by hand", "universe": "all", "schedule": None})
    assert manual["schedule"] is None and manual["next_run_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "symbols": ["TCS"], "source": "yahoo"}, "source"),
        ({"name": "x", "symbols": ["TCS"], "source": "eodhd"}, "source"),  # no EODHD_API_TOKEN here
        ({"name": "x"}, "symbols"),
        ({"name": "x", "symbols": []}, "symbols"),
        ({"name": "x", "symbols": ["TCS"], "universe": "all"}, "universe"),
        ({"name": "x", "universe": "some"}, "universe"),
        ({"name": "x", "symbols": ["TCS", "NOSUCHCO"]}, "symbols"),
        ({"name": "x", "symbols": ["TCS", "INFY", "ITC", "WIPRO"]}, "symbols"),  # CRAWLER_MAX_SYMBOLS=3
        ({"name": "x", "symbols": ["TCS"], "schedule": "61 * * * *"}, "schedule"),
        ({"name": "x", "symbols": ["TCS"], "schedule": "* * * *"}, "schedule"),
        ({"name": "x", "symbols": ["TCS"], "schedule": "0 0 * * * *"}, "schedule"),
        ({"name": "x", "symbols": ["TCS"], "schedule": "@daily"}, "schedule"),
        ({"name": "x", "symbols": ["TCS"], "metadata": {"note": "evil\u202etext"}}, "metadata.note"),
        ({"name": "x", "symbols": ["TCS"], "metadata": {"k\u200bey": "v"}}, "metadata"),
        ({"name": "bad\u0007name", "symbols": ["TCS"]}, "name"),
        ({"name": "x", "symbols": ["TCS"], "metadata": {f"k{i}": "v" for i in range(21)}}, "metadata"),
        ({"name": "   ", "symbols": ["TCS"]}, "name"),
        ({"name": "x", "symbols": ["TCS"], "enabled": "yes"}, "enabled"),
        ({"name": "x", "symbols": ["TCS"], "owner_id": 7}, "owner_id"),
    ],
)
def test_bad_jobs_are_a_400_naming_the_field(make_app, db_config, db_conn, body, field):
    app = make_app(db_config, crawler_max_symbols=3)
    admin = Client(app, db_conn, "root", role="admin")
    response = admin.post("/admin/crawler-jobs", body)
    details = assert_error(response, 400, "VALIDATION_ERROR")["error"]["details"]
    assert field in [f["field"] for f in details["fields"]], details
    if field == "source":
        assert details["allowed"] == ["simulator"]
    if body.get("symbols") == ["TCS", "NOSUCHCO"]:
        assert details["unknown"] == ["NOSUCHCO"]


def test_bad_changes_are_a_400_and_a_duplicate_name_a_409(app, admin_client):
    job = created(admin_client, BANKS)
    path = f"/admin/crawler-jobs/{job['job_id']}"
    assert_error(admin_client.patch(path, {}), 400, "VALIDATION_ERROR")
    assert_error(admin_client.patch(path, {"enabled": None}), 400, "VALIDATION_ERROR")
    assert_error(admin_client.patch(path, {"schedule": "nope"}), 400, "VALIDATION_ERROR")
    assert_error(admin_client.post("/admin/crawler-jobs", BANKS), 409, "CONFLICT")
    other = created(admin_client, {**BANKS, "name": "Other"})
    assert_error(admin_client.patch(f"/admin/crawler-jobs/{other['job_id']}", {"name": "Banks"}), 409, "CONFLICT")


def test_a_run_goes_from_trigger_to_done_with_progress_to_admins_only(
    app, live_server, admin_client, user_client, make_runner, db_conn
):
    job = created(admin_client, {"name": "Three", "symbols": ["TCS", "INFY", "ITC"]})
    admin_ears, user_ears = Listener(live_server, admin_client.token), Listener(live_server, user_client.token)
    try:
        response = admin_client.post(f"/admin/crawler-jobs/{job['job_id']}/run")
        assert response.status_code == 202
        run = response.get_json()["data"]
        assert run["status"] == "queued" and run["trigger"] == "manual" and run["job_id"] == job["job_id"]
        assert_error(admin_client.post(f"/admin/crawler-jobs/{job['job_id']}/run"), 409, "CONFLICT")
        make_runner(app)
        done = admin_client.wait(job["job_id"], run["run_id"])
        wait_for(lambda: any(e["status"] == "completed" for e in admin_ears.of(run["run_id"])))
    finally:
        admin_ears.close()
        user_ears.close()
    assert done["status"] == "completed" and (done["updated"], done["failed"], done["total"]) == (3, 0, 3)
    assert done["processed"] == 3 and done["failures"] == [] and done["execution_time_s"] is not None
    events = admin_ears.of(run["run_id"])
    assert set(events[-1]) == {"job_id", "run_id", "status", "processed", "total", "updated", "failed"}
    assert events[-1] == {
        "job_id": job["job_id"],
        "run_id": run["run_id"],
        "status": "completed",
        "processed": 3,
        "total": 3,
        "updated": 3,
        "failed": 0,
    }
    assert user_ears.events == []  # progress is for the admins' room only
    row = fetch_one(db_conn, "SELECT f.as_of FROM fundamentals f JOIN stocks s USING (stock_id) WHERE symbol = 'TCS'")
    assert row["as_of"] > to_db(SEED_NOW)  # crawled now, not the seed's as-of
    listed = next(j for j in admin_client.get("/admin/crawler-jobs").get_json()["data"] if j["job_id"] == job["job_id"])
    assert listed["last_run"]["run_id"] == run["run_id"] and listed["last_run"]["status"] == "completed"


def test_a_run_that_fails_on_some_symbols_stores_the_others(eodhd_app, eodhd, make_runner, db_conn):
    admin = Client(eodhd_app, db_conn, "root", role="admin")
    for symbol in ("RELIANCE", "TCS"):
        eodhd.state.bodies[symbol] = fundamentals_body(symbol, [5.0] * 4 + [6.0] * 4 + [8.0] * 4 + [10.0] * 4)
    eodhd.state.script("INFY", *[(503, {"message": "busy"}, {})] * 2)  # HDFCBANK: EODHD's 404
    eodhd.state.bodies["ITC"] = fundamentals_body("ITC", [1.0] * 16)
    eodhd.state.delays["ITC"] = 2.0  # answers after the 0.5 s timeout
    body = {"name": "Live", "source": "eodhd", "symbols": ["RELIANCE", "INFY", "HDFCBANK", "ITC", "TCS"]}
    job = created(admin, body)
    run = admin.post(f"/admin/crawler-jobs/{job['job_id']}/run").get_json()["data"]
    make_runner(eodhd_app)
    done = admin.wait(job["job_id"], run["run_id"], timeout=60)
    assert done["status"] == "completed" and done["source"] == "eodhd"
    assert (done["updated"], done["failed"], done["processed"], done["total"]) == (2, 3, 5, 5)
    reasons = {f["symbol"]: f["error"] for f in done["failures"]}
    assert set(reasons) == {"INFY", "HDFCBANK", "ITC"}
    assert "HTTP 503" in reasons["INFY"] and "no fundamentals for HDFCBANK.NSE" in reasons["HDFCBANK"]
    assert "Timeout" in reasons["ITC"] and all("test-token" not in reason for reason in reasons.values())
    stock = admin.client.get("/stocks/fundamentals/RELIANCE").get_json()["data"]
    assert stock["source"] == "eodhd" and stock["eps_ttm"] == 40.0 and stock["simulated"] is False
    assert stock["eps_cagr_3y_pct"] == 25.99 and len(stock["quarters"]) == 8


def test_a_run_where_every_symbol_fails_is_failed_with_the_reason(eodhd_app, eodhd, make_runner, db_conn):
    admin = Client(eodhd_app, db_conn, "root", role="admin")
    job = created(admin, {"name": "Nothing", "source": "eodhd", "symbols": ["TCS", "INFY"]})
    run = admin.post(f"/admin/crawler-jobs/{job['job_id']}/run").get_json()["data"]
    make_runner(eodhd_app)
    done = admin.wait(job["job_id"], run["run_id"])
    assert done["status"] == "failed" and done["failed"] == 2 and done["updated"] == 0
    assert "no fundamentals for" in done["error"]


def test_deleting_a_job_cancels_its_queued_run(app, admin_client, db_conn):
    job = created(admin_client, BANKS)
    run = admin_client.post(f"/admin/crawler-jobs/{job['job_id']}/run").get_json()["data"]
    assert admin_client.delete(f"/admin/crawler-jobs/{job['job_id']}").status_code == 204
    assert jobs.get(db_conn, run["run_id"]).status == "cancelled"


def test_deleting_a_job_stops_its_running_run_between_instruments(eodhd_app, eodhd, make_runner, db_conn):
    admin = Client(eodhd_app, db_conn, "root", role="admin")
    symbols = ["TCS", "INFY", "ITC", "WIPRO", "SBIN", "RELIANCE"]
    for symbol in symbols:
        eodhd.state.bodies[symbol] = fundamentals_body(symbol, [2.0] * 8)
        eodhd.state.delays[symbol] = 0.3  # each instrument takes 0.3 s (within the 0.5 s timeout)
    job = created(admin, {"name": "Slow", "source": "eodhd", "symbols": symbols})
    run = admin.post(f"/admin/crawler-jobs/{job['job_id']}/run").get_json()["data"]
    make_runner(eodhd_app)
    wait_for(lambda: len(eodhd.state.requests) >= 1)
    assert admin.delete(f"/admin/crawler-jobs/{job['job_id']}").status_code == 204
    wait_for(lambda: jobs.get(db_conn, run["run_id"]).status == "cancelled", timeout_s=10)
    assert len(eodhd.state.requests) < len(symbols)  # it stopped before the last instrument


def test_the_leader_queues_a_run_per_firing(app, admin_client):
    freeze(app, OPEN_NOW)
    job = created(admin_client, {**BANKS, "schedule": "0 16 * * 1-5"})
    firing = datetime(2026, 11, 20, 16, 0, 30, tzinfo=IST)
    with app.app_context():
        assert enqueue_due_runs(firing - timedelta(minutes=1)) == []  # not yet
        queued = enqueue_due_runs(firing)  # (the seeded universe job fires at 16:00 too)
        assert enqueue_due_runs(firing) == []  # the same firing queues one run
    [run] = admin_client.get(f"/admin/crawler-jobs/{job['job_id']}/runs").get_json()["data"]
    assert run["run_id"] in queued and run["trigger"] == "schedule" and run["status"] == "queued"
    listed = next(j for j in admin_client.get("/admin/crawler-jobs").get_json()["data"] if j["job_id"] == job["job_id"])
    assert listed["next_run_at"] == "2026-11-23T16:00:00.000+05:30"  # Monday: the weekend is skipped
    monday = datetime(2026, 11, 23, 16, 0, 1, tzinfo=IST)
    with app.app_context():
        assert enqueue_due_runs(monday) == []  # the previous run is still queued: this firing is skipped
    listed = next(j for j in admin_client.get("/admin/crawler-jobs").get_json()["data"] if j["job_id"] == job["job_id"])
    assert listed["next_run_at"] == iso_ist(datetime(2026, 11, 24, 16, 0, tzinfo=IST))


def test_a_job_without_a_next_firing_is_planned(app, admin_client, db_config):
    job = created(admin_client, {**BANKS, "schedule": "15 18 * * *"})
    conn = connect(db_config)
    conn.cursor().execute("UPDATE crawler_jobs SET next_run_at = NULL WHERE crawler_job_id = %s", (job["job_id"],))
    conn.close()
    with app.app_context():
        assert enqueue_due_runs(datetime(2026, 11, 20, 17, 0, tzinfo=IST)) == []
    listed = next(j for j in admin_client.get("/admin/crawler-jobs").get_json()["data"] if j["job_id"] == job["job_id"])
    assert listed["next_run_at"] == "2026-11-20T18:15:00.000+05:30"


class Blocker:
    """A job kind that holds its slot until released (to see that other kinds are still claimed)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, job, ctx) -> Outcome:
        self.release.wait(10)
        return Outcome("completed", "released")

    def publish_progress(self, job, progress) -> None:
        pass

    def publish_done(self, job) -> None:
        pass

    def stop(self) -> None:
        self.release.set()


def test_each_kind_has_its_own_slots(app, admin_client, db_conn):
    from services.fundamentals.runs import KIND, CrawlHandler

    blocker = Blocker()
    runner = JobRunner(app, {"blocker": blocker, KIND: CrawlHandler(app)})  # JOB_SLOTS_PER_PROCESS = 1
    with app.app_context(), app.extensions["db"].connection() as conn:
        jobs.enqueue(conn, "blocker", None, {})
        second_blocker = jobs.enqueue(conn, "blocker", None, {})
    job = created(admin_client, {"name": "One", "symbols": ["TCS"]})
    run = admin_client.post(f"/admin/crawler-jobs/{job['job_id']}/run").get_json()["data"]
    try:
        assert runner.pass_once().kind == "blocker"
        assert runner.pass_once().job_id == run["run_id"]  # the blocker's slot is taken, the crawl's is free
        assert runner.pass_once() is None  # the blocker's one slot is taken: the second blocker waits
        assert admin_client.wait(job["job_id"], run["run_id"])["status"] == "completed"
    finally:
        blocker.release.set()
        runner.stop()
    assert jobs.get(db_conn, second_blocker).status == "queued"
    db_conn.cursor().execute("DELETE FROM jobs WHERE kind = 'blocker'")
