"""The hot-cache refresher: recompute what every dashboard asks for before anyone asks.

`refresh_hot_caches()` is a plain job function (run it inside an app context); the scheduler loop
that calls it every few seconds belongs to the realtime services.
"""

from __future__ import annotations

import time

from services.market import index_views, stock_views


def refresh_hot_caches() -> dict:
    """Recompute the default movers, the indices and the sector performance; report what was warmed."""
    started = time.perf_counter()
    warmed = {
        "movers": stock_views.refresh_default_movers(),
        "indices": index_views.refresh_indices(),
        "sectors": stock_views.refresh_sectors(),
    }
    return {**warmed, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
