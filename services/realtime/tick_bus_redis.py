"""The tick bus across processes: Redis pub/sub (used when REDIS_URL is set).

The leader's publish sends a batch once on the Redis channel, then hands it to this process's
subscribers as the in-process bus does. Every process listens on the channel and hands the batches
of *other* processes to its own subscribers (live-price cache, Socket.IO fan-out, order matcher), so
each process sees each batch exactly once. Quotes travel as compact JSON with prices as decimal
strings, so they arrive exactly as published; a process recognises its own messages by their prefix
without decoding them. A Redis outage is logged and counted; the listener reconnects and local
delivery goes on meanwhile.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from decimal import Decimal

import redis

from backend.extensions import socketio
from services.market.live_price_cache import Quote
from services.realtime.tick_bus import InProcessTickBus, TickBatch
from utils import metrics

log = logging.getLogger(__name__)
CHANNEL = "market-dashboard:ticks"
_RETRY_S = 1.0


def encode(batch: TickBatch, origin: str) -> bytes:
    """A batch as one message: the publishing process's id, a space, then the batch as JSON."""
    quotes = [
        [
            q.symbol,
            str(q.ltp),
            str(q.prev_close),
            str(q.day_open),
            str(q.day_high),
            str(q.day_low),
            q.volume,
            q.as_of.isoformat(),
            q.source,
        ]
        for q in batch.quotes
    ]
    body = json.dumps(
        {"kind": batch.kind, "published_at": batch.published_at.isoformat(), "quotes": quotes}, separators=(",", ":")
    )
    return f"{origin} {body}".encode()


def decode(message: bytes) -> tuple[str, TickBatch]:
    """(origin, batch) of a message made by `encode`."""
    origin, _, body = message.partition(b" ")
    data = json.loads(body)
    times: dict[str, datetime] = {}  # a batch's quotes mostly share one timestamp: parse it once
    quotes = tuple(
        Quote(
            symbol,
            Decimal(ltp),
            Decimal(prev_close),
            Decimal(day_open),
            Decimal(high),
            Decimal(low),
            int(volume),
            times.get(as_of) or times.setdefault(as_of, datetime.fromisoformat(as_of)),
            source,
        )
        for symbol, ltp, prev_close, day_open, high, low, volume, as_of, source in data["quotes"]
    )
    return origin.decode(), TickBatch(data["kind"], quotes, datetime.fromisoformat(data["published_at"]))


class RedisTickBus(InProcessTickBus):
    """Local subscribers get local batches directly; other processes' batches arrive through Redis."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._own = f"{self.origin} ".encode()
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
        self._running = False

    def publish(self, batch: TickBatch) -> None:
        """Send `batch` to every other process, then deliver it here (a Redis failure is logged, never raised)."""
        try:
            self._redis.publish(self.channel, encode(batch, self.origin))
        except redis.RedisError as exc:
            metrics.TICK_BUS_ERRORS.labels("publish").inc()
            log.warning("tick bus: could not publish to Redis (%s)", exc.__class__.__name__)
        super().publish(batch)  # after the send, so the other processes do not wait for our subscribers

    def start(self) -> None:
        """Start listening for the other processes' batches."""
        self._running = True
        socketio.start_background_task(self._listen)

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._running = False

    def _listen(self) -> None:
        pubsub = None
        while self._running:
            try:
                if pubsub is None:
                    pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(self.channel)
                message = pubsub.get_message(timeout=1.0)
            except redis.RedisError as exc:
                metrics.TICK_BUS_ERRORS.labels("listen").inc()
                log.warning("tick bus: Redis unavailable (%s); retrying", exc.__class__.__name__)
                pubsub = self._close(pubsub)
                socketio.sleep(_RETRY_S)
                continue
            if message is not None and message["type"] == "message":
                self._deliver(message["data"])
        self._close(pubsub)

    def _deliver(self, data: bytes) -> None:
        if data.startswith(self._own):
            return  # our own batch: its subscribers here had it when it was published
        try:
            _, batch = decode(data)
        except (ValueError, KeyError, TypeError):
            metrics.TICK_BUS_ERRORS.labels("decode").inc()
            log.warning("tick bus: dropped a malformed message")
            return
        super().publish(batch)

    @staticmethod
    def _close(pubsub: redis.client.PubSub | None) -> None:
        if pubsub is not None:
            try:
                pubsub.close()
            except redis.RedisError:
                log.debug("tick bus: error closing the Redis subscription", exc_info=True)
