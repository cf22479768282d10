"""Liveness, readiness against the real database (and an unreachable one), Prometheus metrics."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from backend.app import create_app
from backend.local_mariadb import free_port
from backend.settings import DatabaseConfig
from tests.conftest import make_settings
from utils import timeutil
from utils.metrics import UnlockedCounter, UnlockedHistogram
from utils.timeutil import now_utc


def test_health_is_cheap_and_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "ok"


def test_health_says_the_current_time_in_ist(client):
    before = now_utc()
    said = datetime.fromisoformat(client.get("/health").get_json()["data"]["time"])
    assert said.utcoffset() == timedelta(hours=5, minutes=30)
    assert before - timedelta(milliseconds=1) <= said <= now_utc()


@pytest.mark.parametrize("fraction", [0.0, 0.0009, 0.25, 0.5004, 0.999, 0.9994, 0.9996, 0.9999996])
def test_now_iso_ist_says_what_iso_ist_says_of_the_same_instant(monkeypatch, fraction):
    for instant in (1_764_566_100 + fraction, 1_764_566_101 + fraction, 1_764_566_100 + fraction):
        monkeypatch.setattr(timeutil.time, "time", lambda instant=instant: instant)
        assert timeutil.now_iso_ist() == timeutil.iso_ist(datetime.fromtimestamp(instant, UTC))


def test_healthz_pings_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["data"]["checks"]["database"] == {"ok": True}


def test_healthz_is_503_when_the_database_is_unreachable(db_config):
    dead = DatabaseConfig("127.0.0.1", free_port(), "app", "x", "nowhere")
    app = create_app(make_settings(dead, db_connect_timeout_s=1))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["details"]["checks"]["database"]["ok"] is False


def test_metrics_exposes_request_counts_latency_and_pool(client):
    client.get("/health")
    response = client.get("/metrics")
    assert response.headers["Content-Type"].count("charset") == 1 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'http_requests_total{endpoint="/health",method="GET",status="200"}' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "db_pool_in_use" in text and "db_pool_size" in text


def test_a_method_outside_http_s_own_is_counted_as_other(client):
    labels = {"endpoint": "unmatched", "method": "OTHER", "status": "405"}
    before = REGISTRY.get_sample_value("http_requests_total", labels) or 0
    for method in ("BREW", "FROB", "PROPFIND"):
        assert client.open("/health", method=method).status_code == 405
    assert REGISTRY.get_sample_value("http_requests_total", labels) == before + 3
    text = client.get("/metrics").get_data(as_text=True)
    assert "BREW" not in text and "PROPFIND" not in text


def test_unlocked_metrics_expose_counts_cumulative_buckets_and_sums():
    registry = CollectorRegistry()
    requests = UnlockedCounter("requests_total", "Requests", ("method", "status"), registry)
    latency = UnlockedHistogram("latency_seconds", "Latency", ("endpoint",), (0.001, 0.0025, 0.005), registry)
    for seconds in (0.0005, 0.001, 0.003, 7.0):  # 0.001 is counted in its own bucket (le is inclusive)
        requests.labels("GET", "200").inc()
        latency.labels("/x").observe(seconds)
    requests.labels("POST", "400").inc(2)
    value = registry.get_sample_value
    assert value("requests_total", {"method": "GET", "status": "200"}) == 4
    assert value("requests_total", {"method": "POST", "status": "400"}) == 2
    buckets = {le: value("latency_seconds_bucket", {"endpoint": "/x", "le": le}) for le in _LE}
    assert buckets == {"0.001": 2, "0.0025": 2, "0.005": 3, "+Inf": 4}
    assert value("latency_seconds_count", {"endpoint": "/x"}) == 4
    assert value("latency_seconds_sum", {"endpoint": "/x"}) == pytest.approx(7.0045)
    assert "# TYPE requests_total counter" in generate_latest(registry).decode()


_LE = ("0.001", "0.0025", "0.005", "+Inf")


def test_the_app_asks_flask_once_per_view_or_hook_whether_it_runs_sync(app, monkeypatch):
    asked, original = [], Flask.ensure_sync
    monkeypatch.setattr(Flask, "ensure_sync", lambda self, func: asked.append(func) or original(self, func))

    def view():
        return "ok"

    assert app.ensure_sync(view) is view and app.ensure_sync(view) is view
    assert asked == [view]
