"""A random secret kept in a file of this install (development's signing key), made once and read back after."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

MIN_LENGTH = 32


class LocalSecretError(RuntimeError):
    """The secret file cannot be made or read, or holds no usable secret; the message is one line for the operator."""


def local_secret(path: Path) -> str:
    """The secret stored at `path`, created with 64 random URL-safe characters (mode 0600) when missing.

    Processes starting together agree on one secret: each writes its candidate to a file of its own and links
    it into place, which succeeds for the first only (link never replaces an existing file).
    """
    if not path.exists():
        _create(path)
    try:
        secret = path.read_text().strip()
    except OSError as exc:
        raise LocalSecretError(f"cannot read {path}: {exc.strerror}") from None
    if len(secret) < MIN_LENGTH:
        raise LocalSecretError(f"{path} holds no usable secret; delete it and a new one is made")
    return secret


def _create(path: Path) -> None:
    candidate = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first: use its secret
            os.link(candidate, path)
    except OSError as exc:
        raise LocalSecretError(f"cannot create {path}: {exc.strerror}") from None
    finally:
        candidate.unlink(missing_ok=True)
