"""The built-in dashboard: one HTML page at `/` plus its JavaScript modules and CSS (routes/static/).

Views are routed in the browser by the URL hash (`#/stock/RELIANCE`), so `/` is the only page route.
The page carries no inline script: its configuration travels in `data-*` attributes of `<body>`,
and the Content-Security-Policy allows scripts, styles and connections to this origin only (plus
Google's sign-in script when `GOOGLE_CLIENT_ID` is set).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, make_response, render_template, request

from backend.extensions import app_extensions

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
VENDOR_FILES = ("socket.io.esm.min.js", "lightweight-charts.js")
GOOGLE_ORIGIN = "https://accounts.google.com"


def content_security_policy(host: str, google: bool, style_hashes: tuple[str, ...] = ()) -> str:
    """Same-origin scripts, styles and connections (WebSocket included); Google's sign-in only if enabled; inline
    `<style>` elements only with one of `style_hashes` ('sha256-...' sources)."""
    google_src = f" {GOOGLE_ORIGIN}/gsi/" if google else ""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'" + google_src,
        "style-src": " ".join(("'self'", *style_hashes)) + google_src,
        "img-src": "'self' data: https:",
        "connect-src": f"'self' ws://{host} wss://{host}" + google_src,
        "frame-src": google_src.strip() or "'none'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


@bp.get("/")
def index():
    """The dashboard page."""
    google_client_id = app_extensions()["settings"].google_client_id or ""
    missing = [name for name in VENDOR_FILES if not (VENDOR_DIR / name).is_file()]
    html = render_template("dashboard.html", google_client_id=google_client_id, missing_vendor=missing)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = content_security_policy(request.host, bool(google_client_id))
    response.headers["Cache-Control"] = "no-cache"
    return response
