"""The Redis tick bus with a real redis-server: exact encoding (reference prices parsed again exactly when their text
changes), delivery to other processes' buses once, no echo to the publisher, malformed messages dropped, and a Redis
outage never breaks local delivery."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis
from prometheus_client import REGISTRY
from socketio import PubSubManager

from backend.app import create_app
from backend.extensions import socketio
from backend.local_mariadb import free_port
from services.market.live_price_cache import Quote
from services.platform import green
from services.realtime.tick_bus import InProcessTickBus, TickBatch
from services.realtime.tick_bus_redis import RedisTickBus
from services.realtime.tick_codec import Decoder, encode
from tests.conftest import make_settings
from tests.waiting import wait_for

AT = datetime(2026, 11, 20, 5, 30, 0, 123000, tzinfo=UTC)
QUOTES = (
    Quote(
        "RELIANCE",
        Decimal("1234.55"),
        Decimal("1200.1"),
        Decimal("1201"),
        Decimal("1240.0"),
        Decimal("1199.95"),
        123456789,
        AT,
        "simulator",
    ),
    Quote(
        "TCS",
        Decimal("3500.0000"),
        Decimal("3490.25"),
        Decimal("3491"),
        Decimal("3510"),
        Decimal("3480"),
        0,
        AT,
        "upstox_api",
    ),
)


class Inbox:
    """A bus subscriber that records batches."""

    def __init__(self) -> None:
        self.batches: list[TickBatch] = []
        self.arrived = threading.Event()
        self._changed = threading.Condition()

    def __call__(self, batch: TickBatch) -> None:
        with self._changed:
            self.batches.append(batch)
            self._changed.notify_all()
        self.arrived.set()

    def wait_until(self, batch: TickBatch, timeout_s: float = 5) -> list[TickBatch]:
        """The batches received up to and including `batch` (AssertionError if it never arrives)."""
        with self._changed:
            assert self._changed.wait_for(lambda: batch in self.batches, timeout_s), "the batch never arrived"
            return self.batches[: self.batches.index(batch) + 1]


@pytest.fixture
def make_bus(app, redis_url):
    """Factory of started Redis buses on a channel of this test (stopped afterwards)."""
    channel = f"test:{uuid.uuid4().hex}"
    buses = []

    def make(url: str = redis_url) -> tuple[RedisTickBus, Inbox]:
        bus, inbox = RedisTickBus(url, channel=channel), Inbox()
        bus.subscribe(inbox, "inbox")
        bus.start()
        buses.append(bus)
        return bus, inbox

    yield make
    for bus in buses:
        bus.stop()


def wait_subscribed(url: str, channel: str, count: int) -> None:
    client = redis.Redis.from_url(url)
    wait_for(lambda: dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) >= count, 5)
    client.close()


def test_batches_round_trip_exactly():
    origin, batch = Decoder().decode(encode(TickBatch("stocks", QUOTES, AT), "proc-1"))
    assert origin == "proc-1" and batch == TickBatch("stocks", QUOTES, AT)
    assert batch.quotes[0].as_of.tzinfo is not None and str(batch.quotes[1].ltp) == "3500.0000"
    assert Decoder().decode(encode(TickBatch("indices", (), AT), "proc-1"))[1] == TickBatch("indices", (), AT)


def _texts(quote: Quote) -> list[str]:
    return [str(value) for value in quote]


def test_a_decoder_reuses_reference_prices_only_while_their_text_is_unchanged():
    decoder = Decoder()
    first = decoder.decode(encode(TickBatch("stocks", QUOTES, AT), "p"))[1].quotes[0]
    later = QUOTES[0]._replace(ltp=Decimal("1236.00"), volume=123456999)
    reused = decoder.decode(encode(TickBatch("stocks", (later,), AT), "p"))[1].quotes[0]
    assert reused == later and reused.prev_close is first.prev_close and reused.day_high is first.day_high
    # a new high, and a reference price equal in value but not in text: both parsed again, exactly
    for moved in (later._replace(day_high=Decimal("1236.00")), later._replace(prev_close=Decimal("1200.10"))):
        decoded = decoder.decode(encode(TickBatch("stocks", (moved,), AT), "p"))[1].quotes[0]
        assert _texts(decoded) == _texts(moved)
    # stocks and indices are remembered apart, even under one name
    index = QUOTES[0]._replace(prev_close=Decimal("7"), volume=0)
    assert _texts(decoder.decode(encode(TickBatch("indices", (index,), AT), "p"))[1].quotes[0]) == _texts(index)


def test_a_decoder_pauses_between_chunks_of_a_large_batch(monkeypatch):
    pauses = []
    monkeypatch.setattr(green, "PAUSE_AFTER_S", 0.0)  # every look at the clock finds the loop held too long
    monkeypatch.setattr(green, "pause", lambda: pauses.append(1))
    quotes = tuple(QUOTES[0]._replace(symbol=f"SYN{n:05d}") for n in range(1_200))
    assert Decoder().decode(encode(TickBatch("stocks", quotes, AT), "p"))[1].quotes == quotes
    assert len(pauses) == 2  # after 500 and 1,000 records


def test_a_batch_reaches_every_other_bus_once_and_its_publisher_directly(make_bus, redis_url):
    a, a_inbox = make_bus()
    b, b_inbox = make_bus()
    c, c_inbox = make_bus()
    wait_subscribed(redis_url, a.channel, 3)
    batch = TickBatch("indices", QUOTES[:1], AT)
    a.publish(batch)
    assert a_inbox.batches == [batch]  # delivered in the publisher's own call
    assert b_inbox.wait_until(batch) == [batch]
    # the channel delivers in order: an echo or a duplicate of what was published before a marker arrives before
    # it; a marker from B proves it for A and C, and then one from A for B
    from_b, from_a = TickBatch("stocks", QUOTES[1:], AT), TickBatch("stocks", QUOTES, AT)
    b.publish(from_b)
    assert a_inbox.wait_until(from_b) == [batch, from_b] and c_inbox.wait_until(from_b) == [batch, from_b]
    a.publish(from_a)
    assert b_inbox.wait_until(from_a) == [batch, from_b, from_a]


def test_malformed_messages_are_dropped_and_delivery_goes_on(make_bus, redis_url):
    a, _ = make_bus()
    b, b_inbox = make_bus()
    wait_subscribed(redis_url, a.channel, 2)
    publisher = redis.Redis.from_url(redis_url)
    good = encode(TickBatch("stocks", QUOTES, AT), "other")
    junk_messages = (
        b"junk",
        b"other {not json",
        b"other stocks",
        good.replace(b"stocks", b"bonds", 1),  # an unknown kind
        good.replace(b"1234.55", b"12x4.55"),  # a price that is not a number
        good.replace(b"123456789", b"many"),
        good.replace(b"\x1fsimulator", b""),  # a field short
        b"\xff\xfe",  # not UTF-8
    )
    dropped = REGISTRY.get_sample_value("tick_bus_errors_total", {"kind": "decode"}) or 0
    for junk in junk_messages:
        publisher.publish(a.channel, junk)
    publisher.close()
    a.publish(TickBatch("stocks", QUOTES, AT))
    assert b_inbox.arrived.wait(5)
    assert [batch.quotes for batch in b_inbox.batches] == [QUOTES]
    counted = dropped + 2 * len(junk_messages)  # each junk message is dropped by both buses, and counted
    wait_for(lambda: REGISTRY.get_sample_value("tick_bus_errors_total", {"kind": "decode"}) == counted, 5)


def test_redis_down_never_breaks_local_delivery(make_bus):
    bus, inbox = make_bus(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    batch = TickBatch("stocks", QUOTES, AT)
    bus.publish(batch)  # logged and counted, not raised
    assert inbox.batches == [batch]


def test_the_app_uses_the_redis_bus_only_when_redis_url_is_set(db_config, redis_url):
    with_redis = create_app(make_settings(db_config, redis_url=redis_url))
    without = create_app(make_settings(db_config))
    try:
        assert isinstance(with_redis.extensions["tick_bus"], RedisTickBus)
        assert type(without.extensions["tick_bus"]) is InProcessTickBus
        assert not isinstance(socketio.server.manager, PubSubManager)  # the earlier app's queue is not inherited
    finally:
        for app in (with_redis, without):
            app.extensions["db"].close()
