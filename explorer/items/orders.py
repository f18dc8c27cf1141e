"""Orders of an item's choices: which ones the permutation probe shows, checks that they are usable, and how
they are written in frames (probes and metrics both read them from here).

An order is a tuple of original choice indices: ``order[i]`` is the choice shown at position ``i``
(as in :meth:`explorer.items.Item.permuted`). Orders are written in frames as ``"1,2,3,0"``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from explorer.errors import ExplorerError, ItemError
from explorer.items.item import Item

if TYPE_CHECKING:
    from explorer.prompts.format import PromptFormat

Order = tuple[int, ...]
OrderSpec = str | int | Sequence[Sequence[int]]
MAX_ALL_K = 6  # "all" orders of more choices (7! = 5040 prompts per item and up) is refused: sample instead
MAX_ALL_ORDERS = 5040  # 7!; up to this many orders, a sample is drawn from the enumerated list


class OrderError(ExplorerError, ValueError):
    """An order specification or an explicit order cannot be used."""


def cyclic_orders(k: int) -> list[Order]:
    """The k cyclic shifts; shift s shows original choice (i + s) mod k at position i.

    >>> cyclic_orders(3)
    [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    """
    return [tuple((i + s) % k for i in range(k)) for s in range(k)]


def all_orders(k: int) -> list[Order]:
    """All k! orders in lexicographic order (identity first).

    >>> all_orders(3)
    [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    """
    if k > MAX_ALL_K:
        raise OrderError(f"all orders of {k} choices are {math.factorial(k):,} prompts per item (all orders are "
                         f"for up to {MAX_ALL_K} choices); ask for a random sample instead (orders=N, CLI --orders N)")
    return list(itertools.permutations(range(k)))


def sampled_orders(k: int, n: int, *, seed: int = 0) -> list[Order]:
    """``n`` distinct orders drawn at random with ``seed`` (the same seed gives the same orders).

    >>> sampled_orders(4, 3, seed=0) == sampled_orders(4, 3, seed=0)
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise OrderError(f"the number of sampled orders must be a positive integer, not {n!r}")
    if n > math.factorial(k):
        raise OrderError(f"asked for {n} orders but {k} choices have only {math.factorial(k)}; use orders='all'")
    rng = random.Random(f"orders:{seed}:{k}")
    if math.factorial(k) <= MAX_ALL_ORDERS:
        return rng.sample(list(itertools.permutations(range(k))), n)
    seen: dict[Order, None] = {}
    while len(seen) < n:
        perm = list(range(k))
        rng.shuffle(perm)
        seen.setdefault(tuple(perm), None)
    return list(seen)


def check_order(order: Sequence[int], k: int, *, item_id: str = "") -> Order:
    """``order`` as a tuple, or a clear error when it is not a permutation of 0..k-1.

    >>> check_order([2, 0, 1], 3)
    (2, 0, 1)
    """
    try:
        out = tuple(int(o) for o in order)
    except (TypeError, ValueError):
        out = None
    if out is None or sorted(out) != list(range(k)):
        problem = f"order {list(order)!r} is not a permutation of 0..{k - 1}"
        fix = f"give each choice index 0..{k - 1} exactly once"
        if item_id:
            raise ItemError(item_id, "order", problem, fix)
        raise OrderError(f"{problem}; {fix}")
    return out


def resolve_orders(spec: OrderSpec, k: int, *, seed: int = 0) -> list[Order]:
    """Orders for items with ``k`` choices: ``"cyclic"``, ``"all"``, an int n (seeded sample),
    a numeric string ``"6"``, or an explicit list of orders (each checked)."""
    if isinstance(spec, str):
        if spec == "cyclic":
            return cyclic_orders(k)
        if spec == "all":
            return all_orders(k)
        if spec.strip().isdigit():
            return sampled_orders(k, int(spec), seed=seed)
        raise OrderError(f"unknown orders {spec!r}; use 'cyclic', 'all', or a number of random orders")
    if isinstance(spec, int) and not isinstance(spec, bool):
        return sampled_orders(k, spec, seed=seed)
    orders = [check_order(o, k) for o in spec]
    if not orders:
        raise OrderError("the list of orders is empty; give at least one order")
    if len(set(orders)) != len(orders):
        raise OrderError(f"the list of orders repeats an order: {orders}; give each order once")
    return orders


def check_labels(items: Sequence[Item], fmt: PromptFormat) -> None:
    """Every item must have a label per choice in a lettered format (else a clear error)."""
    if not fmt.scores_labels:
        return
    for item in items:
        if item.k > len(fmt.labels):
            raise ItemError(item.id, "choices", f"it has {item.k} choices but the label set "
                            f"{''.join(fmt.labels)!r} has only {len(fmt.labels)} labels",
                            f"use a label set with at least {item.k} labels, or drop choices")


def order_string(order: Sequence[int]) -> str:
    """How an order is written in frames and files.

    >>> order_string((1, 2, 0))
    '1,2,0'
    """
    return ",".join(str(int(o)) for o in order)


def parse_order(text: str) -> Order:
    """The inverse of :func:`order_string`.

    >>> parse_order("1,2,0")
    (1, 2, 0)
    """
    return tuple(int(t) for t in str(text).split(","))


def orders_for(items: Sequence[Item], orders: OrderSpec, *, seed: int = 0) -> dict[int, list[Order]]:
    """The orders used for each number of choices present among ``items``."""
    out = {}
    for k in sorted({i.k for i in items}):
        try:
            out[k] = resolve_orders(orders, k, seed=seed)
        except OrderError as e:
            with_k = [i.id for i in items if i.k == k]
            raise OrderError(f"{len(with_k)} item(s) have {k} choices (first {with_k[0]!r}): {e}") from None
    return out
