"""A scan's result rows (`scan_results`): bulk load, count, sorted pages joined with the instruments."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from mysql.connector import errors as mysql_errors

from controller.sql import execute, execute_many, fetch_all, fetch_value

_LOCAL_INFILE_REFUSED = {1148, 2068, 3948, 4166}  # disabled on the server or refused by the client
RESULT_EXTRA_SORTS = ("symbol", "date")


def _insert_sql(fields: Sequence[str]) -> str:
    columns = ", ".join(("job_id", "row_no", "stock_id", "day", *fields))
    return f"INSERT INTO scan_results ({columns}) VALUES ({', '.join(['%s'] * (4 + len(fields)))})"


def load(
    conn: Any, job_id: int, fields: Sequence[str], tsv: str, workdir: str, rows: Callable[[], Sequence[Sequence[Any]]]
) -> None:
    """Store result rows. `tsv` holds them as LOAD DATA text: row_no, stock_id, days since epoch, then `fields`
    (\\N for NULL); `rows()` gives the same as tuples (row_no, stock_id, date, values...) for servers that refuse
    LOCAL INFILE, which then get multi-row INSERTs."""
    if not tsv:
        return
    fd, path = tempfile.mkstemp(suffix=".tsv", dir=workdir)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(tsv)
        columns = ", ".join(fields)
        try:
            execute(
                conn,
                f"LOAD DATA LOCAL INFILE %s INTO TABLE scan_results (row_no, stock_id, @day, {columns}) "
                "SET job_id = %s, day = FROM_DAYS(@day + 719528)",
                (path, job_id),
            )
        except (mysql_errors.DatabaseError, mysql_errors.InterfaceError) as exc:
            if exc.errno not in _LOCAL_INFILE_REFUSED:
                raise
            execute_many(conn, _insert_sql(fields), [(job_id, *row) for row in rows()], batch_size=2000)
    finally:
        os.unlink(path)


def count(conn: Any, job_id: int) -> int:
    """How many rows a scan stored."""
    return int(fetch_value(conn, "SELECT COUNT(*) FROM scan_results WHERE job_id = %s", (job_id,)))


def page(
    conn: Any, job_id: int, fields: Sequence[str], sort: str, descending: bool, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Rows sorted by `sort` (a field, `symbol` or `date`; NULLs last), then by day and symbol; `sort` must be
    one of `fields` or RESULT_EXTRA_SORTS (checked by the caller: it goes into the SQL as a column name)."""
    if sort not in fields and sort not in RESULT_EXTRA_SORTS:
        raise ValueError(f"unknown sort column {sort!r}")
    column = {"symbol": "s.symbol", "date": "r.day"}.get(sort, f"r.{sort}")
    direction = "DESC" if descending else "ASC"
    values = ", ".join(f"r.{name}" for name in fields)
    return fetch_all(
        conn,
        f"SELECT s.symbol, s.company_name, s.sector, r.day AS date, {values} "
        f"FROM scan_results r JOIN stocks s ON s.stock_id = r.stock_id WHERE r.job_id = %s "
        f"ORDER BY {column} IS NULL, {column} {direction}, r.day DESC, s.symbol LIMIT %s OFFSET %s",
        (job_id, limit, offset),
    )
