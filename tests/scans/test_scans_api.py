"""The scanner end to end: jobs claimed by runners, computed in real scan processes, followed over Socket.IO and
SSE; cancel, dead processes, two claimers, limits, ownership, saved definitions and every bad input."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
from datetime import date, timedelta

import pytest

from controller.jobs import jobs
from services.scans.fields import FIELD_NAMES
from tests.scans.conftest import Listener
from tests.waiting import wait_for

GAP_UP = {"preset": "gap_up_volume"}


def test_a_scan_runs_end_to_end_with_progress_and_done_events(live_server, make_runner, make_user_client):
    alice = make_user_client("alice")
    make_runner()
    ears = Listener(live_server, alice.token)
    try:
        response = alice.post("/scans", GAP_UP)
        assert response.status_code == 202
        created = response.get_json()["data"]
        assert created["status"] == "queued"
        events = ears.wait_done(created["scan_id"])
    finally:
        ears.client.disconnect()
    progress = [data for name, data in events if name == "scan_progress"]
    assert progress and set(progress[-1]) == {
        "scan_id",
        "status",
        "progress_percent",
        "processed_symbols",
        "total_symbols",
        "results_found",
        "current_symbol",
    }
    assert progress[-1]["total_symbols"] >= 200 and progress[-1]["current_symbol"]
    [done] = [data for name, data in events if name == "scan_done"]
    scan = alice.scan(created["scan_id"])
    assert done["status"] == scan["status"] == "completed" and scan["progress_percent"] == 100
    assert done["results_found"] == scan["results_found"] > 0 and done["execution_time_s"] > 0
    assert scan["clamped_range"]["clamped"] is False and scan["truncated"] is False
    page = alice.get(f"/scans/{created['scan_id']}/results?limit=1000").get_json()
    rows = page["data"]
    assert page["total"] == len(rows) == scan["results_found"]
    assert set(rows[0]) == {"symbol", "company_name", "sector", "date", *FIELD_NAMES}
    assert all(r["gap_pct"] >= 2 and r["rel_volume"] >= 2 for r in rows)
    scores = [r["parabolic_score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(r["date"] >= scan["clamped_range"]["start_date"] for r in rows)
    by_symbol = alice.get(f"/scans/{created['scan_id']}/results?sort=symbol:asc&limit=5&offset=1").get_json()["data"]
    assert [r["symbol"] for r in by_symbol] == sorted(r["symbol"] for r in rows)[1:6]
    download = alice.get(f"/scans/{created['scan_id']}/results.csv")
    assert download.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert table[0][:4] == ["symbol", "company_name", "sector", "date"] and len(table) == len(rows) + 1
    listed = alice.get("/scans").get_json()["data"]
    assert [s["scan_id"] for s in listed] == [created["scan_id"]]


def test_the_scan_process_stays_warm_between_scans(make_runner, make_user_client):
    alice = make_user_client()
    runner = make_runner()
    first = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    alice.wait(first)
    pid = runner.handlers["scan"].pid
    second = alice.post("/scans", {"preset": "oversold_rsi"}).get_json()["data"]["scan_id"]
    assert alice.wait(second)["status"] == "completed"
    assert runner.handlers["scan"].pid == pid  # the same process, holding its panel


def test_a_filter_that_leaves_no_instruments_completes_with_no_rows(make_runner, make_user_client):
    alice = make_user_client()
    make_runner()
    scan_id = alice.post("/scans", {**GAP_UP, "include_symbols": ["TCS"], "exclude_symbols": ["TCS"]}).get_json()
    scan = alice.wait(scan_id["data"]["scan_id"])
    assert scan["status"] == "completed" and scan["results_found"] == 0


def test_a_range_overlapping_the_data_is_clamped(make_runner, make_user_client):
    alice = make_user_client()
    universe = alice.get("/scans/universe").get_json()["data"]
    before = (date.fromisoformat(universe["first_date"]) - timedelta(days=30)).isoformat()
    response = alice.post("/scans", {**GAP_UP, "start_date": before, "end_date": universe["first_date"]})
    clamped = response.get_json()["data"]["clamped_range"]
    assert clamped == {
        "start_date": universe["first_date"],
        "end_date": universe["first_date"],
        "requested_start_date": before,
        "requested_end_date": universe["first_date"],
        "clamped": True,
    }


def running_with_stopped_process(alice, runner, body=GAP_UP):
    """Start the runner's scan process, freeze it (SIGSTOP), submit a scan and wait until it is claimed."""
    pid = runner.handlers["scan"].ensure_started()
    os.kill(pid, signal.SIGSTOP)
    scan_id = alice.post("/scans", body).get_json()["data"]["scan_id"]
    alice.wait(scan_id, statuses=("running",))
    return pid, scan_id


