"""Input validators shared by request models (pure functions raising ValueError) and the free-text type."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field

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


# Characters refused in user-written text (names, notes, metadata): Unicode controls (Cc), invisible characters
# (U+200B zero-width space, U+2060 word joiner, U+FEFF zero-width no-break space) and bidirectional formatting
# (U+200E/U+200F marks, U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates), which hide or reorder
# what a reader sees; and lone surrogates, which are not text. ZWNJ and ZWJ (U+200C, U+200D) are allowed:
# Devanagari, Tamil and emoji sequences need them.
_UNSAFE_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2060),
    (0x2066, 0x2069),
    (0xFEFF, 0xFEFF),
    (0xD800, 0xDFFF),
)
# As a character-class body with \uXXXX escapes, which Python's re and ECMA-262 (JSON Schema) read alike.
UNSAFE_CLASS = "".join(f"\\u{a:04x}" + (f"-\\u{b:04x}" if b != a else "") for a, b in _UNSAFE_RANGES)
_UNSAFE = re.compile(f"[{UNSAFE_CLASS}]")
_FREE_TEXT_RULE = (
    "no control characters (Unicode Cc), U+200B, U+2060, U+FEFF, U+200E, U+200F, U+202A-U+202E or U+2066-U+2069 "
    "(ZWNJ and ZWJ are fine)"
)


def describe_character(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`; controls and surrogates, which have no name, are called what they are."""
    kind = unicodedata.name(char, "") or ("surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "control character")
    return f"U+{ord(char):04X} ({kind})"


def refuse_unsafe_characters(value: str) -> str:
    """`value` unchanged; ValueError naming the first refused character and where it is."""
    found = _UNSAFE.search(value)
    if found:
        raise ValueError(f"contains {describe_character(found.group())} at position {found.start()}: {_FREE_TEXT_RULE}")
    return value


def without_unsafe_characters(value: str) -> str:
    """`value` with the refused characters removed (for text from elsewhere, e.g. a Google profile name)."""
    return _UNSAFE.sub("", value)


def free_text_pattern(trim: bool) -> str:
    """The pattern of free text: no refused character, and not blank (trim) or no whitespace at either end."""
    char, edge = f"[^{UNSAFE_CLASS}]", f"[^{UNSAFE_CLASS}\\s]"
    return f"^{char}*{edge}{char}*$" if trim else f"^{edge}(?:{char}*{edge})?$"


def free_text(max_length: int, *, trim: bool = False, about: str = "") -> Any:
    """The type of a user-written text field of 1-`max_length` characters without the refused characters.

    With `trim`, surrounding whitespace is removed (and the rest must not be empty); without, it is refused. The
    field's JSON schema carries the pattern and says the rule (after `about`, what the field is); errors name the
    offending character.
    """
    pattern = free_text_pattern(trim)
    compiled = re.compile(pattern)
    edges = "surrounding whitespace is removed" if trim else "no whitespace at either end"

    def check(value: str) -> str:
        refuse_unsafe_characters(value)
        if not compiled.fullmatch(value):
            raise ValueError("must not be blank" if trim or not value.strip() else "no whitespace at either end")
        return value.strip() if trim else value

    description = f"{about}{'. ' if about else ''}1-{max_length} characters, not blank; {edges}; {_FREE_TEXT_RULE}"
    return Annotated[
        str,
        Field(min_length=1, max_length=max_length, description=description, json_schema_extra={"pattern": pattern}),
        AfterValidator(check),
    ]
