"""Evaluate a scan over a panel: universe filters per (symbol, day), conditions, the result rows (vectorised numpy).

Rows are evaluated in chunks of instruments, so progress can be reported and a cancellation honoured between
chunks; a chunk reads only the columns of the requested date range (plus the two candles before it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from services.scans.fields import FIELD_NAMES, HISTORY_COLUMNS, LcParams, compare, window_fields
from services.scans.panel import NO_DAY, Panel

CHUNK_ROWS = 200


class ScanCancelled(Exception):
    """The scan was asked to stop between two chunks."""


@dataclass(frozen=True)
class Condition:
    """`field OP value` or `field OP ref` (another field)."""

    field: str
    op: str
    value: float | None = None
    ref: str | None = None


@dataclass(frozen=True)
class ScanSpec:
    """What to scan, already validated (services/scans/requests.py): days are days since 1970-01-01."""

    start_day: int
    end_day: int
    conditions: tuple[Condition, ...]
    lc: LcParams = field(default_factory=LcParams)
    min_price: float | None = None
    min_volume: float | None = None
    min_dollar_volume: float | None = None
    include_symbols: tuple[str, ...] = ()
    exclude_symbols: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()

    def used_fields(self) -> set[str]:
        """The fields a (symbol, day) needs defined to be evaluated."""
        return {c.field for c in self.conditions} | {c.ref for c in self.conditions if c.ref}


@dataclass
class ScanOutcome:
    """The matching rows (instrument index, day, every field in FIELD_NAMES order), capped at the row limit."""

    rows: np.ndarray
    days: np.ndarray
    values: np.ndarray
    results_found: int
    truncated: bool
    processed: int


Progress = Callable[[int, int, str, int], None]  # processed instruments, total, current symbol, results so far


def selected_rows(panel: Panel, spec: ScanSpec) -> np.ndarray:
    """Indexes of the instruments the symbol and sector filters keep."""
    include, exclude, sectors = set(spec.include_symbols), set(spec.exclude_symbols), set(spec.sectors)
    return np.array(
        [
            i
            for i, ins in enumerate(panel.instruments)
            if (not include or ins.symbol in include)
            and ins.symbol not in exclude
            and (not sectors or ins.sector in sectors)
        ],
        dtype=np.int64,
    )


def run(
    panel: Panel,
    spec: ScanSpec,
    max_rows: int,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> ScanOutcome:
    """Evaluate `spec` over `panel`; raise ScanCancelled when `cancelled()` turns true between chunks."""
    rows = selected_rows(panel, spec)
    found_rows, found_days, found_values = [], [], []
    found = 0
    for first in range(0, rows.size, CHUNK_ROWS):
        if cancelled():
            raise ScanCancelled
        chunk = rows[first : first + CHUNK_ROWS]
        hit = _evaluate(panel, spec, chunk)
        if hit is not None:
            r, d, v = hit
            found_rows.append(r)
            found_days.append(d)
            found_values.append(v)
            found += r.size
        if progress is not None:
            progress(first + chunk.size, rows.size, panel.instruments[chunk[-1]].symbol, found)
    if cancelled():
        raise ScanCancelled
    if not found_rows:
        empty = np.zeros(0, dtype=np.int64)
        return ScanOutcome(empty, empty, np.zeros((0, len(FIELD_NAMES))), 0, False, rows.size)
    out_rows, out_days, values = np.concatenate(found_rows), np.concatenate(found_days), np.vstack(found_values)
    truncated = out_rows.size > max_rows
    if truncated:  # keep the rows the default sort shows first: highest parabolic_score, newest day
        score = values[:, FIELD_NAMES.index("parabolic_score")]
        order = np.lexsort((-out_days, np.where(np.isnan(score), np.inf, -score)))[:max_rows]
        out_rows, out_days, values = out_rows[order], out_days[order], values[order]
    return ScanOutcome(out_rows, out_days, values, found, truncated, rows.size)


def _evaluate(panel: Panel, spec: ScanSpec, chunk: np.ndarray) -> tuple[np.ndarray, ...] | None:
    days = panel.day[chunk]
    in_range = (days >= spec.start_day) & (days <= spec.end_day) & (days != NO_DAY)
    columns = np.flatnonzero(in_range.any(axis=0))
    if columns.size == 0:
        return None
    lo, hi = int(columns[0]), int(columns[-1]) + 1
    values = window_fields(panel.window(chunk, lo, hi, HISTORY_COLUMNS), spec.lc)
    mask = in_range[:, lo:hi].copy()
    for name in spec.used_fields():
        mask &= ~np.isnan(values[name])
    for cond in spec.conditions:
        right = values[cond.ref] if cond.ref else cond.value
        mask &= compare(values[cond.field], cond.op, right)
    close, volume = values["close"], values["volume"]
    if spec.min_price is not None:
        mask &= compare(close, ">=", spec.min_price)
    if spec.min_volume is not None:
        mask &= compare(volume, ">=", spec.min_volume)
    if spec.min_dollar_volume is not None:
        mask &= compare(values["dollar_volume"], ">=", spec.min_dollar_volume)
    r, c = np.nonzero(mask)
    if r.size == 0:
        return None
    matrix = np.column_stack([values[name][r, c] for name in FIELD_NAMES])
    return chunk[r], days[:, lo:hi][r, c].astype(np.int64), matrix


def spec_to_json(spec: ScanSpec) -> dict:
    """A ScanSpec as JSON-ready data (stored with the job, sent to the scan process)."""
    return asdict(spec)


def spec_from_json(data: dict) -> ScanSpec:
    """The ScanSpec that spec_to_json made."""
    return ScanSpec(
        **{
            **data,
            "conditions": tuple(Condition(**c) for c in data["conditions"]),
            "lc": LcParams(**data["lc"]),
            "include_symbols": tuple(data["include_symbols"]),
            "exclude_symbols": tuple(data["exclude_symbols"]),
            "sectors": tuple(data["sectors"]),
        }
    )
