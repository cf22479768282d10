"""Cacheable JSON responses: the success envelope with ETag, Cache-Control and 304 on If-None-Match."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict

QUOTE_MAX_AGE_S = 2  # live-ish numbers: detail, movers, indices, search
SLOW_MAX_AGE_S = 30  # sectors
HISTORY_MAX_AGE_S = 60


class Query(BaseModel):
    """Base of query-string models: unknown parameters are ignored, strings are stripped."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)

    @classmethod
    def parse(cls) -> Any:
        """Validate the current request's query string (first value of each name); 400 on errors."""
        return cls.model_validate(request.args.to_dict())


def cached_json(data: Any, max_age_s: int, no_cache: bool = False, **extra: Any) -> Response:
    """`{"status": "success", "data": data, **extra}` with a strong ETag; 304 when the client has it."""
    response = jsonify({"status": "success", "data": data, **extra})
    if no_cache:
        response.cache_control.no_cache = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = max_age_s
    response.add_etag()
    return response.make_conditional(request)
