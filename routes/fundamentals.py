"""Fundamentals (public, from memory, at the current price): the PEG table, its CSV, and one stock's fundamentals."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from backend.extensions import app_extensions
from routes._params import csv_response, success
from routes.http_cache import QUOTE_MAX_AGE_S, cached_json
from routes.validation import query_params
from services.fundamentals import peg_table
from services.fundamentals.book import SORTABLE
from utils.errors import NotFound, ValidationError, field_error
from utils.validators import SYMBOL_PATTERN

bp = Blueprint("fundamentals", __name__)
stock_bp = Blueprint("stock_fundamentals", __name__)
_SYMBOL = re.compile(SYMBOL_PATTERN)
SORTS = [f"{name}:{direction}" for name in SORTABLE for direction in ("asc", "desc")]
Number = Annotated[float, Field(allow_inf_nan=False)]
Sort = Annotated[
    str,
    Field(max_length=40, description="FIELD[:asc|desc]; undefined values last either way"),
    WithJsonSchema({"type": "string", "enum": SORTS}),
]


class _Filters(BaseModel):
    """The PEG table's filters (every one optional; an instrument whose value is undefined never passes it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sector: Annotated[str, Field(min_length=1, max_length=64, description="Exact sector name")] | None = None
    peg_max: Number | None = Field(None, description="PEG at most this")
    pe_max: Number | None = Field(None, description="P/E at most this")
    growth_min: Number | None = Field(None, description="The PEG's growth figure (peg_basis) at least this, in %")
    min_market_cap: Annotated[Number, Field(ge=0)] | None = Field(None, description="Market cap at least this (₹)")
    exclude_null: bool = Field(False, description="Leave out instruments whose PEG is undefined")
    sort: Sort = "peg:asc"

    @model_validator(mode="before")
    @classmethod
    def _known_parameters(cls, values: Any) -> Any:
        """An unknown parameter is a 400 listing the valid ones (raised as is: pydantic wraps only ValueError)."""
        if isinstance(values, dict):
            unknown = sorted(set(values) - set(cls.model_fields))
            if unknown:
                allowed = list(cls.model_fields)
                raise ValidationError(
                    f"unknown parameter {unknown[0]!r}",
                    details={"allowed": allowed},
                    fields=[field_error(name, f"unknown; valid: {', '.join(allowed)}") for name in unknown],
                )
        return values

    def filters(self) -> dict[str, Any]:
        """The filters given (not the sort); read per request, so attribute by attribute rather than a model_dump."""
        given = ((name, getattr(self, name)) for name in FILTERS)
        return {name: value for name, value in given if value is not None and value is not False}


FILTERS = tuple(name for name in _Filters.model_fields if name != "sort")


class PegQuery(_Filters):
    """GET /fundamentals/peg: filters, sort and one page."""

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class PegCsvQuery(_Filters):
    """GET /fundamentals/peg.csv: filters and sort (every matching row, up to EXPORT_MAX_ROWS)."""


def _answered_before(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a query string the current book has answered before (it was validated then) without parsing it
    again: the PEG table's hot path (docs/FUNDAMENTALS.md, performance); anything else goes on to `view`."""

    @wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        page = peg_table.answered(request.query_string)
        if page is None:
            return view(*args, **kwargs)
        return cached_json(page[0], QUOTE_MAX_AGE_S, **page[1])

    return answer


@bp.get("/peg")
@_answered_before
@query_params(PegQuery)
def peg(query: PegQuery):
    """The PEG table: every instrument's valuation at the current price, filtered, sorted and paged."""
    data, extra = peg_table.rows(query.filters(), query.sort, query.limit, query.offset, request.query_string)
    return cached_json(data, QUOTE_MAX_AGE_S, **extra)


@bp.get("/peg.csv")
@query_params(PegCsvQuery)
def peg_csv(query: PegCsvQuery):
    """The PEG table as formula-safe CSV."""
    max_rows = app_extensions()["settings"].export_max_rows
    return csv_response("peg.csv", peg_table.CSV_HEADER, peg_table.csv_table(query.filters(), query.sort, max_rows))


@stock_bp.get("/<symbol>")
def stock_fundamentals(symbol: str):
    """One stock's fundamentals, ratios at the current price, quarters, sector median P/E and PEG rank."""
    normal = symbol.strip().upper()
    if not _SYMBOL.match(normal):
        raise NotFound(f"unknown symbol {symbol[:40]!r}")
    return success(peg_table.stock(normal))
