"""The news and sentiment response caches: two named caches of the shared cache service.

TTLs come from NEWS_CACHE_TTL_S and SENTIMENT_CACHE_TTL_S; a TTL of 0 turns a cache off.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from backend.extensions import app_extensions
from services.platform.cache_service import named_cache

T = TypeVar("T")
NEWS = "news"
SENTIMENT = "sentiment"


def _ttl(name: str) -> float:
    settings = app_extensions()["settings"]
    return {NEWS: settings.news_cache_ttl_s, SENTIMENT: settings.sentiment_cache_ttl_s}[name]


def cached(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """The value of `key` in cache `name` (single flight on a miss); computed every time when its TTL is 0."""
    ttl = _ttl(name)
    return compute() if ttl <= 0 else named_cache(name, ttl).get_or_load(key, compute)


def clear_caches() -> None:
    """Forget every cached news and sentiment response of the current app (after a refresh; tests)."""
    for name in (NEWS, SENTIMENT):
        if _ttl(name) > 0:
            named_cache(name, _ttl(name)).clear()
