"""The signed-in user's holdings (live prices), equity curve and holdings export."""

from __future__ import annotations

from flask import Blueprint
from flask_jwt_extended import jwt_required
from pydantic import BaseModel, ConfigDict, Field

from backend import db
from controller.trading import portfolio
from routes._params import csv_response, success
from routes.validation import query_params
from services.accounts.auth import current_user_id
from services.trading import desk

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
    """GET /portfolio/history?days=N."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(365, ge=1, le=3650, description="How many days back")


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
    """The daily equity curve (one snapshot per trading day, oldest first)."""
    with db.connection() as conn:
        curve = portfolio.equity_history(conn, current_user_id(), query.days)
    return success(curve, count=len(curve))


@bp.get("/export.csv")
@jwt_required()
def export_holdings():
    """The holdings as CSV."""
    found, _ = desk.portfolio_for(current_user_id())
    rows = [[h[name] for name in _CSV_HEADER] for h in (item.to_json() for item in found.holdings)]
    return csv_response("holdings.csv", _CSV_HEADER, rows)
