"""Domain errors that carry their HTTP status and error code (the error envelope of docs/API.md)."""

from __future__ import annotations

from typing import Any


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of `details.fields`: which request field is wrong and why."""
    return {"field": field, "message": message}


class AppError(Exception):
    """Base class: an error the client may see, with a status, a code and details.

    `details` is always an object; errors about request fields list them under `details.fields`
    as `[{field, message}]`.
    """

    status = 500
    code = "INTERNAL_ERROR"
    default_message = "Internal server error"
    default_details: dict[str, Any] = {}
    retry_after_s: int | None = None  # sent as Retry-After when set
    logged = False  # already logged where it was raised (the error handler then does not log it again)

    def __init__(
        self, message: str | None = None, details: dict[str, Any] | None = None, fields: list[dict] | None = None
    ) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details: dict[str, Any] = {**self.default_details, **(details or {})}
        if fields:
            self.details["fields"] = fields


def already_logged(exc: BaseException) -> bool:
    """Whether `exc` was logged where it was raised (the database's outage log): log it no more."""
    return isinstance(exc, AppError) and exc.logged


class ValidationError(AppError):
    """The request is malformed or a value is out of range."""

    status = 400
    code = "VALIDATION_ERROR"
    default_message = "Invalid request"


class Unauthorized(AppError):
    """No valid credentials were presented."""

    status = 401
    code = "UNAUTHORIZED"
    default_message = "Authentication required"


class TokenMissing(Unauthorized):
    """No bearer token was sent."""

    default_message = "Authentication required: send 'Authorization: Bearer <access token>'"
    default_details = {"reason": "token_missing"}


class TokenInvalid(Unauthorized):
    """The token is malformed, badly signed, or of the wrong type."""

    default_message = "Invalid token"
    default_details = {"reason": "token_invalid"}


class TokenExpired(Unauthorized):
    """The token has expired (refresh it)."""

    default_message = "Token has expired"
    default_details = {"reason": "token_expired"}


class TokenRevoked(Unauthorized):
    """The token was revoked (logged out)."""

    default_message = "Token has been revoked"
    default_details = {"reason": "token_revoked"}


class UserGone(Unauthorized):
    """The token's user no longer exists."""

    default_message = "User no longer exists"
    default_details = {"reason": "user_deleted"}


class Forbidden(AppError):
    """The caller is known but not allowed to do this."""

    status = 403
    code = "FORBIDDEN"
    default_message = "Forbidden"


class AccountBlocked(Forbidden):
    """The user exists but is blocked by an administrator."""

    default_message = "Account is blocked"
    default_details = {"reason": "account_blocked"}


class NotFound(AppError):
    """The resource does not exist (or belongs to someone else)."""

    status = 404
    code = "NOT_FOUND"
    default_message = "Not found"


class Conflict(AppError):
    """The request conflicts with the current state (duplicates, wrong state)."""

    status = 409
    code = "CONFLICT"
    default_message = "Conflict"


class RateLimited(AppError):
    """Too many requests."""

    status = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests"


class ServiceUnavailable(AppError):
    """A dependency (database, provider) is unavailable or saturated; retry later."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "Service temporarily unavailable"


class ShuttingDown(ServiceUnavailable):
    """This process is shutting down; a retry reaches a process that is not."""

    default_message = "The server is shutting down; retry shortly"
    default_details = {"reason": "shutting_down"}
    retry_after_s = 2


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or a connection to it was lost; the pool's outage log reports it."""

    default_message = "database unavailable"
    logged = True
