"""Users: creation, look-ups by id / email / Google subject, role and status changes, listing, deletion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mysql.connector import errors as mysql_errors

from controller.sql import execute, fetch_all, fetch_one, fetch_value
from utils.errors import Conflict, NotFound
from utils.timeutil import iso_ist, to_db

Role = Literal["user", "admin"]
Status = Literal["active", "blocked"]
_DUPLICATE_KEY = 1062

_COLUMNS = """user_id, email, name, role, status, created_at, last_login_at,
    password_hash IS NOT NULL AS has_password, google_sub IS NOT NULL AS google_linked"""
_INSERT = "INSERT INTO users (email, name, password_hash, google_sub, role) VALUES (%s, %s, %s, %s, %s)"


@dataclass(frozen=True, slots=True)
class User:
    """A user as the API shows it: never the password hash nor the Google subject."""

    user_id: int
    email: str
    name: str
    role: Role
    status: Status
    created_at: datetime
    last_login_at: datetime | None
    has_password: bool
    google_linked: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        """Build from a row selected with this module's column list."""
        return cls(
            user_id=int(row["user_id"]),
            email=row["email"],
            name=row["name"],
            role=row["role"],
            status=row["status"],
            created_at=row["created_at"],
            last_login_at=row["last_login_at"],
            has_password=bool(row["has_password"]),
            google_linked=bool(row["google_linked"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The `user` object of docs/API.md."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "status": self.status,
            "created_at": iso_ist(self.created_at),
        }

    def to_admin_json(self) -> dict[str, Any]:
        """The admin listing row: the public fields plus login and sign-in method facts."""
        return {
            **self.to_json(),
            "last_login_at": iso_ist(self.last_login_at),
            "has_password": self.has_password,
            "google_linked": self.google_linked,
        }


def create_user(
    conn: Any, email: str, name: str, password_hash: str | None, role: Role, google_sub: str | None = None
) -> User:
    """Insert a user; Conflict when the email (or Google account) is already registered."""
    try:
        _, user_id = execute(conn, _INSERT, (email, name, password_hash, google_sub, role))
    except mysql_errors.IntegrityError as exc:
        if exc.errno == _DUPLICATE_KEY:
            raise Conflict("an account with this email already exists") from None
        raise
    return get_user(conn, user_id)


def get_user(conn: Any, user_id: int) -> User:
    """The user with this id; NotFound otherwise."""
    row = fetch_one(conn, f"SELECT {_COLUMNS} FROM users WHERE user_id = %s", (user_id,))
    if row is None:
        raise NotFound("user not found")
    return User.from_row(row)


def find_with_password(conn: Any, email: str) -> tuple[User, str | None] | None:
    """The user with this email and their password hash (None when they have none), or None."""
    row = fetch_one(conn, f"SELECT {_COLUMNS}, password_hash FROM users WHERE email = %s", (email,))
    return (User.from_row(row), row["password_hash"]) if row else None


def find_for_google(conn: Any, google_sub: str, email: str) -> tuple[User, str | None] | None:
    """The user linked to this Google subject, else the one with this email, with their google_sub."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS}, google_sub FROM users WHERE google_sub = %s OR email = %s "
        "ORDER BY google_sub = %s DESC LIMIT 1",
        (google_sub, email, google_sub),
    )
    return (User.from_row(row), row["google_sub"]) if row else None


def link_google(conn: Any, user_id: int, google_sub: str) -> None:
    """Attach a Google subject to an existing user."""
    execute(conn, "UPDATE users SET google_sub = %s WHERE user_id = %s", (google_sub, user_id))


def record_login(conn: Any, user_id: int, now: datetime, promote_to_admin: bool) -> User:
    """Stamp the login time (and grant the admin role when bootstrapped); return the fresh user."""
    role_sql = ", role = 'admin'" if promote_to_admin else ""
    execute(conn, f"UPDATE users SET last_login_at = %s{role_sql} WHERE user_id = %s", (to_db(now), user_id))
    return get_user(conn, user_id)


def update_user(conn: Any, user_id: int, status: Status | None, role: Role | None) -> User:
    """Change a user's status and/or role; NotFound when there is no such user."""
    changes = {name: value for name, value in (("status", status), ("role", role)) if value is not None}
    if changes:
        assignments = ", ".join(f"{name} = %s" for name in changes)
        execute(conn, f"UPDATE users SET {assignments} WHERE user_id = %s", (*changes.values(), user_id))
    return get_user(conn, user_id)


def delete_user(conn: Any, user_id: int) -> None:
    """Delete a user; foreign keys cascade to their account, ledger, orders, trades, holdings, watchlists."""
    rowcount, _ = execute(conn, "DELETE FROM users WHERE user_id = %s", (user_id,))
    if rowcount != 1:
        raise NotFound("user not found")


def list_users(
    conn: Any, offset: int, limit: int, status: Status | None = None, role: Role | None = None
) -> tuple[list[User], int]:
    """One page of users ordered by id, and the total matching the filters."""
    filters = [(name, value) for name, value in (("status", status), ("role", role)) if value is not None]
    where = " AND ".join(f"{name} = %s" for name, _ in filters) or "1 = 1"
    params = tuple(value for _, value in filters)
    total = int(fetch_value(conn, f"SELECT COUNT(*) FROM users WHERE {where}", params))
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM users WHERE {where} ORDER BY user_id LIMIT %s OFFSET %s",
        (*params, limit, offset),
    )
    return [User.from_row(row) for row in rows], total
