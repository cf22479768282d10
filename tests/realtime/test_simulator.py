"""The simulator: deterministic for a seed, OHLCV invariants, indices from constituents, day resets, calendar."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from services.market_data.simulator import Simulator, _prices
from services.market_data.universe import IndexSnapshot, StockSnapshot, Universe
from tests.conftest import SEED
from tests.realtime.conftest import Clock, reference_universe
from utils.market_hours import MarketCalendar
from utils.timeutil import IST

SYMBOLS = ["RELIANCE", "TCS", "HDFCBANK", "INFY", "SBIN"]


def make_sim(clock, seed=SEED, always_open=False, **kwargs) -> Simulator:
    return Simulator(
        lambda: reference_universe(),
        seed=seed,
        calendar=MarketCalendar(),
        always_open=lambda: always_open,
        clock=clock,
        **kwargs,
    )


def run(sim: Simulator, clock, steps: int, seconds: float = 1.0) -> list[dict]:
    """Advance `steps` times; return every step's quotes by symbol."""
    history = []
    for _ in range(steps):
        clock.tick(seconds)
        history.append({q.symbol: q for q in sim.quotes(sim.symbols)})
    return history


def test_same_seed_and_clock_give_the_same_prices(clock):
    first = run(make_sim(clock), clock, 20)
    other = Clock(clock.now - timedelta(seconds=20))
    second = run(make_sim(other), other, 20)
    assert first == second
    different = Clock(other.now - timedelta(seconds=20))
    third = run(make_sim(different, seed=SEED + 1), different, 20)
    assert third[-1]["RELIANCE"].ltp != first[-1]["RELIANCE"].ltp or third[-1]["TCS"].ltp != first[-1]["TCS"].ltp


def test_prices_move_on_ticks_and_respect_ohlc_and_volume_invariants(clock):
    sim = make_sim(clock)
    history = run(sim, clock, 60)
    moved = sum(history[0][s].ltp != history[-1][s].ltp for s in sim.symbols)
    assert moved > len(sim.symbols) * 0.8
    previous = None
    for step in history:
        for quote in step.values():
            assert quote.day_high >= max(quote.day_open, quote.ltp)
            assert quote.day_low <= min(quote.day_open, quote.ltp)
            assert quote.ltp > 0 and quote.volume >= 0
        if previous:
            for symbol, quote in step.items():
                assert quote.volume >= previous[symbol].volume  # cumulative within the day
                assert quote.day_high >= previous[symbol].day_high
                assert quote.as_of > previous[symbol].as_of
        previous = step
    tick_sizes = {s.symbol: s.tick_size for s in reference_universe().stocks}
    for quote in history[-1].values():
        assert quote.ltp % tick_sizes[quote.symbol] == 0, quote


def test_indices_are_computed_from_their_constituents(clock):
    sim = make_sim(clock)
    run(sim, clock, 30)
    stocks = {q.symbol: q for q in sim.quotes(sim.symbols)}
    universe = reference_universe()
    indices = {q.symbol: q for q in sim.index_quotes([i.name for i in universe.indices])}
    assert len(indices) == 9
    for ref in universe.indices:
        if not ref.members:
            continue
        total = sum(w for _, w in ref.members)
        level = ref.quote.prev_close * sum(w * stocks[s].ltp / stocks[s].prev_close for s, w in ref.members) / total
        assert abs(indices[ref.name].ltp - level) <= Decimal("0.01"), ref.name
        assert indices[ref.name].day_high >= indices[ref.name].ltp >= indices[ref.name].day_low


def test_india_vix_stays_positive_and_reverts_towards_its_mean(clock):
    sim = make_sim(clock, always_open=True)
    run(sim, clock, 300, seconds=30)
    vix = sim.index_quotes(["INDIA VIX"])[0]
    assert Decimal(5) <= vix.ltp <= Decimal(40)


def test_a_new_trading_day_resets_open_high_low_and_volume(clock):
    sim = make_sim(clock)
    run(sim, clock, 100, seconds=60)  # to 12:40 IST: a good part of the day's volume
    last = {q.symbol: q for q in sim.quotes(SYMBOLS)}
    clock.now = datetime(2026, 11, 23, 9, 20, tzinfo=IST).astimezone(UTC)  # Monday, after the open
    fresh = {q.symbol: q for q in sim.quotes(SYMBOLS)}
    for symbol in SYMBOLS:
        assert fresh[symbol].prev_close == last[symbol].ltp
        assert fresh[symbol].volume < last[symbol].volume / 10  # counted from zero again
        assert fresh[symbol].day_high >= fresh[symbol].day_open >= fresh[symbol].day_low
        assert fresh[symbol].as_of == clock.now


def test_the_market_calendar_holds_prices_outside_the_session(clock):
    sim = make_sim(clock)
    clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=IST).astimezone(UTC)  # Saturday
    before = sim.quotes(SYMBOLS)
    clock.tick(60)
    assert sim.quotes(SYMBOLS) == before
    assert sim.market_status().phase == "closed"
    always = make_sim(Clock(clock.now), always_open=True)
    start = always.quotes(SYMBOLS)
    always.clock.tick(5)
    assert always.quotes(SYMBOLS) != start
    assert always.market_status().is_market_open


