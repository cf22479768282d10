"""Paper orders of the signed-in user: place, list, read, modify, cancel, export."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from flask import Blueprint
from flask_jwt_extended import jwt_required
from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend import db
from backend.extensions import app_extensions
from controller.trading import order_queries, orders
from controller.trading.order_rules import PRICED, STOP, OrderTicket
from routes._params import PageParams, Price, Quantity, Symbol, csv_response, page, success
from routes.validation import json_body, query_params
from services.accounts.auth import current_user_id
from services.runtime import shutdown
from services.trading import desk
from utils.money import number
from utils.timeutil import iso_ist

bp = Blueprint("orders", __name__)
STATUSES = ("OPEN", "TRIGGER_PENDING", "COMPLETE", "CANCELLED", "REJECTED", "EXPIRED")
_CSV_HEADER = [
    "order_id",
    "client_order_id",
    "created_at",
    "symbol",
    "side",
    "order_type",
    "validity",
    "quantity",
    "filled_quantity",
    "price",
    "trigger_price",
    "average_price",
    "status",
    "reject_reason",
    "updated_at",
]


_PRICE = (
    "Limit price: required by LIMIT and SL orders, refused on MARKET and SL-M; a multiple of the tick size inside "
    "the circuit band"
)
_TRIGGER = (
    "Trigger: required by SL and SL-M orders, refused on the others; above the last price for buys, below it for sells"
)
ORDER_TYPES = ("MARKET", "LIMIT", "SL", "SL-M")


def _fields_by_order_type() -> list[dict]:
    """The schema's `oneOf`: per order type, which of price and trigger_price it requires and which it refuses (the
    rules of controller.trading.order_rules, which enforces them with a 422)."""
    variants = []
    for order_type in ORDER_TYPES:
        takes = {"price": order_type in PRICED, "trigger_price": order_type in STOP}
        variant: dict = {"properties": {"order_type": {"enum": [order_type]}}}
        if required := [name for name, needed in takes.items() if needed]:
            variant["required"] = required
        if refused := [name for name, needed in takes.items() if not needed]:
            variant["not"] = {"anyOf": [{"required": [name]} for name in refused]}
        variants.append(variant)
    return variants


class PaperOrderRequest(BaseModel):
    """POST /orders. Optional fields may be absent, not null; which prices an order type takes is in `oneOf`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": _fields_by_order_type()})

    symbol: Symbol
    side: Literal["BUY", "SELL"]
    order_type: Literal[ORDER_TYPES]  # type: ignore[valid-type]
    quantity: Quantity = Field(description="A multiple of the lot size")
    price: Price = Field(None, description=_PRICE)
    trigger_price: Price = Field(None, description=_TRIGGER)
    validity: Literal["DAY", "IOC"] = "DAY"
    client_order_id: str = Field(
        None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Idempotency key; the same id returns the existing order with 200",
    )


class PaperOrderModify(BaseModel):
    """PATCH /orders/<id>: any of quantity, price, trigger_price (absent: unchanged; null is not a value)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    quantity: Quantity = None
    price: Price = Field(None, description=_PRICE)
    trigger_price: Price = Field(None, description=_TRIGGER)

    @model_validator(mode="after")
    def _something(self) -> PaperOrderModify:
        if not self.model_fields_set:
            raise ValueError("give at least one of quantity, price, trigger_price")
        return self


@bp.post("")
@jwt_required()
@json_body(PaperOrderRequest)
def place_order(body: PaperOrderRequest):
    """Place an order; the same client_order_id returns the existing order (200)."""
    shutdown.refuse_new_work()  # 503 once this process shuts down: its live prices and matcher stop
    order, created = desk.place_order(current_user_id(), OrderTicket(**dict(body)))
    return success(order.to_json(), 201 if created else 200)


@bp.get("")
@jwt_required()
@query_params(PageParams)
def list_orders(query: PageParams):
    """The user's orders, newest first, filtered and paginated by cursor."""
    query = query.page_query(STATUSES)
    with db.connection() as conn:
        found = order_queries.list_orders(conn, current_user_id(), query)
    items, cursor = page(found, query.limit, lambda o: o.order_id)
    return success([o.to_json() for o in items], count=len(items), next_cursor=cursor)


@bp.get("/export.csv")
@jwt_required()
@query_params(PageParams)
def export_orders(query: PageParams):
    """The user's orders (same filters as the list) as CSV."""
    query = replace(query.page_query(STATUSES), limit=app_extensions()["settings"].export_max_rows)
    with db.connection() as conn:
        found = order_queries.list_orders(conn, current_user_id(), query)
    rows = [
        [
            o.order_id,
            o.client_order_id,
            iso_ist(o.created_at),
            o.symbol,
            o.side,
            o.order_type,
            o.validity,
            o.quantity,
            o.filled_quantity,
            number(o.price, 4),
            number(o.trigger_price, 4),
            number(o.average_price, 4),
            o.status,
            o.reject_reason,
            iso_ist(o.updated_at),
        ]
        for o in found
    ]
    return csv_response("orders.csv", _CSV_HEADER, rows)


@bp.get("/<int:order_id>")
@jwt_required()
def get_order(order_id: int):
    """One of the user's orders (404 for anyone else's)."""
    with db.connection() as conn:
        return success(orders.get_order(conn, current_user_id(), order_id).to_json())


@bp.patch("/<int:order_id>")
@jwt_required()
@json_body(PaperOrderModify)
def modify_order(order_id: int, body: PaperOrderModify):
    """Modify a working order's quantity, price or trigger price."""
    shutdown.refuse_new_work()
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    order = desk.modify_order(current_user_id(), order_id, changes)
    return success(order.to_json())


@bp.delete("/<int:order_id>")
@jwt_required()
def cancel_order(order_id: int):
    """Cancel a working order."""
    return success(desk.cancel_order(current_user_id(), order_id).to_json())
