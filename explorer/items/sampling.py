"""Which items of a data set to keep: the first n, or n drawn with a seed (kept in source order)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from explorer.errors import ExplorerError

T = TypeVar("T")


def sample(records: Sequence[T], n: int | None = None, seed: int | None = None) -> list[T]:
    """``n`` of ``records``: the first n when ``seed`` is None, else n drawn at random with ``seed``,
    kept in their source order. All of them when ``n`` is None or at least their number.

    >>> sample("abcdef", 3)
    ['a', 'b', 'c']
    >>> sample("abcdef", 3, seed=0) == sample("abcdef", 3, seed=0)
    True
    >>> sample("abc", 10, seed=1)
    ['a', 'b', 'c']
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ExplorerError(f"the number of items to keep must be a positive integer, not {n!r}")
    if n is None or n >= len(records):
        return list(records)
    if seed is None:
        return list(records[:n])
    return [records[i] for i in sorted(random.Random(seed).sample(range(len(records)), n))]
