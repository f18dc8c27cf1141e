"""Command-line pieces shared by the commands that use in-context demonstrations (attentiveness, chain):
comma-separated lists of formats and numbers, and where the demonstration pool comes from."""

from __future__ import annotations

import argparse

from explorer.errors import FormatError
from explorer.prompts.demos import split_pool
from explorer.prompts.format import NAMED_FORMATS


def int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more non-negative integers, e.g. 0,1,4")
    return values


def format_list(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in NAMED_FORMATS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown format(s) {unknown}; choose from {sorted(NAMED_FORMATS)}")
    return names


def add_demonstration_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demos``, ``--pool-size``, ``--split-seed``: where demonstrations come from (:func:`demonstration_split`)."""
    parser.add_argument("--demos", default=None, help="demonstration pool (.jsonl/.json/.csv), kept apart from "
                        "--data; without it and with shots > 0, --data is split into a pool and scored items")
    parser.add_argument("--pool-size", type=int, default=None,
                        help="items of --data kept as the pool when splitting (default: max(8, 2 x most shots), "
                        "at most half the data)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of that split (default 0)")


def demonstration_split(args: argparse.Namespace, items: list) -> tuple[list, list, dict]:
    """(pool, scored items, description): --demos, a seeded split of --data, or no pool at 0 shots."""
    if args.demos:
        from explorer.items.io import load_items  # noqa: PLC0415

        pool = load_items(args.demos)
        return pool, items, {"source": "file", "path": args.demos, "n_pool": len(pool)}
    if max(args.shots) == 0:
        return [], items, {"source": "none"}
    n_pool = args.pool_size if args.pool_size is not None else min(max(8, 2 * max(args.shots)), len(items) // 2)
    if n_pool < max(args.shots):
        raise FormatError(f"{max(args.shots)} demonstrations need a pool of at least that many items, kept apart "
                          f"from the {len(items)} items of --data; give --demos POOL.jsonl, a larger --pool-size or "
                          "more items")
    pool, scored = split_pool(items, n_pool, seed=args.split_seed)
    return pool, scored, {"source": "split", "split_seed": args.split_seed, "n_pool": len(pool),
                          "pool_ids": [i.id for i in pool]}
