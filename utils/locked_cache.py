"""The small caches for everything that is not a response cache.

Response caches (single flight, stale-while-revalidate, metrics) are NamedCache
(services/platform/cache_service.py); lookups that only need "keep this for a while" (auth states,
instruments, holding costs) use `LockedCache`: a TTLCache, or an LRUCache when there
is no TTL, whose every operation takes the lock (cachetools caches are not thread-safe). Memos on the request path
whose misses cost less than that bookkeeping (validated query strings, encoded bodies) use `Memo`.
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


class Memo:
    """A bounded memo that forgets everything when it is full: a lookup or a store costs one dict operation (atomic
    in CPython: no lock) instead of a lock and least-recently-used bookkeeping. For a small hot set (a dashboard's
    query strings, cached payloads) it hits as often; under a stream of distinct keys (a typeahead) every request
    misses anyway, and then LockedCache's get, eviction and store cost more than the miss itself (docs/BENCHMARKS.md,
    search)."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._entries: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        """The value kept under `key`, or None."""
        return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` under `key` (everything kept is dropped first when the memo is full)."""
        if len(self._entries) >= self._maxsize:
            self._entries.clear()
        self._entries[key] = value

    def pop(self, key: Hashable) -> None:
        """Forget `key`."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
