"""Named TTL caches for the news and sentiment endpoints (per app, locked, TTLs from settings).

Local to this feature until it moves onto the shared cache service; a TTL of 0 turns a cache off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import TTLCache
from flask import current_app

from utils import metrics
from utils.request_context import timed

T = TypeVar("T")
NEWS = "news"
SENTIMENT = "sentiment"
_MAX_ENTRIES = 512
_MISSING = object()
_lock = threading.Lock()


def _caches() -> dict[str, TTLCache | None]:
    caches = current_app.extensions.get("news_caches")
    if caches is None:
        with _lock:
            caches = current_app.extensions.get("news_caches")
            if caches is None:
                settings = current_app.extensions["settings"]
                ttls = {NEWS: settings.news_cache_ttl_s, SENTIMENT: settings.sentiment_cache_ttl_s}
                caches = {name: TTLCache(_MAX_ENTRIES, ttl) if ttl > 0 else None for name, ttl in ttls.items()}
                current_app.extensions["news_caches"] = caches
    return caches


def cached(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """The cached value of `key` in cache `name`, computed (outside the lock) and stored on a miss."""
    cache = _caches()[name]
    if cache is None:
        return compute()
    with timed("cache"), _lock:
        value = cache.get(key, _MISSING)
    if value is not _MISSING:
        metrics.NEWS_CACHE_LOOKUPS.labels(name, "hit").inc()
        return value
    metrics.NEWS_CACHE_LOOKUPS.labels(name, "miss").inc()
    value = compute()
    with _lock:
        cache[key] = value
    return value


def clear_caches() -> None:
    """Forget every cached news and sentiment response of the current app (after a refresh; tests)."""
    caches = _caches()
    with _lock:
        for cache in caches.values():
            if cache is not None:
                cache.clear()
