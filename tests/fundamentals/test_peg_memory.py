"""The PEG table's answers from memory: a repeated query string is served without being parsed again, and what the
book remembers is dropped when prices move (within the fan-out interval) and when a crawl writes new figures."""

from __future__ import annotations

import time

import pytest

import routes.fundamentals
from controller.sql import fetch_one
from tests.auth_helpers import assert_error
from tests.fundamentals.conftest import Client
from tests.fundamentals.fake_eodhd import fundamentals_body
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, quote
from tests.waiting import wait_for

SECTOR = "/fundamentals/peg?sector=Oil%20Gas%20%26%20Consumable%20Fuels&limit=500"


@pytest.fixture
def validations(monkeypatch):
    """How many times the PEG table's query model validated a request."""
    seen = []
    original = routes.fundamentals.PegQuery.model_validate

    def counted(payload, *args, **kwargs):
        seen.append(payload)
        return original(payload, *args, **kwargs)

    monkeypatch.setattr(routes.fundamentals.PegQuery, "model_validate", counted)
    return seen


def row_of(client, path: str, symbol: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return next(r for r in response.get_json()["data"] if r["symbol"] == symbol)


def test_a_repeated_query_string_is_answered_without_parsing_it_again(make_app, db_config, validations):
    app = make_app(db_config, fanout_interval_ms=10_000)
    client = app.test_client()
    freeze(app, CLOSED_NOW)
    first = client.get("/fundamentals/peg?sector=Healthcare&peg_max=2")
    again = client.get("/fundamentals/peg?sector=Healthcare&peg_max=2")
    assert first.status_code == again.status_code == 200 and again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"] and len(validations) == 1
    # Another spelling of the same query is validated once, then answered with the same page.
    spelled = client.get("/fundamentals/peg?peg_max=2.0&sector=Healthcare")
    assert spelled.data == first.data and len(validations) == 2
    assert client.get("/fundamentals/peg?peg_max=2.0&sector=Healthcare").data == first.data and len(validations) == 2
    # A refused query string is never remembered: it is validated (and refused) every time.
    for _ in range(2):
        assert_error(client.get("/fundamentals/peg?sector=Healthcare&peg_max=abc"), 400, "VALIDATION_ERROR")
    assert len(validations) == 4


def test_a_remembered_query_string_follows_a_live_price_change_within_a_fanout_interval(app, client, db_conn):
    stored = fetch_one(
        db_conn,
        "SELECT f.eps_ttm FROM fundamentals f JOIN stocks s USING (stock_id) WHERE s.symbol = 'RELIANCE'",
    )
    eps = float(stored["eps_ttm"])
    freeze(app, OPEN_NOW)
    put_stock_quotes(app, quote("RELIANCE", "2000.00", "1950.00", OPEN_NOW))
    wait_for(lambda: row_of(client, SECTOR, "RELIANCE")["price"] == 2000.0, timeout_s=5, interval_s=0.01)
    etag = client.get(SECTOR).headers["ETag"]
    assert client.get(SECTOR, headers={"If-None-Match": etag}).status_code == 304  # remembered, unchanged
    put_stock_quotes(app, quote("RELIANCE", "2600.00", "1950.00", OPEN_NOW))
    started = time.monotonic()
    wait_for(lambda: row_of(client, SECTOR, "RELIANCE")["price"] == 2600.0, timeout_s=5, interval_s=0.01)
    assert time.monotonic() - started < 1.0  # the 50 ms fan-out interval and the requests' own time
    assert row_of(client, SECTOR, "RELIANCE")["pe"] == round(2600 / eps, 2)
    moved = client.get(SECTOR, headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag


def test_a_crawl_in_this_process_changes_a_remembered_query_string_at_once(
    make_app, db_config, db_conn, eodhd, make_runner
):
    # A long fan-out interval: the new figures must show because the crawl dropped the book, not because it aged.
    app = make_app(
        db_config,
        fanout_interval_ms=10_000,
        job_heartbeat_interval_s=0.3,
        job_poll_interval_s=0.1,
        eodhd_api_token="test-token",
        eodhd_base_url=eodhd.url,
        http_timeout_s=0.5,
        http_max_retries=1,
    )
    freeze(app, CLOSED_NOW)
    admin = Client(app, db_conn, "root", role="admin")
    before = row_of(admin.client, SECTOR, "RELIANCE")
    assert before["source"] == "simulator" and row_of(admin.client, SECTOR, "RELIANCE") == before
    eodhd.state.bodies["RELIANCE"] = fundamentals_body("RELIANCE", [5.0] * 4 + [6.0] * 4 + [8.0] * 4 + [10.0] * 4)
    job = admin.post("/admin/crawler-jobs", {"name": "One", "source": "eodhd", "symbols": ["RELIANCE"]})
    run = admin.post(f"/admin/crawler-jobs/{job.get_json()['data']['job_id']}/run").get_json()["data"]
    make_runner(app)
    assert admin.wait(run["job_id"], run["run_id"])["status"] == "completed"
    after = row_of(admin.client, SECTOR, "RELIANCE")
    assert after["source"] == "eodhd" and after["eps_ttm"] == 40.0
    assert after["pe"] == round(after["price"] / 40.0, 2) and after["price"] == before["price"]
