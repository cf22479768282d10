"""Password hashing with scrypt (werkzeug), and a check that costs the same whether or not a user exists."""

from __future__ import annotations

from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

METHOD = "scrypt"


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`."""
    return generate_password_hash(password, method=METHOD)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password("decoy password that matches nothing")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash still pays for one check so timing reveals nothing."""
    if password_hash is None:
        check_password_hash(_decoy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
