"""Items kept in ordered buckets of a ranking key, so the top of a ranking is found without sorting everything.

An item moves only when its key crosses into another bucket (most ticks move a price within its bucket: a dict
lookup). The top `n` are in the first buckets that together hold `n` items, so a caller ranks those few candidates
exactly. Bucket functions are exact (Decimal or integer arithmetic, no floats), so an item is never in a bucket
its exact key does not belong to.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Hashable, Iterator
from decimal import Decimal

_HUNDRED = Decimal(100)


def percent_bucket(pct: Decimal) -> int:
    """0.01-percentage-point buckets; 0 holds only an exact 0 (so unchanged stocks never crowd the gainers or
    losers), positive changes are >= 1 and negative ones <= -1."""
    if pct > 0:  # int() truncates towards zero: the floor of a positive number, the ceiling of a negative one
        return int(pct * _HUNDRED) + 1
    if pct < 0:
        return int(pct * _HUNDRED) - 1
    return 0


def magnitude_bucket(value: int) -> int:
    """Buckets of a non-negative integer by its bit length and next six bits (64 per doubling)."""
    bits = value.bit_length()
    return bits * 128 + (value >> max(bits - 7, 0))


class BucketRank:
    """item → bucket, and the items of each bucket, with the non-empty buckets in order."""

    def __init__(self) -> None:
        self._bucket_of: dict[Hashable, int] = {}
        # a bucket's items as dict keys: a dict is about half the size of a set of the same items (4 MiB of sets at
        # 10,000 instruments), and callers rank the candidates exactly, so their order does not matter
        self._members: dict[int, dict[Hashable, None]] = {}
        self._order: list[int] = []  # non-empty buckets, ascending

    def __len__(self) -> int:
        return len(self._bucket_of)

    def place(self, item: Hashable, bucket: int | None) -> None:
        """Put `item` in `bucket` (None: take it out)."""
        current = self._bucket_of.get(item)
        if current == bucket:
            return
        if current is not None:
            members = self._members[current]
            del members[item]
            if not members:
                del self._members[current]
                del self._order[bisect_left(self._order, current)]
        if bucket is None:
            self._bucket_of.pop(item, None)
            return
        self._bucket_of[item] = bucket
        members = self._members.get(bucket)
        if members is None:
            members = self._members[bucket] = {}
            insort(self._order, bucket)
        members[item] = None

    def candidates(self, n: int, descending: bool, lowest: int | None = None, highest: int | None = None) -> list:
        """The items of the first buckets (from the top when `descending`) that together hold at least `n` items,
        whole buckets only, within [lowest, highest]: a superset of the top `n` by any key that buckets this way."""
        found: list = []
        for bucket in self._walk(descending, lowest, highest):
            if len(found) >= n:
                break
            found.extend(self._members[bucket])
        return found

    def _walk(self, descending: bool, lowest: int | None, highest: int | None) -> Iterator[int]:
        order = self._order
        lo = 0 if lowest is None else bisect_left(order, lowest)
        hi = len(order) if highest is None else bisect_left(order, highest + 1)
        return (order[i] for i in (range(hi - 1, lo - 1, -1) if descending else range(lo, hi)))
