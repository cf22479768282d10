"""The OpenAPI document, assembled from routes/openapi/*.yaml (one fragment per resource: paths, responses,
path parameters) and the request models the views declare (routes/openapi_models.py), and the interactive
Swagger UI at /docs, served from the pinned swagger-ui-bundle-v2 package (no CDN)."""

from __future__ import annotations

import base64
import copy
import hashlib
from functools import lru_cache
from pathlib import Path

import yaml
from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from routes.dashboard import content_security_policy
from routes.openapi_models import add_request_schemas
from utils.errors import NotFound

bp = Blueprint("docs", __name__)
SPEC_DIR = Path(__file__).resolve().parent / "openapi"
UI_DIR = str(swagger_ui_path)
UI_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "index.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
        "oauth2-redirect.html",
        "oauth2-redirect.js",
    }
)
_UI_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>API docs · Market dashboard backend</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""
# Swagger UI's logo is an SVG with this <style> element: its hash lets exactly it through the CSP.
_LOGO_STYLE = ".logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}"
UI_STYLE_HASHES = (f"'sha256-{base64.b64encode(hashlib.sha256(_LOGO_STYLE.encode()).digest()).decode()}'",)
_UI_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"""


def _merge(target: dict, fragment: dict, where: str) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, f"{where}.{key}")
        elif key in target:
            raise ValueError(f"OpenAPI fragment defines {where}.{key} twice")
        else:
            target[key] = value


@lru_cache(maxsize=1)
def yaml_document() -> dict:
    """base.yaml with every other fragment's paths and components merged in (the hand-written half)."""
    document = yaml.safe_load((SPEC_DIR / "base.yaml").read_text())
    for path in sorted(SPEC_DIR.glob("*.yaml")):
        if path.name != "base.yaml":
            _merge(document, yaml.safe_load(path.read_text()) or {}, path.stem)
    return document


def openapi_document(app: Flask) -> dict:
    """The whole document of `app`: the YAML fragments plus the request models of its views (built once)."""
    document = app.extensions.get("openapi_document")
    if document is None:
        document = copy.deepcopy(yaml_document())
        add_request_schemas(document, app.url_map.iter_rules(), app.view_functions)
        app.extensions["openapi_document"] = document
    return document


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document(current_app))


@bp.get("/docs")
def docs_page():
    """The interactive API documentation (Swagger UI) for /openapi.json, under the dashboard's same-origin CSP."""
    response = Response(_UI_PAGE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(request.host, False, UI_STYLE_HASHES)
    return response


@bp.get("/docs/init.js")
def docs_init():
    """The Swagger UI start-up script, pointed at this API's document."""
    return Response(_UI_INIT, mimetype="text/javascript")


@bp.get("/docs/<asset>")
def docs_asset(asset: str):
    """A static file of the bundled Swagger UI."""
    if asset not in UI_ASSETS:
        raise NotFound(f"no such docs asset {asset[:60]!r}")
    return send_from_directory(UI_DIR, asset, max_age=86400)
