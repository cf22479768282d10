"""An in-memory stock search index: the `utils.search_rank` rule answered without scanning the universe.

The instruments (symbols, company names, index membership) change rarely; the traded values that order the matches
change all day. So the index has two layers:

- `SearchIndex` (rebuilt when the instrument list changes): the case-folded symbols, and the case-folded company
  names from each word start on (so "hdfc ba" matches "HDFC Bank" as SQL `LIKE 'hdfc ba%'` did), each in a sorted
  list that `bisect` cuts to the keys starting with a query. Prefixes shared by more than `SCAN_LIMIT` keys
  ("s", "lim", "synthetic in") are listed up front with their key ranges.
- `RankedSearch` (rebuilt when the traded values are re-read): every stock's position in the ranking order, for
  each of those crowded prefixes its best `_TOP` stocks already picked (numpy, no sort of the whole range), and the
  answer to every query of up to `SHORT_PREFIX` characters that matches something.

A query of up to `SHORT_PREFIX` characters (a typeahead's first keystrokes: the most frequent queries and the widest
ranges) is then one dictionary lookup. A longer one costs two bisects inside its first characters' key range and either
a scan of at most `SCAN_LIMIT` keys or a read of a precomputed list, whatever the size of the universe. Bisecting
40,000 keys touched ~60 strings per query scattered through memory: with the request's other work in between,
its cache misses made it cost ~13 µs at 10,000 instruments, against ~3 µs in a tight loop (docs/BENCHMARKS.md, search).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from utils.search_rank import importance_tier

MAX_LIMIT = 50  # the API's largest page of results
SCAN_LIMIT = 64  # key ranges up to this size are scanned per query; larger ones are precomputed
SHORT_PREFIX = 3  # queries up to this long are answered from a table built with the ranking
_TOP = 2 * MAX_LIMIT  # a crowded prefix keeps this many stocks: room to drop those that match it by symbol
_WORD_BOUNDARY = frozenset(" -(")  # where a word of a company name begins (the SQL search's LIKE patterns)
_PAST_ALL = "\U0010ffff"  # sorts after any character a key can continue with


@dataclass(frozen=True, slots=True)
class Instrument:
    """What the search matches and ranks a stock by, apart from its traded value."""

    stock_id: int
    symbol: str
    company_name: str
    exchange: str
    index_names: Collection[str]


def word_starts(folded: str) -> list[int]:
    """Offsets in a (case-folded) company name where a word begins: the start and after a space, `-` or `(`."""
    return [0] + [i + 1 for i, ch in enumerate(folded) if ch in _WORD_BOUNDARY and i + 1 < len(folded)]


def _tie_key(instrument: Instrument) -> tuple:
    return len(instrument.symbol), instrument.symbol, instrument.exchange != "NSE"


class _Keys:
    """Sorted keys, each pointing at an instrument, and the ranges of the prefixes shared by many keys."""

    def __init__(self, pairs: list[tuple[str, int]]) -> None:
        pairs.sort()
        self.keys = [key for key, _ in pairs]
        self.owners = np.fromiter((owner for _, owner in pairs), dtype=np.int32, count=len(pairs))
        self.crowded: dict[str, tuple[int, int]] = {}
        self._find_crowded(0, len(self.keys), 0)
        self.short = self._short_spans()

    def span(self, prefix: str) -> tuple[int, int]:
        """[lo, hi) of the keys that start with `prefix` (bisected inside its first characters' range)."""
        known = self.short.get(prefix[:SHORT_PREFIX])
        if known is None:
            return 0, 0
        if len(prefix) <= SHORT_PREFIX:
            return known
        lo, hi = known
        return bisect_left(self.keys, prefix, lo, hi), bisect_left(self.keys, prefix + _PAST_ALL, lo, hi)

    def _short_spans(self) -> dict[str, tuple[int, int]]:
        """[lo, hi) of every prefix of up to `SHORT_PREFIX` characters that some key starts with."""
        prefixes = {key[:length] for key in self.keys for length in range(1, SHORT_PREFIX + 1)}
        return {
            prefix: (bisect_left(self.keys, prefix), bisect_left(self.keys, prefix + _PAST_ALL)) for prefix in prefixes
        }

    def _find_crowded(self, lo: int, hi: int, depth: int) -> None:
        # Every key in [lo, hi) shares its first `depth` characters; split the range by the next one.
        stack = [(lo, hi, depth)]
        while stack:
            lo, hi, depth = stack.pop()
            start = lo
            while start < hi and len(self.keys[start]) <= depth:  # keys that end here sort first
                start += 1
            while start < hi:
                prefix = self.keys[start][: depth + 1]
                end = bisect_left(self.keys, prefix + _PAST_ALL, start, hi)
                if end - start > SCAN_LIMIT:
                    self.crowded[prefix] = (start, end)
                    stack.append((start, end, depth + 1))
                start = end


class SearchIndex:
    """The instruments' symbols and company-name words, sorted for prefix lookups (no traded values)."""

    def __init__(self, instruments: Sequence[Instrument]) -> None:
        self.instruments = tuple(instruments)
        self.symbols = [i.symbol.casefold() for i in self.instruments]
        self.tiers = np.array([importance_tier(i.index_names) for i in self.instruments], dtype=np.int8)
        # the ranking's last keys, which never change: the shorter symbol, the symbol, NSE before other exchanges
        ties = sorted(range(len(self.instruments)), key=lambda n: _tie_key(self.instruments[n]))
        self.tie_break = np.empty(len(ties), dtype=np.int32)
        self.tie_break[ties] = np.arange(len(ties), dtype=np.int32)
        self.by_symbol = _Keys([(symbol, n) for n, symbol in enumerate(self.symbols)])
        self.exact: dict[str, list[int]] = {}
        for n, symbol in enumerate(self.symbols):
            self.exact.setdefault(symbol, []).append(n)
        words = set()
        for n, instrument in enumerate(self.instruments):
            folded = instrument.company_name.casefold()
            words.update((folded[start:], n) for start in word_starts(folded))
        self.by_word = _Keys(list(words))

    def ranked(self, traded_values: Sequence[float], pause: Callable[[], None] | None = None) -> RankedSearch:
        """The index ordered by the ranking rule with these traded values (one per instrument, same order)."""
        return RankedSearch(self, traded_values, pause)


class RankedSearch:
    """A SearchIndex with every instrument's ranking position, each crowded prefix's best instruments and every short
    query's answers (`search`'s `limit` is at most `MAX_LIMIT`, the API's largest page)."""

    def __init__(self, index: SearchIndex, traded_values: Sequence[float], pause: Callable[[], None] | None) -> None:
        self.index = index
        # Within a kind of match: NIFTY 50 first, then other index members, then larger traded value, then the
        # shorter symbol, the symbol, the NSE listing before another exchange's (utils.search_rank.search_rank).
        traded = np.fromiter((float(v or 0) for v in traded_values), dtype=np.float64, count=len(index.instruments))
        order = np.lexsort((index.tie_break, -traded, index.tiers))
        self.position = np.empty(len(order), dtype=np.int32)
        self.position[order] = np.arange(len(order), dtype=np.int32)
        self._order = order.astype(np.int32)
        self._positions = self.position.tolist()
        self._top_symbol = self._best(index.by_symbol, pause)
        self._top_word = self._best(index.by_word, pause)
        self._short = self._short_answers(pause)

    def _best(self, keys: _Keys, pause: Callable[[], None] | None) -> dict[str, list[int]]:
        """The best `_TOP` distinct instruments of every crowded prefix, best first."""
        best = {}
        for n, (prefix, (lo, hi)) in enumerate(keys.crowded.items()):
            ranks = self.position[keys.owners[lo:hi]]
            # a company name has a few word keys under one prefix at most, so 8 x _TOP ranks hold _TOP stocks
            # (else all of them are looked at)
            distinct = np.unique(np.partition(ranks, 8 * _TOP - 1)[: 8 * _TOP]) if len(ranks) > 8 * _TOP else None
            if distinct is None or len(distinct) < _TOP:
                distinct = np.unique(ranks)
            best[prefix] = self._order[distinct[:_TOP]].tolist()
            if pause is not None and n % 64 == 63:
                pause()
        return best

    def _short_answers(self, pause: Callable[[], None] | None) -> dict[str, list[int]]:
        """The first `MAX_LIMIT` answers of every query of up to `SHORT_PREFIX` characters that matches a key."""
        answers = {}
        for n, prefix in enumerate(self.index.by_symbol.short.keys() | self.index.by_word.short.keys()):
            answers[prefix] = self._walk(prefix, MAX_LIMIT)
            if pause is not None and n % 64 == 63:
                pause()
        return answers

    def _matches(self, keys: _Keys, top: dict[str, list[int]], prefix: str) -> list[int]:
        """Distinct instruments with a key starting with `prefix`, best first (at least `MAX_LIMIT` of them)."""
        known = top.get(prefix)
        if known is not None:
            return known
        lo, hi = keys.span(prefix)
        return sorted(set(keys.owners[lo:hi].tolist()), key=self._positions.__getitem__)

    def search(self, query: str, limit: int) -> list[int]:
        """Instruments (offsets into `index.instruments`) matching `query`, best first, at most `limit`: the exact
        symbol, then the other symbols starting with it, then company-word matches not already found by symbol."""
        wanted = query.casefold()
        if len(wanted) <= SHORT_PREFIX:
            return self._short.get(wanted, [])[:limit]
        return self._walk(wanted, limit)

    def _walk(self, wanted: str, limit: int) -> list[int]:
        """`search` of a case-folded query, each list walked only until the page is full."""
        symbols = self.index.symbols
        found = sorted(self.index.exact.get(wanted, ()), key=self._positions.__getitem__)[:limit]
        for n in self._matches(self.index.by_symbol, self._top_symbol, wanted):
            if len(found) >= limit:
                return found
            if symbols[n] != wanted:
                found.append(n)
        for n in self._matches(self.index.by_word, self._top_word, wanted):
            if len(found) >= limit:
                return found
            if not symbols[n].startswith(wanted):
                found.append(n)
        return found
