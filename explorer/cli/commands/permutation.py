"""``lm-explorer permutation``: score every item under several orders of its choices; summarise
how much of the answer is position and how much content."""

from __future__ import annotations

import argparse

from explorer.cli.common import (add_batch_argument, add_model_argument, add_scale_arguments, cache_arg,
                                 model_options, write_json)
from explorer.cli.scale import distributed_rows, model_name, write_rows
from explorer.items import load_items
from explorer.metrics.permutation import summarize_permutation
from explorer.models import load_model
from explorer.probes.permutation import permutation_probe
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
    add_scale_arguments(parser)


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
                      ("pride_accuracy", "PriDe-debiased accuracy"), ("a_bias", "A-bias"), ("rstd", "RStd"),
                      ("consistency", "consistency"), ("entropy_norm", "normalised entropy"),
                      ("kl_uniform_bits", "KL to uniform (bits)")]:
        interval = f"  [{_fmt(ci[key][0])}, {_fmt(ci[key][1])}]" if key in ci else ""
        lines.append(f"{name:<26}{_fmt(summary[key]):>8}{interval}")
    lines.append(f"{'chi-square of positions':<26}{summary['chi2']:8.2f}  p = {summary['chi2_p']:.3g}")
    lines.extend(f"note: {n}" for n in summary["notes"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    items = load_items(args.data)
    orders = int(args.orders) if args.orders.isdigit() else args.orders
    template = args.template.replace("\\n", "\n") if args.template else None  # "\n" typed in a shell
    options = dict(orders=orders, fmt=args.format, labels=args.labels, template=template, seed=args.seed)
    if args.ray:
        frame = distributed_rows(args, NAME, items, options)
    else:
        model = load_model(args.model, **model_options(args))
        frame = permutation_probe(model, items, **options, batch_size=args.batch_size, cache=cache_arg(args),
                                  progress=tqdm_progress("permutations"))
    print(f"wrote {write_rows(frame, args)}")
    return report(frame, args, model_name(args) if args.ray else model.name)


def report(frame, args: argparse.Namespace, model: str) -> int:
    """Summarise the rows, write ``--summary`` and print the table (also ``lm-explorer summarize``)."""
    summary = summarize_permutation(frame, n_boot=args.n_boot, seed=args.seed)
    summary["model"] = model
    path = write_json(summary, args.summary)
    print(f"model {model}, format {frame['format'].iloc[0]}, orders {args.orders}")
    print(table(summary))
    print(f"wrote {path}")
    return 0
