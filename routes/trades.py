"""Fills of the signed-in user."""

from __future__ import annotations

from flask import Blueprint
from flask_jwt_extended import jwt_required

from backend import db
from controller.trading import order_queries
from routes._params import PageParams, page, success
from routes.validation import query_params
from services.accounts.auth import current_user_id

bp = Blueprint("trades", __name__)


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
