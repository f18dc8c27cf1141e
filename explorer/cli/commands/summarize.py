"""``lm-explorer summarize``: a finished run's summary, recomputed from its folder (no model, no Ray)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from explorer.errors import ExplorerError

NAME = "summarize"
HELP = "recompute the summary of a run that a probe command wrote with --ray, from its folder alone"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN_FOLDER", help="the folder a probe command wrote with --ray (its --out, "
                        "or FILE.run beside a file --out)")
    parser.add_argument("--summary", required=True, help="where to write the summary JSON")


def run(args: argparse.Namespace) -> int:
    from explorer.cli.scale import model_name  # noqa: PLC0415 - heavy: not for --help
    from explorer.distributed.folder import RunFolder  # noqa: PLC0415

    folder = RunFolder(args.run)
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
