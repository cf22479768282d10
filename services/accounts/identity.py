"""Sign-up and sign-in: email + password and Google; every new user gets a paper account."""

from __future__ import annotations

from backend import db
from backend.db import Connection
from backend.extensions import app_extensions
from backend.settings import Settings
from controller.accounts import users
from controller.accounts.users import User
from controller.trading import paper_accounts
from services.accounts.google_client import google_client
from utils import metrics
from utils.errors import AccountBlocked, Conflict, NotFound, Unauthorized
from utils.passwords import hash_password, verify_password
from utils.timeutil import now_utc


def _settings() -> Settings:
    return app_extensions()["settings"]


def _bootstrap_role(email: str) -> str:
    return "admin" if email.lower() in _settings().admin_emails else "user"


def _open(conn: Connection, email: str, name: str, password_hash: str | None, google_sub: str | None = None) -> User:
    user = users.create_user(conn, email, name, password_hash, _bootstrap_role(email), google_sub)
    paper_accounts.create_account(conn, user.user_id, _settings().starting_cash)
    return users.record_login(conn, user.user_id, now_utc(), promote_to_admin=False)


def register(email: str, password: str, name: str) -> User:
    """Create a user with a password and their paper account; Conflict when the email is taken."""
    password_hash = hash_password(password)  # before taking a connection: scrypt is slow on purpose
    with db.transaction() as conn:
        return _open(conn, email, name, password_hash)


def create_admin(email: str, password: str, name: str) -> User:
    """Create an administrator with a password and their paper account; Conflict when the email is taken."""
    password_hash = hash_password(password)
    with db.transaction() as conn:
        user = users.create_user(conn, email, name, password_hash, "admin")
        paper_accounts.create_account(conn, user.user_id, _settings().starting_cash)
        return user


def promote(email: str) -> User:
    """Give the user with this email the admin role; NotFound when there is none."""
    with db.transaction() as conn:
        found = users.find_with_password(conn, email)
        if found is None:
            raise NotFound(f"no user with the email {email}")
        return users.update_user(conn, found[0].user_id, None, "admin")


def _login(conn: Connection, user: User) -> User:
    if user.status != "active":
        raise AccountBlocked()
    promote = user.role != "admin" and _bootstrap_role(user.email) == "admin"
    return users.record_login(conn, user.user_id, now_utc(), promote)


def login(email: str, password: str) -> User:
    """The user with these credentials; the same 401 whether the email is unknown or the password wrong."""
    with db.connection() as conn:
        found = users.find_with_password(conn, email)
    user, password_hash = found or (None, None)
    if not verify_password(password_hash, password) or user is None:
        metrics.AUTH_EVENTS.labels("login", "failed").inc()
        raise Unauthorized("Invalid email or password")
    with db.connection() as conn:
        return _login(conn, user)


def google_login(code: str | None, credential: str | None) -> tuple[User, bool]:
    """Sign in (or up) with Google: a popup-flow code or an ID token; returns the user and whether they are new."""
    client = google_client()
    identity = client.verify_id_token(credential if credential else client.exchange_code(code or ""))
    with db.transaction() as conn:
        found = users.find_for_google(conn, identity.sub, identity.email)
        if found is None:
            return _open(conn, identity.email, identity.name, None, identity.sub), True
        user, linked_sub = found
        if linked_sub is None:
            users.link_google(conn, user.user_id, identity.sub)
        elif linked_sub != identity.sub:
            raise Conflict("This email is linked to a different Google account")
        return _login(conn, user), False
