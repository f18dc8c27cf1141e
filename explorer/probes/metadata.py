"""Item metadata (subject, category, ...) as columns after a probe frame's documented columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.items.item import Item


def with_metadata(frame: pd.DataFrame, row_items: Sequence[Item]) -> pd.DataFrame:
    """``frame`` with one column per metadata key of its items, after its own columns; ``row_items[i]``
    is the item row ``i`` was computed from (matched by position, never by id: ids may repeat, as
    in permuted copies). See :mod:`explorer.columns` (a key that is a documented column becomes
    ``meta_<key>``)."""
    if len(row_items) != len(frame):
        raise ValueError(f"{len(row_items)} items for {len(frame)} rows; give the item of every row")
    keys = list(dict.fromkeys(k for item in row_items for k in item.metadata))
    if not keys:
        return frame
    extra = {(C.META_PREFIX + k if k in C.DOCUMENTED or k in frame.columns else k):
             np.array([item.metadata.get(k) for item in row_items], dtype=object) for k in keys}
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)


def per_row(items: Sequence[Item], rows: Sequence[int]) -> list[Item]:
    """The item of every row when item ``i`` produced ``rows[i]`` consecutive rows.

    >>> [i.id for i in per_row([Item("a", "q?", ("x", "y")), Item("a", "r?", ("x", "y"))], [2, 1])]
    ['a', 'a', 'a']
    """
    return [item for item, n in zip(items, rows) for _ in range(n)]
