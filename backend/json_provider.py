"""Flask's JSON for this app: documented field order kept, request bodies parsed with the nesting limit."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from utils import json_depth
from utils.errors import ValidationError


class AppJSONProvider(DefaultJSONProvider):
    """`request.get_json()` refuses bodies nested deeper than json_depth.MAX_DEPTH with the 400 envelope (not a
    ValueError, which `get_json(silent=True)` would swallow into "no body")."""

    sort_keys = False  # keep the documented field order

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text; ValidationError (400) when it nests too deep."""
        try:
            return json_depth.loads(s, **kwargs)
        except json_depth.JsonTooDeep as exc:
            raise ValidationError(str(exc), {"reason": "json_too_deep", "max_depth": exc.max_depth}) from None