def test_cancel_a_running_scan_takes_effect_within_a_second(live_server, make_runner, make_user_client):
    alice = make_user_client()
    runner = make_runner()
    ears = Listener(live_server, alice.token)
    try:
        pid, scan_id = running_with_stopped_process(alice, runner)
        response = alice.delete(f"/scans/{scan_id}")
        assert response.status_code == 202 and response.get_json()["data"]["status"] == "cancelling"
        os.kill(pid, signal.SIGCONT)
        assert wait_for(lambda: alice.scan(scan_id)["status"] == "cancelled", timeout_s=5) < 1.0
        assert ("scan_done", "cancelled") in [(n, d["status"]) for n, d in ears.wait_done(scan_id)]
    finally:
        ears.client.disconnect()
    assert alice.delete(f"/scans/{scan_id}").status_code == 204  # a finished scan is deleted
    assert alice.get(f"/scans/{scan_id}").status_code == 404


def test_a_process_runs_one_scan_at_a_time(make_runner, make_user_client):
    alice, bob = make_user_client("alice"), make_user_client("bob")
    runner = make_runner()
    pid, first = running_with_stopped_process(alice, runner)
    second = bob.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    with runner.app.app_context():
        assert runner.pass_once() is None  # its one slot is taken: it claims nothing
    assert bob.scan(second)["status"] == "queued" and list(runner.running) == [first]
    os.kill(pid, signal.SIGCONT)
    assert alice.wait(first)["status"] == bob.wait(second)["status"] == "completed"


def test_cancel_a_queued_scan(make_user_client):
    alice = make_user_client()
    scan_id = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]  # no runner: it stays queued
    response = alice.delete(f"/scans/{scan_id}")
    assert response.status_code == 202 and response.get_json()["data"]["status"] == "cancelled"
    assert alice.scan(scan_id)["status"] == "cancelled"


def test_a_scan_process_killed_mid_scan_fails_the_scan_and_the_next_one_runs(make_runner, make_user_client):
    alice = make_user_client()
    runner = make_runner()
    pid, scan_id = running_with_stopped_process(alice, runner)
    os.kill(pid, signal.SIGKILL)
    scan = alice.wait(scan_id, timeout=10)
    assert scan["status"] == "failed" and "exited unexpectedly" in scan["message"]
    again = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    assert alice.wait(again)["status"] == "completed"
    assert runner.handlers["scan"].pid != pid


def test_a_scan_whose_process_died_is_failed_by_another(app, make_runner, make_user_client):
    alice = make_user_client()
    scan_id = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    with app.app_context(), app.extensions["db"].transaction() as conn:
        claimed = jobs.claim(conn, ("scan",), "ghost-host:1:dead")  # claimed by a process that then vanished
    assert claimed.job_id == scan_id
    make_runner()
    scan = alice.wait(scan_id, timeout=10)
    assert scan["status"] == "failed" and "no heartbeat" in scan["error"]
    assert scan["finished_at"] is not None


def test_a_scan_past_its_timeout_fails(make_runner, make_user_client):
    runner = make_runner(scan_timeout_s=0.5)
    alice = make_user_client()
    _, scan_id = running_with_stopped_process(alice, runner)
    scan = alice.wait(scan_id, timeout=15)
    assert scan["status"] == "failed" and "timed out" in scan["message"]


def test_two_claimers_never_take_the_same_job(app, make_user_client):
    alice, bob = make_user_client("alice"), make_user_client("bob")
    first = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    second = bob.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    db = app.extensions["db"]
    with app.app_context(), db.transaction() as one:
        a = jobs.claim(one, ("scan",), "one")
        with db.transaction() as two:  # while the first claim's row lock is held
            b = jobs.claim(two, ("scan",), "two")
            assert jobs.claim(two, ("scan",), "two") is None  # the first claim is skipped, not waited for
    assert {a.job_id, b.job_id} == {first, second}


