"""Liveness, readiness against the real database (and an unreachable one), Prometheus metrics."""

from flask import Flask

from backend.app import create_app
from backend.local_mariadb import free_port
from backend.settings import DatabaseConfig
from tests.conftest import make_settings


def test_health_is_cheap_and_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "ok"


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


def test_the_app_asks_flask_once_per_view_or_hook_whether_it_runs_sync(app, monkeypatch):
    asked, original = [], Flask.ensure_sync
    monkeypatch.setattr(Flask, "ensure_sync", lambda self, func: asked.append(func) or original(self, func))

    def view():
        return "ok"

    assert app.ensure_sync(view) is view and app.ensure_sync(view) is view
    assert asked == [view]
