"""The OpenAPI document without a running app: the blueprints registered on a bare Flask app."""

from __future__ import annotations

from flask import Flask

from routes import register_blueprints
from routes.docs import openapi_document


def documented_api() -> dict:
    """The whole document (YAML fragments and request models), as /openapi.json serves it."""
    app = Flask("openapi")
    register_blueprints(app)
    return openapi_document(app)
