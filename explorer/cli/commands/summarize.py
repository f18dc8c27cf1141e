"""``lm-explorer summarize``: a finished run's summary, recomputed from its folder (no model, no Ray)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.errors import ExplorerError

if TYPE_CHECKING:  # --help stays light
    from explorer.distributed.folder import Manifest, RunFolder

PROBE = "imported"  # explorer.runs.store.PROBE (not imported here: --help stays light)

NAME = "summarize"
HELP = ("recompute the summary of a run that a probe command wrote with --ray or `lm-explorer import` wrote, from its "
        "folder alone; or summarize a run made elsewhere (an lm-eval output folder, Inspect logs) where it lies")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN_FOLDER", help="the folder a probe command wrote with --ray (its --out, "
                        "or FILE.run beside a file --out) or `lm-explorer import` wrote; or an lm-eval --log_samples "
                        "output folder, a leaderboard details copy or Inspect logs, read as `import` reads them")
    parser.add_argument("--summary", required=True, help="where to write the summary JSON")


def run(args: argparse.Namespace) -> int:
    from explorer.cli.models import read_models  # noqa: PLC0415 - heavy: not for --help
    from explorer.cli.scale import model_name  # noqa: PLC0415
    from explorer.distributed.folder import RunFolder  # noqa: PLC0415

    models = read_models(args.run)
    if models is not None:
        return summarize_models(args, models)
    folder = RunFolder(args.run)
    if not folder.exists() or folder.manifest().probe == PROBE:  # a run made elsewhere, imported or where it lies
        return summarize_imported(args)
    manifest = finished(folder)
    name, extra = manifest.command["name"], manifest.command.get("extra", {})
    saved = argparse.Namespace(**{**manifest.command["args"], "summary": args.summary, "out": str(folder.path)})
    data = scored(name, folder, manifest)
    if name == "heads":
        from explorer.cli.heads_summary import report  # noqa: PLC0415

        return report(data, saved)
    module = importlib.import_module(f"explorer.cli.commands.{name}")
    if name == "attentiveness":
        return module.report(data, saved, model_name(saved), demonstrations=extra["demonstrations"])
    if name == "permutation":
        rows, cyclic = data
        return module.report(rows, saved, model_name(saved), cyclic=cyclic)
    return module.report(data, saved, model_name(saved))


def finished(folder: RunFolder) -> Manifest:
    """The manifest of a finished run folder written by a command; else a clear error."""
    manifest = folder.manifest()
    if not manifest.command:
        raise ExplorerError(f"{folder.path} was not written by an lm-explorer command, so its summary options are "
                            "unknown. Fix: read its rows with RunFolder(path).rows() and use the metric functions")
    problems = folder.problems()
    if problems:
        raise ExplorerError(f"{folder.path} is not a finished run: {'; '.join(problems)}. Fix: run the same command "
                            "again into this folder; it computes only what is missing (and sets aside damaged or "
                            "repeated parts)")
    return manifest


def scored(command: str, folder: RunFolder, manifest: Manifest):
    """What the command's report takes from one model's finished folder: its rows; for permutation (rows, the
    cyclic shifts' rows or None); for heads the summary, from its folders (prompts and heads of its own)."""
    from explorer.cli.commands.permutation import CYCLIC  # noqa: PLC0415
    from explorer.distributed.folder import RunFolder  # noqa: PLC0415

    if command == "heads":
        from explorer.cli.scale_heads import heads_summary  # noqa: PLC0415

        own = argparse.Namespace(**{**manifest.command["args"], "out": str(folder.path)})
        return heads_summary(Path(folder.path), own, manifest.command.get("extra", {}))
    rows = folder.rows()
    if command != "permutation":
        return rows
    cyclic = RunFolder(Path(folder.path) / CYCLIC)
    return rows, (cyclic.rows() if cyclic.exists() and finished(cyclic) else None)


def summarize_models(args: argparse.Namespace, record: dict) -> int:
    """The comparison summary of a several-model --ray run, from each model's folder."""
    from explorer.distributed.folder import RunFolder  # noqa: PLC0415

    command = record["command"]
    name = command["name"]
    if name not in ("permutation", "attentiveness", "calibration", "heads"):
        raise ExplorerError(f"{args.run}: models.json names the command {name!r}, which does not compare models")
    saved = argparse.Namespace(**{**command["args"], "summary": args.summary, "out": str(args.run)})
    runs, extra = {}, {}
    for entry in record["models"]:
        folder = RunFolder(Path(args.run) / entry["folder"])
        if not folder.exists():
            raise ExplorerError(f"{folder.path}: model {entry['name']!r} has no run yet. Fix: run the same command "
                                f"again into {args.run}; it computes only what is missing")
        manifest = finished(folder)
        extra = extra or manifest.command.get("extra", {})  # what the command worked out (demonstrations)
        runs[entry["name"]] = scored(name, folder, manifest)
    if name == "heads":
        from explorer.cli.heads_summary import report_models  # noqa: PLC0415

        return report_models(runs, saved)
    module = importlib.import_module(f"explorer.cli.commands.{name}")
    if name == "attentiveness":
        return module.report_models(runs, saved, demonstrations=extra["demonstrations"])
    return module.report_models(runs, saved)


def summarize_imported(args: argparse.Namespace) -> int:
    """The summary of an imported run folder, or of a run read where it lies (lm-eval, leaderboard, Inspect)."""
    from explorer.cli.runs import quietly, report  # noqa: PLC0415
    from explorer.runs.store import is_run_folder, load_run  # noqa: PLC0415
    from explorer.runs.summary import summarize_run  # noqa: PLC0415

    from explorer.errors import RunLogError  # noqa: PLC0415

    try:
        frame = quietly(NAME, lambda: load_run(args.run))
    except RunLogError as e:
        if is_run_folder(args.run):
            raise
        raise ExplorerError(f"{args.run} is not a run folder (no manifest.json) nor a run made elsewhere that lm-explorer "
                            f"reads: {e}") from None
    report(summarize_run(frame, logged=frame.attrs["logged"]), args.summary, notes=is_run_folder(args.run))
    return 0
