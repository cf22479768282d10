"""`forceLive=1` while the Upstox provider is unreachable (connection refused, no answer, 5xx answers from a
loopback fake): the database snapshot is served with `priceSource: "database"`, never a 500 or a traceback."""

from __future__ import annotations

import logging
import socket

import pytest

from backend.local_mariadb import free_port
from tests.market_helpers import OPEN_NOW, freeze
from tests.realtime.fake_upstox import FakeUpstoxServer


@pytest.fixture
def silent_listener():
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def failing_fake():
    """The fake Upstox answering every quote request with 503."""
    with FakeUpstoxServer() as fake:
        fake.state.script("/v2/market-quote/quotes", *[(503, {"status": "error"}, {})] * 10)
        yield fake.url


@pytest.fixture(params=["refused", "no_answer", "http_503"])
def upstox_url(request):
    if request.param == "refused":
        return f"http://127.0.0.1:{free_port()}"
    return request.getfixturevalue({"no_answer": "silent_listener", "http_503": "failing_fake"}[request.param])


def test_force_live_serves_the_snapshot_while_upstox_is_unreachable(make_app, db_config, upstox_url, caplog):
    app = make_app(
        db_config,
        market_data_provider="upstox",
        upstox_access_token="test-token",
        upstox_base_url=upstox_url,
        http_timeout_s=0.5,
        http_max_retries=1,
    )
    freeze(app, OPEN_NOW)
    client = app.test_client()
    snapshot = client.get("/stocks/detail/TCS").get_json()["data"]
    caplog.set_level(logging.WARNING)
    response = client.get("/stocks/detail/TCS?forceLive=1")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["priceSource"] == "database" and data["currentPrice"] == snapshot["currentPrice"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    assert "forceLive: provider quote for TCS failed" in caplog.text
