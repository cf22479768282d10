"""Market status: phase (pre_open, open, closed), trading day, next session boundaries, holiday."""

from __future__ import annotations

from flask import Blueprint

from routes.http_cache import QUOTE_MAX_AGE_S, cached_json
from services.market.market_clock import current_status, status_json

bp = Blueprint("market", __name__)


@bp.get("/status")
def market_status():
    """The market phase now, with simulated/forced flags for the dashboard's label."""
    return cached_json(status_json(current_status()), QUOTE_MAX_AGE_S)
