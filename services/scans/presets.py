"""Named scans: each preset is a set of conditions over the scan fields, with its thresholds as named parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from services.scans.engine import Condition
from services.scans.fields import LcParams

Params = dict[str, float]


@dataclass(frozen=True)
class Preset:
    """A named scan: description, default thresholds, the conditions they make, default universe filters."""

    name: str
    description: str
    params: Params
    build: Callable[[Params], tuple[Condition, ...]]
    filters: dict[str, float] = field(default_factory=dict)

    def conditions(self, params: Params) -> tuple[Condition, ...]:
        """The conditions for these thresholds (defaults for any not given)."""
        return self.build({**self.params, **params})

    def rules(self) -> list[dict[str, Any]]:
        """The default conditions as the API shows them."""
        return [
            {"field": c.field, "op": c.op, **({"ref": c.ref} if c.ref else {"value": c.value})}
            for c in self.conditions({})
        ]


_LC_DEFAULTS = {f.name: f.default for f in fields(LcParams)}

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "lc_frontside_d2_extended",
            "Frontside (ema9 > ema20 > ema50) day 2 after a ≥ 2 % up day, gapping up to a new high and extended "
            "above the 9-EMA by ATR multiples, closing in the upper half of its range",
            _LC_DEFAULTS,
            lambda p: (Condition("lc_frontside_d2_extended", "=", 1.0),),
            {"min_volume": 100_000, "min_dollar_volume": 100_000_000},
        ),
        Preset(
            "gap_up_volume",
            "Gap up of at least 2 % on at least twice the 20-day average volume",
            {"min_gap_pct": 2.0, "min_rel_volume": 2.0},
            lambda p: (
                Condition("gap_pct", ">=", p["min_gap_pct"]),
                Condition("rel_volume", ">=", p["min_rel_volume"]),
            ),
        ),
        Preset(
            "breakout_52w",
            "Close above the previous 52-week high on at least 1.5× the average volume",
            {"min_rel_volume": 1.5},
            lambda p: (
                Condition("close", ">", ref="prev_high_52w"),
                Condition("rel_volume", ">=", p["min_rel_volume"]),
            ),
        ),
        Preset(
            "oversold_rsi",
            "RSI(14) at most 30 while the close is above the 200-day EMA",
            {"max_rsi": 30.0},
            lambda p: (Condition("rsi14", "<=", p["max_rsi"]), Condition("close", ">", ref="ema200")),
        ),
    )
}


def lc_params(preset: str | None, params: Params) -> LcParams:
    """The LC flag's thresholds: the LC preset's parameters when it is the scan's preset, else the defaults."""
    if preset != "lc_frontside_d2_extended":
        return LcParams()
    return LcParams(**{**_LC_DEFAULTS, **params})
