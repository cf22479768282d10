"""The market-data provider's run-time settings (role admin): its access token."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StringConstraints

from routes.validation import json_body
from services.accounts import auth
from services.accounts.auth import admin_required
from services.market_data.token_admin import set_upstox_token

bp = Blueprint("provider", __name__)


class ProviderToken(BaseModel):
    """A new Upstox access token (never echoed, never logged)."""

    model_config = ConfigDict(extra="forbid")

    access_token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


@bp.post("/token")
@admin_required
@json_body(ProviderToken)
def set_token(body: ProviderToken):
    """Check the token with Upstox (feed authorisation) and store it encrypted for every process."""
    return {"status": "success", "data": set_upstox_token(body.access_token, auth.current_user_id())}
