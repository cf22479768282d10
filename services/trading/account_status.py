"""An administrator's changes to a user that end what the user had running: blocking cancels their working
orders (in the same transaction, reservations released, `reject_reason: "account_blocked"`) and ends their
Socket.IO sessions; deleting ends the sessions too (the database deletes the rest)."""

from __future__ import annotations

from backend import db
from controller.accounts import users
from controller.accounts.users import Role, Status, User
from controller.trading import orders
from services.accounts.auth import forget_user
from services.realtime.sessions import ACCOUNT_BLOCKED, USER_DELETED, end_user_sessions
from services.trading.desk import in_transaction, market_view, rules


def change_user(user_id: int, status: Status | None, role: Role | None) -> User:
    """Change a user's status and/or role; NotFound for an unknown user. Blocking also cancels their working
    orders and ends their sockets. The user's own private events stop: nothing is pushed to them."""
    with db.connection() as conn:
        users.get_user(conn, user_id)  # 404 before anything is locked
    view, limits = market_view(), rules()

    def work(conn) -> User:
        if status == "blocked":  # the account lock comes first, as in every trading transaction
            orders.cancel_working_orders(conn, user_id, view, limits, ACCOUNT_BLOCKED)
        return users.update_user(conn, user_id, status, role)

    user = in_transaction(work)
    forget_user(user_id)
    if status == "blocked":
        end_user_sessions(user_id, ACCOUNT_BLOCKED)
    return user


def delete_user(user_id: int) -> None:
    """Delete a user and all their data; NotFound for an unknown user. Their sockets end."""
    with db.transaction() as conn:
        users.delete_user(conn, user_id)
    forget_user(user_id)
    end_user_sessions(user_id, USER_DELETED)
