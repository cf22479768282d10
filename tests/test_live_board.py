"""The live board: movers and sector performance kept per tick give exactly what ranking the whole exchange gives
(`rank_movers` and `sector_performance` over the snapshot with fresh live quotes laid over), as quotes arrive, go
stale and come back; and a recompute looks at a few buckets, not at every stock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from controller.market.stocks import StockQuote, rank_movers, sector_performance
from services.market.live_board import LiveBoard, one_catch_up
from services.market.live_overlay import WEBSOCKET_CACHE, with_stock_quote
from services.market.live_price_cache import LivePriceCache, Quote
from utils.bucket_rank import BucketRank, magnitude_bucket, percent_bucket

START = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
MAX_AGE = 10.0
KINDS = [("gainers", False), ("gainers", True), ("losers", False), ("losers", True), ("active", False)]
KINDS += [("active_value", False)]


def _price(rng: random.Random) -> Decimal:
    return Decimal(rng.choice([100, 250, 999, 1500])) + Decimal(rng.randrange(0, 400)) / 20


def _rows(rng: random.Random, n: int) -> list[StockQuote]:
    rows = []
    for i in range(n):
        prev = _price(rng)
        rows.append(
            StockQuote(
                i + 1, f"S{i:04d}", f"Stock {i}", "NSE", f"Sector {i % 7}", Decimal("0.05"),
                rng.choice([prev, prev + 1, prev - 1, _price(rng)]), prev, rng.choice([prev, _price(rng)]),
                prev + 50, prev - 50, rng.choice([0, 100, 100, rng.randrange(1, 10**7)]), None, None,
                START - timedelta(hours=20), "database",
            )
        )  # fmt: skip
    return rows


def _tick(rng: random.Random, row: StockQuote, at: datetime) -> Quote:
    ltp = rng.choice([row.prev_close, row.prev_close + 2, _price(rng)])
    return Quote(row.symbol, ltp, row.prev_close, row.day_open, ltp + 1, ltp - 1, rng.randrange(0, 10**7), at)


def _listening_board(rows: list[StockQuote], cache: LivePriceCache) -> LiveBoard:
    board = LiveBoard.build(rows, cache)
    cache.listen(board.on_quotes)
    board.on_quotes(list(cache.snapshot().values()))
    return board


def _ticked_board(seed: int, n: int) -> tuple[random.Random, list[StockQuote], LivePriceCache, LiveBoard]:
    """A board over `n` stocks, listening to a cache that holds a tick of every one of them at START."""
    rng = random.Random(seed)
    rows = _rows(rng, n)
    cache = LivePriceCache("stocks")
    board = _listening_board(rows, cache)
    cache.update([_tick(rng, row, START) for row in rows])
    return rng, rows, cache, board


def _expected(rows: list[StockQuote], cache: LivePriceCache, now: datetime) -> list[StockQuote]:
    result = []
    for row in rows:
        quote = cache.fresh_since(now - timedelta(seconds=MAX_AGE))(row.symbol)
        result.append(row if quote is None else with_stock_quote(row, quote, WEBSOCKET_CACHE))
    return result


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_board_ranks_and_sums_as_the_whole_exchange_would(seed):
    rng = random.Random(seed)
    rows = _rows(rng, 400)
    cache = LivePriceCache("stocks")
    cache.update([_tick(rng, row, START) for row in rows[:50]])  # quotes before the board existed
    board = _listening_board(rows, cache)
    now = START
    for step in range(25):
        now += timedelta(seconds=rng.choice([0.5, 1, 3, 12]))  # sometimes long enough for quotes to go stale
        ticking = rng.sample(rows, rng.choice([0, 5, 80, 400]))
        cache.update([_tick(rng, row, now - timedelta(seconds=rng.choice([0, 0, 1, 30]))) for row in ticking])
        effective = _expected(rows, cache, now)
        for kind, intraday in KINDS:
            for limit in (1, 10, 50):
                found = board.movers(kind, intraday, limit, now, MAX_AGE)
                assert found == rank_movers(effective, kind, intraday, limit), (step, kind, intraday, limit)
        performance, live = board.sectors(now, MAX_AGE)
        assert performance == sector_performance(effective)
        assert live == any(row.source == WEBSOCKET_CACHE for row in effective)


def test_a_recompute_looks_at_a_few_buckets_not_the_universe():
    _, _, _, board = _ticked_board(9, 5000)
    ranks = board._ranks  # the buckets the movers are read from
    assert len(ranks["change"].candidates(10, True, 1, None)) < 100
    assert len(ranks["volume"].candidates(10, True)) < 100  # volumes spread evenly: the worst case for the buckets


def test_bucket_functions_keep_the_order_of_their_keys():
    values = sorted({Decimal(v) / 10**4 for v in range(-30000, 30000, 7)} | {Decimal(0), Decimal("0.0001")})
    buckets = [percent_bucket(v) for v in values]
    assert buckets == sorted(buckets) and percent_bucket(Decimal(0)) == 0
    assert percent_bucket(Decimal("0.0001")) == 1 and percent_bucket(Decimal("-0.0001")) == -1
    numbers = sorted(
        {0, 1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 127, 128, 129}
        | {random.Random(4).randrange(10**12) for _ in range(2000)}
    )
    sizes = [magnitude_bucket(n) for n in numbers]
    assert sizes == sorted(sizes)


def test_an_emptied_bucket_leaves_the_walk():
    rank = BucketRank()
    rank.place("a", 5)
    rank.place("b", 7)
    rank.place("a", 7)
    rank.place("b", None)
    assert rank.candidates(5, True) == ["a"] and len(rank) == 1


def test_ticks_are_only_noted_and_a_recompute_files_them_once_each_in_chunks():
    rng = random.Random(5)
    rows = _rows(rng, 1000)
    cache = LivePriceCache("stocks")
    pauses = []
    board = _listening_board(rows, cache)
    board.movers("active", False, 5, START, MAX_AGE)  # files what the board noted when it was built
    filed = {}
    board.pause = lambda: pauses.append(len(filed))
    apply = board._apply
    board._apply = lambda symbol, numbers: (filed.__setitem__(symbol, numbers), apply(symbol, numbers))
    for second in range(8):  # 8,000 ticks: noted, not filed
        cache.update([_tick(rng, row, START + timedelta(seconds=second)) for row in rows])
        assert len(board._pending) == len(rows) and not filed
    now = START + timedelta(seconds=7)
    expected = rank_movers(_expected(rows, cache, now), "active", False, 5)
    assert board.movers("active", False, 5, now, MAX_AGE) == expected
    assert filed == {row.symbol: cache.get(row.symbol) for row in rows}  # the latest quote of each stock, once
    assert pauses == [256, 512, 768]  # 256 quotes between pauses
    for second in range(8, 24):
        cache.update([_tick(rng, row, START + timedelta(seconds=second)) for row in rows])
        board.movers("gainers", False, 5, START + timedelta(seconds=second), MAX_AGE)
    # what a recompute keeps to expire live quotes: one heap entry per quote time, and only the recent ones
    assert sorted(board._times) == sorted(board._expiring)
    assert min(board._times) >= START + timedelta(seconds=23 - MAX_AGE)


def test_quotes_noted_while_a_recompute_files_wait_for_the_next_one():
    rng = random.Random(6)
    rows = _rows(rng, 600)
    cache = LivePriceCache("stocks")
    board = _listening_board(rows, cache)
    board.movers("active", False, 5, START, MAX_AGE)
    cache.update([_tick(rng, row, START) for row in rows])
    before = _expected(rows, cache, START)
    later = START + timedelta(seconds=1)
    arriving = [_tick(rng, row, later) for row in rows[:100]]
    board.pause = lambda: cache.update(arriving)  # the tick path runs while the recompute pauses between chunks
    assert board.movers("active", False, 50, START, MAX_AGE) == rank_movers(before, "active", False, 50)
    assert set(board._pending) == {row.symbol for row in rows[:100]}  # noted, for the next recompute
    after = _expected(rows, cache, later)
    assert after != before
    assert board.movers("active", False, 50, later, MAX_AGE) == rank_movers(after, "active", False, 50)


def test_in_one_pass_a_board_files_at_its_first_read_only():
    rng, rows, cache, board = _ticked_board(8, 300)
    first = _expected(rows, cache, START)
    with one_catch_up():
        assert board.movers("gainers", False, 20, START, MAX_AGE) == rank_movers(first, "gainers", False, 20)
        later = START + timedelta(seconds=1)
        cache.update([_tick(rng, row, later) for row in rows])  # a tick lands between two reads of the pass
        assert board.sectors(later, MAX_AGE)[0] == sector_performance(first)
        assert len(board._pending) == len(rows)
    assert (
        board.sectors(later, MAX_AGE)[0]
        == sector_performance(_expected(rows, cache, later))
        != sector_performance(first)
    )


def test_the_rankings_by_change_from_the_open_and_by_traded_value_are_kept_once_asked_for():
    rng, rows, cache, board = _ticked_board(10, 400)
    now = START
    for second in range(1, 4):  # ticks filed while only the default rankings are kept
        now = START + timedelta(seconds=second)
        cache.update([_tick(rng, row, now) for row in rng.sample(rows, 150)])
        board.movers("gainers", False, 10, now, MAX_AGE)
    assert set(board._ranks) == {"change", "volume"}
    for second in range(4, 8):  # asked for: filed from the numbers already filed, then kept at each filing
        for kind, intraday in (("gainers", True), ("losers", True), ("active_value", False)):
            expected = rank_movers(_expected(rows, cache, now), kind, intraday, 20)
            assert board.movers(kind, intraday, 20, now, MAX_AGE) == expected, (second, kind)
        now = START + timedelta(seconds=second)
        cache.update([_tick(rng, row, now) for row in rng.sample(rows, 150)])
    assert set(board._ranks) == {"change", "volume", "intraday", "value"}


def test_the_cache_knows_its_newest_quote_without_a_scan():
    cache = LivePriceCache("stocks")
    assert cache.newest_as_of() is None
    rows = _rows(random.Random(2), 3)
    first = [_tick(random.Random(n), row, START + timedelta(seconds=n)) for n, row in enumerate(rows)]
    cache.update(first)
    assert cache.newest_as_of() == START + timedelta(seconds=2)
    cache.update([_tick(random.Random(9), rows[2], START)])  # older than the one cached: not stored
    assert cache.newest_as_of() == START + timedelta(seconds=2) and cache.get(rows[2].symbol) == first[2]
    cache.clear()
    assert cache.newest_as_of() is None
