"""Imported runs as run folders (:class:`explorer.distributed.folder.RunFolder`), and one door for every source.

``import_run(source, out)`` writes the run's frame as a run folder (probe ``imported``; the manifest names
the model, the source, the tasks and what the run itself reported), which the dashboard's "Open a finished
run" and ``lm-explorer summarize`` read. Importing again into the same folder adds only what is missing.
``load_run(source)`` gives the frame of anything: a run folder, an lm-eval output, a leaderboard repo, Inspect logs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.distributed.folder import Manifest, RunFolder
from explorer.errors import RunLogError
from explorer.runs.frame import run_frame
from explorer.runs.record import RunLog, Shared
from explorer.runs.sources import read_run

PROBE = "imported"
ROW_KEY = [C.ITEM_ID, C.ORDER_ID, C.POSITION]


def frame_digest(frame: pd.DataFrame) -> str:
    """What identifies an imported run's content: its rows' ids, positions and log-likelihoods."""
    h = hashlib.sha256()
    for col in ROW_KEY:
        h.update("\x1f".join(map(str, frame[col].tolist())).encode())
    h.update(np.ascontiguousarray(frame[C.LOGPROB].to_numpy(float)).tobytes())
    return h.hexdigest()


def manifest_for(log: RunLog, frame: pd.DataFrame, *, command: dict[str, Any] | None = None) -> Manifest:
    """The manifest of an imported run: one unit per question, as many rows as it has choices (x orders)."""
    counts = frame.groupby(C.ITEM_ID, sort=False).size()
    return Manifest(probe=PROBE, model={"name": log.model, "dtype": None, "source": log.source},
                    options={"source": log.source, "path": log.path, "tasks": log.tasks, "logged": log.logged,
                             "details": log.details, "notes": log.notes},
                    unit_key=C.ITEM_ID, row_key=list(ROW_KEY), unit_ids=[str(u) for u in counts.index],
                    units_digest=frame_digest(frame), rows_per_unit=[int(n) for n in counts], command=command)


def import_run(source: str | Path, out: str | Path, *, task: Sequence[str] | str | None = None,
               filter: str | None = None, split: str = "latest", revision: str | None = None,
               command: dict[str, Any] | None = None) -> RunFolder:
    """Read the run at ``source`` (:func:`explorer.runs.read_run`) and write it as a run folder at ``out``,
    one parquet part per task; a folder holding the same run gets only the tasks it lacks."""
    log = read_run(source, task=task, filter=filter, split=split, revision=revision)
    frame = run_frame(log)
    folder = RunFolder(out)
    manifest = folder.start(manifest_for(log, frame, command=command))
    done = folder.done_units(C.ITEM_ID)
    for _, rows in frame.groupby(C.TASK, sort=False):
        todo = rows[~rows[C.ITEM_ID].isin(done)]
        if len(todo):
            folder.write_part(todo)
    folder.finish(manifest)
    return folder


def is_run_folder(source: str | Path) -> bool:
    return RunFolder(source).exists()


def folder_frame(folder: RunFolder) -> pd.DataFrame:
    """An imported run folder's rows, with the manifest's model, source and reported metrics in ``attrs``."""
    manifest = folder.manifest()
    frame = folder.rows()
    frame.attrs.update(model=manifest.model.get("name"), source=manifest.options.get("source"),
                       path=manifest.options.get("path"), run=str(folder.path),
                       logged=Shared(manifest.options.get("logged") or {}),
                       notes=tuple(manifest.options.get("notes") or ()),
                       logprobs=(manifest.options.get("details") or {}).get("logprobs", True))
    return frame


def load_run(source: str | Path, *, task: Sequence[str] | str | None = None, filter: str | None = None,
             split: str = "latest", revision: str | None = None) -> pd.DataFrame:
    """The frame of an imported run folder, or of a run read where it lies (lm-eval output, leaderboard repo,
    Inspect logs); ``attrs`` hold ``model``, ``source``, ``path`` and ``logged`` (the run's own metrics)."""
    if is_run_folder(source):
        probe = RunFolder(source).manifest().probe
        if probe != PROBE:
            raise RunLogError(f"{source} holds a {probe!r} run that lm-explorer computed, not an imported one. Fix: open "
                              "it on its own (RunView(path)), or read its rows with RunFolder(path).rows()")
        frame = folder_frame(RunFolder(source))
        if task:
            wanted = [task] if isinstance(task, str) else list(task)
            frame = frame[frame[C.TASK].isin(wanted)].reset_index(drop=True)
        return frame
    log = read_run(source, task=task, filter=filter, split=split, revision=revision)
    frame = run_frame(log)
    frame.attrs.update(logged=Shared(log.logged), notes=tuple(log.notes))
    return frame


def run_names(frames: Sequence[pd.DataFrame]) -> list[str]:
    """A distinct name per run: its model, with the source (then a number) where models repeat."""
    names = [str(f.attrs.get("model") or f"run {n + 1}") for n, f in enumerate(frames)]
    if len(set(names)) < len(names):
        names = [f"{n} ({f.attrs.get('source')})" for n, f in zip(names, frames)]
    return [n if names.count(n) == 1 else f"{n} #{i + 1}" for i, n in enumerate(names)]


def load_runs(sources: Sequence[str | Path], **options: Any) -> dict[str, pd.DataFrame]:
    """Several runs' frames by run name (:func:`run_names`), in the order given."""
    frames = [load_run(s, **options) for s in sources]
    return dict(zip(run_names(frames), frames))


def conditions_frame(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Several runs in one choice frame, each run's name as its ``condition`` (the calibration functions
    keep conditions apart: ``summarize(item_confidence(f, by=["condition"]), by=["condition"])``)."""
    return pd.concat([f.assign(**{C.CONDITION: name}) for name, f in frames.items()], ignore_index=True)
