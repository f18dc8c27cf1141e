"""The ``--ray`` path of the probe commands: the rows an in-process run gives, from a run folder.

With ``--ray``, ``--out`` names the run folder (a resumable parquet dataset with a manifest); a
file ``--out`` (``rows.csv``) gets its folder beside it (``rows.run/``) and is written as usual.
The command's arguments are kept in the manifest, so ``lm-explorer summarize RUN`` recomputes the
summary from the folder alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from explorer.cli.common import model_options, write_frame
from explorer.errors import ExplorerError
from explorer.models.load import DEFAULT_MODEL
from explorer.scoring.progress import tqdm_progress

FILE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet")


def run_folder(out: str | Path) -> tuple[Path, bool]:
    """(the run folder for ``--out``, whether ``--out`` is that folder itself)."""
    path = Path(out)
    if path.suffix.lower() in FILE_SUFFIXES and not path.is_dir():
        return path.with_suffix(".run"), False
    return path, True


def model_name(args: argparse.Namespace) -> str:
    """The model's name as an in-process run reports it (``load_model``'s display name)."""
    return args.model or DEFAULT_MODEL


def command_record(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The command and its arguments, for the manifest."""
    kept = {k: v for k, v in vars(args).items() if not k.startswith("_") and _plain(v)}
    return {"name": args.command, "args": kept, "extra": extra or {}}


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool)) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value))


def distributed_rows(args: argparse.Namespace, probe: str, units: list, options: dict[str, Any], *,
                     folder: Path | None = None, extra: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run ``probe`` over Ray into the run folder of ``--out`` (or ``folder``); its rows, in data order."""
    from explorer.distributed import ModelSpec, run_probe  # noqa: PLC0415 - Ray is optional

    folder = folder or run_folder(args.out)[0]
    spec = ModelSpec.of(args.model, **model_options(args))
    result = run_probe(probe, spec, units, folder, options=options, address=args.ray, actors=args.actors or 2,
                       gpus_per_actor=args.gpus_per_actor or 0, cpus_per_actor=args.cpus_per_actor,
                       batch_size=getattr(args, "batch_size", 32), command=command_record(args, extra),
                       progress=tqdm_progress(f"{probe}, units of work"))
    if result.problems:
        raise ExplorerError(f"the run in {folder} is not complete: {'; '.join(result.problems)}. Fix: run the same "
                            "command again; it computes only what is missing")
    print(f"{probe}: {len(result.computed)} units computed over Ray, {result.skipped} already in {folder}")
    return result.rows()


def write_rows(frame: pd.DataFrame, args: argparse.Namespace) -> Path:
    """Write ``--out`` as in-process runs do, unless it is the run folder (then it already holds the rows)."""
    folder, is_folder = run_folder(args.out)
    if getattr(args, "ray", None) and is_folder:
        return folder
    return write_frame(frame, args.out)