def test_two_runners_share_the_queue_and_run_each_scan_once(make_runner, make_user_client):
    runners = [make_runner(), make_runner(own_app=True)]
    users = [make_user_client("alice"), make_user_client("bob")]
    ids = [(u, u.post("/scans", GAP_UP).get_json()["data"]["scan_id"]) for u in users for _ in range(2)]
    finished = [u.wait(i) for u, i in ids]
    assert [s["status"] for s in finished] == ["completed"] * 4
    with runners[0].app.app_context(), runners[0].app.extensions["db"].connection() as conn:
        claimers = {jobs.get(conn, i).claimed_by for _, i in ids}
    assert claimers <= {r.claimed_by for r in runners}


def test_limits_third_active_scan_is_429(make_user_client):
    alice = make_user_client()
    for _ in range(2):
        assert alice.post("/scans", GAP_UP).status_code == 202  # no runner: both stay queued
    third = alice.post("/scans", GAP_UP)
    assert third.status_code == 429 and third.get_json()["error"]["code"] == "RATE_LIMITED"
    assert third.get_json()["error"]["details"]["limit"] == 2


def test_result_rows_beyond_the_limit_are_truncated(make_runner, make_user_client):
    make_runner(scan_max_results=5)
    alice = make_user_client()
    scan_id = alice.post("/scans", {"conditions": [{"field": "close", "op": ">", "ref": "ema20"}]}).get_json()
    scan = alice.wait(scan_id["data"]["scan_id"])
    assert scan["status"] == "completed" and scan["truncated"] is True
    assert scan["results_found"] > 5 and scan["results_stored"] == 5
    page = alice.get(f"/scans/{scan['scan_id']}/results").get_json()
    assert page["total"] == 5 and page["truncated"] is True


def test_another_users_scan_is_not_found(make_user_client):
    alice, bob = make_user_client("alice"), make_user_client("bob")
    scan_id = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    for path in ("", "/results", "/results.csv"):
        assert bob.get(f"/scans/{scan_id}{path}").status_code == 404
    assert bob.delete(f"/scans/{scan_id}").status_code == 404
    assert bob.post(f"/scans/{scan_id}/events-ticket").status_code == 404
    assert alice.scan(scan_id)["status"] == "queued"
    assert bob.get("/scans").get_json()["data"] == []


def test_server_sent_events_with_a_single_use_ticket(make_runner, make_user_client):
    alice = make_user_client()
    make_runner()
    scan_id = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    ticket = alice.post(f"/scans/{scan_id}/events-ticket").get_json()["data"]
    assert ticket["expires_in_s"] == 60
    stream = alice.client.get(f"/scans/{scan_id}/events?ticket={ticket['ticket']}")  # no Bearer header needed
    assert stream.mimetype == "text/event-stream"
    body = stream.get_data(as_text=True)
    assert "event: scan_done" in body and '"status": "completed"' in body
    again = alice.client.get(f"/scans/{scan_id}/events?ticket={ticket['ticket']}")
    assert again.status_code == 404


def test_saved_definitions(make_user_client):
    alice, bob = make_user_client("alice"), make_user_client("bob")
    body = {"name": "My gaps", "scan": {**GAP_UP, "min_price": 50}}
    created = alice.post("/scans/definitions", body)
    assert created.status_code == 201
    definition = created.get_json()["data"]
    assert definition["scan"] == {**GAP_UP, "min_price": 50.0, "include_symbols": [], "exclude_symbols": []} | {
        "sectors": []
    }
    assert alice.post("/scans/definitions", body).status_code == 409
    assert [d["name"] for d in alice.get("/scans/definitions").get_json()["data"]] == ["My gaps"]
    assert bob.get("/scans/definitions").get_json()["data"] == []
    assert bob.delete(f"/scans/definitions/{definition['definition_id']}").status_code == 404
    assert alice.post("/scans", definition["scan"]).status_code == 202  # run again
    assert alice.delete(f"/scans/definitions/{definition['definition_id']}").status_code == 204
    bad = alice.post("/scans/definitions", {"name": "x", "scan": {"preset": "nope"}})
    assert bad.status_code == 400


def test_universe_describes_fields_operators_presets(make_user_client):
    data = make_user_client().get("/scans/universe").get_json()["data"]
    assert data["instrument_count"] >= 200 and data["first_date"] < data["last_date"]
    assert [f["name"] for f in data["fields"]] == list(FIELD_NAMES)
    assert [o["op"] for o in data["operators"]] == [">", ">=", "<", "<=", "=", "!="]
    lc = next(p for p in data["presets"] if p["name"] == "lc_frontside_d2_extended")
    assert lc["params"]["min_dist_h_9ema_atr"] == 1.5 and lc["default_filters"]["min_dollar_volume"] == 1e8
    assert "Information Technology" in data["sectors"]


