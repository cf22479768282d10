"""The request models of the alerts blueprint (routes/alerts.py): what POST and PATCH /alerts, the lists and
POST /alerts/history/read accept; they also write those requests into the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from controller.alerts.alerts import NewAlert
from controller.alerts.models import AlertAction
from controller.alerts.rules import Kind
from routes._params import Price, Quantity
from utils.timeutil import IST
from utils.validators import free_text


def _to_decimal(value: float) -> Decimal:
    return Decimal(repr(value))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=IST)


def _absent(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # an omitted field is left as it is; null is not a value it may take


AlertSymbol = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9&._ -]{1,64}$", examples=["RELIANCE"], description="A stock symbol or an index name"),
    AfterValidator(str.upper),
]
_VALUE = (
    "A price (price_*), a percent (change_pct_*: vs the previous close; near_*_circuit: distance to the circuit "
    "limit, 0-100), a volume (volume_above); none for new_high_52w / new_low_52w. At most 4 decimals."
)
Value = Annotated[
    float,
    Field(strict=True, allow_inf_nan=False, ge=-1e15, le=1e15, description=_VALUE),
    AfterValidator(_to_decimal),
]
Note = free_text(200, trim=True, about="What the alert is for (shown with its triggers)")
Expiry = Annotated[
    datetime,
    AfterValidator(_aware),
    Field(description="ISO 8601 date-time in the future (without an offset: IST); none: never expires"),
]
Cooldown = Annotated[StrictInt, Field(ge=0, le=7 * 86400, description="Seconds an `every` alert waits to re-arm")]
Repeat = Literal["once", "every"]


class AlertOrder(BaseModel):
    """The paper order an alert places when it fires (checked like POST /orders when it is placed)."""

    model_config = ConfigDict(extra="forbid")

    side: Literal["BUY", "SELL"]
    order_type: Literal["MARKET", "LIMIT", "SL", "SL-M"]
    quantity: Quantity = Field(description="A multiple of the lot size")
    price: Price | None = Field(None, description="LIMIT and SL only; a multiple of the tick size")
    trigger_price: Price | None = Field(None, description="SL and SL-M only; a multiple of the tick size")
    validity: Literal["DAY", "IOC"] = "DAY"

    def action(self) -> AlertAction:
        """The controller's action record."""
        return AlertAction(self.side, self.order_type, self.quantity, self.price, self.trigger_price, self.validity)


class AlertCreate(BaseModel):
    """POST /alerts."""

    model_config = ConfigDict(extra="forbid")

    instrument_type: Literal["stock", "index"] = "stock"
    symbol: AlertSymbol
    kind: Kind
    value: Value | None = None
    fire_if_already: StrictBool = Field(False, description="Fire on the next tick if the condition already holds")
    note: Note | None = None
    repeat: Repeat = "once"
    cooldown_s: Cooldown = 300
    expires_at: Expiry | None = None
    action: AlertOrder | None = None

    def new_alert(self) -> NewAlert:
        """The alert the controller stores."""
        return NewAlert(
            self.instrument_type,
            self.symbol,
            self.kind,
            self.value,
            self.fire_if_already,
            self.note,
            self.repeat,
            self.cooldown_s,
            self.expires_at,
            None if self.action is None else self.action.action(),
        )


class AlertUpdate(BaseModel):
    """PATCH /alerts/<id>: any of these fields (null removes a note, an expiry or an action)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    value: Value | None = None
    note: Note | None = None
    repeat: Repeat = Field(None, json_schema_extra=_absent)
    cooldown_s: Cooldown = Field(None, json_schema_extra=_absent)
    expires_at: Expiry | None = None
    action: AlertOrder | None = None
    status: Literal["active", "disabled"] = Field(None, json_schema_extra=_absent)

    @model_validator(mode="after")
    def _something(self) -> AlertUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of value, note, repeat, cooldown_s, expires_at, action, status")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the request set, as the alert's own values."""
        out = {name: getattr(self, name) for name in self.model_fields_set}
        if "action" in out and out["action"] is not None:
            out["action"] = out["action"].action()
        return out


def _split(value: Any) -> Any:
    return value.split(",") if isinstance(value, str) else value


Cursor = Annotated[
    str | None, Field(None, pattern=r"^[1-9][0-9]{0,18}$", description="The `next_cursor` of the previous page")
]


class AlertQuery(BaseModel):
    """GET /alerts."""

    model_config = ConfigDict(extra="forbid")

    status: Annotated[
        list[Literal["active", "triggered", "expired", "disabled"]],
        BeforeValidator(_split),
        Field(description="Comma-separated statuses (default: all)"),
    ] = []
    symbol: AlertSymbol | None = Field(None, description="Only this instrument")
    limit: int = Field(200, ge=1, le=500, description="Page size")
    cursor: Cursor = None


class HistoryQuery(BaseModel):
    """GET /alerts/history."""

    model_config = ConfigDict(extra="forbid")

    symbol: AlertSymbol | None = Field(None, description="Only this instrument")
    limit: int = Field(50, ge=1, le=500, description="Page size")
    cursor: Cursor = None


class HistoryExportQuery(BaseModel):
    """GET /alerts/history.csv."""

    model_config = ConfigDict(extra="forbid")

    symbol: AlertSymbol | None = Field(None, description="Only this instrument")


class HistoryRead(BaseModel):
    """POST /alerts/history/read."""

    model_config = ConfigDict(extra="forbid")

    up_to_trigger_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1, description="Mark this and older triggers")]
