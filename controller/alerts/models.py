"""Alert records (alerts, their actions, their triggers) and their JSON shapes (docs/ALERTS.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.trading.models import Order
from controller.trading.order_rules import OrderTicket
from utils.money import number
from utils.timeutil import as_utc, iso_ist

ALERT_COLUMNS = (
    "alert_id, user_id, instrument_type, symbol, kind, value, fire_if_already, note, repeat_mode, cooldown_s, "
    "expires_at, action, status, status_reason, times_triggered, triggered_at, trigger_price, created_at, updated_at"
)
VISIBLE = ("active", "triggered", "expired", "disabled")  # every status but the 'deleted' tombstone


@dataclass(frozen=True, slots=True)
class AlertAction:
    """The paper order an alert places when it fires."""

    side: str
    order_type: str
    quantity: int
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    validity: str = "DAY"

    def ticket(self, symbol: str, client_order_id: str | None = None) -> OrderTicket:
        """The order as the trading desk takes it."""
        return OrderTicket(
            symbol,
            self.side,
            self.order_type,
            self.validity,
            self.quantity,
            self.price,
            self.trigger_price,
            client_order_id,
        )

    def to_text(self) -> str:
        """Compact JSON for the `action` column (prices as decimal strings, so they come back exact)."""
        return json.dumps(
            [self.side, self.order_type, self.quantity, _text(self.price), _text(self.trigger_price), self.validity],
            separators=(",", ":"),
        )

    @classmethod
    def from_text(cls, text: str | None) -> AlertAction | None:
        """Read what `to_text` wrote (None stays None)."""
        if not text:
            return None
        side, order_type, quantity, price, trigger, validity = json.loads(text)
        return cls(side, order_type, quantity, _decimal(price), _decimal(trigger), validity)

    def to_json(self) -> dict[str, Any]:
        """The action object of the API."""
        return {
            "side": self.side,
            "order_type": self.order_type,
            "quantity": self.quantity,
            "price": number(self.price, 4),
            "trigger_price": number(self.trigger_price, 4),
            "validity": self.validity,
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def client_order_id(alert_id: int, seq: int) -> str:
    """The idempotency key of the order an alert places at its `seq`-th trigger: it is placed once, whoever asks."""
    return f"alert-{alert_id}-{seq}"


@dataclass(slots=True)
class Alert:
    """One alert row."""

    alert_id: int
    user_id: int
    instrument_type: str
    symbol: str
    kind: str
    value: Decimal | None
    fire_if_already: bool
    note: str | None
    repeat: str
    cooldown_s: int
    expires_at: datetime | None
    action: AlertAction | None
    status: str
    status_reason: str | None
    times_triggered: int
    triggered_at: datetime | None
    trigger_price: Decimal | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alert:
        """Build from a row selected with ALERT_COLUMNS (times become aware UTC)."""
        return cls(
            alert_id=int(row["alert_id"]),
            user_id=int(row["user_id"]),
            instrument_type=row["instrument_type"],
            symbol=row["symbol"],
            kind=row["kind"],
            value=row["value"],
            fire_if_already=bool(row["fire_if_already"]),
            note=row["note"],
            repeat=row["repeat_mode"],
            cooldown_s=int(row["cooldown_s"]),
            expires_at=_utc(row["expires_at"]),
            action=AlertAction.from_text(row["action"]),
            status=row["status"],
            status_reason=row["status_reason"],
            times_triggered=int(row["times_triggered"]),
            triggered_at=_utc(row["triggered_at"]),
            trigger_price=row["trigger_price"],
            created_at=as_utc(row["created_at"]),
            updated_at=as_utc(row["updated_at"]),
        )

    def to_json(self, at: Decimal | None = None, current: Decimal | int | None = None) -> dict[str, Any]:
        """The alert object of the API; `at` is the level it watches now and `current` the metric it watches."""
        places = 0 if self.kind == "volume_above" else 4
        return {
            "alert_id": self.alert_id,
            "instrument_type": self.instrument_type,
            "symbol": self.symbol,
            "kind": self.kind,
            "value": number(self.value, 4),
            "fire_if_already": self.fire_if_already,
            "note": self.note,
            "repeat": self.repeat,
            "cooldown_s": self.cooldown_s,
            "expires_at": iso_ist(self.expires_at),
            "action": None if self.action is None else self.action.to_json(),
            "status": self.status,
            "status_reason": self.status_reason,
            "times_triggered": self.times_triggered,
            "triggered_at": iso_ist(self.triggered_at),
            "trigger_price": number(self.trigger_price, 4),
            "created_at": iso_ist(self.created_at),
            "updated_at": iso_ist(self.updated_at),
            "level": number(at, places),
            "current": number(current, places),
            "distance_pct": _distance_pct(at, current),
        }


def _distance_pct(at: Decimal | None, current: Decimal | int | None) -> float | None:
    """How far the level is from the current metric, in percent of the metric (positive: above it)."""
    if at is None or not current:
        return None
    return number((at - current) * 100 / Decimal(current), 2)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


@dataclass(slots=True)
class Trigger:
    """One firing of an alert; `trigger_id` is 0 until its deferred INSERT's id arrives with the COMMIT."""

    trigger_id: int
    alert_id: int
    user_id: int
    seq: int
    instrument_type: str
    symbol: str
    kind: str
    value: Decimal | None
    triggered_at: datetime
    trigger_price: Decimal
    action: AlertAction | None
    order_state: str
    order: Order | None = None
    error_code: str | None = None
    error_message: str | None = None
    read_at: datetime | None = None
    note: str | None = None  # the alert's note (as it is now)

    def to_json(self) -> dict[str, Any]:
        """The trigger object of the API."""
        error = None if self.error_code is None else {"code": self.error_code, "message": self.error_message}
        return {
            "trigger_id": self.trigger_id,
            "alert_id": self.alert_id,
            "instrument_type": self.instrument_type,
            "symbol": self.symbol,
            "kind": self.kind,
            "value": number(self.value, 4),
            "triggered_at": iso_ist(self.triggered_at),
            "trigger_price": number(self.trigger_price, 4),
            "note": self.note,
            "order_state": self.order_state,
            "order": None if self.order is None else self.order.to_json(),
            "error": error,
            "read_at": iso_ist(self.read_at),
        }
