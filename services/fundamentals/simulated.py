"""The `simulator` fundamentals provider: plausible, deterministic figures for the simulated market, offline.

For a seed, a symbol and the price it is given (the snapshot's previous close), the figures are always the same. The
P/E is drawn from the stock's sector's range, so EPS agrees with the price; growth is drawn so that the PEG table
has cheap (PEG < 1), fair (1-2) and expensive (> 2) names, a few shrinking or loss-making ones, and a few too young
for a 3-year figure (their PEG uses the year-on-year growth). The last four quarters' EPS add up to the EPS TTM,
the four before to last year's; net profit is EPS x shares, revenue follows the sector's net margin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from controller.fundamentals.models import QUARTERS_KEPT, CrawlTarget, Fundamentals, Quarter
from services.market_data.history import stable_seed
from utils.timeutil import IST, now_utc

REPORTING_LAG_DAYS = 45  # a quarter's results are out about six weeks after it ends
_QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))
_CENT, _BASIS = Decimal("0.01"), Decimal("0.0001")


@dataclass(frozen=True)
class SectorProfile:
    """Plausible ranges of a sector: P/E, return on equity (%), net margin (%), dividend payout, debt to equity."""

    pe: tuple[float, float]
    roe: tuple[float, float]
    margin: tuple[float, float]
    payout: float
    debt_to_equity: tuple[float, float]


_DEFAULT = SectorProfile((15, 35), (10, 18), (6, 14), 0.35, (0.1, 1.2))
PROFILES = {
    "Financial Services": SectorProfile((10, 28), (10, 18), (15, 30), 0.3, (0.5, 6.0)),
    "Information Technology": SectorProfile((20, 35), (20, 40), (14, 22), 0.7, (0.0, 0.2)),
    "Fast Moving Consumer Goods": SectorProfile((35, 65), (20, 45), (10, 18), 0.7, (0.0, 0.4)),
    "Healthcare": SectorProfile((22, 45), (12, 22), (10, 20), 0.3, (0.0, 0.6)),
    "Automobile and Auto Components": SectorProfile((15, 35), (12, 22), (6, 12), 0.35, (0.1, 1.0)),
    "Capital Goods": SectorProfile((25, 55), (12, 22), (8, 15), 0.3, (0.1, 0.8)),
    "Consumer Services": SectorProfile((40, 90), (5, 15), (3, 10), 0.1, (0.2, 1.5)),
    "Consumer Durables": SectorProfile((40, 75), (14, 25), (6, 12), 0.3, (0.0, 0.5)),
    "Metals & Mining": SectorProfile((6, 16), (8, 20), (5, 12), 0.4, (0.3, 1.5)),
    "Oil Gas & Consumable Fuels": SectorProfile((7, 18), (10, 18), (4, 10), 0.45, (0.3, 1.2)),
    "Power": SectorProfile((12, 28), (10, 16), (10, 20), 0.45, (0.8, 2.5)),
    "Chemicals": SectorProfile((25, 50), (12, 20), (10, 18), 0.25, (0.1, 0.7)),
    "Realty": SectorProfile((20, 50), (8, 15), (15, 30), 0.15, (0.2, 1.2)),
    "Telecommunication": SectorProfile((25, 60), (5, 15), (5, 15), 0.2, (1.0, 3.0)),
    "Construction Materials": SectorProfile((25, 45), (10, 16), (8, 14), 0.25, (0.1, 0.8)),
}
# Shares of the universe by PEG class: cheap, fair, expensive; the rest shrink (negative growth).
_CHEAP, _FAIR, _EXPENSIVE = 0.30, 0.40, 0.22
_PEG_RANGES = ((0.4, 1.0), (1.0, 2.0), (2.0, 4.5))
_LOSS_MAKING = 0.05
_NO_THREE_YEARS = 0.08
_NEGATIVE_BOOK = 0.015


def quarter_ends(as_of: date, count: int = QUARTERS_KEPT) -> list[date]:
    """The last `count` quarter ends whose results are out by `as_of` (REPORTING_LAG_DAYS after the quarter), oldest
    first."""
    cutoff = as_of - timedelta(days=REPORTING_LAG_DAYS)
    ends, year = [], cutoff.year
    while len(ends) < count:
        for month, day in reversed(_QUARTER_ENDS):
            end = date(year, month, day)
            if end <= cutoff and len(ends) < count:
                ends.append(end)
        year -= 1
    return ends[::-1]


def _split(total: Decimal, weights: np.ndarray, step: Decimal) -> list[Decimal]:
    """`total` split by `weights` into parts rounded to `step` that add up to `total` exactly."""
    parts = [(total * Decimal(repr(float(w)))).quantize(step) for w in weights[:-1]]
    return [*parts, total - sum(parts, Decimal(0))]


def _growth_pct(now: float, before: float) -> float | None:
    return None if before <= 0 else (now / before - 1) * 100


class SimulatedFundamentals:
    """Deterministic fundamentals for the seed (thread-safe: nothing is shared between calls)."""

    name = "simulator"
    simulated = True

    def __init__(self, seed: int = 42, clock: Callable[[], datetime] = now_utc) -> None:
        self.seed = seed
        self._now = clock

    def fetch(self, target: CrawlTarget) -> Fundamentals:
        """The figures of one instrument at its given price."""
        return self.generate(target, self._now())

    def generate(self, target: CrawlTarget, as_of: datetime) -> Fundamentals:
        """The figures of `target`, as published by `as_of` (its quarters end REPORTING_LAG_DAYS before)."""
        rng = np.random.default_rng(stable_seed(self.seed, "fundamentals:" + target.symbol))
        profile = PROFILES.get(target.sector, _DEFAULT)
        price = float(target.price)
        pe = rng.uniform(*profile.pe)
        loss_making = rng.random() < _LOSS_MAKING
        peg_class, peg_draw = rng.random(), rng.random()
        cagr_missing = rng.random() < _NO_THREE_YEARS
        if loss_making:
            eps = -price / rng.uniform(20, 80)
            eps_last_year = abs(eps) * rng.uniform(0.5, 1.5)
            cagr = None
        else:
            eps = price / pe
            if peg_class < _CHEAP + _FAIR + _EXPENSIVE:
                low, high = _PEG_RANGES[int(peg_class >= _CHEAP) + int(peg_class >= _CHEAP + _FAIR)]
                # a soft ceiling: high-P/E names grow fast, but not at a PEG-matching 100 % a year
                cagr = max(1.0, 55.0 * float(np.tanh(pe / (low + (high - low) * peg_draw) / 55.0)))
            else:
                cagr = -1.0 - 14.0 * peg_draw
            yoy = max(cagr + rng.normal(0, max(3.0, 0.3 * abs(cagr))), -90.0)
            eps_last_year = eps / (1 + yoy / 100)
            cagr = None if cagr_missing else cagr

        shares = int(max(round(float(np.clip(rng.lognormal(np.log(4e11), 1.1), 2e9, 2e13)) / price), 100_000))
        ends = quarter_ends(as_of.astimezone(IST).date())
        eps_now = _split(Decimal(repr(eps)).quantize(_BASIS), rng.dirichlet([20.0] * 4), _BASIS)
        eps_before = _split(Decimal(repr(eps_last_year)).quantize(_BASIS), rng.dirichlet([20.0] * 4), _BASIS)
        quarter_eps = eps_before + eps_now
        eps_ttm = sum(eps_now, Decimal(0))
        margin = rng.uniform(*profile.margin) / 100
        revenue_ttm = abs(float(eps_ttm)) * shares / margin
        revenue_growth = rng.uniform(0.0, 0.25)
        revenues = _split(Decimal(repr(revenue_ttm)).quantize(_CENT), rng.dirichlet([30.0] * 4), _CENT)
        revenues = [(r / Decimal(repr(1 + revenue_growth))).quantize(_CENT) for r in revenues] + revenues
        quarters = tuple(
            Quarter(end, revenue, (q_eps * shares).quantize(_CENT), q_eps)
            for end, revenue, q_eps in zip(ends, revenues, quarter_eps, strict=True)
        )

        if rng.random() < _NEGATIVE_BOOK:
            book_value = -rng.uniform(5, 50)
        elif loss_making:
            book_value = price / rng.uniform(0.8, 3.0)
        else:
            book_value = eps / (rng.uniform(*profile.roe) / 100)
        pays = not loss_making and rng.random() > 0.2
        dividend = float(eps_ttm) * rng.uniform(0.05, profile.payout) if pays else 0.0
        return Fundamentals(
            symbol=target.symbol,
            source=self.name,
            as_of=as_of,
            period_end=ends[-1],
            shares_outstanding=shares,
            eps_ttm=eps_ttm,
            eps_growth_yoy_pct=_rounded(_growth_pct(float(eps_ttm), float(sum(eps_before, Decimal(0))))),
            eps_cagr_3y_pct=_rounded(cagr),
            book_value_per_share=Decimal(repr(book_value)).quantize(_CENT),
            dividend_per_share=Decimal(repr(dividend)).quantize(_CENT),
            roe_pct=_rounded(float(eps_ttm) / book_value * 100) if book_value > 0 else None,
            debt_to_equity=_rounded(rng.uniform(*profile.debt_to_equity)),
            quarters=quarters,
        )

    def close(self) -> None:
        """Nothing to release."""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
