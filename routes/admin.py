"""Administration (role admin, checked against the database): users, scheduler jobs, the market session."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend import db
from controller.accounts import users
from routes.validation import json_body, query_params
from services.accounts import auth
from services.accounts.auth import admin_required
from services.market import market_clock
from services.platform import admin_jobs
from services.trading import account_status
from utils.errors import Conflict

bp = Blueprint("admin", __name__)


class UsersQuery(BaseModel):
    """GET /admin/users: one page, optionally by status and role."""

    model_config = ConfigDict(extra="ignore")

    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    status: Literal["active", "blocked"] | None = None
    role: Literal["user", "admin"] | None = None


class UserChange(BaseModel):
    """Absent fields stay unchanged; null is not a value."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "blocked"] = None
    role: Literal["user", "admin"] = None

    @model_validator(mode="after")
    def _something(self) -> UserChange:
        if self.status is None and self.role is None:
            raise ValueError("send `status` and/or `role`")
        return self


@bp.get("/users")
@admin_required
@query_params(UsersQuery)
def list_users(query: UsersQuery):
    """One page of users (no password hashes, no Google subjects), filterable by status and role."""
    with db.connection() as conn:
        page, total = users.list_users(conn, (query.page - 1) * query.limit, query.limit, query.status, query.role)
    return {
        "status": "success",
        "data": [user.to_admin_json() for user in page],
        "count": len(page),
        "total": total,
        "page": query.page,
        "limit": query.limit,
    }


@bp.patch("/users/<int:user_id>")
@admin_required
@json_body(UserChange)
def change_user(user_id: int, body: UserChange):
    """Block/unblock a user or change their role (blocking cancels their working orders and ends their
    sockets); an admin cannot block or demote themselves."""
    if user_id == auth.current_user_id() and (body.status == "blocked" or body.role == "user"):
        raise Conflict("Administrators cannot block or demote themselves")
    user = account_status.change_user(user_id, body.status, body.role)
    return {"status": "success", "data": {"user": user.to_admin_json()}}


@bp.delete("/users/<int:user_id>")
@admin_required
def delete_user(user_id: int):
    """Delete a user and all their data (account, ledger, orders, trades, holdings, watchlists); their sockets end."""
    if user_id == auth.current_user_id():
        raise Conflict("Administrators cannot delete themselves")
    account_status.delete_user(user_id)
    return {"status": "success", "data": {"deleted": user_id}}


@bp.get("/jobs")
@admin_required
def list_jobs():
    """Scheduler jobs: last run, duration, status, error, counts, host; and the leader when known."""
    jobs = admin_jobs.job_status()
    return {"status": "success", "data": {"jobs": jobs, "leader": admin_jobs.leader_status()}, "count": len(jobs)}


@bp.post("/jobs/<name>/run")
@admin_required
def run_job(name: str):
    """Run a registered job now, in this request."""
    return {"status": "success", "data": admin_jobs.run_job_now(name)}


class SessionChange(BaseModel):
    """PUT /admin/market/session."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["exchange", "simulated"] = Field(
        description="`exchange`: follow the exchange calendar (closed nights, weekends and holidays; after-market "
        "orders, DAY expiry); `simulated`: hold the market open around the clock"
    )


@bp.put("/market/session")
@admin_required
@json_body(SessionChange)
def set_market_session(body: SessionChange):
    """Switch every process between following the exchange calendar and a simulated session; the new status."""
    market_clock.set_session_mode(body.mode, auth.current_user_id())
    return {"status": "success", "data": market_clock.status_json(market_clock.current_status())}
