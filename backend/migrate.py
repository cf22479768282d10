"""Versioned SQL migrations (backend/migrations/NNNN_name.sql) and the idempotent db_indexes.sql.

Each applied migration is recorded with the SHA-256 of its file. A file edited after it was applied would
leave databases that ran the old text and databases that run the new one with different schemas, so
`migrate` refuses to go on (MigrationEdited) until the edit is undone and made a new migration instead.
A comment reworded in an applied file is listed in `_REWORDED` with the checksum it replaced: a database that
recorded that one is accepted and its record updated.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
INDEXES_FILE = ROOT / "db_indexes.sql"
_CREATE_INDEX = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(\w+)\s+ON\s+(\w+)", re.IGNORECASE)

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     VARCHAR(128) NOT NULL,
    checksum    CHAR(64)     NOT NULL,
    applied_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""


# version -> the checksum of its file before a comment-only rewording (the statements are unchanged)
_REWORDED = {"0001_core": "c0b594afe47a2a5c17bb83006cddee32008e630051ad40eb5c5b64bbb103d15c"}


class MigrationEdited(RuntimeError):
    """An already-applied migration's file no longer has the checksum it was applied with."""


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def split_statements(sql: str) -> list[str]:
    """Split a SQL script on semicolons that end a line; drop `--` comment lines."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements, current = [], []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).strip().rstrip(";"))
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return [s for s in statements if s]


def _index_exists(cursor: Any, table: str, index: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM information_schema.statistics "
        "WHERE table_schema = DATABASE() AND table_name = %s AND index_name = %s LIMIT 1",
        (table, index),
    )
    return cursor.fetchone() is not None


def migrate(conn: Any) -> list[str]:
    """Apply pending migrations in order, then db_indexes.sql; return the versions applied."""
    cursor = conn.cursor()
    cursor.execute(_BOOKKEEPING)
    cursor.execute("SELECT version, checksum FROM schema_migrations")
    applied = dict(cursor.fetchall())
    files = sorted(MIGRATIONS_DIR.glob("*.sql"))
    for path in files:
        checksum = _checksum(path.read_text())
        if path.stem in applied and applied[path.stem] == _REWORDED.get(path.stem):
            cursor.execute("UPDATE schema_migrations SET checksum = %s WHERE version = %s", (checksum, path.stem))
        elif path.stem in applied and applied[path.stem] != checksum:
            cursor.close()
            raise MigrationEdited(
                f"migration {path.name} was edited after it was applied (its checksum differs from the one "
                "recorded in schema_migrations): restore it and put the change in a new migration"
            )
    done = []
    for path in files:
        version = path.stem
        if version in applied:
            continue
        text = path.read_text()
        log.info("applying migration %s", version)
        for statement in split_statements(text):
            cursor.execute(statement)
        cursor.execute(
            "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
            (version, _checksum(text)),
        )
        conn.commit()
        done.append(version)
    for statement in split_statements(INDEXES_FILE.read_text()):
        match = _CREATE_INDEX.match(statement)
        if match and _index_exists(cursor, match.group(2), match.group(1)):
            continue
        cursor.execute(statement)
    conn.commit()
    cursor.close()
    return done
