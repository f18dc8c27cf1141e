"""``lm-explorer attentiveness``: probability mass on the answer choices, by format and demonstrations."""

from __future__ import annotations

import argparse

from explorer import columns as C
from explorer.cli.common import (add_batch_argument, add_model_argument, add_scale_arguments, cache_arg,
                                 model_options, write_json)
from explorer.cli.scale import distributed_rows, model_name, write_rows
from explorer.errors import FormatError
from explorer.items import load_items
from explorer.metrics.attentiveness import pma_accuracy_relation, summarize_attentiveness
from explorer.models import load_model
from explorer.probes.attentiveness import PREMISE, attentiveness
from explorer.prompts.demos import split_pool
from explorer.prompts.format import NAMED_FORMATS
from explorer.scoring.progress import tqdm_progress

NAME = "attentiveness"
HELP = ("surface-form attentiveness: mass on the valid choices (PMA), the SFC bound, invalid answers, "
        "and PMI / length-normalised baselines, per format and number of demonstrations")


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more non-negative integers, e.g. 0,1,4")
    return values


def _formats(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in NAMED_FORMATS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown format(s) {unknown}; choose from {sorted(NAMED_FORMATS)}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="items as .jsonl, .json or .csv (question, choices, answer)")
    add_model_argument(parser)
    parser.add_argument("--formats", type=_formats, default=["letters", "string", "cloze"],
                        help="comma-separated prompt formats (default: letters,string,cloze)")
    parser.add_argument("--shots", type=_ints, default=[0, 1], help="numbers of demonstrations (default: 0,1)")
    parser.add_argument("--seeds", type=int, default=3, help="demonstration draws per shots > 0 (default: 3)")
    parser.add_argument("--demos", default=None, help="demonstration pool (.jsonl/.json/.csv), kept apart from "
                        "--data; without it and with shots > 0, --data is split into a pool and scored items")
    parser.add_argument("--pool-size", type=int, default=None,
                        help="items of --data kept as the pool when splitting (default: max(8, 2 x most shots), "
                        "at most half the data)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of that split (default 0)")
    parser.add_argument("--premise", default=PREMISE, help=f"content-free premise for PMI (default {PREMISE!r})")
    parser.add_argument("--top-invalid", type=int, default=5, help="top invalid tokens kept per row (default 5)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals")
    parser.add_argument("--out", required=True, help="rows (one per item x format x shots x seed): .jsonl, .csv "
                        "or .parquet")
    parser.add_argument("--summary", required=True, help="summary JSON: {format: {shots: {pma_mean, accuracy, "
                        "resolved_share, invalid_share, n_items, ...}}, plus '_meta' (model, demonstrations, ...)")
    add_batch_argument(parser)
    add_scale_arguments(parser)


def demonstration_split(args: argparse.Namespace, items: list) -> tuple[list, list, dict]:
    """(pool, scored items, description): --demos, a seeded split of --data, or no pool at 0 shots."""
    if args.demos:
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


def run(args: argparse.Namespace) -> int:
    items = load_items(args.data)
    pool, scored, demos = demonstration_split(args, items)
    if demos["source"] == "split":
        print(f"split {args.data} into a demonstration pool of {len(pool)} items and {len(scored)} scored items "
              f"(seed {args.split_seed}); demonstrations are never drawn from the scored items")
    options = dict(formats=args.formats, shots=args.shots, seeds=list(range(args.seeds)), pool=pool,
                   premise=args.premise, n_invalid=args.top_invalid)
    if args.ray:
        rows = distributed_rows(args, NAME, scored, options, extra={"demonstrations": demos})
    else:
        model = load_model(args.model, **model_options(args))
        rows = attentiveness(model, scored, **options, batch_size=args.batch_size, cache=cache_arg(args),
                             progress=tqdm_progress("attentiveness"))
    print(f"wrote {write_rows(rows, args)}")
    return report(rows, args, model_name(args) if args.ray else model.name, demonstrations=demos)


def report(rows, args: argparse.Namespace, model: str, *, demonstrations: dict) -> int:
    """Summarise the rows, write ``--summary`` and print the table (also ``lm-explorer summarize``)."""
    table = summarize_attentiveness(rows, n_boot=args.bootstrap)
    cells: dict[str, dict[str, dict]] = {}
    for rec in table.to_dict("records"):
        cells.setdefault(rec.pop(C.FORMAT), {})[str(rec.pop(C.SHOTS))] = rec
    n_scored = rows[C.ITEM_ID].nunique()
    meta = {"model": model, "data": args.data, "n_scored": n_scored, "demonstrations": demonstrations,
            "premise": args.premise, "seeds": args.seeds, "pma_accuracy_relation": pma_accuracy_relation(table)}
    write_json({**cells, "_meta": meta}, args.summary)
    print(f"{n_scored} items scored, model {model}")
    print(table[[C.FORMAT, C.SHOTS, "n_items", "pma_mean", "accuracy", "accuracy_pmi", "accuracy_norm",
                 "resolved_share", "invalid_share"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {args.summary}")
    return 0
