"""Named in-process caches: TTL (cachetools), single flight, stale-while-revalidate, metrics.

Each app has its own registry of caches. Response caches are `NamedCache`s; plain keep-for-a-while
lookups are `utils.locked_cache.LockedCache`s made by `app_cache(name, ttl_s)`; `clear_all()` empties both.
`named_cache(name, ttl_s)` returns the response cache called `name`, creating
it on first use with the stale window (`CACHE_STALE_S`) and debug logging (`DEBUG_CACHE`) from the
settings. A lookup that finds a fresh entry returns it. One that finds an entry past its TTL but
inside the stale window returns it at once and recomputes it in a background task. A miss computes
the value once while concurrent callers for the same key wait for that one result (single flight),
so a burst of requests for a cold key costs one database query, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from cachetools import TTLCache
from flask import current_app, has_app_context

from backend.extensions import app_extensions, socketio
from utils import metrics
from utils.errors import ServiceUnavailable, already_logged
from utils.locked_cache import LockedCache, Memo
from utils.request_context import add_time

log = logging.getLogger(__name__)
T = TypeVar("T")
EVENTS = ("hit", "miss", "stale", "coalesced", "refresh", "refresh_error")
_registry_lock = threading.Lock()


@dataclass(slots=True)
class _Entry:
    value: Any
    fresh_until: float


class _Flight:
    """One computation in progress; callers that arrive meanwhile wait for its outcome."""

    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class NamedCache:
    """A TTL cache with a lock, single-flight loads and a stale-while-revalidate window."""

    def __init__(
        self,
        name: str,
        ttl_s: float,
        maxsize: int = 1024,
        stale_s: float = 0.0,
        debug: bool = False,
        timer: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], Any] | None = None,
        wait_timeout_s: float = 30.0,
        max_refreshes: int = 2,
    ) -> None:
        self.name = name
        # Background refreshes at once, at most: a stale hit beyond that is served without one (a later
        # hit refreshes the key). Thousands of stale keys must not queue thousands of loads for the pool.
        self.max_refreshes = max_refreshes
        self._refreshing = 0
        self.ttl_s = ttl_s
        self.stale_s = stale_s
        self.wait_timeout_s = wait_timeout_s
        self._timer = timer
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl_s + stale_s, timer=timer)
        # The entries stored, for a fresh hit without the lock and the TTLCache's bookkeeping (a dict lookup is
        # atomic): forgotten all at once when full, and by key with the TTLCache's on invalidate and clear.
        self._stored: Memo = Memo(maxsize)
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}
        self._debug = debug
        self._spawn = spawn or socketio.start_background_task
        self._counters = {event: metrics.CACHE_EVENTS.labels(name, event) for event in EVENTS}
        self._load_seconds = metrics.CACHE_LOAD_SECONDS.labels(name)
        self._size = metrics.CACHE_ENTRIES.labels(name)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get_or_load(self, key: Hashable, loader: Callable[[], T]) -> T:
        """The cached value of `key`, computing it with `loader` on a miss (once for all waiters). Only misses, stale
        hits and waits are timed into the request's `cache` bucket: a fresh hit costs a lookup."""
        entry = self._stored.get(key)
        if entry is not None and self._timer() < entry.fresh_until:
            self._note("hit", key)
            return entry.value
        started = time.perf_counter()
        try:
            return self._load_or_wait(key, loader)
        finally:
            add_time("cache", time.perf_counter() - started)

    def _load_or_wait(self, key: Hashable, loader: Callable[[], T]) -> T:
        now = self._timer()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now < entry.fresh_until:  # loaded meanwhile, or forgotten by the full memo
                self._stored.put(key, entry)
                self._note("hit", key)
                return entry.value
            flight = self._flights.get(key)
            refresh = entry is not None and flight is None and self._refreshing < self.max_refreshes
            owner = flight is None and (entry is None or refresh)
            if owner:
                flight = self._flights[key] = _Flight()
            if refresh:
                self._refreshing += 1
        if entry is not None:  # stale: serve it and refresh behind the caller's back (if none is due)
            self._note("stale", key)
            if refresh:
                self._refresh_in_background(key, loader, flight)
            return entry.value
        if owner:
            self._note("miss", key)
            return self._load(key, loader, flight)
        self._note("coalesced", key)
        return self._wait(flight)

    def refresh(self, key: Hashable, loader: Callable[[], T], expired_only: bool = False) -> T:
        """Recompute `key` now and store it, whatever its age (the hot-cache refresher uses it); with `expired_only`,
        only if it is missing or past its TTL (else its value as it is)."""
        if expired_only:
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and self._timer() < entry.fresh_until:
                return entry.value
        started = time.perf_counter()
        value = loader()
        self._load_seconds.observe(time.perf_counter() - started)
        self.put(key, value)
        self._note("refresh", key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Store a value as fresh for the cache's TTL."""
        with self._lock:
            entry = self._entries[key] = _Entry(value, self._timer() + self.ttl_s)
            self._stored.put(key, entry)
            self._size.set(len(self._entries))

    def get(self, key: Hashable) -> Any:
        """The cached value of `key` (fresh or stale), or None; never computes."""
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry.value

    def invalidate(self, key: Hashable) -> None:
        """Forget one key."""
        with self._lock:
            self._entries.pop(key, None)
            self._stored.pop(key)
            self._size.set(len(self._entries))

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._stored.clear()
            self._size.set(0)

    def _load(self, key: Hashable, loader: Callable[[], T], flight: _Flight) -> T:
        started = time.perf_counter()
        try:
            value = loader()
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.value = value
            self._load_seconds.observe(time.perf_counter() - started)
            self.put(key, value)
            return value
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def _wait(self, flight: _Flight) -> Any:
        if not flight.done.wait(self.wait_timeout_s):
            raise ServiceUnavailable("data is still being computed, retry shortly", {"cache": self.name})
        if flight.error is not None:
            raise flight.error
        return flight.value

    def _refresh_in_background(self, key: Hashable, loader: Callable[[], Any], flight: _Flight) -> None:
        app = current_app._get_current_object() if has_app_context() else None

        def run() -> None:
            if app is None:
                self._background_load(key, loader, flight)
            else:
                with app.app_context():
                    self._background_load(key, loader, flight)

        try:
            self._spawn(run)
        except Exception:  # no task, no refresh: keep serving stale and let a later caller load the key
            with self._lock:
                self._flights.pop(key, None)
                self._refreshing -= 1
            flight.done.set()
            self._note("refresh_error", key)
            log.warning("cache %s: could not start a background refresh of %r", self.name, key, exc_info=True)

    def _background_load(self, key: Hashable, loader: Callable[[], Any], flight: _Flight) -> None:
        try:
            self._load(key, loader, flight)
            self._note("refresh", key)
        except Exception as exc:  # a failed refresh keeps serving the stale entry; it must not kill the task
            self._note("refresh_error", key)
            if not already_logged(exc):
                log.warning("cache %s: background refresh of %r failed", self.name, key, exc_info=True)
        finally:
            with self._lock:
                self._refreshing -= 1

    def _note(self, event: str, key: Hashable) -> None:
        self._counters[event].inc()
        if self._debug:
            log.info("cache %s %s %r", self.name, event, key)


def _registry() -> dict[str, NamedCache | LockedCache]:
    return app_extensions().setdefault("caches", {})


def app_cache(name: str, ttl_s: float | None, maxsize: int = 10_000) -> LockedCache:
    """The current app's plain cache called `name` (no TTL: least recently used), created on first use."""
    registry = _registry()
    cache = registry.get(name)
    if cache is None:
        with _registry_lock:
            cache = registry.setdefault(name, LockedCache(maxsize, ttl_s))
    return cache  # type: ignore[return-value]


def named_cache(name: str, ttl_s: float, maxsize: int = 1024) -> NamedCache:
    """The current app's response cache called `name`, created on first use with `ttl_s` and the settings."""
    registry = _registry()
    cache = registry.get(name)
    if cache is None:
        with _registry_lock:
            cache = registry.get(name)
            if cache is None:
                settings = app_extensions()["settings"]
                cache = registry[name] = NamedCache(
                    name, ttl_s, maxsize, stale_s=settings.cache_stale_s, debug=settings.debug_cache
                )
    return cache


def clear_all() -> None:
    """Empty every cache of the current app (tests, after a reseed)."""
    for cache in _registry().values():
        cache.clear()
