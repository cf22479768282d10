"""Named caches: TTL, single flight, stale-while-revalidate, errors, metrics, registry and debug log."""

import logging
import threading

import pytest
from prometheus_client import REGISTRY

from services.platform.cache_service import NamedCache, clear_all, named_cache
from utils.errors import NotFound
from utils.locked_cache import Memo


class FakeTimer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counter(cache: str, event: str) -> float:
    return REGISTRY.get_sample_value("cache_events_total", {"cache": cache, "event": event}) or 0.0


class Loader:
    """Returns v1, v2, ... and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"v{self.calls}"


def make_cache(name: str, timer: FakeTimer, spawned: list, ttl: float = 10, stale: float = 30) -> NamedCache:
    return NamedCache(name, ttl_s=ttl, stale_s=stale, timer=timer, spawn=spawned.append)


def test_fresh_entries_are_hits_and_expire_after_the_ttl_and_stale_window():
    timer, spawned, load = FakeTimer(), [], Loader()
    cache = make_cache("t_ttl", timer, spawned)
    assert cache.get_or_load("k", load) == "v1"
    timer.now += 9.9
    assert cache.get_or_load("k", load) == "v1"
    assert load.calls == 1
    timer.now += 40.2  # past TTL + stale window: a plain miss, computed in the caller
    assert cache.get_or_load("k", load) == "v2"
    assert spawned == []
    assert counter("t_ttl", "hit") == 1 and counter("t_ttl", "miss") == 2


def test_stale_entries_are_served_at_once_and_refreshed_in_the_background():
    timer, spawned, load = FakeTimer(), [], Loader()
    cache = make_cache("t_swr", timer, spawned)
    cache.get_or_load("k", load)
    timer.now += 15  # past the TTL, inside the stale window
    assert cache.get_or_load("k", load) == "v1"
    assert cache.get_or_load("k", load) == "v1"  # a refresh is already under way: no second task
    assert len(spawned) == 1 and load.calls == 1
    spawned[0]()  # the background task runs
    assert load.calls == 2
    assert cache.get_or_load("k", load) == "v2"
    assert counter("t_swr", "stale") == 2 and counter("t_swr", "refresh") == 1


def test_a_refresh_recomputes_whatever_the_age_unless_asked_for_expired_entries_only():
    timer, spawned, load = FakeTimer(), [], Loader()
    cache = make_cache("t_refresh", timer, spawned)
    assert cache.refresh("k", load, expired_only=True) == "v1"  # missing: computed
    assert cache.refresh("k", load, expired_only=True) == "v1" and load.calls == 1  # fresh: kept
    assert cache.refresh("k", load) == "v2"  # a plain refresh recomputes a fresh entry
    timer.now += 10.1  # past the TTL (inside the stale window)
    assert cache.refresh("k", load, expired_only=True) == "v3" and spawned == []  # recomputed in the caller
    assert cache.get_or_load("k", load) == "v3" and load.calls == 3


def test_background_refreshes_are_capped_and_stale_keys_beyond_the_cap_wait_for_a_later_hit():
    timer, spawned = FakeTimer(), []
    cache = NamedCache("t_swr_cap", ttl_s=10, stale_s=30, timer=timer, spawn=spawned.append, max_refreshes=2)
    for key in "abcd":
        cache.get_or_load(key, lambda key=key: f"{key}1")
    timer.now += 15  # every key is stale
    assert [cache.get_or_load(key, lambda key=key: f"{key}2") for key in "abcd"] == ["a1", "b1", "c1", "d1"]
    assert len(spawned) == 2  # a and b refresh; c and d are served stale without a task
    spawned.pop(0)()  # a's refresh ends and frees a slot
    assert cache.get_or_load("c", lambda: "c2") == "c1" and len(spawned) == 2  # c refreshes now
    for task in spawned:
        task()
    assert (cache.get("a"), cache.get("b"), cache.get("c"), cache.get("d")) == ("a2", "b2", "c2", "d1")


def test_a_failed_background_refresh_keeps_the_stale_value(caplog):
    timer, spawned = FakeTimer(), []
    cache = make_cache("t_swr_error", timer, spawned)
    cache.get_or_load("k", lambda: "old")
    timer.now += 15

    def broken() -> str:
        raise ConnectionError("database went away")

    assert cache.get_or_load("k", broken) == "old"
    with caplog.at_level(logging.WARNING, logger="services.platform.cache_service"):
        spawned[0]()
    assert "background refresh" in caplog.text
    assert cache.get("k") == "old"
    assert counter("t_swr_error", "refresh_error") == 1


def test_concurrent_misses_compute_once_single_flight():
    cache = NamedCache("t_flight", ttl_s=10)
    release, calls = threading.Event(), []

    def slow_load() -> str:
        calls.append(1)
        release.wait(5)
        return "value"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_load("k", slow_load))) for _ in range(12)]
    for thread in threads:
        thread.start()
    while counter("t_flight", "coalesced") < 11:  # every other caller is waiting on the one load
        threading.Event().wait(0.005)
    release.set()
    for thread in threads:
        thread.join(5)
    assert calls == [1]
    assert results == ["value"] * 12


def test_a_failed_load_reaches_every_waiter_and_is_not_cached():
    cache = NamedCache("t_flight_error", ttl_s=10)
    release = threading.Event()

    def failing() -> str:
        release.wait(5)
        raise NotFound("no such thing")

    errors: list[BaseException] = []

    def call() -> None:
        try:
            cache.get_or_load("k", failing)
        except NotFound as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    while counter("t_flight_error", "coalesced") < 3:
        threading.Event().wait(0.005)
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(errors) == 4
    assert len(cache) == 0
    assert cache.get_or_load("k", lambda: "recovered") == "recovered"


def test_refresh_put_invalidate_and_maxsize():
    timer = FakeTimer()
    cache = NamedCache("t_ops", ttl_s=10, maxsize=2, timer=timer)
    assert cache.refresh("a", lambda: 1) == 1
    cache.put("b", 2)
    cache.put("c", 3)  # evicts the least recently used
    assert len(cache) == 2
    cache.invalidate("c")
    assert cache.get("c") is None
    cache.clear()
    assert len(cache) == 0


def test_named_caches_belong_to_the_app_take_settings_and_clear_all(app, caplog):
    app.extensions["settings"] = app.extensions["settings"].model_copy(
        update={"debug_cache": True, "cache_stale_s": 7.0}
    )
    with app.app_context():
        cache = named_cache("t_named", ttl_s=3)
        assert named_cache("t_named", ttl_s=99) is cache
        assert (cache.ttl_s, cache.stale_s) == (3, 7.0)
        with caplog.at_level(logging.INFO, logger="services.platform.cache_service"):
            cache.get_or_load("key", lambda: "v")
            cache.get_or_load("key", lambda: "v")
        assert "cache t_named miss 'key'" in caplog.text and "cache t_named hit 'key'" in caplog.text
        clear_all()
        assert len(cache) == 0
    with pytest.raises(RuntimeError):  # no app, no registry
        named_cache("t_named", ttl_s=3)


def test_background_refresh_runs_as_a_socketio_task_inside_the_app_context(app):
    from backend import db
    from controller.platform.health import ping

    app.extensions["settings"] = app.extensions["settings"].model_copy(update={"cache_stale_s": 60.0})
    loads: list[bool] = []

    def load() -> int:
        with db.connection() as conn:  # needs the app context in the background task
            loads.append(ping(conn))
        return len(loads)

    with app.app_context():
        cache = named_cache("t_background", ttl_s=0.01)
        assert cache.get_or_load("k", load) == 1
        threading.Event().wait(0.02)
        assert cache.get_or_load("k", load) == 1  # stale, served at once
        for _ in range(500):
            if cache.get("k") == 2:
                break
            threading.Event().wait(0.01)
    assert loads == [True, True]


def test_a_refresh_that_cannot_start_serves_stale_and_frees_the_key():
    timer = FakeTimer()

    def no_tasks(task):
        raise RuntimeError("no background tasks available")

    cache = NamedCache("t_no_spawn", ttl_s=10, stale_s=30, timer=timer, spawn=no_tasks)
    cache.get_or_load("k", lambda: "old")
    timer.now += 15
    assert cache.get_or_load("k", lambda: "new") == "old"
    timer.now += 30  # past the stale window: the key is free to load again (no orphaned flight)
    assert cache.get_or_load("k", lambda: "new") == "new"
    assert counter("t_no_spawn", "refresh_error") == 1


def test_a_memo_keeps_what_it_was_given_and_forgets_everything_when_full():
    memo = Memo(maxsize=3)
    for n in range(3):
        memo.put(n, str(n))
    assert [memo.get(n) for n in range(3)] == ["0", "1", "2"] and memo.get("absent") is None
    memo.put(3, "3")  # full: everything kept so far goes, the new entry stays
    assert len(memo) == 1 and memo.get(3) == "3" and memo.get(0) is None
    memo.pop(3)
    memo.put(4, "4")
    assert memo.get(3) is None and len(memo) == 1
    memo.clear()
    assert len(memo) == 0 and memo.get(4) is None


def test_invalidated_and_cleared_keys_are_loaded_again_by_the_lock_free_hit():
    timer, spawned = FakeTimer(), []
    cache, loader = make_cache("t_lockfree", timer, spawned), Loader()
    assert cache.get_or_load("k", loader) == "v1" and cache.get_or_load("k", loader) == "v1"
    cache.invalidate("k")
    assert cache.get_or_load("k", loader) == "v2"
    cache.clear()
    assert cache.get_or_load("k", loader) == "v3" and loader.calls == 3


def test_a_fresh_hit_is_not_timed_into_the_cache_bucket_and_a_miss_is():
    from utils.request_context import start_request

    timer, spawned = FakeTimer(), []
    cache = make_cache("t_timed", timer, spawned)
    buckets = start_request("t")
    cache.get_or_load("k", lambda: "v")
    assert "cache" in buckets
    buckets = start_request("t")
    cache.get_or_load("k", lambda: "v")
    assert "cache" not in buckets
