"""Accounts and sessions: register, login, Google sign-in, refresh, logout, who am I."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint
from flask_jwt_extended import get_jwt, jwt_required
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from backend import db
from backend.extensions import app_extensions, limiter
from controller.accounts import users
from routes.validation import json_body
from services.accounts import auth, identity
from services.realtime.sessions import end_token_sessions
from utils import metrics
from utils.validators import free_text, normalize_email

bp = Blueprint("auth", __name__)
user_alias_bp = Blueprint("user_alias", __name__)

Password = Annotated[str, Field(min_length=8, max_length=128)]
Name = free_text(100, trim=True)
Email = Annotated[str, Field(max_length=254), AfterValidator(normalize_email)]
TOKEN_PATTERN = r"^[\x21-\x7e]+$"  # JWTs and Google codes: printable ASCII, no spaces
GoogleToken = Annotated[str, Field(min_length=1, max_length=8192, pattern=TOKEN_PATTERN)]


class _Body(BaseModel):
    """Request bodies: unknown fields are ignored; an optional field may be absent but not null."""

    model_config = ConfigDict(extra="ignore")


class RegisterBody(_Body):
    email: Email
    password: Password
    name: Name


class LoginBody(_Body):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class GoogleLoginBody(_Body):
    code: GoogleToken = None
    credential: GoogleToken = None

    @model_validator(mode="after")
    def _exactly_one(self) -> GoogleLoginBody:
        if (self.code is None) == (self.credential is None):
            raise ValueError("send either `code` (popup flow) or `credential` (ID token)")
        return self


class LogoutBody(_Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096, pattern=TOKEN_PATTERN)] = None


def _auth_rate_limit() -> str:
    return app_extensions()["settings"].auth_rate_limit


rate_limited = limiter.limit(_auth_rate_limit, error_message="Too many attempts; retry later")


def _session(user: users.User, event: str) -> dict[str, Any]:
    metrics.AUTH_EVENTS.labels(event, "ok").inc()
    return {"user": user.to_json(), **auth.issue_tokens(user)}


@bp.post("/register")
@rate_limited
@json_body(RegisterBody)
def register(body: RegisterBody):
    """Create an account (email, password, name) with its paper account, and sign in."""
    user = identity.register(body.email, body.password, body.name)
    return {"status": "success", "data": _session(user, "register")}, 201


@bp.post("/login")
@rate_limited
@json_body(LoginBody)
def login(body: LoginBody):
    """Sign in with email and password."""
    user = identity.login(body.email, body.password)
    return {"status": "success", "data": _session(user, "login")}


@bp.post("/google-login")
@rate_limited
@json_body(GoogleLoginBody)
def google_login(body: GoogleLoginBody):
    """Sign in (or up) with Google: `{code}` from the popup flow or `{credential}` (an ID token)."""
    user, is_new = identity.google_login(body.code, body.credential)
    session = _session(user, "google_login")
    data = {
        "token": session["access_token"],
        **session,
        "role": user.role,
        "status": user.status,
        "is_new_user": is_new,
    }
    # `token` and `role` also at the top level: where existing dashboard clients read them.
    return {"status": "success", "token": data["token"], "role": user.role, "data": data}


@bp.post("/refresh")
@jwt_required(refresh=True)
def refresh():
    """A new access token for the refresh token in the Authorization header."""
    user = auth.current_user()
    metrics.AUTH_EVENTS.labels("refresh", "ok").inc()
    return {"status": "success", "data": auth.issue_access_token(user.user_id, user.role)}


@bp.post("/logout")
@jwt_required(verify_type=False)
@json_body(LogoutBody)
def logout(body: LogoutBody):
    """Revoke the presented token and, when sent, the refresh token `{refresh_token}`."""
    revoked = {get_jwt()["type"]}
    if body.refresh_token:  # first: another user's token is a 403 that revokes nothing
        revoked.add(auth.revoke_encoded(body.refresh_token, auth.current_user_id()))
    auth.revoke(get_jwt())
    end_token_sessions({get_jwt()["jti"]})  # the sockets signed in with it; other processes' at their next check
    metrics.AUTH_EVENTS.labels("logout", "ok").inc()
    return {"status": "success", "data": {"revoked": sorted(revoked - {None})}}


def _signed_in_user() -> dict[str, Any]:
    with db.connection() as conn:
        return users.get_user(conn, auth.current_user_id()).to_json()


@bp.get("/me")
@jwt_required()
def me():
    """The signed-in user."""
    return {"status": "success", "data": {"user": _signed_in_user()}}


@user_alias_bp.get("/verify")
@jwt_required()
def verify():
    """The signed-in user, also as top-level `valid: true` and `user` (where existing dashboard clients read it)."""
    user = _signed_in_user()
    return {"status": "success", "valid": True, "user": user, "data": {"user": user}}
