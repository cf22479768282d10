"""The simulated fundamentals provider: deterministic for the seed, consistent with price and sector, quarters that
add up to the TTM figures, and a PEG spread with cheap, fair and expensive names."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np

from controller.fundamentals.models import CrawlTarget
from services.fundamentals.simulated import PROFILES, SimulatedFundamentals, quarter_ends
from utils import ratios
from utils.reference_data import load_stocks
from utils.timeutil import IST

AS_OF = datetime(2026, 11, 20, 11, 0, tzinfo=IST)
UNIVERSE = [CrawlTarget(i, s.symbol, s.company_name, s.sector, s.ref_price) for i, s in enumerate(load_stocks())]


def generate(seed: int = 42, targets=UNIVERSE):
    provider = SimulatedFundamentals(seed)
    return [provider.generate(target, AS_OF) for target in targets]


def test_the_same_seed_gives_the_same_figures_and_another_seed_other_ones():
    first, again, other = generate(42), generate(42), generate(7)
    assert first == again
    assert sum(a.eps_ttm != b.eps_ttm for a, b in zip(first, other, strict=True)) > len(first) * 0.9


def test_fetch_uses_the_clock_and_labels_the_figures_simulated():
    provider = SimulatedFundamentals(42, clock=lambda: AS_OF)
    figures = provider.fetch(UNIVERSE[0])
    assert figures == provider.generate(UNIVERSE[0], AS_OF)
    assert figures.source == "simulator" and provider.simulated and figures.as_of == AS_OF


def test_the_last_four_quarters_add_up_to_the_ttm_and_the_four_before_to_last_year():
    for figures in generate():
        assert len(figures.quarters) == 8
        assert [q.period_end for q in figures.quarters] == quarter_ends(AS_OF.date())
        assert sum((q.eps for q in figures.quarters[-4:]), Decimal(0)) == figures.eps_ttm
        last_year = float(sum((q.eps for q in figures.quarters[:4]), Decimal(0)))
        if last_year > 0 and figures.eps_growth_yoy_pct is not None:
            assert abs((float(figures.eps_ttm) / last_year - 1) * 100 - figures.eps_growth_yoy_pct) < 0.01
        for quarter in figures.quarters:  # net profit is EPS × shares
            assert abs(quarter.net_profit - quarter.eps * figures.shares_outstanding) < 1
            assert quarter.revenue > 0


def test_quarters_are_those_published_by_the_as_of_date():
    assert quarter_ends(date(2026, 11, 20))[-1] == date(2026, 9, 30)  # Sep results are out by mid-November
    assert quarter_ends(date(2026, 11, 10))[-1] == date(2026, 6, 30)  # not yet: 45 days after the quarter
    assert quarter_ends(date(2026, 1, 5)) == sorted(quarter_ends(date(2026, 1, 5)))


def test_pe_at_the_given_price_is_within_the_sectors_range():
    for target, figures in zip(UNIVERSE, generate(), strict=True):
        if figures.eps_ttm > 0 and target.sector in PROFILES:
            low, high = PROFILES[target.sector].pe
            pe = float(target.price) / float(figures.eps_ttm)
            assert low - 0.01 <= pe <= high + 0.01, target.symbol


def test_the_peg_table_has_cheap_fair_expensive_and_undefined_names():
    figures = generate()
    columns = [
        np.array([np.nan if v is None else float(v) for v in values])
        for values in zip(
            *(
                (t.price, f.shares_outstanding, f.eps_ttm, f.eps_cagr_3y_pct, f.eps_growth_yoy_pct)
                for t, f in zip(UNIVERSE, figures, strict=True)
            ),
            strict=True,
        )
    ]
    peg = ratios.compute(*columns, np.full(len(figures), 100.0), np.zeros(len(figures))).values["peg"]
    shares = {"cheap": np.mean(peg < 1), "fair": np.mean((peg >= 1) & (peg <= 2)), "expensive": np.mean(peg > 2)}
    assert all(share > 0.12 for share in shares.values()), shares
    assert 0.03 < np.mean(np.isnan(peg)) < 0.35  # loss-making and shrinking names
    assert any(f.eps_cagr_3y_pct is None and f.eps_growth_yoy_pct is not None for f in figures)  # the YoY fallback
    assert any(f.eps_ttm < 0 for f in figures) and any(f.book_value_per_share < 0 for f in generate(3))
