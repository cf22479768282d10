"""Indices (public, cached): all of them grouped by exchange tag, or one by name."""

from __future__ import annotations

from flask import Blueprint

from routes.http_cache import QUOTE_MAX_AGE_S, cached_json
from routes.market import market_status
from services.market import index_views

bp = Blueprint("indices", __name__)


@bp.get("/all")
def all_indices():
    """Every index, grouped by tag, live while the market is open: the tag map is the top-level `data`, with
    `source`, `market_status` and `totalIndices` beside it (the shape existing dashboard clients read)."""
    found = index_views.indices_all()
    return cached_json(
        found["data"],
        QUOTE_MAX_AGE_S,
        source=found["source"],
        market_status=found["market_status"],
        totalIndices=found["totalIndices"],
    )


@bp.get("/market-status")
def market_status_alias():
    """Alias of /market/status."""
    return market_status()


@bp.get("/<name>")
def one_index(name: str):
    """One index by name (case-insensitive; `_` or `-` may stand for spaces)."""
    return cached_json(index_views.index_detail(name), QUOTE_MAX_AGE_S)
