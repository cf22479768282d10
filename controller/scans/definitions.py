"""Saved scan definitions: a user's named POST /scans bodies."""

from __future__ import annotations

import json
from typing import Any

from mysql.connector import errors as mysql_errors

from controller.sql import execute, fetch_all, fetch_one, fetch_value
from utils.errors import Conflict

_DUPLICATE_KEY = 1062


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "params": json.loads(row["params"])}


def list_definitions(conn: Any, user_id: int) -> list[dict[str, Any]]:
    """The user's definitions, by name."""
    rows = fetch_all(
        conn,
        "SELECT definition_id, name, params, created_at FROM scan_definitions WHERE user_id = %s ORDER BY name",
        (user_id,),
    )
    return [_shape(row) for row in rows]


def get_definition(conn: Any, user_id: int, definition_id: int) -> dict[str, Any] | None:
    """One of the user's definitions."""
    row = fetch_one(
        conn,
        "SELECT definition_id, name, params, created_at FROM scan_definitions "
        "WHERE definition_id = %s AND user_id = %s",
        (definition_id, user_id),
    )
    return _shape(row) if row else None


def count_definitions(conn: Any, user_id: int) -> int:
    """How many definitions the user has."""
    return int(fetch_value(conn, "SELECT COUNT(*) FROM scan_definitions WHERE user_id = %s", (user_id,)))


def create_definition(conn: Any, user_id: int, name: str, params: dict[str, Any]) -> int:
    """Save a definition; Conflict when the user already has one of that name."""
    try:
        return execute(
            conn,
            "INSERT INTO scan_definitions (user_id, name, params) VALUES (%s, %s, %s)",
            (user_id, name, json.dumps(params)),
        )[1]
    except mysql_errors.IntegrityError as exc:
        if exc.errno != _DUPLICATE_KEY:
            raise
        raise Conflict(f"a scan definition named {name!r} exists", details={"name": name}) from None


def delete_definition(conn: Any, user_id: int, definition_id: int) -> bool:
    """Delete one of the user's definitions; False when there is none."""
    return (
        execute(
            conn, "DELETE FROM scan_definitions WHERE definition_id = %s AND user_id = %s", (definition_id, user_id)
        )[0]
        == 1
    )
