"""Deciding that an alert fires, once, whatever the number of processes that saw the crossing; and the records
of what its order did.

`claim` is one conditional UPDATE: the alert must still be active with the value the index evaluated, its user
active (blocked and deleted users' alerts never fire), not expired at the tick, and not fired at this tick or
within its cooldown. The process whose UPDATE changes the row has won; every other process's changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.alerts.alerts import stamp_revision
from controller.alerts.models import ALERT_COLUMNS, Alert, AlertAction, Trigger
from controller.sql import defer, execute, fetch_all, fetch_one, fetch_sets
from utils.timeutil import as_utc, to_db

_CLAIM = """
UPDATE alerts a JOIN users u ON u.user_id = a.user_id
SET a.times_triggered = a.times_triggered + 1, a.triggered_at = %(at)s, a.trigger_price = %(price)s,
    a.status = IF(a.repeat_mode = 'once', 'triggered', a.status), a.updated_at = %(now)s
WHERE a.alert_id = %(alert_id)s AND a.status = 'active' AND u.status = 'active' AND a.value <=> %(value)s
  AND (a.expires_at IS NULL OR a.expires_at > %(at)s)
  AND (a.triggered_at IS NULL
       OR (a.triggered_at < %(at)s AND TIMESTAMPADD(SECOND, a.cooldown_s, a.triggered_at) <= %(at)s))
"""
_GET = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = %s"
_WON = _GET + " AND ROW_COUNT() = 1"  # read in the claim's round trip, only when its UPDATE changed the row
_INSERT_TRIGGER = """
INSERT INTO alert_triggers (alert_id, user_id, seq, instrument_type, symbol, kind, value, triggered_at,
    trigger_price, action, order_state)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_TRIGGER_COLUMNS = (
    "trigger_id, alert_id, user_id, seq, instrument_type, symbol, kind, value, triggered_at, trigger_price, "
    "action, order_state, order_id, error_code, error_message, read_at"
)
_MESSAGE_MAX = 300


def claim(
    conn: Any, alert_id: int, value: Decimal | None, at: datetime, price: Decimal, now: datetime
) -> tuple[Alert, Trigger] | None:
    """Fire the alert at the tick `at` (price `price`) if this process is the first to: the alert as it is now and
    its new trigger record (whose id arrives with the COMMIT), or None when it must not fire."""
    params = {"alert_id": alert_id, "value": value, "at": to_db(at), "price": price, "now": to_db(now)}
    _, won = fetch_sets(conn, [(_CLAIM, params), (_WON, (alert_id,))])
    if not won:
        return None
    alert = Alert.from_row(won[0])
    if alert.status != "active":  # a 'once' alert leaves every index
        stamp_revision(conn, [alert_id])
    state = "pending" if alert.action is not None else "none"
    trigger = Trigger(
        0,
        alert.alert_id,
        alert.user_id,
        alert.times_triggered,
        alert.instrument_type,
        alert.symbol,
        alert.kind,
        alert.value,
        as_utc(at),
        price,
        alert.action,
        state,
        note=alert.note,
    )

    def inserted(_rowcount: int, trigger_id: int) -> None:
        trigger.trigger_id = trigger_id

    action = None if alert.action is None else alert.action.to_text()
    defer(
        conn,
        _INSERT_TRIGGER,
        (
            alert.alert_id,
            alert.user_id,
            trigger.seq,
            alert.instrument_type,
            alert.symbol,
            alert.kind,
            alert.value,
            to_db(at),
            price,
            action,
            state,
        ),
        on_done=inserted,
    )
    return alert, trigger


def alert_by_id(conn: Any, alert_id: int) -> Alert | None:
    """The alert with this id, whoever owns it (the firing path's own reads; never for a user's request)."""
    row = fetch_one(conn, _GET, (alert_id,))
    return None if row is None else Alert.from_row(row)


def record_order(conn: Any, trigger_id: int, order_id: int) -> bool:
    """The pending trigger's order was placed; False when another attempt recorded the outcome first."""
    changed, _ = execute(
        conn,
        "UPDATE alert_triggers SET order_state = 'placed', order_id = %s WHERE trigger_id = %s "
        "AND order_state = 'pending'",
        (order_id, trigger_id),
    )
    return changed == 1


def record_rejection(conn: Any, trigger_id: int, code: str, message: str) -> bool:
    """The pending trigger's order was refused (why: the API error's code and message); False as above."""
    changed, _ = execute(
        conn,
        "UPDATE alert_triggers SET order_state = 'rejected', error_code = %s, error_message = %s "
        "WHERE trigger_id = %s AND order_state = 'pending'",
        (code[:64], message[:_MESSAGE_MAX], trigger_id),
    )
    return changed == 1


def trigger_from_row(row: dict[str, Any]) -> Trigger:
    """Build a Trigger from a row selected with the trigger columns (its order is attached by the caller)."""
    return Trigger(
        trigger_id=int(row["trigger_id"]),
        alert_id=int(row["alert_id"]),
        user_id=int(row["user_id"]),
        seq=int(row["seq"]),
        instrument_type=row["instrument_type"],
        symbol=row["symbol"],
        kind=row["kind"],
        value=row["value"],
        triggered_at=as_utc(row["triggered_at"]),
        trigger_price=row["trigger_price"],
        action=AlertAction.from_text(row["action"]),
        order_state=row["order_state"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        read_at=None if row["read_at"] is None else as_utc(row["read_at"]),
    )


def pending_triggers(conn: Any, fired_before: datetime, limit: int = 100) -> list[Trigger]:
    """Triggers whose order is still to be placed (the process that fired them died or the database was busy)."""
    rows = fetch_all(
        conn,
        f"SELECT {_TRIGGER_COLUMNS} FROM alert_triggers WHERE order_state = 'pending' AND triggered_at < %s "
        "ORDER BY trigger_id LIMIT %s",
        (to_db(fired_before), limit),
    )
    return [trigger_from_row(row) for row in rows]


def trigger_columns(prefix: str = "") -> str:
    """The trigger columns, optionally qualified with a table alias."""
    return ", ".join(f"{prefix}{column.strip()}" for column in _TRIGGER_COLUMNS.split(","))
