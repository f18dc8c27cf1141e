"""``lm-explorer summarize``: a finished run's summary, recomputed from its folder (no model, no Ray)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from explorer.errors import ExplorerError

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
    from explorer.cli.scale import model_name  # noqa: PLC0415 - heavy: not for --help
    from explorer.distributed.folder import RunFolder  # noqa: PLC0415

    folder = RunFolder(args.run)
    if not folder.exists() or folder.manifest().probe == PROBE:  # a run made elsewhere, imported or where it lies
        return summarize_imported(args)
    manifest = folder.manifest()
    if not manifest.command:
        raise ExplorerError(f"{folder.path} was not written by an lm-explorer command, so its summary options are "
                            "unknown. Fix: read its rows with RunFolder(path).rows() and use the metric functions")
    problems = folder.problems()
    if problems:
        raise ExplorerError(f"{folder.path} is not a finished run: {'; '.join(problems)}. Fix: run the same command "
                            "again into this folder; it computes only what is missing (and sets aside damaged or "
                            "repeated parts)")
    name, extra = manifest.command["name"], manifest.command.get("extra", {})
    saved = argparse.Namespace(**{**manifest.command["args"], "summary": args.summary, "out": str(folder.path)})
    if name == "heads":
        from explorer.cli.scale_heads import summarize_heads  # noqa: PLC0415

        return summarize_heads(Path(folder.path), saved, extra)
    module = importlib.import_module(f"explorer.cli.commands.{name}")
    rows = folder.rows()
    if name == "attentiveness":
        return module.report(rows, saved, model_name(saved), demonstrations=extra["demonstrations"])
    if name == "permutation" and (Path(folder.path) / module.CYCLIC).is_dir():  # scored for circular accuracy
        return module.report(rows, saved, model_name(saved), cyclic=RunFolder(Path(folder.path) / module.CYCLIC).rows())
    return module.report(rows, saved, model_name(saved))


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
