"""Load the daily panel from the database, and keep a loaded one current between scans (in the scan process).

A panel is reloaded when the daily candles' fingerprint (count, instruments, first and last day) changes; when
it has not, only the newest day's candles are read again, since the end-of-day job rewrites today's candle
while the market is open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from controller.scans import panel as panel_sql
from services.scans.engine import ScanCancelled
from services.scans.panel import Instrument, Panel

LOAD_BATCH = 250  # instruments per query: progress and cancellation between batches
Progress = Callable[[int, int, str], None]  # instruments loaded, total, last symbol


def parse(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(stock ids, candles as an n×6 matrix of day, open, high, low, close, volume) from candles_text rows."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(panel_sql.CANDLE_COLUMNS)))
    values = np.fromstring(",".join(row["v"] for row in rows), sep=",")  # C parsing, ~20x a Python split
    ids = np.repeat([int(row["stock_id"]) for row in rows], [int(row["n"]) for row in rows])
    return ids, values.reshape(-1, len(panel_sql.CANDLE_COLUMNS))


def load(conn: Any, progress: Progress | None = None, cancelled: Callable[[], bool] = lambda: False) -> Panel:
    """Every active instrument's daily candles as a Panel."""
    panel_sql.prepare(conn)
    fingerprint = panel_sql.fingerprint(conn)
    instruments = [Instrument(**row) for row in panel_sql.instruments(conn)]
    ids_parts, candle_parts = [], []
    for first in range(0, len(instruments), LOAD_BATCH):
        if cancelled():
            raise ScanCancelled
        batch = instruments[first : first + LOAD_BATCH]
        ids, candles = parse(panel_sql.candles_text(conn, [i.stock_id for i in batch]))
        ids_parts.append(ids)
        candle_parts.append(candles)
        if progress is not None:
            progress(first + len(batch), len(instruments), batch[-1].symbol)
    ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, dtype=np.int64)
    candles = np.vstack(candle_parts) if candle_parts else np.zeros((0, 6))
    row_of = {ins.stock_id: n for n, ins in enumerate(instruments)}
    rows = np.array([row_of[i] for i in ids.tolist()], dtype=np.int64) if ids.size else ids
    columns = {name: candles[:, k] for k, name in enumerate(panel_sql.CANDLE_COLUMNS)}
    panel = Panel.from_candles(instruments, rows, columns.pop("day").astype(np.int64), columns)
    panel.fingerprint = fingerprint
    return panel


def refresh(conn: Any, panel: Panel | None, progress: Progress | None = None, cancelled=lambda: False) -> Panel:
    """`panel` brought up to date (the same object when only its newest day changed), or a freshly loaded one."""
    if panel is None:
        return load(conn, progress, cancelled)
    panel_sql.prepare(conn)
    if panel_sql.fingerprint(conn) != panel.fingerprint:
        return load(conn, progress, cancelled)
    last = panel.fingerprint.get("last_ts")
    if last is not None and panel.day.size:
        _patch_newest_day(conn, panel, last)
    return panel


def _patch_newest_day(conn: Any, panel: Panel, last_ts: Any) -> None:
    ids, candles = parse(panel_sql.candles_text(conn, [i.stock_id for i in panel.instruments], since=last_ts))
    row_of = {ins.stock_id: n for n, ins in enumerate(panel.instruments)}
    changed = False
    for stock_id, candle in zip(ids.tolist(), candles, strict=True):
        row = row_of[stock_id]
        if panel.day[row, -1] != int(candle[0]):
            continue  # the fingerprint would differ if a day had been added; nothing to patch
        for k, name in enumerate(panel_sql.CANDLE_COLUMNS[1:], start=1):
            if panel.arrays[name][row, -1] != candle[k]:
                panel.arrays[name][row, -1] = candle[k]
                changed = True
    if changed:
        panel.cache.clear()
