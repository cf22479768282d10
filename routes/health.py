"""Operations endpoints: liveness (public), readiness (details only where HEALTHZ_DETAILS allows), Prometheus
metrics (behind METRICS_TOKEN when it is set)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend import db
from backend.errors import error_response
from backend.extensions import app_extensions
from controller.platform import health
from utils.errors import ServiceUnavailable, Unauthorized
from utils.timeutil import now_iso_ist

bp = Blueprint("health", __name__)


@bp.get("/health")
def liveness():
    """Cheap liveness probe: the process answers."""
    return {"status": "success", "data": {"status": "ok", "time": now_iso_ist()}}


@bp.get("/healthz")
def readiness():
    """Readiness: the database answers and every registered check passes; 503 otherwise."""
    checks = {"database": _database_check()}
    for name, check in app_extensions().get("readiness_checks", {}).items():
        checks[name] = check()
    ready = all(check["ok"] for check in checks.values())
    if not app_extensions()["settings"].show_healthz_details:  # e.g. production: the verdict alone
        if ready:
            return {"status": "success", "data": {"ready": True}}
        return error_response(503, "SERVICE_UNAVAILABLE", "not ready", {"ready": False})
    if ready:
        return {"status": "success", "data": {"ready": True, "checks": checks}}
    failing = ", ".join(name for name, check in checks.items() if not check["ok"])
    return error_response(503, "SERVICE_UNAVAILABLE", f"not ready: {failing}", {"ready": False, "checks": checks})


def _database_check() -> dict:
    try:
        with db.connection() as conn:
            return {"ok": health.ping(conn)}
    except ServiceUnavailable as exc:
        return {"ok": False, "reason": exc.message}


@bp.get("/metrics")
def prometheus_metrics():
    """Prometheus text exposition of this process's metrics (`Authorization: Bearer <METRICS_TOKEN>` when set)."""
    token = app_extensions()["settings"].metrics_token
    if token is not None:
        presented = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(presented, f"Bearer {token.get_secret_value()}".encode()):
            raise Unauthorized("Metrics need 'Authorization: Bearer <METRICS_TOKEN>'", {"reason": "metrics_token"})
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)  # it names its charset already
