"""Named TTL caches for the news and sentiment endpoints (per app, locked, TTLs from settings).

Local to this feature until it moves onto the shared cache service; a TTL of 0 turns a cache off.
A miss is computed once: concurrent callers for the same key wait for that result (single flight),
so an expired entry under load costs one database query, not one per waiting request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import TTLCache
from flask import current_app

from utils import metrics
from utils.request_context import timed

T = TypeVar("T")
NEWS = "news"
SENTIMENT = "sentiment"
_MAX_ENTRIES = 512
_FOLLOWER_WAIT_S = 5.0  # then compute anyway rather than hang on a stuck leader
_MISSING = object()
_create_lock = threading.Lock()


class ResponseCache:
    """One named TTL cache with a lock and single-flight computation of misses."""

    def __init__(self, name: str, ttl_s: float) -> None:
        self.name = name
        self._entries: TTLCache = TTLCache(_MAX_ENTRIES, ttl_s)
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, threading.Event] = {}

    def _lookup(self, key: Hashable) -> Any:
        with self._lock:
            return self._entries.get(key, _MISSING)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value of `key`, or `compute()` stored under it (computed outside the lock)."""
        with timed("cache"), self._lock:
            value = self._entries.get(key, _MISSING)
            computing = self._inflight.get(key) if value is _MISSING else None
            leader = value is _MISSING and computing is None
            if leader:
                computing = self._inflight[key] = threading.Event()
        metrics.NEWS_CACHE_LOOKUPS.labels(self.name, "miss" if value is _MISSING else "hit").inc()
        if value is not _MISSING:
            return value
        if not leader:
            computing.wait(_FOLLOWER_WAIT_S)
            value = self._lookup(key)
            return compute() if value is _MISSING else value  # the leader failed (e.g. a 404): our turn
        try:
            value = compute()
            with self._lock:
                self._entries[key] = value
            return value
        finally:
            with self._lock:
                del self._inflight[key]
            computing.set()

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


def _caches() -> dict[str, ResponseCache | None]:
    caches = current_app.extensions.get("news_caches")
    if caches is None:
        with _create_lock:
            caches = current_app.extensions.get("news_caches")
            if caches is None:
                settings = current_app.extensions["settings"]
                ttls = {NEWS: settings.news_cache_ttl_s, SENTIMENT: settings.sentiment_cache_ttl_s}
                caches = {name: ResponseCache(name, ttl) if ttl > 0 else None for name, ttl in ttls.items()}
                current_app.extensions["news_caches"] = caches
    return caches


def cached(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """The value of `key` in cache `name` (computed once on a miss); uncached when its TTL is 0."""
    cache = _caches()[name]
    return compute() if cache is None else cache.get_or_compute(key, compute)


def clear_caches() -> None:
    """Forget every cached news and sentiment response of the current app (after a refresh; tests)."""
    for cache in _caches().values():
        if cache is not None:
            cache.clear()
