"""Universe-wide technical scans of the signed-in user: submit, follow, read results, cancel; saved definitions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from flask import Blueprint, Response, current_app
from flask_jwt_extended import jwt_required
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from backend import db
from backend.extensions import app_extensions
from controller.scans import definitions
from routes._params import Symbol, csv_response, success
from routes.validation import json_body, query_params
from services.accounts.auth import current_user_id
from services.scans import service, universe, views
from services.scans.fields import FIELD_NAMES, OPERATORS
from services.scans.presets import PRESETS
from services.scans.requests import Limits, build_spec
from utils.errors import NotFound
from utils.validators import free_text

bp = Blueprint("scans", __name__)

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
FieldName = Annotated[str, Field(max_length=64), WithJsonSchema({"type": "string", "enum": list(FIELD_NAMES)})]


class ScanCondition(BaseModel):
    """`{field, op, value}` or `{field, op, ref}`: exactly one of value and ref."""

    model_config = ConfigDict(extra="forbid")

    field: FieldName
    op: Annotated[str, Field(max_length=3), WithJsonSchema({"type": "string", "enum": list(OPERATORS)})]
    value: Number | None = None
    ref: FieldName | None = None


class ScanRequest(BaseModel):
    """POST /scans: a date range, universe filters, and a preset or conditions (docs/SCANS.md)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(None, description="default: a year before end_date")
    end_date: date | None = Field(None, description="default: the last stored candle's day")
    preset: Annotated[str, Field(max_length=64), WithJsonSchema({"type": "string", "enum": list(PRESETS)})] | None = (
        None
    )
    preset_params: dict[Annotated[str, Field(max_length=64)], Number] | None = None
    conditions: Annotated[list[ScanCondition], Field(max_length=500)] | None = None
    min_price: Annotated[Number, Field(ge=0)] | None = None
    min_volume: Annotated[Number, Field(ge=0)] | None = None
    min_dollar_volume: Annotated[Number, Field(ge=0)] | None = None
    include_symbols: Annotated[list[Symbol], Field(max_length=5000)] = []
    exclude_symbols: Annotated[list[Symbol], Field(max_length=5000)] = []
    sectors: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)] = []


class ScanDefinitionCreate(BaseModel):
    """POST /scans/definitions: a name and the scan it runs."""

    model_config = ConfigDict(extra="forbid")

    name: free_text(100, about="What the saved scan is called")
    scan: ScanRequest


class ScanListQuery(BaseModel):
    """GET /scans."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class ScanResultsQuery(BaseModel):
    """GET /scans/<id>/results: sort is FIELD[:asc|desc] (a field, symbol or date)."""

    model_config = ConfigDict(extra="forbid")

    sort: Annotated[str, Field(max_length=64)] = "parabolic_score:desc"
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class ScanCsvQuery(BaseModel):
    """GET /scans/<id>/results.csv."""

    model_config = ConfigDict(extra="forbid")

    sort: Annotated[str, Field(max_length=64)] = "parabolic_score:desc"


class ScanEventsQuery(BaseModel):
    """GET /scans/<id>/events: the single-use ticket from POST /scans/<id>/events-ticket."""

    model_config = ConfigDict(extra="forbid")

    ticket: Annotated[str, Field(min_length=1, max_length=128)]


def _request(body: ScanRequest) -> dict:
    return body.model_dump(mode="json", exclude_none=True)


@bp.post("")
@jwt_required()
@json_body(ScanRequest)
def submit_scan(body: ScanRequest):
    """Queue a scan (202); 429 when the user already has the maximum queued or running."""
    return success(service.submit(current_user_id(), _request(body)), 202)


@bp.get("")
@jwt_required()
@query_params(ScanListQuery)
def list_scans(query: ScanListQuery):
    """The user's scans, newest first."""
    scans = service.list_scans(current_user_id(), query.limit, query.offset)
    return success(scans, count=len(scans))


