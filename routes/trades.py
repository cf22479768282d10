"""Fills of the signed-in user: the list and its CSV export."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint
from flask_jwt_extended import jwt_required

from backend import db
from backend.extensions import app_extensions
from controller.trading import order_queries
from routes._params import PageParams, csv_response, page, success
from routes.validation import query_params
from services.accounts.auth import current_user_id

bp = Blueprint("trades", __name__)
_CSV_HEADER = ["trade_id", "order_id", "symbol", "side", "quantity", "price", "value", "executed_at"]


@bp.get("")
@jwt_required()
@query_params(PageParams)
def list_trades(query: PageParams):
    """The user's fills, newest first, filtered by symbol and time, paginated by cursor."""
    query = query.page_query()
    with db.connection() as conn:
        found = order_queries.list_trades(conn, current_user_id(), query)
    items, cursor = page(found, query.limit, lambda t: t.trade_id)
    return success([t.to_json() for t in items], count=len(items), next_cursor=cursor)


@bp.get("/export.csv")
@jwt_required()
@query_params(PageParams)
def export_trades(query: PageParams):
    """The user's fills (same filters as the list, up to EXPORT_MAX_ROWS) as CSV."""
    query = replace(query.page_query(), limit=app_extensions()["settings"].export_max_rows)
    with db.connection() as conn:
        found = order_queries.list_trades(conn, current_user_id(), query)
    return csv_response("trades.csv", _CSV_HEADER, [[t.to_json()[name] for name in _CSV_HEADER] for t in found])
