"""The signed-in user's paper account: balances and reset."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from flask_jwt_extended import jwt_required
from pydantic import BaseModel, ConfigDict

from routes._params import success
from routes.validation import json_body
from services.accounts.auth import current_user_id
from services.trading import desk

bp = Blueprint("account", __name__)


class AccountReset(BaseModel):
    """POST /account/reset must say {"confirm": "RESET"}."""

    model_config = ConfigDict(extra="forbid")

    confirm: Literal["RESET"]


@bp.get("")
@jwt_required()
def get_account():
    """Cash, reserved and available cash, holdings value, equity and P&L."""
    holdings, _ = desk.portfolio_for(current_user_id())
    return success(holdings.account_json())


@bp.post("/reset")
@jwt_required()
@json_body(AccountReset)
def reset_account(body: AccountReset):
    """Back to the starting cash: open orders cancelled, holdings and the equity curve cleared."""
    return success(desk.reset_account(current_user_id()))
