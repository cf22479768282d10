"""`python -m backend crawler-run` and `crawler-job` against the test database, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from controller.sql import fetch_all, fetch_one
from tests.conftest import SEED_NOW
from utils.timeutil import to_db


def backend(repo_root, db_config, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_config.url(), "APP_ENV": "test", "LOG_LEVEL": "WARNING"}
    env.pop("EODHD_API_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "backend", *args], cwd=repo_root, env=env, capture_output=True, text=True, timeout=120
    )


def test_crawler_run_fetches_stores_and_summarises(repo_root, db_config, db_conn):
    done = backend(repo_root, db_config, "crawler-run", "--symbol", "reliance", "--symbol", "TCS", "--symbol", "NOPE")
    assert done.returncode == 0, done.stderr
    assert "crawler-run (simulator): 2 updated, 1 failed of 3" in done.stdout
    assert "failed NOPE: unknown symbol" in done.stdout
    rows = fetch_all(
        db_conn,
        "SELECT s.symbol, f.as_of FROM fundamentals f JOIN stocks s USING (stock_id) "
        "WHERE s.symbol IN ('RELIANCE', 'TCS')",
    )
    assert len(rows) == 2 and all(row["as_of"] > to_db(SEED_NOW) for row in rows)


def test_crawler_run_over_the_universe_shows_a_progress_bar(repo_root, db_config, db_conn):
    done = backend(repo_root, db_config, "crawler-run", "--universe")
    universe = fetch_one(
        db_conn,
        "SELECT COUNT(*) AS n FROM stocks s JOIN stock_quotes q USING (stock_id) WHERE s.is_active = 1 "
        "AND s.exchange = 'NSE'",
    )["n"]
    assert done.returncode == 0, done.stderr
    assert f"{universe} updated, 0 failed of {universe}" in done.stdout
    assert "crawling" in done.stderr and f"{universe}/{universe}" in done.stderr  # tqdm writes to stderr


def test_crawler_run_refuses_an_unavailable_source(repo_root, db_config):
    done = backend(repo_root, db_config, "crawler-run", "--symbol", "TCS", "--source", "eodhd")
    assert done.returncode == 2 and "unknown or unavailable source 'eodhd'" in done.stderr


def test_crawler_job_creates_a_job(repo_root, db_config, db_conn):
    done = backend(
        repo_root,
        db_config,
        "crawler-job",
        "--name",
        "Nightly banks",
        "--symbol",
        "HDFCBANK",
        "--symbol",
        "icicibank",
        "--metadata",
        "owner=ops",
        "--metadata",
        "note=banks only",
        "--schedule",
        "30 18 * * 1-5",
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["name"] == "Nightly banks" and job["symbols"] == ["HDFCBANK", "ICICIBANK"]
    assert job["metadata"] == {"owner": "ops", "note": "banks only"} and job["schedule"] == "30 18 * * 1-5"
    stored = fetch_one(db_conn, "SELECT source, enabled FROM crawler_jobs WHERE name = 'Nightly banks'")
    assert stored == {"source": "simulator", "enabled": 1}


def test_crawler_job_says_what_is_wrong(repo_root, db_config):
    cases = [
        (["--name", "x", "--symbol", "NOPE"], "unknown symbols: NOPE"),
        (["--name", "x", "--symbol", "TCS", "--metadata", "oops"], "expected key=value"),
        (["--name", "x", "--symbol", "TCS", "--schedule", "every day"], "schedule"),
        (["--name", "x", "--universe", "--source", "yahoo"], "source: one of simulator"),
    ]
    for args, message in cases:
        done = backend(repo_root, db_config, "crawler-job", *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)


def test_seed_if_empty_adds_fundamentals_to_a_database_seeded_before_them(repo_root, db_config, db_conn):
    db_conn.cursor().execute("DELETE FROM fundamentals")
    done = backend(repo_root, db_config, "seed", "--if-empty")
    assert done.returncode == 0, done.stderr
    count = "SELECT COUNT(*) AS n, MIN(as_of) AS first FROM fundamentals"
    stored = fetch_one(db_conn, count)
    assert stored["n"] > 200 and fetch_one(db_conn, "SELECT COUNT(*) AS n FROM crawler_jobs")["n"] == 1
    assert backend(repo_root, db_config, "seed", "--if-empty").returncode == 0
    assert fetch_one(db_conn, count) == stored  # once: a second run adds nothing
