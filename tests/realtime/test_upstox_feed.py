"""The Upstox V3 feed client against the loopback fake: authorise, binary JSON subscriptions, protobuf frames
decoded into quotes, market phases, reconnects with resubscription, an expired token, live subscription
changes, the key limits and TLS verification."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import threading
import time
from decimal import Decimal

import pytest
import trustme

from services.market.live_price_cache import Quote
from services.market_data import upstox_feed_v3_pb2 as pb
from services.market_data.stream_plan import StreamLimits
from services.market_data.upstox import Upstox
from services.market_data.upstox_codec import FeedUpdate
from services.market_data.upstox_feed import UpstoxFeed
from services.platform.http_client import HttpClient
from tests.realtime.conftest import reference_universe
from tests.realtime.fake_upstox import NIFTY, RELIANCE, TCS, FakeUpstoxServer
from tests.realtime.fake_upstox_feed import full_feed, now_ms, response
from tests.waiting import wait_for
from utils import metrics

NAMES = {RELIANCE: ("stocks", "RELIANCE"), TCS: ("stocks", "TCS"), NIFTY: ("indices", "NIFTY 50")}


class Harness:
    """A feed on its own thread, talking to a fake, recording what it hands over."""

    def __init__(self, server: FakeUpstoxServer, token: list[str], ssl_context=None, known=None) -> None:
        client = HttpClient("upstox", timeout_s=2, max_retries=0)
        provider = Upstox(reference_universe, lambda: token[0], server.url, client=client)
        self.updates: list[FeedUpdate] = []
        self.refreshes = 0

        def refresh() -> str:
            self.refreshes += 1
            return token[0]

        self.feed = UpstoxFeed(
            provider.feed_url,
            lambda: NAMES,
            known or (lambda kind, symbol: None),
            self.updates.append,
            refresh,
            StreamLimits(),
            max_backoff_s=0.2,
            min_backoff_s=0.05,
            ssl_context=ssl_context,
        )
        self.thread = threading.Thread(target=self.feed.run, daemon=True)

    def start(self, plan=None) -> Harness:
        if plan:
            self.feed.subscribe(plan)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.feed.stop()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()

    def quotes(self, type_: str | None = None) -> list[Quote]:
        return [q for u in list(self.updates) if type_ in (None, u.type) for qs in u.quotes.values() for q in qs]


@pytest.fixture
def harness(upstox):
    made = []

    def make(plan=None, token="token-1", **kwargs):
        made.append(Harness(upstox, [token], **kwargs).start(plan))
        return made[-1]

    yield make
    for h in made:
        h.stop()


def test_subscribes_with_binary_json_and_decodes_the_snapshot_after_the_market_info(upstox, harness):
    h = harness({RELIANCE: "full", NIFTY: "full"})
    wait_for(lambda: h.feed.connected and h.quotes("initial_feed"))
    [connection] = upstox.feed.connections
    [frame] = connection.frames
    assert connection.text_frames == 0  # requests are JSON in binary frames
    assert frame["method"] == "sub" and frame["data"]["mode"] == "full" and len(frame["guid"]) == 32
    assert sorted(frame["data"]["instrumentKeys"]) == sorted([RELIANCE, NIFTY])
    updates = h.updates
    assert updates[0].type == "market_info" and updates[0].segment_status["NSE_EQ"] == "NORMAL_OPEN"
    snapshot = next(u for u in updates if u.type == "initial_feed")
    [reliance] = snapshot.quotes["stocks"]
    assert (reliance.symbol, reliance.ltp, reliance.prev_close, reliance.volume) == (
        "RELIANCE",
        Decimal("1313.2"),
        Decimal("1310.0"),
        5_000_000,
    )
    assert (reliance.day_open, reliance.day_high, reliance.day_low, reliance.source) == (
        Decimal("1310.0"),
        Decimal("1314.2"),
        Decimal("1309.0"),
        "upstox",
    )
    [nifty] = snapshot.quotes["indices"]
    assert nifty.symbol == "NIFTY 50" and nifty.ltp == Decimal("26101.5") and nifty.volume == 0
    assert abs((dt.datetime.now(dt.UTC) - reliance.as_of).total_seconds()) < 5  # the trade time (ltt)


def test_live_ticks_and_ltpc_quotes_take_the_days_range_from_the_known_quote(upstox, harness):
    today = dt.datetime.now(dt.UTC)
    known = Quote(
        "TCS", Decimal("3100"), Decimal("3121"), Decimal("3110"), Decimal("3125"), Decimal("3095"), 777, today
    )
    h = harness({RELIANCE: "full", TCS: "ltpc"}, known=lambda kind, symbol: known if symbol == "TCS" else None)
    wait_for(lambda: len(h.quotes("initial_feed")) == 2)
    upstox.feed.tick(RELIANCE, 1320.0, volume=5_100_000)
    upstox.feed.tick(TCS, 3090.0)
    wait_for(lambda: len(h.quotes("live_feed")) == 2)
    live = {q.symbol: q for q in h.quotes("live_feed")}
    assert live["RELIANCE"].ltp == Decimal("1320.0") and live["RELIANCE"].volume == 5_100_000
    tcs = live["TCS"]
    assert (tcs.ltp, tcs.prev_close, tcs.day_open, tcs.day_high, tcs.day_low, tcs.volume) == (
        Decimal("3090.0"),
        Decimal("3121.0"),
        Decimal("3110"),
        Decimal("3125"),
        Decimal("3090.0"),  # the new low
        777,
    )


def test_market_info_phases_are_handed_over(upstox, harness):
    h = harness({RELIANCE: "ltpc"})
    wait_for(lambda: h.feed.connected and upstox.feed.live())
    for status in ("PRE_OPEN_START", "NORMAL_OPEN", "CLOSING_START", "NORMAL_CLOSE"):
        upstox.feed.phase(status)
    wait_for(lambda: sum(1 for u in h.updates if u.type == "market_info") == 5)
    phases = [u.segment_status["NSE_EQ"] for u in h.updates if u.type == "market_info"]
    assert phases == ["NORMAL_OPEN", "PRE_OPEN_START", "NORMAL_OPEN", "CLOSING_START", "NORMAL_CLOSE"]


def test_a_dropped_connection_reconnects_with_a_fresh_authorisation_and_resubscribes(upstox, harness):
    before = metrics.UPSTOX_FEED_RECONNECTS._value.get()
    h = harness({RELIANCE: "full", TCS: "ltpc"})
    wait_for(lambda: len(h.quotes("initial_feed")) == 2)
    upstox.feed.drop()
    wait_for(lambda: len(upstox.feed.connections) == 2 and h.feed.connected and len(h.quotes("initial_feed")) == 4)
    first, second = upstox.feed.connections
    assert first.closed and upstox.feed.authorizations == 2  # each connection had its own single-use code
    assert {f["data"]["mode"]: f["data"]["instrumentKeys"] for f in second.frames} == {
        "ltpc": [TCS],
        "full": [RELIANCE],
    }
    assert h.feed.reconnects == 1 and metrics.UPSTOX_FEED_RECONNECTS._value.get() == before + 1
    upstox.feed.tick(RELIANCE, 1330.0)
    wait_for(lambda: any(q.ltp == Decimal("1330.0") for q in h.quotes("live_feed")))


def test_failed_authorisations_are_retried_with_backoff(upstox, harness):
    upstox.state.script("/v3/feed", (500, {"status": "error"}, {}), (503, {"status": "error"}, {}))
    h = harness({RELIANCE: "full"})
    wait_for(lambda: h.feed.connected)
    assert upstox.feed.authorizations == 1  # after two failed authorisations
    assert len([r for r in upstox.state.requests if r["path"].startswith("/v3/feed")]) == 3


def test_an_expired_token_is_one_clear_log_line_and_waits_for_a_new_token(upstox, harness, caplog):
    upstox.state.valid_tokens = {"fresh-token"}
    token = ["expired-token"]
    h = Harness(upstox, token)
    h.feed.token_retry_s, h.feed.token_check_s = 60.0, 0.1
    with caplog.at_level(logging.ERROR, logger="services.market_data.upstox_feed"):
        h.start({RELIANCE: "full"})
        try:
            wait_for(lambda: h.feed.reason == "token_expired")
            wait_for(lambda: h.refreshes >= 5)  # it checks for a new token every few seconds ...
            authorise_calls = [r for r in upstox.state.requests if r["path"].startswith("/v3/feed")]
            assert len(authorise_calls) == 1  # ... without asking Upstox again with the refused one
            lines = [r.getMessage() for r in caplog.records]
            assert len(lines) == 1 and "401" in lines[0] and "POST /admin/provider/token" in lines[0]
            assert "expired-token" not in lines[0]  # named by its fingerprint only
            token[0] = "fresh-token"
            wait_for(lambda: h.feed.connected and len(h.quotes("initial_feed")) == 1, timeout_s=15)
        finally:
            h.stop()


def test_subscriptions_change_on_the_live_connection(upstox, harness):
    h = harness({RELIANCE: "full", TCS: "full"})
    wait_for(lambda: len(h.quotes("initial_feed")) == 2)
    h.feed.subscribe({RELIANCE: "ltpc", NIFTY: "full"})
    wait_for(lambda: len(upstox.feed.connections[0].frames) == 4)
    [connection] = upstox.feed.connections
    assert [(f["method"], f["data"].get("mode"), f["data"]["instrumentKeys"]) for f in connection.frames[1:]] == [
        ("unsub", None, [TCS]),
        ("change_mode", "ltpc", [RELIANCE]),
        ("sub", "full", [NIFTY]),
    ]
    assert connection.subscriptions == {RELIANCE: "ltpc", NIFTY: "full"} == h.feed.subscribed()
    assert upstox.feed.authorizations == 1


def test_a_plan_beyond_the_limits_is_refused_before_it_is_sent(upstox, harness):
    h = harness({RELIANCE: "full"})
    wait_for(lambda: h.feed.connected)
    too_many = {f"NSE_EQ|K{n}": "full" for n in range(2001)}
    with pytest.raises(ValueError, match="exceeds the feed's limits"):
        h.feed.subscribe(too_many)
    mixed = {**{f"NSE_EQ|F{n}": "full" for n in range(1500)}, **{f"NSE_EQ|L{n}": "ltpc" for n in range(2000)}}
    h.feed.subscribe(mixed)
    wait_for(lambda: len(upstox.feed.connections[0].subscriptions) == 3500)
    assert upstox.feed.violations == [] and h.feed.connected
    with pytest.raises(ValueError):
        h.feed.subscribe({**mixed, "NSE_EQ|one-more": "ltpc"})


def test_a_quiet_connection_is_kept_alive_with_pings(upstox, harness):
    h = Harness(upstox, ["token-1"])
    h.feed.idle_timeout_s = 0.3
    h.start({RELIANCE: "full"})
    try:
        wait_for(lambda: h.feed.connected and h.quotes("initial_feed"))
        time.sleep(1.5)  # five idle timeouts of silence: each time the feed pings and the server answers
        assert h.feed.connected and len(upstox.feed.connections) == 1 and h.feed.reconnects == 0
    finally:
        h.stop()


def test_frames_of_unknown_keys_and_other_modes_are_ignored(upstox, harness):
    h = harness({RELIANCE: "full"})
    wait_for(lambda: len(h.quotes("initial_feed")) == 1)
    upstox.feed.push(response(pb.live_feed, {"NSE_EQ|NOT-OURS": full_feed(10.0, 9.0, 1, now_ms())}))
    upstox.feed.tick(RELIANCE, 1400.0)
    wait_for(lambda: h.quotes("live_feed"))
    assert [q.symbol for q in h.quotes("live_feed")] == ["RELIANCE"]


@pytest.fixture(scope="module")
def certificate_authority():
    return trustme.CA()


def test_tls_is_verified(certificate_authority):
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(server_context)
    with FakeUpstoxServer(ssl_context=server_context) as upstox:
        upstox.state.prices[RELIANCE] = ("RELIANCE", 1313.2, 3.2, 5_000_000)
        trusting = ssl.create_default_context()
        certificate_authority.configure_trust(trusting)
        untrusted = Harness(upstox, ["t"], ssl_context=ssl.create_default_context())
        untrusted.feed.feed_url = lambda: f"wss://127.0.0.1:{upstox.port}/v3/feed/market-data-feed/socket?code=x"
        trusted = Harness(upstox, ["t"], ssl_context=trusting)
        trusted.feed.feed_url = lambda: upstox.feed.authorize(upstox.url)["data"]["authorized_redirect_uri"]
        untrusted.start({RELIANCE: "full"})
        trusted.start({RELIANCE: "full"})
        try:
            wait_for(lambda: trusted.feed.connected and len(trusted.quotes("initial_feed")) == 1)
            assert trusted.feed.feed_url().startswith("wss://")
            assert not untrusted.feed.connected and untrusted.feed.connections == 0  # refused in the handshake
        finally:
            untrusted.stop()
            trusted.stop()