@bp.get("/universe")
@jwt_required()
def scan_universe():
    """Instruments, stored date range, fields, operators, presets and limits: what a scan form needs."""
    return success(universe.describe(universe.current()))


@bp.get("/definitions")
@jwt_required()
def list_definitions():
    """The user's saved scan definitions."""
    with db.connection() as conn:
        found = definitions.list_definitions(conn, current_user_id())
    return success([_definition_json(d) for d in found], count=len(found))


@bp.post("/definitions")
@jwt_required()
@json_body(ScanDefinitionCreate)
def create_definition(body: ScanDefinitionCreate):
    """Save a named scan (validated as POST /scans would); 409 for a duplicate name."""
    settings = app_extensions()["settings"]
    request = _request(body.scan)
    build_spec(request, universe.current(), Limits(settings.scan_max_range_days, settings.scan_max_conditions))
    with db.connection() as conn:
        definition_id = definitions.create_definition(conn, current_user_id(), body.name, request)
        created = definitions.get_definition(conn, current_user_id(), definition_id)
    return success(_definition_json(created), 201)


@bp.delete("/definitions/<int:definition_id>")
@jwt_required()
def delete_definition(definition_id: int):
    """Delete a saved definition (204); 404 when it is not the user's."""
    with db.connection() as conn:
        if not definitions.delete_definition(conn, current_user_id(), definition_id):
            raise NotFound(f"no scan definition {definition_id}")
    return "", 204


def _definition_json(row: dict) -> dict:
    return {
        "definition_id": row["definition_id"],
        "name": row["name"],
        "scan": row["params"],
        "created_at": row["created_at"].isoformat(),
    }


@bp.get("/<int:scan_id>")
@jwt_required()
def get_scan(scan_id: int):
    """One scan: status, progress, timing, clamped range."""
    return success(views.scan_json(service.get(current_user_id(), scan_id)))


@bp.delete("/<int:scan_id>")
@jwt_required()
def cancel_or_delete_scan(scan_id: int):
    """Cancel a queued or running scan (202) or delete a finished one with its results (204)."""
    outcome = service.cancel_or_delete(current_user_id(), scan_id)
    if outcome == "deleted":
        return "", 204
    return success({"scan_id": scan_id, "status": outcome}, 202)


@bp.get("/<int:scan_id>/results")
@jwt_required()
@query_params(ScanResultsQuery)
def scan_results(scan_id: int, query: ScanResultsQuery):
    """One page of the scan's result rows, sorted."""
    job, total, rows = service.result_rows(current_user_id(), scan_id, query.sort, query.limit, query.offset)
    return success(
        rows,
        count=len(rows),
        total=total,
        truncated=bool(job.result.get("truncated", False)),
        scan_status=job.status,
        sort=query.sort,
        limit=query.limit,
        offset=query.offset,
    )


@bp.get("/<int:scan_id>/results.csv")
@jwt_required()
@query_params(ScanCsvQuery)
def scan_results_csv(scan_id: int, query: ScanCsvQuery):
    """Every stored row of the scan as formula-safe CSV."""
    header, rows = service.results_table(current_user_id(), scan_id, query.sort)
    return csv_response(f"scan-{scan_id}.csv", header, rows)


@bp.post("/<int:scan_id>/events-ticket")
@jwt_required()
def scan_events_ticket(scan_id: int):
    """A single-use ticket, valid 60 s, for the scan's Server-Sent Events (EventSource cannot send headers)."""
    return success(service.events_ticket(current_user_id(), scan_id), 201)


@bp.get("/<int:scan_id>/events")
@query_params(ScanEventsQuery)
def scan_events(scan_id: int, query: ScanEventsQuery):
    """Server-Sent Events: scan_progress while the scan moves, then scan_done."""
    user_id = service.spend_ticket(scan_id, query.ticket)
    stream = service.event_stream(current_app._get_current_object(), user_id, scan_id)
    return Response(stream, mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})
