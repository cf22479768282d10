"""Which instruments the Upstox feed streams, in which mode, within the published limits (pure functions).

Upstox allows one feed connection per app and user, with at most 5,000 instrument keys in `ltpc` mode
alone, 2,000 in `full` alone, and when both modes are used at once at most 2,000 `ltpc` and 1,500 `full`
(the limits are settings). Targets come in priority order, each wanting a mode; the plan picks, among
the three shapes the limits allow (all full, all ltpc, mixed), the one that streams the targets best in
priority order: first whether each is streamed at all (what is not is polled over REST, once a minute),
then whether it gets the mode it wants (ltpc lacks the day's OHLC and volume, which REST then refreshes).
A target wanting ltpc may be streamed in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.market_data.upstox_codec import Mode


@dataclass(frozen=True)
class StreamLimits:
    """Keys per mode on one connection: each mode alone, and each when both are subscribed."""

    ltpc_alone: int = 5000
    full_alone: int = 2000
    ltpc_mixed: int = 2000
    full_mixed: int = 1500


@dataclass(frozen=True)
class Target:
    """An instrument key some source wants streamed, and the mode it wants."""

    key: str
    mode: Mode


def _assign(targets: Sequence[Target], full_cap: int, ltpc_cap: int) -> tuple[dict[str, Mode], tuple[int, ...]]:
    """Fill `full_cap` full slots and `ltpc_cap` ltpc slots in priority order; the plan and its service vector
    (per target: 2 streamed as wanted, 1 in ltpc instead of full, 0 not streamed)."""
    plan: dict[str, Mode] = {}
    service = []
    full = ltpc = 0
    only_full = ltpc_cap == 0
    for target in targets:
        if (target.mode == "full" or only_full) and full < full_cap:
            plan[target.key], full = "full", full + 1
            service.append(2)
            continue
        if ltpc < ltpc_cap:
            plan[target.key], ltpc = "ltpc", ltpc + 1
            service.append(2 if target.mode == "ltpc" else 1)
            continue
        service.append(0)
    return plan, tuple(service)


def plan(targets: Sequence[Target], limits: StreamLimits) -> dict[str, Mode]:
    """key -> mode for the targets (highest priority first, keys unique) under `limits`."""
    shapes = ((limits.full_alone, 0), (0, limits.ltpc_alone), (limits.full_mixed, limits.ltpc_mixed))
    best: tuple[tuple[bool, ...], tuple[int, ...], dict[str, Mode]] | None = None
    for full_cap, ltpc_cap in shapes:
        chosen, service = _assign(targets, full_cap, ltpc_cap)
        candidate = (tuple(level > 0 for level in service), service, chosen)
        if best is None or candidate[:2] > best[:2]:  # a tie keeps the earlier shape (all full first)
            best = candidate
    return best[2] if best else {}


def within_limits(subscribed: Mapping[str, Mode], limits: StreamLimits) -> bool:
    """Whether a connection's subscriptions respect the limits."""
    full = sum(1 for mode in subscribed.values() if mode == "full")
    ltpc = len(subscribed) - full
    if full and ltpc:
        return full <= limits.full_mixed and ltpc <= limits.ltpc_mixed
    return full <= limits.full_alone and ltpc <= limits.ltpc_alone


def changes(current: Mapping[str, Mode], wanted: Mapping[str, Mode]) -> list[tuple[str, Mode | None, list[str]]]:
    """The requests that turn `current` into `wanted` on a live connection: unsubscribe first (freeing room),
    then move full -> ltpc, ltpc -> full, then subscribe new keys. Each item is (method, mode, keys)."""
    gone = [key for key in current if key not in wanted]
    to_ltpc = [k for k, mode in wanted.items() if current.get(k) == "full" and mode == "ltpc"]
    to_full = [k for k, mode in wanted.items() if current.get(k) == "ltpc" and mode == "full"]
    new_ltpc = [k for k, mode in wanted.items() if k not in current and mode == "ltpc"]
    new_full = [k for k, mode in wanted.items() if k not in current and mode == "full"]
    steps: list[tuple[str, Mode | None, list[str]]] = [
        ("unsub", None, gone),
        ("change_mode", "ltpc", to_ltpc),
        ("change_mode", "full", to_full),
        ("sub", "ltpc", new_ltpc),
        ("sub", "full", new_full),
    ]
    return [step for step in steps if step[2]]
