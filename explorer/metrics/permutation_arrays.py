"""The permutation probe's frame as arrays, which every permutation metric reads.

``probs[i, o, j]``: renormalised probability of label position j for item i under order o;
``content[i, o, j]``: the original choice shown there; ``gold[i]``: the gold choice, -1 if unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import ExplorerError, ItemError
from explorer.items.orders import order_string


@dataclass(frozen=True)
class PermutationArrays:
    """The frame as arrays: ``probs``/``content`` [items, orders, k]; ``gold`` [items], -1 if unknown."""

    item_ids: tuple[str, ...]
    orders: tuple[str, ...]
    labels: tuple[str, ...]
    probs: np.ndarray
    content: np.ndarray
    gold: np.ndarray

    @property
    def k(self) -> int:
        return self.probs.shape[2]

    def take(self, idx: np.ndarray) -> PermutationArrays:
        """The arrays restricted to (or resampled as) the items at ``idx``."""
        return PermutationArrays(tuple(self.item_ids[i] for i in idx), self.orders, self.labels, self.probs[idx],
                                 self.content[idx], self.gold[idx])


Data = pd.DataFrame | PermutationArrays


def permutation_arrays(data: Data) -> PermutationArrays:
    """Arrays from the probe's frame; a clear error when k or the orders differ between items."""
    if isinstance(data, PermutationArrays):
        return data
    frame = data
    missing = [c for c in (C.ITEM_ID, C.ORDER, C.POSITION, C.CHOICE_INDEX, C.PROB_NORM, C.IS_GOLD) if c not in frame]
    if missing:
        raise ExplorerError(f"the frame lacks columns {missing}; pass the frame of permutation_probe")
    if frame.empty:
        raise ExplorerError("the frame is empty; score at least one item")
    items, i_idx = np.unique(frame[C.ITEM_ID].astype(str).to_numpy(), return_inverse=True)
    orders, o_idx = np.unique(frame[C.ORDER].astype(str).to_numpy(), return_inverse=True)
    k = int(frame[C.POSITION].max()) + 1
    counts = np.zeros((len(items), len(orders)), dtype=int)
    np.add.at(counts, (i_idx, o_idx), 1)
    bad = np.argwhere(counts != k)
    if len(bad):
        i, o = bad[0]
        raise ExplorerError(f"item {items[i]!r} has {counts[i, o]} rows under order {orders[o]!r}, not {k}: the "
                            "metrics need one k and the same orders for every item (summarize_permutation splits by k; "
                            "give it the whole frame, or pass one k's rows)")
    pos = frame[C.POSITION].to_numpy(int)
    probs = np.zeros((len(items), len(orders), k))
    content = np.zeros((len(items), len(orders), k), dtype=int)
    probs[i_idx, o_idx, pos] = frame[C.PROB_NORM].to_numpy(float)
    content[i_idx, o_idx, pos] = frame[C.CHOICE_INDEX].to_numpy(int)
    gold = np.full(len(items), -1)
    is_gold = frame[C.IS_GOLD].astype("boolean").fillna(False).to_numpy(bool)
    gold[i_idx[is_gold]] = frame[C.CHOICE_INDEX].to_numpy(int)[is_gold]
    first = frame[(frame[C.ITEM_ID].astype(str) == items[0]) & (frame[C.ORDER].astype(str) == orders[0])]
    labels = tuple(first.sort_values(C.POSITION)[C.LABEL].astype(str)) if C.LABEL in frame else ()
    return PermutationArrays(tuple(items), tuple(orders), labels, probs, content, gold)


def permutation_frame(probs, orders, gold, *, item_ids=None) -> pd.DataFrame:
    """A minimal probe-shaped frame from ``probs`` [items, orders, k], ``orders`` [orders][k] (shared)
    and ``gold`` [items] (None when unknown): for examples and tests."""
    probs = np.asarray(probs, dtype=float)
    rows = []
    for i, item_probs in enumerate(probs):
        for o, order in enumerate(orders):
            for j, choice in enumerate(order):
                g = gold[i]
                rows.append({C.ITEM_ID: item_ids[i] if item_ids else f"q{i}", C.ORDER_ID: o,
                             C.ORDER: order_string(order), C.POSITION: j, C.LABEL: "ABCDEFGHIJ"[j],
                             C.CHOICE_INDEX: choice, C.PROB_NORM: item_probs[o, j],
                             C.IS_GOLD: pd.NA if g is None else choice == g,
                             C.IS_PRED: j == int(np.argmax(item_probs[o]))})
    return pd.DataFrame(rows).astype({C.IS_GOLD: "boolean"})


def example_frame() -> pd.DataFrame:
    """The docstrings' example: an A-biased model that knows a little. k=2, orders "0,1" and "1,0";
    q0 (gold choice 0) gets p = [.9, .1] and [.7, .3]; q1 (gold choice 1) gets [.6, .4] and [.8, .2].
    """
    return permutation_frame([[[.9, .1], [.7, .3]], [[.6, .4], [.8, .2]]], [(0, 1), (1, 0)], [0, 1])


def require_gold(data: Data) -> PermutationArrays:
    """The arrays, or an :class:`ItemError` naming the first item without a gold answer."""
    a = permutation_arrays(data)
    if (a.gold < 0).any():
        raise ItemError(a.item_ids[int(np.argmax(a.gold < 0))], "answer", "it has no gold answer, which accuracy "
                        "needs", "give every item an answer, or drop those without (position-level metrics work "
                        "without gold)")
    return a