def cond(**kwargs):
    return {"conditions": [{"field": "close", "op": ">", "value": 1, **kwargs}]}


BAD = [
    ({"preset": "nope"}, "preset", "allowed"),
    (cond(field="closing"), "conditions.0.field", "allowed"),
    (cond(op="=>"), "conditions.0.op", "allowed"),
    (cond(value=None, ref="nope"), "conditions.0.ref", "allowed"),
    ({**GAP_UP, "sectors": ["Astrology"]}, "sectors", "allowed"),
    ({**GAP_UP, "start_date": "2026-01-10", "end_date": "2026-01-01"}, "end_date", None),
    ({**GAP_UP, "start_date": "2015-01-01", "end_date": "2026-01-01"}, "end_date", "limit"),
    ({**GAP_UP, "start_date": "2001-01-01", "end_date": "2001-12-31"}, "start_date", "data_range"),
    ({"conditions": [{"field": "close", "op": ">", "value": 1}] * 51}, "conditions", "limit"),
    (cond(ref="ema20"), "conditions.0", None),
    (cond(value=None), "conditions.0", None),
    (cond(value="abc"), "conditions.0.value", None),
    (cond(value="12"), "conditions.0.value", None),
    (cond(value=True), "conditions.0.value", None),
    ({**GAP_UP, "include_symbols": ["TCS", "NOSUCH"]}, "include_symbols", "unknown"),
    ({**GAP_UP, "conditions": [{"field": "close", "op": ">", "value": 1}]}, "preset", None),
    ({}, "preset", None),
    ({**GAP_UP, "preset_params": {"max_fun": 1}}, "preset_params", "allowed"),
    ({**GAP_UP, "start_date": "yesterday"}, "start_date", None),
    ({**GAP_UP, "min_price": -1}, "min_price", None),
    ({**GAP_UP, "surprise": 1}, "surprise", None),
]


@pytest.mark.parametrize(("body", "field", "detail"), BAD, ids=[f"{n}-{b[1]}" for n, b in enumerate(BAD)])
def test_bad_input_is_a_400_naming_the_field(make_user_client, body, field, detail):
    alice = make_user_client()
    response = alice.post("/scans", body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert any(f["field"].startswith(field) for f in error["details"]["fields"]), error
    if detail:
        assert error["details"][detail]
    assert alice.get("/scans").get_json()["data"] == []  # nothing was queued


def test_bad_result_queries_are_400(make_user_client):
    alice = make_user_client()
    scan_id = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
    response = alice.get(f"/scans/{scan_id}/results?sort=nope:desc")
    assert response.status_code == 400 and "parabolic_score" in response.get_json()["error"]["details"]["allowed"]
    assert alice.get(f"/scans/{scan_id}/results?sort=close:sideways").status_code == 400
    assert alice.get(f"/scans/{scan_id}/results?limit=0").status_code == 400
    assert alice.get(f"/scans/{scan_id}/events?ticket=forged").status_code == 404


def test_a_web_process_killed_mid_scan_leaves_no_scan_running(db_config, repo_root, make_runner, make_user_client):
    alice = make_user_client()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.scans.runner_process", db_config.url()],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(process.stdout.readline())
        os.kill(child, signal.SIGSTOP)  # the scan will be claimed, then wait, mid-scan, in a frozen scan process
        scan_id = alice.post("/scans", GAP_UP).get_json()["data"]["scan_id"]
        alice.wait(scan_id, statuses=("running",))
        process.kill()  # the web process dies: no more heartbeats
        process.wait()
        os.kill(child, signal.SIGCONT)  # its orphaned scan process notices and exits
        make_runner()  # another process's runner fails the scan
        scan = alice.wait(scan_id, timeout=10)
        assert scan["status"] == "failed" and "no heartbeat" in scan["error"]
        wait_for(lambda: not _alive(child))
    finally:
        process.kill()
        process.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie (exited, not yet reaped by init) counts as gone
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_stopping_the_runner_ends_its_scan_process(make_runner):
    runner = make_runner()
    pid = runner.handlers["scan"].ensure_started()
    runner.stop()  # what stop_services does in the shutdown sequence's WORK stage
    assert not _alive(pid) and runner.handlers["scan"].pid is None
