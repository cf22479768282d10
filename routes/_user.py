"""The signed-in user of a request, taken only from the verified JWT (auth replaces this at merge)."""

from __future__ import annotations

from flask_jwt_extended import get_jwt_identity

from utils.errors import Unauthorized


def current_user_id() -> int:
    """The user id of the verified access token (call inside @jwt_required routes)."""
    try:
        return int(get_jwt_identity())
    except (TypeError, ValueError):
        raise Unauthorized("token does not name a user") from None
