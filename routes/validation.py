"""Request models: one declaration validates a request and describes it in the OpenAPI document.

A view declares its JSON body with `@json_body(Model)` and its query string with `@query_params(Model)`;
the decorator validates the request (a pydantic error becomes the 400 envelope) and passes the model as
`body=` or `query=`. routes/docs.py reads the same declarations to write the operation's `requestBody`
and query `parameters`, so the document cannot drift from what the code accepts. No view reads
`request.get_json()` or `request.args` itself (tests/test_openapi.py checks).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

V = TypeVar("V", bound=Callable[..., Any])
MODELS_ATTRIBUTE = "request_models"


def _declare(kind: str, model: type[BaseModel], read: Callable[[], Any]) -> Callable[[V], V]:
    def decorate(view: V) -> V:
        @wraps(view)
        def validated(*args: Any, **kwargs: Any) -> Any:
            kwargs[kind] = model.model_validate(read())
            return view(*args, **kwargs)

        setattr(validated, MODELS_ATTRIBUTE, {**getattr(view, MODELS_ATTRIBUTE, {}), kind: model})
        return validated  # type: ignore[return-value]

    return decorate


def _json_payload() -> Any:
    payload = request.get_json(silent=True)
    return {} if payload is None else payload  # a missing or non-JSON body is validated as an empty object


def _query_payload() -> dict[str, str]:
    return request.args.to_dict() if request.query_string else {}  # the first value of each name


def json_body(model: type[BaseModel]) -> Callable[[V], V]:
    """Validate the JSON body with `model` and pass it to the view as `body`."""
    return _declare("body", model, _json_payload)


def query_params(model: type[BaseModel]) -> Callable[[V], V]:
    """Validate the query string with `model` and pass it to the view as `query`."""
    return _declare("query", model, _query_payload)


def request_models(view: Callable[..., Any]) -> dict[str, type[BaseModel]]:
    """The models a view declared: {"body": Model, "query": Model} (either may be absent)."""
    return getattr(view, MODELS_ATTRIBUTE, {})
