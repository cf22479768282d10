"""The scan universe as clients and request checks see it: instruments, sectors, the stored date range (cached)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.scans import panel as panel_sql
from controller.scans import universe as universe_sql
from services.platform.cache_service import named_cache
from services.scans.fields import FIELDS, OPERATORS
from services.scans.presets import PRESETS


@dataclass(frozen=True)
class Universe:
    """Active symbols and sectors, and the first and last daily candle date (None without candles)."""

    symbols: frozenset[str]
    sectors: tuple[str, ...]
    instruments_with_candles: int
    first_date: date | None
    last_date: date | None


def _load() -> Universe:
    with db.connection() as conn:
        rows = universe_sql.symbols_and_sectors(conn)
        stats = panel_sql.fingerprint(conn)
    first, last = stats.get("first_ts"), stats.get("last_ts")
    return Universe(
        frozenset(r["symbol"] for r in rows),
        tuple(sorted({r["sector"] for r in rows})),
        int(stats.get("instruments") or 0),
        first.date() if first else None,
        last.date() if last else None,
    )


def current() -> Universe:
    """The universe, cached for CACHE_TTL_UNIVERSE_S."""
    ttl = app_extensions()["settings"].cache_ttl_universe_s
    return named_cache("scan_universe", ttl, maxsize=1).get_or_load("universe", _load)


def describe(universe: Universe) -> dict[str, Any]:
    """GET /scans/universe: what a client needs to build a scan form."""
    settings = app_extensions()["settings"]
    return {
        "instrument_count": len(universe.symbols),
        "instruments_with_candles": universe.instruments_with_candles,
        "first_date": universe.first_date.isoformat() if universe.first_date else None,
        "last_date": universe.last_date.isoformat() if universe.last_date else None,
        "sectors": list(universe.sectors),
        "fields": [{"name": f.name, "description": f.description, "decimals": f.decimals} for f in FIELDS],
        "operators": [{"op": op, "meaning": meaning} for op, meaning in OPERATORS.items()],
        "presets": [
            {
                "name": p.name,
                "description": p.description,
                "params": p.params,
                "rules": p.rules(),
                "default_filters": p.filters,
            }
            for p in PRESETS.values()
        ],
        "limits": {
            "max_range_days": settings.scan_max_range_days,
            "max_conditions": settings.scan_max_conditions,
            "max_results": settings.scan_max_results,
            "max_active_per_user": settings.scan_max_active_per_user,
            "timeout_s": settings.scan_timeout_s,
        },
    }
