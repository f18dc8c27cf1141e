"""``lm-explorer heads``: which attention heads push towards the target or the foil, and scaling them."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from explorer.cli.common import (
    DATA_HELP,
    add_data_arguments,
    add_model_argument,
    add_scale_arguments,
    load_data,
    load_model,
    model_options,
)
from explorer.cli.heads_summary import attribution_summary, report, report_models, strongest, with_sweeps
from explorer.errors import ExplorerError
from explorer.scoring.progress import tqdm_progress

NAME = "heads"
CONTRASTS = "contrasts"  # where a --ray run of multiple-choice items keeps the scoring its contrasts come from
HELP = "per-head direct logit attribution (target vs foil) and a scaling sweep of the strongest heads"


def _factors(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--alphas {text!r}: write comma-separated numbers, e.g. -5,0,1,2") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # let "--alphas -5,0,1" read its value instead of taking "-5,0,1" for an option
    parser._negative_number_matcher = re.compile(r"^-\d[\d.,\-]*$")
    add_data_arguments(parser, data_help=(
        "counterfactual prompts: a JSONL with prompt, target, foil (optional id, fact_prompt), or 'capitals' for the "
        "built-in counterfactual capitals, filtered to facts the model knows; or multiple-choice " + DATA_HELP
        + ", as contrasts: the item in --format, target its gold label, foil the label of the wrong choice the model "
        "ranks highest"), seed_help="")
    parser.add_argument("--format", default="letters", choices=["letters", "numbers", "lower"],
                        help="the prompt format of multiple-choice items (default letters)")
    add_model_argument(parser, several=True)
    parser.add_argument("--top", type=int, default=5, help="heads listed per direction in the summary (default 5)")
    parser.add_argument("--alphas", type=_factors, default=[-5.0, 0.0, 1.0, 2.0, 5.0, 10.0],
                        help="scaling factors for the sweep (default -5,0,1,2,5,10)")
    parser.add_argument("--known-only", action="store_true",
                        help="JSONL data: keep only records whose fact_prompt the model answers with the foil")
    parser.add_argument("--batch-size", type=int, default=16, help="prompts per forward pass (default 16)")
    parser.add_argument("--out", required=True, help="per prompt x layer x head attribution: .csv, .jsonl, .parquet")
    parser.add_argument("--summary", required=True, help="summary JSON")
    add_scale_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from explorer.cli.models import several  # noqa: PLC0415 - heavy: not for --help

    if several(args):
        return run_models(args)
    return report(one_model(args)[1], args)


def one_model(args: argparse.Namespace, model=None):
    """(attribution rows, the summary with the sweep of the strongest heads) of ``args.model`` (or ``model``,
    loaded already): the prompts it knows or the items' contrasts, attribution (written to --out before the
    sweep, unless several models share it), then the sweep."""
    from explorer.cli.models import several  # noqa: PLC0415
    from explorer.cli.scale import write_rows  # noqa: PLC0415
    from explorer.probes.heads import head_attribution  # noqa: PLC0415
    from explorer.probes.sweep import sweep_heads  # noqa: PLC0415

    if not counterfactual_source(args.data):
        records, loaded, model = contrasts(args, model)
    else:
        records, loaded, model = counterfactuals(args, model)
    if args.ray:
        from explorer.cli.scale_heads import run_heads  # noqa: PLC0415 - the Ray path of this command

        return run_heads(args, records, n_loaded=loaded)
    frame = head_attribution(model, records, batch_size=args.batch_size, progress=tqdm_progress("attribution"))
    if not several(args):
        write_rows(frame, args)
    summary = attribution_summary(frame, args, model.name, n_loaded=loaded)
    sweeps = {role: sweep_heads(model, records, [head], args.alphas, batch_size=args.batch_size * 4)
              for role, head in strongest(summary).items()}
    return frame, with_sweeps(summary, sweeps)


def run_models(args: argparse.Namespace) -> int:
    """Every ``--model`` on the same data: attribution rows with a ``model`` column (each model's layers x
    heads), and ``by_model`` summaries, each the single-model command's. With --ray each model's runs are a
    folder of their own (:mod:`explorer.cli.models`)."""
    from explorer.cli.models import each_model  # noqa: PLC0415
    from explorer.cli.scale import write_rows  # noqa: PLC0415
    from explorer.probes.models import stacked  # noqa: PLC0415

    results = each_model(args, lambda model: one_model(args, model),
                         on_ray=lambda model_args, folder: one_model(argparse.Namespace(**{**vars(model_args),
                                                                                           "out": str(folder)})))
    print(f"wrote {write_rows(stacked({name: frame for name, (frame, _) in results.items()}), args)}")
    return report_models({name: summary for name, (_, summary) in results.items()}, args)


def counterfactual_source(data: str) -> bool:
    """Whether ``--data`` names counterfactual prompts ('capitals', or a JSONL whose first record has
    prompt, target and foil) rather than multiple-choice items."""
    if data == "capitals":
        return True
    path = Path(data)
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        record = json.loads(first) if first else {}
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False  # the item reader names the line and the fix
    return isinstance(record, dict) and {"prompt", "target", "foil"} <= set(record)


def counterfactuals(args: argparse.Namespace, model=None):
    """The counterfactual records (filtered to facts the model knows for 'capitals' or --known-only, then
    --limit: the first N, or with --seed a seeded sample), how many were loaded, and the model (``model``, else
    loaded; None with --ray)."""
    from explorer.items.sampling import sample  # noqa: PLC0415
    from explorer.probes.counterfactual import capital_counterfactuals, known_facts, load_counterfactuals  # noqa: PLC0415

    given = [f"--{name}" for name in ("config", "split", "revision", "fields", "answer_as", "invalid")
             if getattr(args, name)]
    if given:
        raise ExplorerError(f"{', '.join(given).replace('_', '-')} read multiple-choice data sets; {args.data} holds "
                            "counterfactual prompts. Fix: drop them")
    builtin = args.data == "capitals"
    records = capital_counterfactuals() if builtin else load_counterfactuals(args.data)
    loaded = len(records)
    if not loaded:
        raise ExplorerError(f"no prompts in {args.data}. Fix: give one JSON object per line with prompt, target and "
                            "foil")
    model = None if args.ray else model or load_model(args.model, **model_options(args))
    if builtin or args.known_only:  # rule "candidates": the true answer beats every other answer
        if args.ray:
            from explorer.cli.scale_heads import known_on_ray  # noqa: PLC0415

            records = known_on_ray(args, records)
        else:
            records = known_facts(model, records)
    records = sample(records, args.limit, args.seed)
    if not records:
        raise ExplorerError(f"no prompts left in {args.data}: {loaded} loaded, none the model knows without "
                            "context. Fix: give prompts whose facts the model knows, or drop --known-only")
    return records, loaded, model


def contrasts(args: argparse.Namespace, model=None):
    """Records from multiple-choice items (``item_contrasts``; on Ray, from a distributed scoring run in
    ``OUT/contrasts``), how many items were loaded, and the model (``model``, else loaded; None with --ray)."""
    from explorer.probes.contrasts import contrasts_from_choices, item_contrasts  # noqa: PLC0415

    if args.known_only:
        raise ExplorerError("--known-only checks the fact_prompt of counterfactual records; multiple-choice items have "
                            "none. Fix: drop --known-only")
    items = load_data(args)  # --format's choices are the formats that score labels
    if args.ray:
        from explorer.cli.scale import distributed_rows, run_folder  # noqa: PLC0415

        gold, model = [i for i in items if i.answer is not None], None
        folder = run_folder(args.out)[0] / CONTRASTS
        records = contrasts_from_choices(gold, distributed_rows(args, "calibration", gold, {"fmt": args.format},
                                                                folder=folder)) if gold else []
    else:
        model = model or load_model(args.model, **model_options(args))
        records = item_contrasts(model, items, args.format, progress=tqdm_progress("contrasts"))
    if not records:
        raise ExplorerError(f"none of the {len(items)} items in {args.data} has a gold answer, so no target can be "
                            "set. Fix: give items with an answer")
    return records, len(items), model
