"""Creating, changing and deleting a user's alerts: the checks a well-formed request can still fail (unknown
instrument, a value that makes no sense for the kind, an order that could never be valid, an expiry in the past),
one retried transaction each, then this process's index at once (the others at their next poll)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.alerts import alerts, index_source, rules
from controller.alerts.alerts import NewAlert
from controller.alerts.models import Alert, AlertAction
from controller.market.instruments import Instrument, find_instrument
from controller.trading.order_rules import check_shape
from services.alerts.engine import engine
from services.alerts.views import alert_objects
from services.market.market_clock import clock
from services.trading.desk import in_transaction
from utils.errors import ValidationError, field_error
from utils.trading_errors import OrderRejected


def _max_active() -> int:
    return app_extensions()["settings"].alerts_max_active


def _apply(alert: Alert) -> None:
    running = engine()
    if running is not None:
        running.apply([alert])


def _resolve(conn: Any, instrument_type: str, symbol: str) -> tuple[str | None, Instrument | None]:
    """The instrument's name as the universe spells it (None when unknown) and, for a stock, its trading rules."""
    if instrument_type == "index":
        return index_source.index_named(conn, symbol), None
    instrument = find_instrument(conn, symbol.upper())
    return (instrument.symbol if instrument else None), instrument


def _problems(
    kind: str,
    instrument_type: str,
    instrument: Instrument | None,
    changes: dict[str, Any],
    now: datetime,
) -> list[dict[str, str]]:
    """Field errors of the fields in `changes` (value, action, expires_at) for an alert of this kind."""
    fields = []
    if "value" in changes and (problem := rules.value_problem(kind, changes["value"])):
        fields.append(field_error("value", problem))
    action: AlertAction | None = changes.get("action")
    if action is not None:
        if instrument_type == "index":
            fields.append(field_error("action", "an index cannot be traded: only stock alerts place orders"))
        elif instrument is not None:
            try:
                check_shape(action.ticket(instrument.symbol), instrument)
            except OrderRejected as exc:
                fields += [field_error(f"action.{f['field']}", f["message"]) for f in exc.details["fields"]]
    expires: datetime | None = changes.get("expires_at")
    if expires is not None and expires <= now:
        fields.append(field_error("expires_at", "must be in the future"))
    return fields


def create_alert(user_id: int, new: NewAlert) -> dict[str, Any]:
    """Check and store a new alert; its API object."""
    now = clock()
    with db.connection() as conn:
        symbol, instrument = _resolve(conn, new.instrument_type, new.symbol)
    fields = []
    if symbol is None:
        fields.append(field_error("symbol", f"unknown {new.instrument_type} {new.symbol!r}"))
    if problem := rules.instrument_problem(new.kind, new.instrument_type):
        fields.append(field_error("kind", problem))
    changes = {"value": new.value, "action": new.action, "expires_at": new.expires_at}
    fields += _problems(new.kind, new.instrument_type, instrument, changes, now)
    if fields:
        raise ValidationError("the alert cannot be created", fields=fields)
    new = replace(new, symbol=symbol)
    alert = in_transaction(lambda conn: alerts.create_alert(conn, user_id, new, _max_active(), now))
    _apply(alert)
    return alert_objects([alert])[0]


def update_alert(user_id: int, alert_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Check and apply changes (value, note, repeat, cooldown_s, expires_at, action, status) to the user's alert."""
    now = clock()
    with db.connection() as conn:
        current = alerts.get_alert(conn, user_id, alert_id)
        _, instrument = _resolve(conn, current.instrument_type, current.symbol)
    fields = _problems(current.kind, current.instrument_type, instrument, changes, now)
    expires = changes.get("expires_at", current.expires_at)
    if changes.get("status") == "active" and expires is not None and expires <= now and "expires_at" not in changes:
        fields.append(field_error("expires_at", "the alert has expired: give a new expires_at to make it active"))
    if fields:
        raise ValidationError("the alert cannot be changed", fields=fields)
    alert = in_transaction(lambda conn: alerts.update_alert(conn, user_id, alert_id, changes, _max_active(), now))
    _apply(alert)
    return alert_objects([alert])[0]


def delete_alert(user_id: int, alert_id: int) -> None:
    """Delete the user's alert (its triggers stay in the history)."""
    now = clock()
    _apply(in_transaction(lambda conn: alerts.delete_alert(conn, user_id, alert_id, now)))


def list_alerts(
    user_id: int, statuses: tuple[str, ...], symbol: str | None, before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """A page of the user's alerts as API objects."""
    with db.connection() as conn:
        found = alerts.list_alerts(conn, user_id, statuses, symbol, before_id, limit)
    return alert_objects(found)
