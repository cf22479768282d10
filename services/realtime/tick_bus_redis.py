"""The tick bus across processes: Redis pub/sub (used when REDIS_URL is set).

The leader's publish sends a batch once on the Redis channel, then hands it to this process's
subscribers as the in-process bus does. Every process listens on the channel and hands the batches
of *other* processes to its own subscribers (live-price cache, Socket.IO fan-out, order matcher), so
each process sees each batch exactly once. Quotes travel as compact text with prices as decimal
strings (services/realtime/tick_codec.py), so they arrive exactly as published; a process recognises its
own messages by their prefix without decoding them. A Redis outage is logged and counted; the listener
reconnects and local delivery goes on meanwhile.
"""

from __future__ import annotations

import logging
import uuid

import redis

from backend.extensions import socketio
from services.realtime.tick_bus import InProcessTickBus, TickBatch
from services.realtime.tick_codec import Decoder, Malformed, encode
from utils import metrics

log = logging.getLogger(__name__)
CHANNEL = "market-dashboard:ticks:2"  # the wire format's version: old and new processes never cross-read
_RETRY_S = 1.0


class RedisTickBus(InProcessTickBus):
    """Local subscribers get local batches directly; other processes' batches arrive through Redis."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._own = f"{self.origin} ".encode()
        self._decoder = Decoder()
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
            _, batch = self._decoder.decode(data)
        except Malformed:
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
