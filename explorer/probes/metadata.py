"""Item metadata (subject, category, ...) as columns after a probe frame's documented columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.items.item import Item


def with_metadata(frame: pd.DataFrame, items: Sequence[Item]) -> pd.DataFrame:
    """``frame`` (rows keyed by ``item_id``) with one column per metadata key of ``items``, after its
    own columns; see :mod:`explorer.columns` (a key that is a documented column becomes ``meta_<key>``)."""
    keys = list(dict.fromkeys(k for item in items for k in item.metadata))
    if not keys:
        return frame
    meta = {item.id: item.metadata for item in items}
    codes, ids = pd.factorize(frame[C.ITEM_ID])  # per row, the index of its item among the distinct ids
    extra = {(C.META_PREFIX + k if k in C.DOCUMENTED or k in frame.columns else k):
             np.array([meta[i].get(k) for i in ids] + [None], dtype=object)[codes] for k in keys}
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)
