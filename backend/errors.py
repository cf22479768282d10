"""The only place that turns exceptions into the JSON error envelope (docs/API.md)."""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from backend.extensions import jwt
from utils.errors import (
    AppError,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
    TokenRevoked,
    Unauthorized,
    UserGone,
    field_error,
)
from utils.request_context import request_id

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> tuple[Response, int]:
    """Build the error envelope with the current request id (`message` also at the top level, for existing
    dashboard clients; `details` always an object)."""
    body = {
        "status": "error",
        "message": message,
        "error": {"code": code, "message": message, "details": details or {}},
        "request_id": request_id.get(),
    }
    return jsonify(body), status


def _validation_fields(exc: pydantic.ValidationError) -> list[dict[str, str]]:
    return [
        field_error(".".join(str(part) for part in err["loc"]) or "body", err["msg"])
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _envelope(exc: AppError) -> tuple[Response, int]:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _register_jwt_error_callbacks() -> None:
    """flask-jwt-extended answers token problems through these callbacks: all 401 with the envelope."""
    jwt.unauthorized_loader(lambda _reason: _envelope(TokenMissing()))
    jwt.invalid_token_loader(lambda reason: _envelope(TokenInvalid(f"Invalid token: {reason}")))
    jwt.expired_token_loader(lambda _header, _payload: _envelope(TokenExpired()))
    jwt.revoked_token_loader(lambda _header, _payload: _envelope(TokenRevoked()))
    jwt.user_lookup_error_loader(lambda _header, _payload: _envelope(UserGone()))
    jwt.needs_fresh_token_loader(lambda _header, _payload: _envelope(Unauthorized("A fresh token is required")))
    jwt.token_verification_failed_loader(lambda _header, _payload: _envelope(TokenInvalid()))


def register_error_handlers(app: Flask) -> None:
    """Install handlers for domain errors, validation errors, JWT errors, HTTP errors and the unexpected."""
    _register_jwt_error_callbacks()

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        if exc.status >= 500 and not exc.logged:
            log.warning("%s: %s", exc.code, exc.message)
        response, status = _envelope(exc)
        if exc.retry_after_s is not None:
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response, status

    @app.errorhandler(pydantic.ValidationError)
    def _validation_error(exc: pydantic.ValidationError):
        return error_response(400, "VALIDATION_ERROR", "Invalid request", {"fields": _validation_fields(exc)})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        response, _ = error_response(status, _HTTP_CODES.get(status, "HTTP_ERROR"), exc.description or exc.name)
        for name, value in exc.get_headers():
            if name.lower() in ("allow", "retry-after"):
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "INTERNAL_ERROR", "Internal server error")
