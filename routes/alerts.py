"""The signed-in user's price alerts and their trigger history (docs/ALERTS.md)."""

from __future__ import annotations

from flask import Blueprint
from flask_jwt_extended import jwt_required

from backend import db
from backend.extensions import app_extensions
from controller.alerts import history
from controller.alerts.models import VISIBLE
from routes._alert_models import AlertCreate, AlertQuery, AlertUpdate, HistoryExportQuery, HistoryQuery, HistoryRead
from routes._params import csv_response, page, success
from routes.validation import json_body, query_params
from services.accounts.auth import current_user_id
from services.alerts import manage
from services.market.market_clock import clock
from utils.money import number
from utils.timeutil import iso_ist

bp = Blueprint("alerts", __name__)
_CSV_HEADER = [
    "trigger_id",
    "triggered_at",
    "alert_id",
    "instrument_type",
    "symbol",
    "kind",
    "value",
    "note",
    "trigger_price",
    "order_state",
    "order_id",
    "order_status",
    "error_code",
    "error_message",
    "read_at",
]


@bp.get("")
@jwt_required()
@query_params(AlertQuery)
def list_alerts(query: AlertQuery):
    """The user's alerts, newest first, each with its level and the current price it is compared with."""
    statuses = tuple(dict.fromkeys(query.status)) if query.status else VISIBLE
    found = manage.list_alerts(
        current_user_id(), statuses, query.symbol, int(query.cursor) if query.cursor else None, query.limit + 1
    )
    items, cursor = page(found, query.limit + 1, lambda a: a["alert_id"])
    return success(items, count=len(items), next_cursor=cursor)


@bp.post("")
@jwt_required()
@json_body(AlertCreate)
def create_alert(body: AlertCreate):
    """Create an alert (at most ALERTS_MAX_ACTIVE active ones per user)."""
    return success(manage.create_alert(current_user_id(), body.new_alert()), 201)


@bp.patch("/<int:alert_id>")
@jwt_required()
@json_body(AlertUpdate)
def update_alert(alert_id: int, body: AlertUpdate):
    """Change an alert (its kind and instrument stay); status active re-arms it, disabled silences it."""
    return success(manage.update_alert(current_user_id(), alert_id, body.changes()))


@bp.delete("/<int:alert_id>")
@jwt_required()
def delete_alert(alert_id: int):
    """Delete an alert (its past triggers stay in the history)."""
    manage.delete_alert(current_user_id(), alert_id)
    return success({"alert_id": alert_id, "deleted": True})


@bp.get("/history")
@jwt_required()
@query_params(HistoryQuery)
def list_history(query: HistoryQuery):
    """The user's triggers, newest first, with the unread count."""
    user_id = current_user_id()
    with db.connection() as conn:
        found = history.list_triggers(
            conn, user_id, int(query.cursor) if query.cursor else None, query.limit + 1, query.symbol
        )
        unread = history.unread_count(conn, user_id)
    items, cursor = page(found, query.limit + 1, lambda t: t.trigger_id)
    return success([t.to_json() for t in items], count=len(items), unread_count=unread, next_cursor=cursor)


@bp.post("/history/read")
@jwt_required()
@json_body(HistoryRead)
def mark_read(body: HistoryRead):
    """Mark the user's triggers up to `up_to_trigger_id` as read."""
    user_id = current_user_id()
    with db.transaction() as conn:
        marked = history.mark_read(conn, user_id, body.up_to_trigger_id, clock())
        unread = history.unread_count(conn, user_id)
    return success({"marked": marked, "unread_count": unread})


@bp.get("/history.csv")
@jwt_required()
@query_params(HistoryExportQuery)
def export_history(query: HistoryExportQuery):
    """The user's triggers as CSV (formula-safe), newest first."""
    with db.connection() as conn:
        found = history.list_triggers(
            conn, current_user_id(), None, app_extensions()["settings"].export_max_rows, query.symbol
        )
    rows = [
        [
            t.trigger_id,
            iso_ist(t.triggered_at),
            t.alert_id,
            t.instrument_type,
            t.symbol,
            t.kind,
            number(t.value, 4),
            t.note,
            number(t.trigger_price, 4),
            t.order_state,
            None if t.order is None else t.order.order_id,
            None if t.order is None else t.order.status,
            t.error_code,
            t.error_message,
            iso_ist(t.read_at),
        ]
        for t in found
    ]
    return csv_response("alert-history.csv", _CSV_HEADER, rows)
