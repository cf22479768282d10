"""Which instruments are streamed in which mode within Upstox's key limits, the stream-target registry, and the
REST poller's choice of what to refresh within its call budget (pure parts, no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.market.live_price_cache import LivePriceCache, Quote
from services.market_data.stream_plan import StreamLimits, Target, changes, plan, within_limits
from services.market_data.upstox import MAX_KEYS_PER_CALL
from services.realtime.rest_poller import RestPoller
from services.realtime.stream_targets import MoversCandidates, StreamTargets

LIMITS = StreamLimits()


def targets(full: int, ltpc: int, full_first: bool = True) -> list[Target]:
    wanted_full = [Target(f"F{n}", "full") for n in range(full)]
    wanted_ltpc = [Target(f"L{n}", "ltpc") for n in range(ltpc)]
    return wanted_full + wanted_ltpc if full_first else wanted_ltpc + wanted_full


def modes(chosen: dict) -> tuple[int, int]:
    return sum(1 for m in chosen.values() if m == "full"), sum(1 for m in chosen.values() if m == "ltpc")


@pytest.mark.parametrize(
    ("full", "ltpc", "expected"),
    [
        (300, 0, (300, 0)),  # everything fits in full
        (1200, 600, (1800, 0)),  # under 2,000: all in full (ltpc wanted, full given)
        (1500, 1500, (1500, 1500)),  # mixed: 1,500 full + up to 2,000 ltpc
        (1800, 1000, (1500, 1300)),  # the 300 full beyond the mixed cap are streamed in ltpc
        (100, 4500, (0, 4600)),  # streaming all 4,600 in ltpc beats 100 full + 2,000 ltpc
        (0, 4800, (0, 4800)),  # ltpc alone: up to 5,000
        (0, 7000, (0, 5000)),
        (2500, 0, (1500, 1000)),  # all 2,500 streamed (1,000 in ltpc) beats 2,000 in full
    ],
)
def test_the_plan_serves_the_targets_best_within_the_limits(full, ltpc, expected):
    chosen = plan(targets(full, ltpc), LIMITS)
    assert modes(chosen) == expected
    assert within_limits(chosen, LIMITS)


def test_priority_decides_who_is_streamed():
    ordered = targets(0, 6000)
    chosen = plan(ordered, LIMITS)
    assert list(chosen) == [t.key for t in ordered[:5000]]  # the first 5,000 by priority
    high_full = [Target("IDX", "full")] + ordered[:3000]
    chosen = plan(high_full, LIMITS)  # mixed would leave 1,000 unstreamed: all in ltpc instead
    assert chosen["IDX"] == "ltpc" and modes(chosen) == (0, 3001)
    chosen = plan([Target("IDX", "full")] + ordered[:1800], LIMITS)
    assert chosen["IDX"] == "full" and modes(chosen) == (1801, 0)


def test_the_limits_are_settings():
    small = StreamLimits(ltpc_alone=50, full_alone=20, ltpc_mixed=20, full_mixed=15)
    assert modes(plan(targets(30, 0), small)) == (15, 15)
    assert not within_limits({"a": "full", **{f"l{n}": "ltpc" for n in range(21)}}, small)


def test_changes_unsubscribe_first_then_move_then_subscribe():
    current = {"A": "full", "B": "full", "C": "ltpc", "D": "ltpc"}
    wanted = {"A": "ltpc", "C": "full", "E": "ltpc", "F": "full"}
    assert changes(current, wanted) == [
        ("unsub", None, ["B", "D"]),
        ("change_mode", "ltpc", ["A"]),
        ("change_mode", "full", ["C"]),
        ("sub", "ltpc", ["E"]),
        ("sub", "full", ["F"]),
    ]
    assert changes(wanted, wanted) == []


def test_stream_targets_gather_sources_by_priority_and_skip_a_broken_one():
    registry = StreamTargets()
    keys = {"stocks": {"RELIANCE": "K1", "TCS": "K2", "INFY": "K3"}, "indices": {"NIFTY 50": "I1"}}
    registry.register("movers", lambda: ["INFY", "TCS"], "full", 40)
    registry.register("orders", lambda: ["TCS", "NOKEY"], "ltpc", 20)
    registry.register("indices", lambda: ["NIFTY 50"], "full", 0, "indices")
    registry.register("broken", lambda: 1 / 0, "full", 5)
    gathered = registry.gather(keys)
    assert [(t.key, t.mode) for t in gathered] == [("I1", "full"), ("K2", "full"), ("K3", "full")]
    registry.register("movers", lambda: [], "full", 40)  # the same name replaces its source
    assert [(t.key, t.mode) for t in registry.gather(keys)] == [("I1", "full"), ("K2", "ltpc")]
    registry.unregister("orders")
    assert registry.names() == ["indices", "broken", "movers"]


def test_movers_candidates_are_the_largest_moves_and_the_most_traded():
    cache = LivePriceCache("stocks")
    now = datetime.now(UTC)

    def quote(symbol, ltp, volume):
        return Quote(symbol, Decimal(ltp), Decimal(100), Decimal(100), Decimal(ltp), Decimal(ltp), volume, now)

    cache.update([quote("UP", 110, 10), quote("DOWN", 85, 10), quote("FLAT", 100, 1_000_000), quote("SMALL", 101, 5)])
    candidates = MoversCandidates(SimpleNamespace(extensions={"live_prices": {"stocks": cache}}), 1)
    assert candidates() == ["DOWN", "FLAT"]  # |-15 %| is the largest move; 100 x 1,000,000 the most traded
    cache.update([quote("NEW", 150, 10)])
    assert candidates() == ["NEW", "FLAT"]  # the cache grew: computed again at once
    assert MoversCandidates(SimpleNamespace(extensions={"live_prices": {"stocks": cache}}), 0)() == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rest_poller_refreshes_every_unstreamed_instrument_within_a_minute_under_its_budget():
    names = {f"NSE_EQ|S{n:05d}": ("stocks", f"S{n:05d}") for n in range(10_000)}
    streamed = {key: "full" for key in list(names)[:2000]}
    clock = Clock()
    poller = RestPoller(None, lambda: names, calls_per_min=45, refresh_s=60, fallback_s=5, clock=clock)
    polled_at: dict[str, list[float]] = {}
    calls = 0
    for _ in range(int(300 / 5)):  # five minutes of passes, every 5 s
        clock.now += 5
        chosen, why = poller.choose(streamed, True, streamed)
        calls += -(-len(chosen) // MAX_KEYS_PER_CALL)
        for key in chosen:
            polled_at.setdefault(key, []).append(clock.now)
            poller._due[key] = clock.now + poller.period(key, streamed, True, streamed)
        assert set(why.values()) <= {"unstreamed"}
    assert not set(polled_at) & set(streamed)  # streamed in full: never polled
    assert len(polled_at) == 8000
    gaps = [later - earlier for times in polled_at.values() for earlier, later in zip(times, times[1:], strict=False)]
    assert max(gaps) <= 65  # every unstreamed instrument at least once a minute (one 5 s pass of slack)
    assert calls <= 45 * 5 + 8  # within the budget (plus the ten seconds' worth it starts with)


def test_rest_poller_falls_back_to_the_streamed_instruments_while_the_feed_is_down():
    names = {f"K{n}": ("stocks", f"S{n}") for n in range(600)}
    planned = {f"K{n}": "full" for n in range(100)}
    clock = Clock()
    poller = RestPoller(None, lambda: names, calls_per_min=12, refresh_s=60, fallback_s=5, clock=clock)
    for key in names:
        poller._due[key] = clock.now + (60 if key not in planned else 0)
    clock.now += 5
    chosen, why = poller.choose({}, False, planned)
    assert set(chosen) == set(planned) and set(why.values()) == {"fallback"}
    assert poller.period("K1", {}, False, planned) == 5 and poller.period("K500", {}, False, planned) == 60
