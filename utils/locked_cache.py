"""The one small cache for everything that is not a response cache: cachetools behind a lock.

Response caches (single flight, stale-while-revalidate, metrics) are NamedCache
(services/platform/cache_service.py); lookups that only need "keep this for a while" (auth states,
instruments, holding costs, encoded bodies) use `LockedCache`: a TTLCache, or an LRUCache when there
is no TTL, whose every operation takes the lock (cachetools caches are not thread-safe).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache, TTLCache


class LockedCache:
    """get/put/pop/clear over a bounded cache; a TTL of 0 keeps nothing (the cache is switched off)."""

    def __init__(self, maxsize: int, ttl_s: float | None = None, timer: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self._entries: LRUCache = (
            LRUCache(maxsize=maxsize) if ttl_s is None else TTLCache(maxsize=maxsize, ttl=max(ttl_s, 1e-9), timer=timer)
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value kept under `key`, or `default` when absent or expired."""
        with self._lock:
            return self._entries.get(key, default)

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` under `key` (the least recently used entry goes when the cache is full)."""
        if self.ttl_s is not None and self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = value

    def pop(self, key: Hashable) -> Any:
        """Drop `key`; return what was kept (None when nothing was)."""
        with self._lock:
            return self._entries.pop(key, None)

    def discard_if(self, predicate: Callable[[Hashable, Any], bool]) -> int:
        """Drop every entry for which `predicate(key, value)` holds; return how many."""
        with self._lock:
            doomed = [key for key, value in self._entries.items() if predicate(key, value)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
