"""Input validators shared by request models (pure functions raising ValueError)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

# An NSE symbol as clients may send it (case-insensitive): letters, digits and & . _ - ("M&M", "BAJAJ-AUTO").
SYMBOL_PATTERN = r"^[A-Za-z0-9&._-]{1,32}$"


def normalize_email(value: str) -> str:
    """Check an email address's syntax (no DNS look-up) and return it lower-cased; ValueError otherwise."""
    try:
        # test_environment admits *.test domains (reserved, harmless) so generated test data is accepted
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return result.normalized.lower()
