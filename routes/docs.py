"""The OpenAPI document, assembled from routes/openapi/*.yaml (one fragment per resource)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from flask import Blueprint, jsonify

bp = Blueprint("docs", __name__)
SPEC_DIR = Path(__file__).resolve().parent / "openapi"


def _merge(target: dict, fragment: dict, where: str) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, f"{where}.{key}")
        elif key in target:
            raise ValueError(f"OpenAPI fragment defines {where}.{key} twice")
        else:
            target[key] = value


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    """base.yaml with every other fragment's paths and components merged in."""
    document = yaml.safe_load((SPEC_DIR / "base.yaml").read_text())
    for path in sorted(SPEC_DIR.glob("*.yaml")):
        if path.name != "base.yaml":
            _merge(document, yaml.safe_load(path.read_text()) or {}, path.stem)
    return document


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document())
