"""The JSON error envelope for every kind of failure, request ids and Server-Timing."""

import pydantic
import pytest
from flask import Blueprint, request

from utils.errors import NotFound


class Payload(pydantic.BaseModel):
    quantity: int = pydantic.Field(gt=0)


@pytest.fixture
def app(app):
    bp = Blueprint("errors_probe", __name__)

    @bp.post("/_probe/validate")
    def validate():
        Payload.model_validate(request.get_json(silent=True) or {})
        return {"status": "success"}

    @bp.get("/_probe/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @bp.get("/_probe/missing")
    def missing():
        raise NotFound("stock not found")

    @bp.post("/_probe/upload")
    def upload():
        return {"size": len(request.get_data())}

    app.register_blueprint(bp)
    return app


def assert_envelope(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_unknown_route_is_404_envelope(client):
    assert_envelope(client.get("/no/such/route"), 404, "NOT_FOUND")


def test_wrong_method_is_405_envelope_with_allow(client):
    response = client.post("/health")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_validation_error_lists_fields(client):
    body = assert_envelope(client.post("/_probe/validate", json={"quantity": 0}), 400, "VALIDATION_ERROR")
    assert body["error"]["details"]["fields"][0]["field"] == "quantity"


def test_domain_error_carries_status_and_message(client):
    body = assert_envelope(client.get("/_probe/missing"), 404, "NOT_FOUND")
    assert body["error"]["message"] == "stock not found"


def test_oversized_body_is_413(client, app):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert_envelope(client.post("/_probe/upload", data=big), 413, "PAYLOAD_TOO_LARGE")


def test_unexpected_error_is_500_without_traceback(client, caplog):
    response = client.get("/_probe/boom")
    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("unhandled error" in r.getMessage() for r in caplog.records)
    assert body["request_id"]


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32


def test_server_timing_and_security_headers(client):
    response = client.get("/healthz")
    assert "total;dur=" in response.headers["Server-Timing"]
    assert "db;dur=" in response.headers["Server-Timing"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_cors_allows_only_configured_origins(client):
    allowed = client.get("/health", headers={"Origin": "http://localhost:5000"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5000"
    denied = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers
    not_cross_origin = client.get("/health")  # no Origin header: not a CORS request, no CORS headers
    assert "Access-Control-Allow-Origin" not in not_cross_origin.headers


def test_large_json_responses_are_compressed(client):
    response = client.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def test_large_answers_are_compressed_and_small_ones_are_left_as_they_are(client):
    movers = client.get("/stocks/movers-all?limit=50", headers={"Accept-Encoding": "gzip"})
    assert movers.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in movers.headers["Vary"]
    small = client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers and small.get_json()["status"] == "success"


def test_a_large_answer_without_accept_encoding_is_plain_and_says_what_it_varies_on(client):
    plain = client.get("/stocks/movers-all?limit=50")
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    cross_origin = client.get("/stocks/movers-all?limit=50", headers={"Origin": "http://localhost:5000"})
    assert {part.strip() for part in cross_origin.headers["Vary"].split(",")} == {"Origin", "Accept-Encoding"}
