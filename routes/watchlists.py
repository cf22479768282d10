"""The signed-in user's named watchlists with ordered, live-quoted items."""

from __future__ import annotations

import re
from typing import Annotated

from flask import Blueprint
from flask_jwt_extended import jwt_required
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from backend import db
from backend.extensions import app_extensions
from controller.trading import watchlists
from routes._params import Symbol, success
from routes.validation import json_body
from services.accounts.auth import current_user_id
from services.trading.desk import market_view
from utils.errors import NotFound
from utils.validators import SYMBOL_PATTERN, free_text

bp = Blueprint("watchlists", __name__)


Name = free_text(64, about="Unique among the user's lists (case-insensitive)")


class WatchlistCreate(BaseModel):
    """POST /watchlists."""

    model_config = ConfigDict(extra="forbid")

    name: Name


class WatchlistUpdate(BaseModel):
    """PATCH /watchlists/<id>: a new name and/or position among the user's lists."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    position: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None

    @model_validator(mode="after")
    def _something(self) -> WatchlistUpdate:
        if self.name is None and self.position is None:
            raise ValueError("give a name or a position")
        return self


class WatchlistItemAdd(BaseModel):
    """POST /watchlists/<id>/items."""

    model_config = ConfigDict(extra="forbid")

    symbol: Symbol


class WatchlistReorder(BaseModel):
    """PUT /watchlists/<id>/items: every symbol of the list, in the new order."""

    model_config = ConfigDict(extra="forbid")

    symbols: Annotated[
        list[Symbol],
        Field(
            max_length=1000,
            json_schema_extra={"uniqueItems": True},
            description="A permutation of the list's items: every symbol of the list exactly once (case-insensitive), "
            "in the new order; anything else is a 422 with rule `permutation` and the `missing` and `unknown` symbols",
        ),
    ]


def _limits():
    return app_extensions()["settings"]


def _one(conn, user_id: int, watchlist_id: int, status: int = 200):
    return success(watchlists.get_watchlist(conn, user_id, watchlist_id, market_view().fresh), status)


@bp.get("")
@jwt_required()
def list_watchlists():
    """Every list of the user with live-quoted items (empty lists included)."""
    with db.connection() as conn:
        found = watchlists.list_watchlists(conn, current_user_id(), market_view().fresh)
    return success(found, count=len(found))


@bp.post("")
@jwt_required()
@json_body(WatchlistCreate)
def create_watchlist(body: WatchlistCreate):
    """Create a named list (409 for a duplicate name)."""
    user_id = current_user_id()
    with db.transaction() as conn:
        watchlist_id = watchlists.create_watchlist(conn, user_id, body.name, _limits().watchlist_max_lists)
        return _one(conn, user_id, watchlist_id, 201)


@bp.get("/<int:watchlist_id>")
@jwt_required()
def get_watchlist(watchlist_id: int):
    """One list with live-quoted items (404 for anyone else's)."""
    with db.connection() as conn:
        return _one(conn, current_user_id(), watchlist_id)


@bp.patch("/<int:watchlist_id>")
@jwt_required()
@json_body(WatchlistUpdate)
def update_watchlist(watchlist_id: int, body: WatchlistUpdate):
    """Rename a list or move it among the user's lists."""
    user_id = current_user_id()
    with db.transaction() as conn:
        watchlists.update_watchlist(conn, user_id, watchlist_id, body.name, body.position)
        return _one(conn, user_id, watchlist_id)


@bp.delete("/<int:watchlist_id>")
@jwt_required()
def delete_watchlist(watchlist_id: int):
    """Delete a list and its items."""
    with db.transaction() as conn:
        watchlists.delete_watchlist(conn, current_user_id(), watchlist_id)
    return success({"watchlist_id": watchlist_id, "deleted": True})


@bp.post("/<int:watchlist_id>/items")
@jwt_required()
@json_body(WatchlistItemAdd)
def add_item(watchlist_id: int, body: WatchlistItemAdd):
    """Append a symbol (409 when it is already listed)."""
    user_id = current_user_id()
    with db.transaction() as conn:
        watchlists.add_item(conn, user_id, watchlist_id, body.symbol, _limits().watchlist_max_items)
        return _one(conn, user_id, watchlist_id, 201)


@bp.delete("/<int:watchlist_id>/items/<symbol>")
@jwt_required()
def remove_item(watchlist_id: int, symbol: str):
    """Remove a symbol from a list."""
    if not re.match(SYMBOL_PATTERN, symbol):
        raise NotFound(f"{symbol!r} is not in watchlist {watchlist_id}")
    user_id = current_user_id()
    with db.transaction() as conn:
        watchlists.remove_item(conn, user_id, watchlist_id, symbol.upper())
        return _one(conn, user_id, watchlist_id)


@bp.put("/<int:watchlist_id>/items")
@jwt_required()
@json_body(WatchlistReorder)
def reorder_items(watchlist_id: int, body: WatchlistReorder):
    """Reorder a list's items: `symbols` names every item once, in the new order."""
    user_id = current_user_id()
    with db.transaction() as conn:
        watchlists.reorder_items(conn, user_id, watchlist_id, body.symbols)
        return _one(conn, user_id, watchlist_id)
