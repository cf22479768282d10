"""Request models: one declaration validates a request and describes it in the OpenAPI document.

A view declares its JSON body with `@json_body(Model)` and its query string with `@query_params(Model)`;
the decorator validates the request (a pydantic error becomes the 400 envelope) and passes the model as
`body=` or `query=`. routes/docs.py reads the same declarations to write the operation's `requestBody`
and query `parameters`, so the document cannot drift from what the code accepts. No view reads
`request.get_json()` or `request.args` itself (tests/test_openapi.py checks).

A query string is parsed and validated once: the model is kept by its raw text (a bounded `Memo`) and handed to
every later request with the same text, so a view must treat its `query` as read-only (none assigns to it). A
refused query string is not kept: it is refused again every time. Parsing and validating were most of what a
cached GET cost beyond the framework's floor (docs/BENCHMARKS.md, PEG table).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import request
from pydantic import BaseModel

from backend.extensions import request_environ
from utils.locked_cache import Memo

V = TypeVar("V", bound=Callable[..., Any])
MODELS_ATTRIBUTE = "request_models"
_QUERIES = Memo(maxsize=4096)  # (model, raw query string) -> the validated model


def _declared(validated: Callable[..., Any], view: Callable[..., Any], kind: str, model: type[BaseModel]) -> Any:
    setattr(validated, MODELS_ATTRIBUTE, {**getattr(view, MODELS_ATTRIBUTE, {}), kind: model})
    return validated


def _json_payload() -> Any:
    payload = request.get_json(silent=True)
    return {} if payload is None else payload  # a missing or non-JSON body is validated as an empty object


def _query_payload(query_string: str) -> dict[str, str]:
    """The first value of each name, parsed as `request.args` parses it (invalid UTF-8 becomes U+FFFD). A string with
    nothing to decode (ASCII, no `%` or `+`) is split directly: the same pairs as `parse_qsl`, in a quarter of the
    time (a typeahead's strings are seldom seen twice: docs/BENCHMARKS.md, search)."""
    payload: dict[str, str] = {}
    if not query_string:
        return payload
    if query_string.isascii() and "%" not in query_string and "+" not in query_string:
        pairs = (field.partition("=")[::2] for field in query_string.split("&") if field)
    else:
        text = query_string.encode("latin-1").decode(errors="replace")
        pairs = parse_qsl(text, keep_blank_values=True, errors="replace")
    for name, value in pairs:
        payload.setdefault(name, value)
    return payload


def json_body(model: type[BaseModel]) -> Callable[[V], V]:
    """Validate the JSON body with `model` and pass it to the view as `body`."""

    def decorate(view: V) -> V:
        @wraps(view)
        def validated(*args: Any, **kwargs: Any) -> Any:
            return view(*args, body=model.model_validate(_json_payload()), **kwargs)

        return _declared(validated, view, "body", model)

    return decorate


def query_params(model: type[BaseModel], repeats: bool = True) -> Callable[[V], V]:
    """Validate the query string with `model` and pass it to the view as `query` (read-only: shared by the requests
    with the same query string). `repeats=False` for query strings that seldom come again (a typeahead's prefixes):
    each is validated without being kept, as keeping them would only push the others out."""

    def decorate(view: V) -> V:
        @wraps(view)
        def validated(*args: Any, **kwargs: Any) -> Any:
            query_string = request_environ().get("QUERY_STRING", "")
            query = _QUERIES.get((model, query_string)) if repeats else None
            if query is None:
                query = model.model_validate(_query_payload(query_string))
                if repeats:
                    _QUERIES.put((model, query_string), query)
            return view(*args, query=query, **kwargs)

        return _declared(validated, view, "query", model)

    return decorate


def request_models(view: Callable[..., Any]) -> dict[str, type[BaseModel]]:
    """The models a view declared: {"body": Model, "query": Model} (either may be absent)."""
    return getattr(view, MODELS_ATTRIBUTE, {})
