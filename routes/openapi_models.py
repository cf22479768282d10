"""The request half of the OpenAPI document, written from the pydantic models the views validate with.

For every route whose view declared models (routes/validation.py), the operation gets its `requestBody`
(the body model, under `components.schemas` by its class name) and one query parameter per field of the
query model. pydantic writes JSON Schema 2020-12; the document is OpenAPI 3.0, so the few constructs that
differ are translated (a nullable union, `const`, numeric `exclusiveMinimum`, `examples`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from werkzeug.routing import Rule

from routes.validation import request_models

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def openapi_path(rule: Rule) -> str:
    """The OpenAPI path of a werkzeug rule (`/orders/<int:order_id>` -> `/orders/{order_id}`)."""
    return _PATH_PARAM.sub(r"{\1}", rule.rule)


def to_openapi(schema: Any) -> Any:
    """A JSON Schema 2020-12 fragment (as pydantic writes it) in OpenAPI 3.0's dialect."""
    if isinstance(schema, list):
        return [to_openapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: to_openapi(value) for key, value in schema.items() if key not in ("title", "$defs")}
    for union in ("anyOf", "oneOf"):
        options = out.get(union)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del out[union]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out.update(rest[0])
            else:
                out["allOf" if len(rest) == 1 else union] = rest
            out["nullable"] = True
    if out.get("default", 0) is None:
        del out["default"]  # absent means "not given" (null may not even be a value): nothing to show
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out[bound], bool):
            out[inclusive], out[bound] = out[bound], True
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    return out


def _model_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's schema with its nested models moved into `schemas` (a name names one model only)."""
    schema = model.model_json_schema(ref_template=_REF, mode="validation")
    for name, nested in schema.pop("$defs", {}).items():
        _add_schema(schemas, name, to_openapi(nested))
    return to_openapi(schema)


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two request models are named {name}: give one of them another class name")
    schemas[name] = schema


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _model_schema(model, schemas)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        field_schema = dict(field_schema)
        field_schema.pop("nullable", None)  # a query string cannot say null: an absent parameter is None
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in field_schema:
            parameter["description"] = field_schema.pop("description")
        if field_schema.get("type") == "array":  # a comma-separated list
            parameter.update(style="form", explode=False)
        parameter["schema"] = field_schema
        parameters.append(parameter)
    return parameters


def add_request_schemas(document: dict[str, Any], rules: Iterable[Rule], view_functions: dict[str, Any]) -> None:
    """Write every declared request model into `document` (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for rule in rules:
        models = request_models(view_functions.get(rule.endpoint))
        if not models:
            continue
        path = document["paths"].setdefault(openapi_path(rule), {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = path.setdefault(method.lower(), {})
            if "body" in models:
                model = models["body"]
                _add_schema(schemas, model.__name__, _model_schema(model, schemas))
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}},
                }
            if "query" in models:
                operation["parameters"] = operation.get("parameters", []) + _query_parameters(models["query"], schemas)
