"""Shared pieces of the benchmarks: the item set and the plain baseline they are measured against."""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass

import numpy as np
import plain

from explorer import load_model
from explorer.items import Item, arithmetic, capitals
from explorer.models.handle import LoadedModel
from explorer.prompts import DEFAULT_FORMAT, label_token_ids


@dataclass
class Setup:
    """What both order benchmarks start from: the model, the 100 items and the label tokens."""

    model: LoadedModel
    items: list[Item]
    label_ids: list[int]
    start: float  # perf_counter() before the model was loaded
    load_s: float


def setup(description: str) -> Setup:
    """Parse ``--items``/``--model``, load the model (timed) and build the items."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    model = load_model(args.model)
    load_s = time.perf_counter() - start
    return Setup(model, hundred_items(args.items), label_token_ids(model.tokenizer, [" A", " B", " C", " D"]),
                 start, load_s)


def hundred_items(n: int = 100) -> list[Item]:
    """100 four-choice items: every built-in capital (68), then arithmetic."""
    caps = capitals(k=4, seed=0)
    return (caps + arithmetic(max(0, n - len(caps)), k=4, seed=0))[:n]


def all_order_prompts(items: list[Item]) -> list[str]:
    """The default-format prompt of every item under every order of its choices (k! each)."""
    return [DEFAULT_FORMAT.build(it.permuted(o)) for it in items for o in itertools.permutations(range(it.k))]


def plain_batched(model: LoadedModel, prompts: list[str], token_ids: list[int], batch_size: int = 32) -> np.ndarray:
    """The baseline: batches of 32 in the given order, left padding, full logits, last position read."""
    return plain.plain_batched(model.model, model.tokenizer, prompts, token_ids, batch_size=batch_size)
