"""``lm-explorer calibration``: reliability bins and calibration scores, raw and recalibrated."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from explorer import columns as C
from explorer.cli.common import (add_batch_argument, add_by_argument, add_data_arguments, add_model_argument,
                                 add_scale_arguments, cache_arg, check_by, load_data, load_model, model_options,
                                 seed_of, write_frame, write_json)
from explorer.errors import ExplorerError
from explorer.metrics.reliability import STRATEGIES
from explorer.prompts.format import NAMED_FORMATS
from explorer.scoring.progress import tqdm_progress

if TYPE_CHECKING:
    import pandas as pd

NAME = "calibration"
HELP = ("reliability diagram bins and calibration scores (ECE, smooth ECE, MCE, Brier, balance, selective AUC), raw "
        "and recalibrated")
RECALIBRATIONS = {"raw": "none", "temperature_scaled": "temperature", "platt_scaled": "platt"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser, seed_help=" and of the cross-fitting folds")
    add_model_argument(parser, several=True)
    parser.add_argument("--format", default="letters", choices=sorted(NAMED_FORMATS),
                        help="prompt format (default letters; cloze scores ' {choice}' after "
                        "'Question: ...\\nAnswer:')")
    parser.add_argument("--bins", type=int, default=10, help="number of reliability bins (default 10)")
    parser.add_argument("--strategy", default="uniform", choices=STRATEGIES,
                        help="uniform: equal-width bins (default); quantile: equal-mass bins (HELM's choice)")
    parser.add_argument("--folds", type=int, default=5, help="cross-fitting folds for recalibration (default 5)")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples for the smooth ECE's 95%% "
                        "interval (default 200; 0: none)")
    add_by_argument(parser)
    parser.add_argument("--out", required=True, help="reliability bins: .csv, .jsonl or .parquet (with --ray, a "
                        "folder holds the scored choices as a run and the bins as bins.csv)")
    parser.add_argument("--summary", required=True, help="summary scores as JSON")
    add_batch_argument(parser)
    add_scale_arguments(parser)


def calibration_report(frame: pd.DataFrame, *, n_bins: int = 10, strategy: str = "uniform", folds: int = 5,
                       seed: int = 0, n_boot: int = 200, by: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """(bins of every condition, summary): scores as scored, then after cross-fitted temperature and
    Platt scaling (each prompt recalibrated with parameters fitted on the other folds). ``by``: also
    the scores as scored per group (``groups``: one record per group)."""
    import pandas as pd  # noqa: PLC0415

    from explorer.probes.calibration import recalibrated, reliability_frame, summarize  # noqa: PLC0415

    from explorer.metrics.small import interval_note  # noqa: PLC0415

    bins, summary = [], {}
    for name, method in RECALIBRATIONS.items():
        items = recalibrated(frame, method, folds=folds, seed=seed)
        scores = summarize(items, n_bins=n_bins, strategy=strategy, n_boot=n_boot, seed=seed,
                           warn=name == "raw").iloc[0].to_dict()
        scores[C.N] = int(scores[C.N])
        notes = [f"smece interval: {note}"] if n_boot and (note := interval_note(scores[C.N], "predictions")) else []
        if method == "temperature":
            scores[C.TEMPERATURE] = float(items[C.TEMPERATURE].iloc[0])
            scores["temperature_at_bound"] = bool(items[C.AT_BOUND].any())
        if method == "platt":
            scores.update({C.PLATT_A: float(items[C.PLATT_A].iloc[0]), C.PLATT_B: float(items[C.PLATT_B].iloc[0]),
                           "platt_at_bound": bool(items[C.AT_BOUND].any())})
            scores[C.BRIER] = None  # undefined: Platt rescales the predicted choice's confidence only
            notes.append("brier: undefined after Platt scaling, which leaves the other choices' probabilities "
                         "undefined (brier_top is defined)")
        if any(scores.get(k) is True for k in ("temperature_at_bound", "platt_at_bound")):
            notes.append("a fold's fit ended at its search bound (see the warning): the recalibrated scores describe "
                         "the fitting rows more than the model")
        for key in (C.SMECE_LOW, C.SMECE_HIGH):
            if scores.get(key) is not None and scores[key] != scores[key]:
                scores[key] = None  # undefined over one prediction: the note says so
        scores["notes"] = notes
        summary[name] = scores
        bins.append(reliability_frame(items, n_bins=n_bins, strategy=strategy).assign(**{C.CONDITION: name}))
    out = {**summary.pop("raw"), "n_items": int(frame[C.ITEM_ID].nunique()), **summary}
    if by:
        raw = recalibrated(frame, "none", keep=by)
        out["by"] = list(by)
        out["groups"] = summarize(raw, by=by, n_bins=n_bins, strategy=strategy, n_boot=n_boot, seed=seed).to_dict("records")
    return pd.concat(bins, ignore_index=True)[[C.CONDITION, *C.RELIABILITY_COLUMNS]], out


def run(args: argparse.Namespace) -> int:
    from explorer.cli.models import several  # noqa: PLC0415
    from explorer.cli.scale import distributed_rows, model_name  # noqa: PLC0415 - heavy: not for --help
    from explorer.probes.choices import score_choices  # noqa: PLC0415

    items = load_data(args)
    check_by(args.by, items)
    if args.bins < 1 or args.folds < 2 or len(items) < 2:
        raise ExplorerError(f"need --bins >= 1, --folds >= 2 and at least 2 items; got --bins {args.bins}, "
                            f"--folds {args.folds}, {len(items)} item(s) in {args.data}. Fix: give more items, or change "
                            "--bins/--folds")
    if several(args):
        return run_models(args, items)
    if args.ray:
        frame = distributed_rows(args, NAME, items, {"fmt": args.format})
    else:
        model = load_model(args.model, **model_options(args))
        frame = score_choices(model, items, args.format, batch_size=args.batch_size, cache=cache_arg(args),
                              progress=tqdm_progress("scoring"))
    return report(frame, args, model_name(args) if args.ray else model.name)


def report(frame: pd.DataFrame, args: argparse.Namespace, model: str) -> int:
    """Bins and scores of the scored choices: write ``--out`` and ``--summary``, print the headline
    (also ``lm-explorer summarize``)."""
    bins, summary = summary_of(frame, args, model)
    out = write_frame(bins, bins_path(args))
    write_json(summary, args.summary)
    show(summary, args)
    print(f"wrote {out} and {args.summary}")
    return 0


def bins_path(args: argparse.Namespace):
    """Where the bins go: ``--out``, or ``RUN/bins.csv`` when ``--out`` is a --ray run folder."""
    from explorer.cli.scale import run_folder  # noqa: PLC0415

    folder, is_folder = run_folder(args.out)
    return folder / "bins.csv" if args.ray and is_folder else args.out


def summary_of(frame: pd.DataFrame, args: argparse.Namespace, model: str) -> tuple[pd.DataFrame, dict]:
    """(bins, the summary JSON) of one model's scored choices: the same in a single-model run and in
    ``by_model``."""
    n_items = frame[C.ITEM_ID].nunique()
    bins, summary = calibration_report(frame, n_bins=args.bins, strategy=args.strategy,
                                       folds=min(args.folds, n_items), seed=seed_of(args),
                                       n_boot=getattr(args, "n_boot", 200), by=getattr(args, "by", None))
    return bins, {"model": model, "format": args.format, "bins": args.bins, "strategy": args.strategy,
                  "confidence": "probability of the predicted choice, renormalised over the choices",
                  "recalibration": f"cross-fitted, {min(args.folds, n_items)} folds, seed {seed_of(args)}", **summary}


def show(summary: dict, args: argparse.Namespace) -> None:
    model = summary["model"]
    t = summary["temperature_scaled"]
    print(f"{summary['n_items']} items, format {args.format}, model {model}")
    print(f"accuracy {summary['accuracy']:.4f}  ECE {summary['ece']:.4f}  MCE {summary['mce']:.4f}  "
          f"Brier {summary['brier']:.4f}  balance {summary['balance']:+.4f}")
    print(f"smooth ECE {summary['smece']:.4f}  95% interval [{summary['smece_low']:.4f}, {summary['smece_high']:.4f}]")
    print(f"after temperature scaling (T = {t['temperature']:.3f}): ECE {t['ece']:.4f}  Brier {t['brier']:.4f}")


def run_models(args: argparse.Namespace, items: list) -> int:
    """Every ``--model`` on the same items: bins with a ``model`` column in ``--out``, ``by_model`` summaries
    (each the single-model command's) and ``compare`` (paired differences of accuracy, ECE and Brier,
    as scored, against the first model). With ``--ray``, each model's scored choices are a run folder of
    its own (:mod:`explorer.cli.models`) and the bins go to ``RUN/bins.csv``."""
    from explorer.cli.models import each_model  # noqa: PLC0415
    from explorer.cli.scale import distributed_rows  # noqa: PLC0415
    from explorer.probes.choices import score_choices  # noqa: PLC0415

    frames = each_model(args, lambda model: score_choices(model, items, args.format, batch_size=args.batch_size,
                                                          cache=cache_arg(args), progress=tqdm_progress("scoring")),
                        on_ray=lambda model_args, folder: distributed_rows(model_args, NAME, items,
                                                                           {"fmt": args.format}, folder=folder))
    return report_models(frames, args)


def report_models(frames: dict, args: argparse.Namespace) -> int:
    """``frames``: {model: scored choices}. Write the stacked bins and the comparison summary, print each
    model's headline and the differences (also ``lm-explorer summarize``)."""
    from explorer.cli.models import differences_text, write_comparison  # noqa: PLC0415
    from explorer.metrics.compare import compare_predictions  # noqa: PLC0415
    from explorer.probes.calibration import recalibrated  # noqa: PLC0415
    from explorer.probes.models import stacked  # noqa: PLC0415

    blocks, bins = {}, {}
    for name, frame in frames.items():
        bins[name], blocks[name] = summary_of(frame, args, name)
        show(blocks[name], args)
        print()
    compare = compare_predictions({name: recalibrated(f, "none") for name, f in frames.items()}, n_bins=args.bins,
                                  strategy=args.strategy, n_boot=getattr(args, "n_boot", 200), seed=seed_of(args))
    for pair in compare["pairs"]:
        print(differences_text(pair, ["accuracy", "ece", "brier"]))
    out = write_frame(stacked(bins), bins_path(args))
    print(f"wrote {out} and {write_comparison(blocks, compare, args.summary)}")
    return 0
