"""Turn a scan request (already shaped by the route's model) into a ScanSpec, or a 400 that lists what is valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.scans.engine import Condition, ScanSpec
from services.scans.fields import FIELD_NAMES, OPERATORS
from services.scans.presets import PRESETS, lc_params
from services.scans.universe import Universe
from utils.errors import ValidationError, field_error

_EPOCH = date(1970, 1, 1)
DEFAULT_RANGE_DAYS = 365


@dataclass(frozen=True)
class Limits:
    """The request limits from settings."""

    max_range_days: int
    max_conditions: int


def _invalid(field: str, message: str, **details: Any) -> ValidationError:
    return ValidationError(message, details=details, fields=[field_error(field, message)])


def _as_date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _day(value: date) -> int:
    return (value - _EPOCH).days


def _conditions(request: dict[str, Any], limits: Limits) -> tuple[tuple[Condition, ...], dict[str, float]]:
    preset, conditions = request.get("preset"), request.get("conditions")
    if (preset is None) == (conditions is None):
        raise _invalid("preset", "give either a preset or conditions (not both)", presets=sorted(PRESETS))
    if preset is not None:
        if preset not in PRESETS:
            raise _invalid("preset", f"unknown preset {preset!r}", allowed=sorted(PRESETS))
        params = request.get("preset_params") or {}
        unknown = sorted(set(params) - set(PRESETS[preset].params))
        if unknown:
            raise _invalid(
                "preset_params", f"unknown parameters {', '.join(unknown)}", allowed=sorted(PRESETS[preset].params)
            )
        return PRESETS[preset].conditions(params), params
    if request.get("preset_params"):
        raise _invalid("preset_params", "preset_params need a preset")
    if not conditions:
        raise _invalid("conditions", "give at least one condition")
    if len(conditions) > limits.max_conditions:
        raise _invalid("conditions", f"at most {limits.max_conditions} conditions", limit=limits.max_conditions)
    out = []
    for n, cond in enumerate(conditions):
        where = f"conditions.{n}"
        if cond["field"] not in FIELD_NAMES:
            raise _invalid(f"{where}.field", f"unknown field {cond['field']!r}", allowed=list(FIELD_NAMES))
        if cond["op"] not in OPERATORS:
            raise _invalid(f"{where}.op", f"unknown operator {cond['op']!r}", allowed=list(OPERATORS))
        has_value, has_ref = cond.get("value") is not None, cond.get("ref") is not None
        if has_value == has_ref:
            raise _invalid(where, "give exactly one of value (a number) and ref (another field)")
        if has_ref and cond["ref"] not in FIELD_NAMES:
            raise _invalid(f"{where}.ref", f"unknown field {cond['ref']!r}", allowed=list(FIELD_NAMES))
        value = float(cond["value"]) if has_value else None
        out.append(Condition(cond["field"], cond["op"], value, cond.get("ref")))
    return tuple(out), {}


def _dates(request: dict[str, Any], universe: Universe, limits: Limits) -> tuple[date, date, dict[str, Any]]:
    if universe.first_date is None or universe.last_date is None:
        raise _invalid("start_date", "no daily candles are stored yet")
    end = _as_date(request.get("end_date")) or universe.last_date
    start = _as_date(request.get("start_date")) or end - timedelta(days=DEFAULT_RANGE_DAYS)
    if end < start:
        raise _invalid("end_date", "end_date is before start_date")
    if (end - start).days > limits.max_range_days:
        raise _invalid("end_date", f"the range is over {limits.max_range_days} days", limit=limits.max_range_days)
    data = {"first_date": universe.first_date.isoformat(), "last_date": universe.last_date.isoformat()}
    if end < universe.first_date or start > universe.last_date:
        raise _invalid("start_date", "the range is entirely outside the stored data", data_range=data)
    clamped_start, clamped_end = max(start, universe.first_date), min(end, universe.last_date)
    clamped = {
        "start_date": clamped_start.isoformat(),
        "end_date": clamped_end.isoformat(),
        "requested_start_date": start.isoformat(),
        "requested_end_date": end.isoformat(),
        "clamped": (clamped_start, clamped_end) != (start, end),
    }
    return clamped_start, clamped_end, clamped


def build_spec(request: dict[str, Any], universe: Universe, limits: Limits) -> tuple[ScanSpec, dict[str, Any]]:
    """The ScanSpec of a request and its clamped range; ValidationError (400) naming the bad part and the valid ones."""
    conditions, params = _conditions(request, limits)
    start, end, clamped = _dates(request, universe, limits)
    unknown_sectors = sorted(set(request.get("sectors") or ()) - set(universe.sectors))
    if unknown_sectors:
        raise _invalid("sectors", f"unknown sectors {', '.join(unknown_sectors)}", allowed=list(universe.sectors))
    include = tuple(request.get("include_symbols") or ())
    unknown_symbols = sorted(set(include) - universe.symbols)
    if unknown_symbols:
        raise _invalid("include_symbols", f"unknown symbols {', '.join(unknown_symbols)}", unknown=unknown_symbols)
    preset = request.get("preset")
    defaults = PRESETS[preset].filters if preset else {}
    filters = {
        name: request.get(name) if request.get(name) is not None else defaults.get(name)
        for name in ("min_price", "min_volume", "min_dollar_volume")
    }
    spec = ScanSpec(
        start_day=_day(start),
        end_day=_day(end),
        conditions=conditions,
        lc=lc_params(preset, params),
        include_symbols=include,
        exclude_symbols=tuple(request.get("exclude_symbols") or ()),
        sectors=tuple(request.get("sectors") or ()),
        **filters,
    )
    return spec, clamped
