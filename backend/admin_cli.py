"""`python -m backend create-admin --email …` and `python -m backend promote --email …`: administrators without
restarting the app with ADMIN_EMAILS.

The password comes from an interactive prompt (asked twice) or, with --password-stdin, from the first line of
standard input (for scripts: `printf '%s\\n' "$PASSWORD" | python -m backend create-admin --email … --password-stdin`);
never from the command line, where other users of the machine and the shell history would see it.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable

from backend.settings import ConfigError, Settings

log = logging.getLogger("backend")
PASSWORD_LENGTH = (8, 128)  # as POST /auth/register


class CommandError(RuntimeError):
    """A mistake the operator can fix; the message is one line."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: pipe it in with --password-stdin")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise CommandError("the passwords differ")
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        raise CommandError(f"the password must have {low} to {high} characters")
    return password


def _in_app(work: Callable[[], str]) -> int:
    """Run `work` in an app context on the configured database; print its line, or the error's, and exit 0 or 1."""
    from backend.app import create_app
    from utils.errors import AppError

    try:
        app = create_app(Settings.load())
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    try:
        with app.app_context():
            sys.stdout.write(work() + "\n")
        return 0
    except (AppError, CommandError) as exc:
        sys.stderr.write(f"{getattr(exc, 'message', exc)}\n")
        return 1
    finally:
        app.extensions["db"].close()


def _email(raw: str) -> str:
    from utils.validators import normalize_email

    try:
        return normalize_email(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_create_admin(args: argparse.Namespace) -> int:
    """Create an administrator (with a paper account) whose password is asked for, never given as an argument."""
    from services.accounts import identity

    def work() -> str:
        user = identity.create_admin(args.email, _password(args.password_stdin), args.name)
        return f"created administrator {user.email} (user {user.user_id})"

    return _in_app(work)


def cmd_promote(args: argparse.Namespace) -> int:
    """Give an existing user the admin role."""
    from services.accounts import identity

    def work() -> str:
        user = identity.promote(args.email)
        return f"{user.email} (user {user.user_id}) is now an administrator"

    return _in_app(work)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register create-admin and promote on the `python -m backend` command line."""
    # no abbreviations: `--password` must not pass for --password-stdin
    create = sub.add_parser(
        "create-admin", help="create an administrator (the password is asked for)", allow_abbrev=False
    )
    create.add_argument("--email", required=True, type=_email)
    create.add_argument("--name", default="Administrator", help="display name (default: Administrator)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of standard input"
    )
    create.set_defaults(func=cmd_create_admin)
    promote = sub.add_parser("promote", help="give an existing user the admin role", allow_abbrev=False)
    promote.add_argument("--email", required=True, type=_email)
    promote.set_defaults(func=cmd_promote)
