"""``lm-explorer permutation``: score every item under several orders of its choices; summarise
how much of the answer is position and how much content."""

from __future__ import annotations

import argparse

from explorer.cli.common import (add_batch_argument, add_by_argument, add_data_arguments, add_model_argument,
                                 add_scale_arguments, cache_arg, check_by, load_data, load_model, model_options,
                                 seed_of, write_json)
from explorer.prompts.format import NAMED_FORMATS
from explorer.scoring.progress import tqdm_progress

NAME = "permutation"
CYCLIC = "cyclic"  # the sub-run, inside a --ray run folder, of the cyclic shifts scored for circular accuracy
HELP = "score each item under cyclic, all or sampled orders of its choices; report position bias"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser, seed_help=", of sampled orders and of the PriDe items")
    add_model_argument(parser, several=True)
    parser.add_argument("--orders", default="cyclic", help="'cyclic' (k shifts, default), 'all' (k!) or a number "
                        "N of random orders drawn with --seed")
    parser.add_argument("--labels", default=None, help="label set: ABCD, abcd, 1234 or your own characters "
                        "(default: the format's)")
    parser.add_argument("--format", default="letters", choices=sorted(NAMED_FORMATS), help="prompt format")
    parser.add_argument("--template", default=None, help="prompt template with {question} and {choices}; "
                        "\\n stands for a newline")
    parser.add_argument("--out", required=True, help="rows (item x order x position): .csv, .jsonl or .parquet")
    parser.add_argument("--summary", required=True, help="summary metrics as JSON")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for 95%% intervals (0: none)")
    add_by_argument(parser)
    add_batch_argument(parser)
    add_scale_arguments(parser)


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(summary: dict) -> str:
    """A short readable table: per position, then the headline numbers with their intervals; with
    several numbers of choices, one such table per k, then the pooled numbers."""
    if summary["k"] is None:
        pooled = [f"pooled over {summary['n_items']} items, {summary['n_prompts']} prompts (k = "
                  f"{', '.join(map(str, summary['ks']))})"]
        pooled += [f"{name:<26}{_fmt(summary[name]):>8}" for name in ("accuracy", "order_avg_accuracy", "consistency")]
        return "\n\n".join([*(table(s) for s in summary["by_k"].values()), "\n".join(pooled)])
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
        interval = f"  [{_fmt(ci[key][0])}, {_fmt(ci[key][1])}]" if ci.get(key) is not None else ""
        lines.append(f"{name:<26}{_fmt(summary[key]):>8}{interval}")
    lines.append(f"{'chi-square of positions':<26}{summary['chi2']:8.2f}  p = {summary['chi2_p']:.3g}")
    lines.extend(f"note: {n}" for n in summary["notes"])
    return "\n".join(lines)


def lacks_cyclic_shifts(items: list, orders, *, seed: int) -> bool:
    """Whether the orders asked for miss one of the k cyclic shifts (for some k among the items)."""
    from explorer.items.orders import cyclic_orders  # noqa: PLC0415
    from explorer.probes.permutation import orders_for  # noqa: PLC0415

    return any(not set(cyclic_orders(k)) <= set(chosen) for k, chosen in orders_for(items, orders, seed=seed).items())


def add_circular_accuracy(summary: dict, cyclic: dict) -> None:
    """Copy ``circular_accuracy`` and its interval, at the top, per k and per group, from the summary of
    an extra run of the k cyclic shifts (made because the orders asked for do not all include them)."""
    summary["circular_accuracy"] = cyclic["circular_accuracy"]
    if "circular_accuracy" in cyclic.get("ci95", {}):
        summary.setdefault("ci95", {})["circular_accuracy"] = cyclic["ci95"]["circular_accuracy"]
    summary["notes"] = [n for n in summary.get("notes", []) if not n.startswith("circular accuracy not computed")]
    summary["notes"].append("circular accuracy from an extra run of the cyclic shifts, which the orders asked "
                            "for do not all include")
    for k, per_k in (summary.get("by_k") or {}).items():
        add_circular_accuracy(per_k, cyclic["by_k"][k])
    for group, theirs in zip(summary.get("groups") or [], cyclic.get("groups") or []):
        add_circular_accuracy(group, theirs)


def groups_text(summary: dict) -> str:
    """The per-group numbers of a grouped summary, one line each."""
    from explorer.metrics.permutation_summary import group_table  # noqa: PLC0415

    return group_table(summary).to_string(index=False, float_format=lambda v: f"{v:.3f}")


