"""The hot-cache refresher: recompute what every dashboard asks for before anyone asks.

`refresh_hot_caches()` is a plain job function (run it inside an app context); the scheduler loop
that calls it every few seconds belongs to the realtime services.

While the market is open every run recomputes (ticks change the numbers all the time). While it is closed a run
renews only what has expired: nothing but the jobs' writes changes the snapshots then, and the caches' TTLs bound
how long those take to show. Recomputing the sectors every run re-read the universe's snapshot every
CACHE_TTL_QUOTES_S, ~0.3 s of CPU at 10,000 instruments (docs/BENCHMARKS.md, movers and sectors).
"""

from __future__ import annotations

import time

from services.market import index_views, stock_views
from services.market.market_clock import market_open_now


def refresh_hot_caches() -> dict:
    """Recompute the default movers, the indices and the sector performance (while the market is closed: those past
    their TTL); report what was warmed."""
    started = time.perf_counter()
    expired_only = not market_open_now()
    warmed = {
        "movers": stock_views.refresh_default_movers(expired_only),
        "indices": index_views.refresh_indices(expired_only),
        "sectors": stock_views.refresh_sectors(expired_only),
    }
    return {**warmed, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
