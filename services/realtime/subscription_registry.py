"""Every process's client subscriptions, where the leader can see them: the symbols the Upstox feed must stream.

The feed is one connection, held by the leader, but clients subscribe to symbols on whichever process they
are connected to. With REDIS_URL each process writes the set of symbols its clients subscribed to under a
key of its own (a Redis set that expires after three publishing intervals, so a dead process's symbols
drop out by themselves) every UPSTOX_FEED_TARGETS_INTERVAL_S; the leader's `client_subscriptions` stream
source is the union of every live process's set. Without Redis a process is alone with its clients, and
its own subscriptions are the whole picture.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

import redis

from services.realtime.websocket_manager import process_subscriptions

log = logging.getLogger(__name__)
KEY_PREFIX = "market-dashboard:subscriptions:"
_TTL_INTERVALS = 3


class SubscriptionRegistry:
    """Publishes this process's subscribed symbols to Redis and reads the union of every process's."""

    def __init__(self, redis_url: str, interval_s: float, prefix: str = KEY_PREFIX) -> None:
        self._redis = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
        self.prefix = prefix
        self.key = f"{prefix}{uuid.uuid4().hex}"
        self.ttl_s = max(1, round(interval_s * _TTL_INTERVALS))

    def publish(self, symbols: Iterable[str] | None = None) -> int:
        """Replace this process's set with `symbols` (default: its clients' subscriptions now); return its size."""
        wanted = sorted(process_subscriptions() if symbols is None else set(symbols))
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self.key)
        if wanted:
            pipe.sadd(self.key, *wanted)
            pipe.expire(self.key, self.ttl_s)
        pipe.execute()
        return len(wanted)

    def all_symbols(self) -> set[str]:
        """The union of every live process's subscribed symbols (this process's own included, as published)."""
        keys = list(self._redis.scan_iter(match=f"{self.prefix}*", count=500))
        if not keys:
            return set()
        return {member.decode() for member in self._redis.sunion(keys)}

    def withdraw(self) -> None:
        """Remove this process's set (it is stopping)."""
        self._redis.delete(self.key)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
