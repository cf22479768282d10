"""The Redis tick bus with a real redis-server: exact encoding, delivery to other processes' buses once,
no echo to the publisher, malformed messages dropped, and a Redis outage never breaks local delivery."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis
from socketio import PubSubManager

from backend.app import create_app
from backend.extensions import socketio
from backend.local_mariadb import free_port
from services.market.live_price_cache import Quote
from services.realtime.tick_bus import InProcessTickBus, TickBatch
from services.realtime.tick_bus_redis import RedisTickBus, decode, encode
from tests.conftest import make_settings

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

    def __call__(self, batch: TickBatch) -> None:
        self.batches.append(batch)
        self.arrived.set()


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
    deadline = time.monotonic() + 5
    while dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) < count:
        assert time.monotonic() < deadline, "the buses did not subscribe"
        time.sleep(0.02)
    client.close()


def test_batches_round_trip_exactly():
    origin, batch = decode(encode(TickBatch("stocks", QUOTES, AT), "proc-1"))
    assert origin == "proc-1" and batch == TickBatch("stocks", QUOTES, AT)
    assert batch.quotes[0].as_of.tzinfo is not None and str(batch.quotes[1].ltp) == "3500.0000"


def test_a_batch_reaches_every_other_bus_once_and_its_publisher_directly(make_bus, redis_url):
    a, a_inbox = make_bus()
    b, b_inbox = make_bus()
    c, c_inbox = make_bus()
    wait_subscribed(redis_url, a.channel, 3)
    batch = TickBatch("indices", QUOTES[:1], AT)
    a.publish(batch)
    assert a_inbox.batches == [batch]  # delivered in the publisher's own call
    assert b_inbox.arrived.wait(5) and c_inbox.arrived.wait(5)
    time.sleep(0.3)  # an echo or a duplicate would have arrived by now
    assert a_inbox.batches == [batch] and b_inbox.batches == [batch] and c_inbox.batches == [batch]


def test_malformed_messages_are_dropped_and_delivery_goes_on(make_bus, redis_url):
    a, _ = make_bus()
    b, b_inbox = make_bus()
    wait_subscribed(redis_url, a.channel, 2)
    publisher = redis.Redis.from_url(redis_url)
    for junk in (b"junk", b"other {not json", b'other {"kind": "stocks", "quotes": [[1]]}', b'other {"quotes": []}'):
        publisher.publish(a.channel, junk)
    publisher.close()
    a.publish(TickBatch("stocks", QUOTES, AT))
    assert b_inbox.arrived.wait(5)
    assert [batch.quotes for batch in b_inbox.batches] == [QUOTES]


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