def test_a_simulated_weekend_session_moves_prices_but_never_becomes_the_previous_close(clock):
    """Friday's last price is the previous close on Saturday, Sunday and Monday: the simulated weekend sessions
    trade (from zero volume each day) but only an exchange trading day's close rolls."""
    sim = make_sim(clock, always_open=True)
    run(sim, clock, 30, seconds=60)
    friday = {q.symbol: q for q in sim.quotes(SYMBOLS)}
    friday_nifty = sim.index_quotes(["NIFTY 50"])[0]
    days = {}
    for name, moment in (
        ("saturday", datetime(2026, 11, 21, 11, 0, tzinfo=IST)),
        ("sunday", datetime(2026, 11, 22, 11, 0, tzinfo=IST)),
        ("monday", datetime(2026, 11, 23, 9, 20, tzinfo=IST)),
    ):
        clock.now = moment.astimezone(UTC)
        run(sim, clock, 20, seconds=30)
        days[name] = {q.symbol: q for q in sim.quotes(SYMBOLS)}
    for symbol in SYMBOLS:
        assert [days[d][symbol].prev_close for d in days] == [friday[symbol].ltp] * 3
        assert days["sunday"][symbol].ltp != days["saturday"][symbol].ltp  # the simulated sessions trade
        assert days["sunday"][symbol].volume < days["saturday"][symbol].volume * 3  # each day from zero
    assert sim.index_quotes(["NIFTY 50"])[0].prev_close == friday_nifty.ltp


def test_max_ticks_freezes_the_market(clock):
    sim = make_sim(clock, max_ticks=3)
    history = run(sim, clock, 6)
    assert history[2] == history[5] and history[1] != history[2]
    assert sim.ticks == 3


def test_each_published_number_is_its_state_rounded_and_unchanged_numbers_keep_their_decimal(clock):
    """Only the numbers that moved are converted again: the others are the previous quote's Decimal objects."""
    sim = make_sim(clock, always_open=True)
    before = run(sim, clock, 1)[0]
    after = run(sim, clock, 1)[0]
    fields = {"ltp": sim._ltp, "prev_close": sim._prev, "day_open": sim._open, "day_high": sim._high}
    fields["day_low"] = sim._low
    for n, symbol in enumerate(sim.symbols):
        quote, earlier = after[symbol], before[symbol]
        for name, values in fields.items():
            assert getattr(quote, name) == Decimal(f"{values[n]:.2f}")
        assert quote.volume == int(sim._volume[n])
        assert quote.prev_close is earlier.prev_close and quote.day_open is earlier.day_open  # same day
    assert sum(after[s].ltp is before[s].ltp for s in sim.symbols) == sum(
        after[s].ltp == before[s].ltp for s in sim.symbols
    )


def test_a_tick_is_published_in_chunks_with_pauses_between(clock, monkeypatch):
    """With no time budget (PAUSE_AFTER_S 0) it pauses at every step; the default pauses only after 10 ms of work."""
    whole = make_sim(Clock(clock.now), always_open=True)
    pauses = []
    chunked = make_sim(Clock(clock.now), always_open=True, pause=lambda: pauses.append(1))
    monkeypatch.setattr("services.market_data.simulator._PUBLISH_CHUNK", 50)
    monkeypatch.setattr("services.platform.green.PAUSE_AFTER_S", 0.0)
    for sim in (whole, chunked):
        sim.clock.tick(1)
        sim.advance()
    assert chunked.quotes(chunked.symbols) == whole.quotes(whole.symbols)
    per_publish = 5 + (len(chunked.symbols) + 49) // 50  # after each of the 5 prices' Decimals, before each chunk
    assert len(pauses) == 2 * per_publish  # loading, then the tick


def test_a_tick_that_holds_the_loop_briefly_does_not_pause(clock):
    """A pause puts the tick behind every ready green thread: a small universe's tick (well under 10 ms) never
    pauses."""
    pauses = []
    sim = make_sim(Clock(clock.now), always_open=True, pause=lambda: pauses.append(1))
    sim.advance()
    pauses.clear()
    for _ in range(3):
        sim.clock.tick(1)
        sim.advance()
    assert pauses == []


def test_the_ticking_state_keeps_nothing_of_the_universe_as_loaded(clock):
    """Once started, the simulator holds arrays, symbols and index names: not the loaded universe (its stocks' first
    quotes, names and instrument keys), which a 10,000-instrument worker paid ~13 MiB for."""
    loaded = []

    def loader():
        universe = reference_universe()
        loaded.append(weakref.ref(universe))
        return universe

    sim = Simulator(loader, seed=SEED, calendar=MarketCalendar(), always_open=lambda: True, clock=clock)
    run(sim, clock, 3)
    gc.collect()
    assert len(loaded) == 1 and loaded[0]() is None
    snapshots = (Universe, StockSnapshot, IndexSnapshot)
    for value in vars(sim).values():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else [value]
        assert not any(isinstance(item, snapshots) for item in items)


def test_instruments_list_the_stored_universe(clock):
    sim = make_sim(clock)
    run(sim, clock, 1)
    universe = reference_universe()
    instruments = {i.symbol: i for i in sim.instruments()}
    assert len(instruments) == len(universe.stocks) + len(universe.indices)
    for stock in universe.stocks:
        found = instruments[stock.symbol]
        assert (found.name, found.segment, found.instrument_key, found.tick_size) == (
            stock.company_name,
            "NSE_EQ",
            stock.instrument_key,
            stock.tick_size,
        )


def test_prices_made_from_whole_paise_equal_the_two_decimal_text_of_the_price():
    prices = np.round(np.random.default_rng(3).uniform(0.05, 50_000, 200_000), 2)
    made = _prices(prices)
    assert [(str(d), d.as_tuple().exponent) for d in made] == [(f"{p:.2f}", -2) for p in prices.tolist()]
