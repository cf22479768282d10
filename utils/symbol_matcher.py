"""Find which listed companies a piece of text mentions, by NSE symbol or company name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_LEGAL_SUFFIXES = (" Ltd.", " Ltd", " Limited")
# Dropped to get the name headlines use: "Bharat Petroleum Corporation" → "Bharat Petroleum".
_SHORTENABLE = (" Corporation", " Company", " Co.", " (India)")
# Symbols that are also everyday names of something else (BSE the exchange, as in "BSE Sensex"):
# matched only by the full company name ("BSE Ltd").
AMBIGUOUS = frozenset({"BSE"})
# A term is a whole word: not glued to letters, digits or "&" (so "M&M" never matches in "M&MFIN").
_WORD_START = r"(?<![\w&])"
_WORD_END = r"(?![\w&])"


def name_variants(company_name: str) -> set[str]:
    """The forms of a company name to look for: without "Ltd.", and shortened where that is usual."""
    core = company_name.strip()
    for suffix in _LEGAL_SUFFIXES:
        if core.endswith(suffix):
            core = core[: -len(suffix)].strip()
            break
    if core in AMBIGUOUS:
        return {f"{core} Ltd", f"{core} Limited"}
    variants = {core}
    for suffix in _SHORTENABLE:
        if core.endswith(suffix) and core[: -len(suffix)].strip():
            variants.add(core[: -len(suffix)].strip())
    return variants


class SymbolMatcher:
    """Case-sensitive whole-word matcher over symbols, company names and the short names headlines use
    ("SBI", "L&T", "Maruti"); the longest term wins."""

    def __init__(self, instruments: Iterable[tuple[int, str, str]], aliases: Mapping[str, str] | None = None) -> None:
        """Build from (stock_id, symbol, company_name) rows and alias → symbol pairs (aliases of symbols that
        are not among the instruments are ignored); the first row of a symbol or name wins."""
        self._terms: dict[str, tuple[int, str]] = {}
        ids: dict[str, int] = {}
        for stock_id, symbol, company_name in instruments:
            ids.setdefault(symbol, stock_id)
            if symbol not in AMBIGUOUS:
                self._terms.setdefault(symbol, (stock_id, symbol))
            for variant in name_variants(company_name):
                self._terms.setdefault(variant, (stock_id, symbol))
        for alias, symbol in (aliases or {}).items():
            if symbol in ids:
                self._terms.setdefault(alias, (ids[symbol], symbol))
        ordered = sorted(self._terms, key=len, reverse=True)
        alternatives = "|".join(re.escape(term) for term in ordered)
        self._pattern = re.compile(f"{_WORD_START}(?:{alternatives}){_WORD_END}") if ordered else None

    def __len__(self) -> int:
        return len(self._terms)

    def find(self, text: str) -> list[tuple[int, str]]:
        """(stock_id, symbol) of every company `text` mentions, in order of first mention."""
        if self._pattern is None or not text:
            return []
        found: dict[int, str] = {}
        for match in self._pattern.finditer(text):
            stock_id, symbol = self._terms[match.group(0)]
            found.setdefault(stock_id, symbol)
        return list(found.items())
