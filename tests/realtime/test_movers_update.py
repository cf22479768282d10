"""`movers_update` is read from the live board: with every stock quoted live it ranks what the old whole-cache scan
ranked (top 10 by change vs the previous close, most active by volume) in the same row shape; and it lays fresh
live quotes over the snapshot like GET /movers, so a stale quote gives way to the stored row."""

from __future__ import annotations

import heapq
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.market.live_price_cache import Quote
from services.market.market_clock import set_clock
from services.market.stock_views import movers as rest_movers
from services.market.universe_snapshot import exchange_snapshot
from services.realtime import payloads
from services.realtime.tick_bus import TickBatch
from utils.timeutil import iso_ist

AT = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def app(make_rt_app):
    application = make_rt_app(force_market_open=True)
    set_clock(application, lambda: AT + timedelta(seconds=1))
    return application


def _old_movers(quotes: list[Quote], names: dict[str, str], limit: int = 10) -> dict[str, list[dict]]:
    """What `movers_update` sent before the board: a heap scan of the live cache's quotes."""
    quotes = [q for q in quotes if q.symbol in names and q.prev_close]
    gainers = heapq.nlargest(limit, (q for q in quotes if q.ltp > q.prev_close), key=lambda q: q.change_pct)
    losers = heapq.nsmallest(limit, (q for q in quotes if q.ltp < q.prev_close), key=lambda q: q.change_pct)
    active = heapq.nlargest(limit, quotes, key=lambda q: q.volume)

    def row(quote: Quote) -> dict:
        pct = float(quote.change_pct)
        return {
            "name": names[quote.symbol],
            "symbol": quote.symbol,
            "price": f"{quote.ltp:,.2f}",
            "change": f"{pct:+.2f}%",
            "priceNum": float(quote.ltp),
            "changePercentNum": round(pct, 2),
            "changeValueNum": round(float(quote.change_value), 2),
            "volume": quote.volume,
            "asOf": iso_ist(quote.as_of),
        }

    found = {"gainers": gainers, "losers": losers, "mostActive": active}
    return {key: [row(q) for q in quotes] for key, quotes in found.items()}


def test_movers_update_from_the_board_matches_the_whole_cache_scan(app):
    rng = random.Random(3)
    with app.app_context():
        rows = exchange_snapshot("NSE")
        names = {row.symbol: row.company_name for row in rows}
        assert set(payloads.directory().stock_ids) == set(names)  # the universe is NSE's: both rank the same stocks
        steps = rng.sample([n for n in range(-400, 401) if n], len(rows))  # distinct non-zero changes
        volumes = rng.sample(range(1, 10**7), len(rows))
        quotes = [
            Quote(row.symbol, Decimal(100) + Decimal(step) / 20, Decimal(100), Decimal(100), Decimal(121),
                  Decimal(79), volume, AT)
            for row, step, volume in zip(rows, steps, volumes, strict=True)
        ]  # fmt: skip
        app.extensions["tick_bus"].publish(TickBatch("stocks", tuple(quotes)))
        found = payloads.movers()
        assert found == _old_movers(quotes, names)
        assert [r["symbol"] for r in found["gainers"]] == [r["symbol"] for r in rest_movers("gainers")["rows"]]


def test_movers_update_lays_only_fresh_quotes_over_the_snapshot(app):
    with app.app_context():
        rows = exchange_snapshot("NSE")
        best = max(rows, key=lambda row: row.change_pct)
        other = next(row for row in rows if row.symbol != best.symbol)
        quote = Quote(other.symbol, best.ltp * 3, Decimal(1), Decimal(1), best.ltp * 3, Decimal(1), 10**12, AT)
        app.extensions["tick_bus"].publish(TickBatch("stocks", (quote,)))
        fresh = payloads.movers()
        assert fresh["gainers"][0]["symbol"] == other.symbol and fresh["mostActive"][0]["symbol"] == other.symbol
        set_clock(app, lambda: AT + timedelta(minutes=5))  # older than LIVE_CACHE_MAX_AGE_S: the stored row again
        stale = payloads.movers()
        assert stale["gainers"][0]["symbol"] == best.symbol and stale["mostActive"][0]["symbol"] != other.symbol
