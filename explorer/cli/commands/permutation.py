"""``lm-explorer permutation``: score every item under several orders of its choices; summarise
how much of the answer is position and how much content."""

from __future__ import annotations

import argparse
import functools

import numpy as np
import pandas as pd

from explorer.cli.common import add_batch_argument, add_model_argument, cache_arg, write_frame, write_json
from explorer.items import load_items
from explorer.metrics.permutation import bootstrap_ci, circular_accuracy, permutation_arrays, summarize_permutation
from explorer.models import load_model
from explorer.probes.orders import cyclic_orders
from explorer.probes.permutation import orders_for, permutation_probe
from explorer.prompts.format import NAMED_FORMATS
from explorer.scoring.progress import tqdm_progress

NAME = "permutation"
HELP = "score each item under cyclic, all or sampled orders of its choices; report position bias"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="items as .jsonl, .json or .csv (question, choices, answer)")
    add_model_argument(parser)
    parser.add_argument("--orders", default="cyclic", help="'cyclic' (k shifts, default), 'all' (k!) or a number "
                        "N of random orders drawn with --seed")
    parser.add_argument("--labels", default=None, help="label set: ABCD, abcd, 1234 or your own characters "
                        "(default: the format's)")
    parser.add_argument("--format", default="letters", choices=sorted(NAMED_FORMATS), help="prompt format")
    parser.add_argument("--template", default=None, help="prompt template with {question} and {choices}; "
                        "\\n stands for a newline")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampled orders and the PriDe items")
    parser.add_argument("--out", required=True, help="rows (item x order x position): .csv, .jsonl or .parquet")
    parser.add_argument("--summary", required=True, help="summary metrics as JSON")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for 95%% intervals (0: none)")
    add_batch_argument(parser)


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(summary: dict) -> str:
    """A short readable table: per position, then the headline numbers with their intervals."""
    ci = summary.get("ci95", {})
    recall = summary.get("recall_by_position") or [None] * summary["k"]
    labels = summary["labels"] or [str(j) for j in range(summary["k"])]
    lines = [f"{summary['n_items']} items x {summary['n_orders']} orders (k={summary['k']})", "",
             "position  mean p  share  recall"]
    for j, lab in enumerate(labels):
        lines.append(f"{lab:>8}  {summary['mean_prob_by_position'][j]:6.3f}  {summary['position_share'][j]:5.3f}  "
                     f"{_fmt(recall[j]):>6}")
    lines.append(f"uniform   {1 / summary['k']:6.3f}")
    lines.append("")
    for key, name in [("accuracy", "accuracy (per prompt)"), ("order_avg_accuracy", "order-averaged accuracy"),
                      ("circular_accuracy", "circular accuracy"),
                      ("pride_accuracy", "PriDe-debiased accuracy"), ("a_bias", "A-bias"), ("rstd", "RStd"),
                      ("consistency", "consistency"), ("entropy_norm", "normalised entropy"),
                      ("kl_uniform_bits", "KL to uniform (bits)")]:
        interval = f"  [{_fmt(ci[key][0])}, {_fmt(ci[key][1])}]" if key in ci else ""
        lines.append(f"{name:<26}{_fmt(summary[key]):>8}{interval}")
    lines.append(f"{'chi-square of positions':<26}{summary['chi2']:8.2f}  p = {summary['chi2_p']:.3g}")
    lines.extend(f"note: {n}" for n in summary["notes"])
    return "\n".join(lines)


def lacks_cyclic_shifts(items: list, orders, *, seed: int) -> bool:
    """Whether the orders asked for miss one of the k cyclic shifts (for some k among the items)."""
    return any(not set(cyclic_orders(k)) <= set(chosen) for k, chosen in orders_for(items, orders, seed=seed).items())


def add_circular_accuracy(summary: dict, cyclic: pd.DataFrame, *, n_boot: int, seed: int) -> None:
    """Fill ``circular_accuracy`` (and its interval) from a run of the k cyclic shifts made for it."""
    a = permutation_arrays(cyclic)
    g = a.take(np.flatnonzero(a.gold >= 0))
    summary["circular_accuracy"] = circular_accuracy(g)
    if n_boot:
        summary["ci95"]["circular_accuracy"] = list(bootstrap_ci(g, circular_accuracy, n_boot=n_boot, seed=seed))
    summary["notes"] = [n for n in summary["notes"] if not n.startswith("circular accuracy not computed")]
    summary["notes"].append(f"circular accuracy from an extra run of the {a.k} cyclic shifts, which the orders "
                            "asked for do not all include")


def run(args: argparse.Namespace) -> int:
    items = load_items(args.data)
    model = load_model(args.model)
    orders = int(args.orders) if args.orders.isdigit() else args.orders
    template = args.template.replace("\\n", "\n") if args.template else None  # "\n" typed in a shell
    probe = functools.partial(permutation_probe, model, items, fmt=args.format, labels=args.labels,
                              template=template, seed=args.seed, batch_size=args.batch_size, cache=cache_arg(args))
    frame = probe(orders=orders, progress=tqdm_progress("permutations"))
    rows = write_frame(frame, args.out)
    summary = summarize_permutation(frame, n_boot=args.n_boot, seed=args.seed)
    if summary["n_gold_items"] and lacks_cyclic_shifts(items, orders, seed=args.seed):
        cyclic = probe(orders="cyclic", progress=tqdm_progress("cyclic shifts"))
        add_circular_accuracy(summary, cyclic, n_boot=args.n_boot, seed=args.seed)
    summary["model"] = model.name
    path = write_json(summary, args.summary)
    print(f"model {model.name}, format {frame['format'].iloc[0]}, orders {args.orders}")
    print(table(summary))
    print(f"wrote {rows} and {path}")
    return 0
