"""`python -m backend create-admin` and `promote`, run as an operator would, against the test database server: the
password from a terminal prompt or --password-stdin (never an argument), one clear line on every mistake."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time

import pytest

from backend.app import create_app
from backend.db import connect
from controller.sql import execute, fetch_one
from tests.auth_helpers import make_user
from tests.conftest import make_settings, migrated

PASSWORD = "s3cret-admin-pass"


@pytest.fixture(scope="module")
def cli_db(make_database):
    return migrated(make_database("test_admin_cli"))


@pytest.fixture
def cli_conn(cli_db):
    conn = connect(cli_db)
    yield conn
    execute(conn, "DELETE FROM users")
    conn.close()


@pytest.fixture
def env(cli_db, repo_root):
    return {**os.environ, "DATABASE_URL": cli_db.url(), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(repo_root)}


def run(env, repo_root, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        input=stdin,
        env=env,
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def user_row(conn, email):
    return fetch_one(
        conn,
        "SELECT u.user_id, u.role, u.status, a.cash FROM users u LEFT JOIN accounts a USING (user_id) WHERE email = %s",
        (email,),
    )


def signs_in_as_admin(cli_db, email) -> bool:
    app = create_app(make_settings(cli_db))
    try:
        body = app.test_client().post("/auth/login", json={"email": email, "password": PASSWORD}).get_json()
        return body["status"] == "success" and body["data"]["user"]["role"] == "admin"
    finally:
        app.extensions["db"].close()


def test_create_admin_with_the_password_on_stdin(env, repo_root, cli_conn, cli_db):
    done = run(env, repo_root, "create-admin", "--email", "Ops@Example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    row = user_row(cli_conn, "ops@example.com")
    assert done.stdout == f"created administrator ops@example.com (user {row['user_id']})\n" and done.stderr == ""
    assert (row["role"], row["status"], row["cash"]) == ("admin", "active", 100000)  # with a paper account
    assert signs_in_as_admin(cli_db, "ops@example.com")
    again = run(env, repo_root, "create-admin", "--email", "ops@example.com", "--password-stdin", stdin=PASSWORD)
    assert again.returncode == 1 and again.stderr == "an account with this email already exists\n"


def _prompted(env, repo_root, answers: list[str]) -> tuple[int, str]:
    """Run create-admin on a pseudo-terminal (its controlling terminal), typing `answers` at the prompts."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the operator's shell
        os.chdir(repo_root)
        os.execve(sys.executable, [sys.executable, "-m", "backend", "create-admin", "--email", "tty@example.com"], env)
    output = b""
    try:
        for answer in answers:
            deadline = time.monotonic() + 30
            while b"assword: " not in output.rsplit(b"\n", 1)[-1] and time.monotonic() < deadline:
                output += os.read(fd, 1024)
            os.write(fd, answer.encode() + b"\r")
            output += os.read(fd, 1024)
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_create_admin_asks_for_the_password_twice_without_echo(env, repo_root, cli_conn, cli_db):
    code, output = _prompted(env, repo_root, [PASSWORD, PASSWORD])
    assert code == 0, output
    assert "Password: " in output and "Repeat the password: " in output and PASSWORD not in output  # not echoed
    assert user_row(cli_conn, "tty@example.com")["role"] == "admin"
    assert signs_in_as_admin(cli_db, "tty@example.com")


def test_different_passwords_at_the_prompt_create_nobody(env, repo_root, cli_conn):
    code, output = _prompted(env, repo_root, [PASSWORD, PASSWORD + "x"])
    assert code == 1 and "the passwords differ" in output and "Traceback" not in output
    assert user_row(cli_conn, "tty@example.com") is None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ([], None, "no terminal to ask for the password: pipe it in with --password-stdin\n"),
        (["--password-stdin"], "short\n", "the password must have 8 to 128 characters\n"),
    ],
)
def test_mistakes_are_one_line_and_create_nobody(env, repo_root, cli_conn, args, stdin, message):
    done = run(env, repo_root, "create-admin", "--email", "ops@example.com", *args, stdin=stdin)
    assert (done.returncode, done.stderr, done.stdout) == (1, message, "")
    assert user_row(cli_conn, "ops@example.com") is None


def test_a_password_on_the_command_line_is_refused(env, repo_root, cli_conn):
    for args in (["--password", PASSWORD], [f"--password={PASSWORD}"], ["--password"]):
        done = run(env, repo_root, "create-admin", "--email", "ops@example.com", *args)
        assert done.returncode == 2 and "unrecognized arguments" in done.stderr
    assert user_row(cli_conn, "ops@example.com") is None
    assert run(env, repo_root, "create-admin", "--email", "not-an-email", "--password-stdin", stdin="x").returncode == 2


def test_promote_an_existing_user(env, repo_root, cli_conn):
    user_id = make_user(cli_conn, "ravi@example.com")
    done = run(env, repo_root, "promote", "--email", "RAVI@example.com")
    assert done.returncode == 0 and done.stdout == f"ravi@example.com (user {user_id}) is now an administrator\n"
    assert user_row(cli_conn, "ravi@example.com")["role"] == "admin"
    missing = run(env, repo_root, "promote", "--email", "nobody@example.com")
    assert (missing.returncode, missing.stderr) == (1, "no user with the email nobody@example.com\n")
