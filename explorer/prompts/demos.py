"""In-context demonstrations: drawn with a seed from a pool kept apart from the scored items."""

from __future__ import annotations

import random
from collections.abc import Sequence

from explorer.errors import FormatError
from explorer.items.item import Item


def draw_demonstrations(pool: Sequence[Item], k: int, *, seed: int, exclude: Sequence[Item] | set[str] = (),
                        for_item: str = "") -> list[Item]:
    """``k`` items drawn without replacement from ``pool``, never one whose id is in ``exclude``.

    The draw depends only on (seed, for_item, pool ids), so the same seed gives the same prompts;
    passing the scored item's id as ``for_item`` gives each item its own demonstrations.
    """
    if k == 0:
        return []
    banned = exclude if isinstance(exclude, set) else {i.id for i in exclude}
    candidates = [d for d in pool if d.id not in banned and d.id != for_item and d.answer is not None]
    if len(candidates) < k:
        raise FormatError(f"asked for {k} demonstrations but the pool has only {len(candidates)} usable items "
                          "(with a gold answer, not among the scored items); give a larger demonstration pool")
    rng = random.Random(f"{seed}:{for_item}")
    return rng.sample(candidates, k)


def split_pool(items: Sequence[Item], n_pool: int, *, seed: int = 0) -> tuple[list[Item], list[Item]]:
    """Split items into (demonstration pool, scored items), disjoint, with a seeded shuffle."""
    if not 0 <= n_pool < len(items):
        raise ValueError(f"cannot keep {n_pool} of {len(items)} items for demonstrations and still score some")
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    pool_ids = {i.id for i in shuffled[:n_pool]}
    return [i for i in items if i.id in pool_ids], [i for i in items if i.id not in pool_ids]
