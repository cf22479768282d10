"""Shared request parsing and response shaping of the trading and watchlist blueprints."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from flask import Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from backend.extensions import app_extensions
from controller.trading.order_queries import PageQuery
from utils.csv_export import to_csv
from utils.errors import ValidationError, field_error
from utils.timeutil import IST
from utils.validators import SYMBOL_PATTERN

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _to_decimal(value: float) -> Decimal:
    return Decimal(repr(value))


Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN, examples=["RELIANCE"]), AfterValidator(_upper)]
Quantity = Annotated[StrictInt, Field(gt=0, le=10_000_000)]
Price = Annotated[float, Field(strict=True, gt=0, le=10_000_000), AfterValidator(_to_decimal)]


def success(data: Any, status: int = 200, **extra: Any) -> tuple[dict, int]:
    """The success envelope of docs/API.md."""
    return {"status": "success", "data": data, **extra}, status


def _time_param(value: str, end: bool) -> datetime:
    """YYYY-MM-DD (an IST day; `to` includes the whole day) or an ISO datetime (naive = IST)."""
    try:
        if _DATE.match(value):
            moment, step = datetime.combine(date.fromisoformat(value), time(), IST), timedelta(days=1)
        else:
            moment, step = datetime.fromisoformat(value), timedelta(milliseconds=1)
    except ValueError:
        raise ValidationError(
            "expected a date (YYYY-MM-DD) or an ISO 8601 datetime",
            fields=[field_error("to" if end else "from", f"invalid value {value!r}")],
        ) from None
    if not _EARLIEST.year < moment.year < _LATEST.year:  # far-off bounds mean "no bound" (and cannot overflow)
        return _EARLIEST if moment.year <= _EARLIEST.year else _LATEST
    moment = moment if moment.tzinfo else moment.replace(tzinfo=IST)
    return moment + step if end else moment


_STATUS = "Comma-separated statuses (orders only: OPEN, TRIGGER_PENDING, COMPLETE, CANCELLED, REJECTED, EXPIRED)"
_FROM = "Created (executed) at or after this IST date (YYYY-MM-DD) or ISO 8601 datetime (without offset = IST)"
_TO = "Created (executed) up to this IST date (the whole day included) or ISO 8601 datetime"


class PageParams(BaseModel):
    """Query string of the order and trade lists: filters and keyset pagination (unknown names are refused)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: Annotated[
        list[str], BeforeValidator(lambda v: v.split(",") if isinstance(v, str) else v), Field(description=_STATUS)
    ] = []
    symbol: Symbol | None = Field(None, description="Only this instrument (case-insensitive)")
    from_: str | None = Field(
        None, alias="from", min_length=1, max_length=40, description=_FROM, examples=["2026-11-20"]
    )
    to: str | None = Field(None, min_length=1, max_length=40, description=_TO, examples=["2026-11-20"])
    limit: int | None = Field(None, ge=1, le=500, description="Page size (default ORDERS_PAGE_SIZE)")
    cursor: str | None = Field(
        None, pattern=r"^[1-9][0-9]{0,18}$", description="The `next_cursor` of the previous page (opaque)"
    )

    def page_query(self, statuses: tuple[str, ...] = ()) -> PageQuery:
        """The controller query, fetching one row more than the page to know whether another follows."""
        wanted = tuple(s.strip().upper() for s in self.status)
        unknown = sorted(set(wanted) - set(statuses))
        if unknown:
            raise ValidationError(
                f"unknown status {', '.join(unknown)}",
                fields=[field_error("status", f"one of {', '.join(statuses)}")],
            )
        limit = self.limit or app_extensions()["settings"].orders_page_size
        return PageQuery(
            statuses=wanted,
            symbol=self.symbol,
            since=_time_param(self.from_, end=False) if self.from_ else None,
            until=_time_param(self.to, end=True) if self.to else None,
            before_id=int(self.cursor) if self.cursor else None,
            limit=limit + 1,
        )


def page(items: list, limit: int, id_of: Any) -> tuple[list, str | None]:
    """Trim the extra row fetched by `page_query`; return the page and the cursor of the next one."""
    if len(items) < limit:
        return items, None
    items = items[: limit - 1]
    return items, str(id_of(items[-1]))


def csv_response(filename: str, header: list[str], rows: list[list[Any]]) -> Response:
    """A CSV download."""
    return Response(
        to_csv(header, rows), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
