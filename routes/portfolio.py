"""The signed-in user's holdings (live prices), equity curve and holdings export."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from flask_jwt_extended import jwt_required
from pydantic import BaseModel, ConfigDict, Field, model_validator

from routes._params import csv_response, success
from routes.validation import query_params
from services.accounts.auth import current_user_id
from services.trading import desk, equity_curve

bp = Blueprint("portfolio", __name__)
_CSV_HEADER = [
    "symbol",
    "company_name",
    "quantity",
    "reserved_quantity",
    "avg_buy_price",
    "current_price",
    "invested",
    "current_value",
    "profit_loss",
    "profit_loss_percent",
    "day_change",
    "day_change_percentage",
    "price_source",
    "as_of",
]


class EquityHistoryQuery(BaseModel):
    """GET /portfolio/history?range=1d|1w|1m|all (or ?days=N, as before)."""

    model_config = ConfigDict(extra="forbid")

    range: Literal["1d", "1w", "1m", "all"] | None = Field(
        None,
        description="1d, 1w: intraday points (every 5 minutes while the market is open, and at each fill); "
        "1m, all: daily closes, then the intraday points since the last close (default: all)",
    )
    days: int | None = Field(None, ge=1, le=3650, description="Alias: the last N days, as `1m` does 30")

    @model_validator(mode="after")
    def _one(self) -> EquityHistoryQuery:
        if self.range is not None and self.days is not None:
            raise ValueError("give `range` or `days`, not both")
        return self


@bp.get("/holdings")
@jwt_required()
def holdings():
    """Holdings with live prices and day change, totals and whether the market is open."""
    found, view = desk.portfolio_for(current_user_id())
    return success(
        {"holdings": [h.to_json() for h in found.holdings], "totals": found.totals_json(), "market_open": view.is_open}
    )


@bp.get("/history")
@jwt_required()
@query_params(EquityHistoryQuery)
def history(query: EquityHistoryQuery):
    """The equity curve, oldest first: [{time, equity, cash, holdings_value}] with ISO 8601 times."""
    points = equity_curve.curve(current_user_id(), query.range, query.days)
    return success(points, count=len(points))


@bp.get("/export.csv")
@jwt_required()
def export_holdings():
    """The holdings as CSV."""
    found, _ = desk.portfolio_for(current_user_id())
    rows = [[h[name] for name in _CSV_HEADER] for h in (item.to_json() for item in found.holdings)]
    return csv_response("holdings.csv", _CSV_HEADER, rows)