def run(args: argparse.Namespace) -> int:
    from explorer.cli.models import several  # noqa: PLC0415
    from explorer.cli.scale import distributed_rows, model_name, run_folder, write_rows  # noqa: PLC0415 - heavy: not for --help
    from explorer.probes.permutation import permutation_probe  # noqa: PLC0415

    items = load_data(args)
    check_by(args.by, items)
    orders = int(args.orders) if args.orders.isdigit() else args.orders
    template = args.template.replace("\\n", "\n") if args.template else None  # "\n" typed in a shell
    options = dict(fmt=args.format, labels=args.labels, template=template, seed=seed_of(args))
    if several(args):
        return run_models(args, items, orders, options)
    if args.ray:  # the cyclic shifts, when scored for circular accuracy, are a run of their own inside the folder
        def score(chosen, *, sub: str | None = None):
            folder = run_folder(args.out)[0] / sub if sub else None
            return distributed_rows(args, NAME, items, {**options, "orders": chosen}, folder=folder)
    else:
        model = load_model(args.model, **model_options(args))

        def score(chosen, *, sub: str | None = None):
            return permutation_probe(model, items, orders=chosen, **options, batch_size=args.batch_size,
                                     cache=cache_arg(args), progress=tqdm_progress(sub or "permutations"))
    frame = score(orders)
    cyclic = None
    if any(i.answer is not None for i in items) and lacks_cyclic_shifts(items, orders, seed=seed_of(args)):
        cyclic = score("cyclic", sub=CYCLIC)
    print(f"wrote {write_rows(frame, args)}")
    return report(frame, args, model_name(args) if args.ray else model.name, cyclic=cyclic)


def report(frame, args: argparse.Namespace, model: str, *, cyclic=None) -> int:
    """Summarise the rows (and ``cyclic``, the k cyclic shifts scored for circular accuracy when the
    orders lack them), write ``--summary`` and print the table (also ``lm-explorer summarize``)."""
    summary = summary_of(frame, args, model, cyclic=cyclic)
    path = write_json(summary, args.summary)
    show(summary, frame, args)
    print(f"wrote {path}")
    return 0


def summary_of(frame, args: argparse.Namespace, model: str, *, cyclic=None) -> dict:
    """The summary JSON of one model's rows (the same in a single-model run and in ``by_model``)."""
    from explorer.metrics.permutation_summary import summarize_permutation  # noqa: PLC0415

    options = dict(by=getattr(args, "by", None) or [], n_boot=args.n_boot, seed=seed_of(args))
    summary = summarize_permutation(frame, **options)
    if cyclic is not None:
        add_circular_accuracy(summary, summarize_permutation(cyclic, **options))
    summary["model"] = model
    return summary


def show(summary: dict, frame, args: argparse.Namespace) -> None:
    print(f"model {summary['model']}, format {frame['format'].iloc[0]}, orders {args.orders}")
    print(table(summary))
    if getattr(args, "by", None):
        print(f"\nby {', '.join(args.by)}:\n{groups_text(summary)}")


COMPARED = ["accuracy", "order_avg_accuracy", "a_bias", "rstd", "consistency"]


def run_models(args: argparse.Namespace, items: list, orders, options: dict) -> int:
    """Every ``--model`` on the same items and orders: rows with a ``model`` column, ``by_model`` summaries
    (each the single-model command's) and ``compare`` (paired differences against the first model). With
    ``--ray``, each model's rows (and cyclic shifts) are a run folder of its own (:mod:`explorer.cli.models`)."""
    from explorer.cli.models import each_model  # noqa: PLC0415
    from explorer.cli.scale import distributed_rows  # noqa: PLC0415
    from explorer.probes.permutation import permutation_probe  # noqa: PLC0415

    needs_cyclic = any(i.answer is not None for i in items) and lacks_cyclic_shifts(items, orders, seed=seed_of(args))

    def score(model):
        run = lambda chosen, what: permutation_probe(model, items, orders=chosen, **options,  # noqa: E731
                                                     batch_size=args.batch_size, cache=cache_arg(args),
                                                     progress=tqdm_progress(what))
        return run(orders, "permutations"), (run("cyclic", CYCLIC) if needs_cyclic else None)

    def on_ray(model_args, folder):
        run = lambda chosen, where: distributed_rows(model_args, NAME, items, {**options, "orders": chosen},  # noqa: E731
                                                     folder=where)
        return run(orders, folder), (run("cyclic", folder / CYCLIC) if needs_cyclic else None)

    return report_models(each_model(args, score, on_ray=on_ray), args)


def report_models(scored: dict, args: argparse.Namespace) -> int:
    """``scored``: {model: (rows, cyclic rows or None)}. Write the stacked rows, the comparison summary and
    print each model's table and the differences (also ``lm-explorer summarize``)."""
    from explorer.cli.models import differences_text, write_comparison  # noqa: PLC0415
    from explorer.cli.scale import write_rows  # noqa: PLC0415
    from explorer.metrics.compare import compare_permutation  # noqa: PLC0415
    from explorer.probes.models import stacked  # noqa: PLC0415

    frames = {name: rows for name, (rows, _) in scored.items()}
    print(f"wrote {write_rows(stacked(frames), args)}")
    blocks = {name: summary_of(rows, args, name, cyclic=cyclic) for name, (rows, cyclic) in scored.items()}
    compare = compare_permutation(frames, n_boot=args.n_boot, seed=seed_of(args))
    for name, block in blocks.items():
        show(block, frames[name], args)
        print()
    for pair in compare["pairs"]:
        for k, diffs in pair["by_k"].items():
            print(differences_text(diffs, COMPARED, title=f"{pair['model']} minus {pair['minus']}, "
                                   f"k={k} ({diffs['n_items']} items, 95% paired interval)"))
    print(f"wrote {write_comparison(blocks, compare, args.summary)}")
    return 0
