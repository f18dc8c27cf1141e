"""``lm-explorer attentiveness``: probability mass on the answer choices, by format and demonstrations."""

from __future__ import annotations

import argparse

from explorer import columns as C
from explorer.cli.common import (add_batch_argument, add_by_argument, add_data_arguments, add_model_argument,
                                 add_scale_arguments, cache_arg, check_by, load_data, load_model, model_options,
                                 write_json)
from explorer.cli.demos import add_demonstration_arguments, demonstration_split, format_list, int_list
from explorer.prompts.format import PREMISE
from explorer.scoring.progress import tqdm_progress

NAME = "attentiveness"
HELP = ("surface-form attentiveness: mass on the valid choices (PMA), the SFC bound, invalid answers, "
        "and PMI / length-normalised baselines, per format and number of demonstrations")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    add_model_argument(parser, several=True)
    parser.add_argument("--formats", type=format_list, default=["letters", "string", "cloze"],
                        help="comma-separated prompt formats (default: letters,string,cloze)")
    parser.add_argument("--shots", type=int_list, default=[0, 1], help="numbers of demonstrations (default: 0,1)")
    parser.add_argument("--seeds", type=int, default=3, help="demonstration draws per shots > 0 (default: 3)")
    add_demonstration_arguments(parser)
    parser.add_argument("--premise", default=PREMISE, help=f"content-free premise for PMI (default {PREMISE!r})")
    parser.add_argument("--top-invalid", type=int, default=5, help="top invalid tokens kept per row (default 5)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals")
    add_by_argument(parser)
    parser.add_argument("--out", required=True, help="rows (one per item x format x shots x seed): .jsonl, .csv "
                        "or .parquet")
    parser.add_argument("--summary", required=True, help="summary JSON: {format: {shots: {pma_mean, accuracy, "
                        "resolved_share, invalid_share, n_items, ...}}, plus '_meta' (model, demonstrations, ...)")
    add_batch_argument(parser)
    add_scale_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from explorer.cli.models import several  # noqa: PLC0415
    from explorer.cli.scale import distributed_rows, model_name, write_rows  # noqa: PLC0415 - heavy: not for --help
    from explorer.probes.attentiveness import attentiveness  # noqa: PLC0415

    items = load_data(args)
    check_by(args.by, items)
    pool, scored, demos = demonstration_split(args, items)
    if demos["source"] == "split":
        print(f"split {args.data} into a demonstration pool of {len(pool)} items and {len(scored)} scored items "
              f"(seed {args.split_seed}); demonstrations are never drawn from the scored items")
    options = dict(formats=args.formats, shots=args.shots, seeds=list(range(args.seeds)), pool=pool,
                   premise=args.premise, n_invalid=args.top_invalid)
    if several(args):
        return run_models(args, scored, options, demos)
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
    summary, table = summary_of(rows, args, model, demonstrations=demonstrations)
    write_json(summary, args.summary)
    show(table, rows, model)
    print(f"wrote {args.summary}")
    return 0


def show(table, rows, model: str) -> None:
    print(f"{rows[C.ITEM_ID].nunique()} items scored, model {model}")
    print(table[[C.FORMAT, C.SHOTS, "n_items", "pma_mean", "accuracy", "accuracy_pmi", "accuracy_norm",
                 "resolved_share", "invalid_share"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def summary_of(rows, args: argparse.Namespace, model: str, *, demonstrations: dict):
    """(the summary JSON of one model's rows, the same in a single-model run and in ``by_model``; its table)."""
    from explorer.metrics.attentiveness import pma_accuracy_relation, summarize_attentiveness  # noqa: PLC0415

    table = summarize_attentiveness(rows, n_boot=args.bootstrap)
    cells: dict[str, dict[str, dict]] = {}
    for rec in table.to_dict("records"):
        cells.setdefault(rec.pop(C.FORMAT), {})[str(rec.pop(C.SHOTS))] = rec
    by = getattr(args, "by", None) or []
    if by:  # per group: {format: {shots: [one record per group]}}
        groups: dict[str, dict[str, list]] = {}
        for rec in summarize_attentiveness(rows, by=by, n_boot=args.bootstrap).to_dict("records"):
            groups.setdefault(rec.pop(C.FORMAT), {}).setdefault(str(rec.pop(C.SHOTS)), []).append(rec)
        cells["_groups"] = groups
    n_scored = rows[C.ITEM_ID].nunique()
    meta = {"model": model, "data": args.data, "n_scored": n_scored, "demonstrations": demonstrations,
            "premise": args.premise, "seeds": args.seeds, "by": by, "pma_accuracy_relation": pma_accuracy_relation(table)}
    return {**cells, "_meta": meta}, table


def run_models(args: argparse.Namespace, scored: list, options: dict, demonstrations: dict) -> int:
    """Every ``--model`` on the same items, formats, shots and demonstrations: rows with a ``model`` column,
    ``by_model`` summaries (each the single-model command's) and ``compare`` (paired differences, per
    format x shots, against the first model). With ``--ray``, each model's rows are a run folder of its own
    (:mod:`explorer.cli.models`)."""
    from explorer.cli.models import each_model  # noqa: PLC0415
    from explorer.cli.scale import distributed_rows  # noqa: PLC0415
    from explorer.probes.attentiveness import attentiveness  # noqa: PLC0415

    frames = each_model(args, lambda model: attentiveness(model, scored, **options, batch_size=args.batch_size,
                                                          cache=cache_arg(args), progress=tqdm_progress("attentiveness")),
                        on_ray=lambda model_args, folder: distributed_rows(
                            model_args, NAME, scored, options, folder=folder, extra={"demonstrations": demonstrations}))
    return report_models(frames, args, demonstrations=demonstrations)


def report_models(frames: dict, args: argparse.Namespace, *, demonstrations: dict) -> int:
    """``frames``: {model: rows}. Write the stacked rows, the comparison summary and print each model's table
    and the differences (also ``lm-explorer summarize``)."""
    from explorer.cli.models import differences_text, write_comparison  # noqa: PLC0415
    from explorer.cli.scale import write_rows  # noqa: PLC0415
    from explorer.metrics.compare import ATTENTIVENESS_METRICS, compare_attentiveness  # noqa: PLC0415
    from explorer.probes.models import stacked  # noqa: PLC0415

    print(f"wrote {write_rows(stacked(frames), args)}")
    blocks = {}
    for name, rows in frames.items():
        blocks[name], table = summary_of(rows, args, name, demonstrations=demonstrations)
        show(table, rows, name)
        print()
    compare = compare_attentiveness(frames, n_boot=args.bootstrap)
    for pair in compare["pairs"]:
        for cell in pair["cells"]:
            print(differences_text(cell, list(ATTENTIVENESS_METRICS), title=f"{pair['model']} minus {pair['minus']}, "
                                   f"{cell[C.FORMAT]} {cell[C.SHOTS]}-shot ({cell['n_items']} items, 95% paired interval)"))
    print(f"wrote {write_comparison(blocks, compare, args.summary)}")
    return 0
