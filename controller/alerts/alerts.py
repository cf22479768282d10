"""The user's alerts: create, read, change and delete them (each in the caller's transaction), and the revision
counter that tells every process's in-memory index what changed (docs/ALERTS.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.alerts.models import ALERT_COLUMNS, VISIBLE, Alert, AlertAction
from controller.sql import defer, execute, fetch_all, fetch_one, fetch_sets
from utils.errors import Conflict, NotFound, field_error
from utils.timeutil import to_db

_LOCK_USER = "SELECT user_id FROM users WHERE user_id = %s FOR UPDATE"
_COUNT_ACTIVE = "SELECT COUNT(*) AS n FROM alerts WHERE user_id = %s AND status = 'active'"
_GET = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = %s AND user_id = %s AND status <> 'deleted'"
_NEXT_REVISION = "UPDATE alert_revisions SET revision = LAST_INSERT_ID(revision + 1) WHERE id = 1"


@dataclass(frozen=True, slots=True)
class NewAlert:
    """What a user asks to watch."""

    instrument_type: str
    symbol: str
    kind: str
    value: Decimal | None
    fire_if_already: bool = False
    note: str | None = None
    repeat: str = "once"
    cooldown_s: int = 300
    expires_at: datetime | None = None
    action: AlertAction | None = None


# The alert's fields a user sets when creating one and may change later, with their columns (same names but one).
_NEW = [field.name for field in fields(NewAlert)]
_CHANGEABLE = ["value", "note", "repeat", "cooldown_s", "expires_at", "action", "status", "status_reason"]
_COLUMN = {"repeat": "repeat_mode"}
_INSERT = (
    f"INSERT INTO alerts (user_id, {', '.join(_COLUMN.get(name, name) for name in _NEW)}, created_at, updated_at) "
    f"VALUES ({', '.join(['%s'] * (len(_NEW) + 3))})"
)
_UPDATE = (
    f"UPDATE alerts SET {', '.join(f'{_COLUMN.get(name, name)} = %s' for name in _CHANGEABLE)}, updated_at = %s "
    "WHERE alert_id = %s"
)


def _stored(alert: Alert, names: Sequence[str]) -> list[Any]:
    """The alert's values of these fields as their columns hold them."""
    values = []
    for name in names:
        value = getattr(alert, name)
        if value is not None and name == "expires_at":
            value = to_db(value)
        elif value is not None and name == "action":
            value = value.to_text()
        values.append(value)
    return values


def stamp_revision(conn: Any, alert_ids: Sequence[int]) -> None:
    """Give these alerts the next revision, with the transaction's COMMIT (deferred): every process's index
    reloads them at its next poll. The counter's row lock orders revisions as their transactions commit."""
    if not alert_ids:
        return
    defer(conn, _NEXT_REVISION)
    marks = ", ".join(["%s"] * len(alert_ids))
    defer(conn, f"UPDATE alerts SET revision = LAST_INSERT_ID() WHERE alert_id IN ({marks})", list(alert_ids))


def _limit_problem(conn: Any, user_id: int, max_active: int) -> None:
    """Lock the user (so two requests cannot both take the last place) and refuse a new active alert past the cap."""
    locked, counted = fetch_sets(conn, [(_LOCK_USER, (user_id,)), (_COUNT_ACTIVE, (user_id,))])
    if not locked:
        raise NotFound("user not found")
    active = int(counted[0]["n"])
    if active >= max_active:
        raise Conflict(
            f"at most {max_active} active alerts per user: disable or delete one first",
            {"limit": max_active, "active": active},
            fields=[field_error("status", f"at most {max_active} active alerts")],
        )


def create_alert(conn: Any, user_id: int, new: NewAlert, max_active: int, now: datetime) -> Alert:
    """Store a new active alert (Conflict past `max_active` active alerts)."""
    _limit_problem(conn, user_id, max_active)
    alert = Alert(
        alert_id=0,
        user_id=user_id,
        status="active",
        status_reason=None,
        times_triggered=0,
        triggered_at=None,
        trigger_price=None,
        created_at=now,
        updated_at=now,
        **{name: getattr(new, name) for name in _NEW},
    )
    _, alert.alert_id = execute(conn, _INSERT, [user_id, *_stored(alert, _NEW), to_db(now), to_db(now)])
    stamp_revision(conn, [alert.alert_id])
    return alert


def get_alert(conn: Any, user_id: int, alert_id: int, lock: bool = False) -> Alert:
    """The user's alert; NotFound for an unknown id, a deleted alert or another user's alert."""
    row = fetch_one(conn, _GET + (" FOR UPDATE" if lock else ""), (alert_id, user_id))
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    return Alert.from_row(row)


def update_alert(
    conn: Any, user_id: int, alert_id: int, changes: dict[str, Any], max_active: int, now: datetime
) -> Alert:
    """Apply `changes` (fields among value, note, repeat, cooldown_s, expires_at, action, status) to the user's
    alert; making it active again counts against `max_active`."""
    alert = get_alert(conn, user_id, alert_id, lock=True)
    reactivated = changes.get("status") == "active" and alert.status != "active"
    if reactivated:
        _limit_problem(conn, user_id, max_active)
    updated = replace(alert, **changes, updated_at=now)
    if "status" in changes:
        updated.status_reason = None
    execute(conn, _UPDATE, [*_stored(updated, _CHANGEABLE), to_db(now), alert_id])
    stamp_revision(conn, [alert_id])
    return updated


def delete_alert(conn: Any, user_id: int, alert_id: int, now: datetime) -> Alert:
    """Delete the user's alert: it becomes a tombstone the API never shows (its triggers stay in the history)."""
    alert = get_alert(conn, user_id, alert_id, lock=True)
    execute(conn, "UPDATE alerts SET status = 'deleted', updated_at = %s WHERE alert_id = %s", (to_db(now), alert_id))
    stamp_revision(conn, [alert_id])
    return replace(alert, status="deleted", updated_at=now)


def page_filter(prefix: str, id_column: str, symbol: str | None, before_id: int | None) -> tuple[str, list[Any]]:
    """Extra WHERE conditions of a page of a user's rows: one instrument, and the keyset position (newest first)."""
    clauses, params = [], []
    if symbol:
        clauses.append(f"{prefix}symbol = %s")
        params.append(symbol)
    if before_id:
        clauses.append(f"{prefix}{id_column} < %s")
        params.append(before_id)
    return "".join(f" AND {clause}" for clause in clauses), params


def list_alerts(
    conn: Any, user_id: int, statuses: Sequence[str], symbol: str | None, before_id: int | None, limit: int
) -> list[Alert]:
    """The user's alerts, newest first: filtered by status (all visible ones when empty) and symbol."""
    wanted = tuple(statuses) or VISIBLE
    extra, params = page_filter("", "alert_id", symbol, before_id)
    rows = fetch_all(
        conn,
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE user_id = %s AND status IN ({', '.join(['%s'] * len(wanted))})"
        f"{extra} ORDER BY alert_id DESC LIMIT %s",
        [user_id, *wanted, *params, limit],
    )
    return [Alert.from_row(row) for row in rows]
