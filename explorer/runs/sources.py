"""Which reader a source needs: an lm-eval output folder or file, a leaderboard details repo (hub id or local
copy), or Inspect eval logs (a ``.eval``/``.json`` log or a folder of them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from explorer.errors import RunLogError
from explorer.runs.record import RunLog

LMEVAL, LEADERBOARD, INSPECT = "lm-eval", "open-llm-leaderboard", "inspect"


def source_kind(source: str | Path) -> str:
    """``lm-eval``, ``open-llm-leaderboard`` or ``inspect``; a clear error for anything else."""
    from explorer.runs.inspect_logs import is_inspect_log  # noqa: PLC0415
    from explorer.runs.leaderboard import is_leaderboard  # noqa: PLC0415

    path = Path(source).expanduser()
    if is_leaderboard(source):
        return LEADERBOARD
    if path.is_file() and is_inspect_log(path) or path.is_dir() and any(is_inspect_log(p) for p in path.iterdir()):
        return INSPECT
    if path.exists():
        return LMEVAL
    raise RunLogError(f"no run at {source}: not a file or folder here, and not a leaderboard details id "
                      "(open-llm-leaderboard/<org>__<model>-details). Fix: give an lm-eval output folder, an Inspect "
                      "log, or a leaderboard details id")


def read_run(source: str | Path, *, task: Sequence[str] | str | None = None, filter: str | None = None,
             split: str = "latest", revision: str | None = None) -> RunLog:
    """The run at ``source``, read by the reader its kind needs (:func:`source_kind`). ``task``: tasks to keep
    (names, groups or globs); ``filter``: lm-eval's filter to read; ``split``/``revision``: which run of a
    leaderboard repo."""
    tasks = [task] if isinstance(task, str) else (list(task) if task else None)
    kind = source_kind(source)
    if kind == LEADERBOARD:
        from explorer.runs.leaderboard import read_leaderboard  # noqa: PLC0415

        return read_leaderboard(source, tasks=tasks, split=split, revision=revision)
    if kind == INSPECT:
        from explorer.runs.inspect_logs import read_inspect  # noqa: PLC0415

        return read_inspect(source, tasks=tasks)
    from explorer.runs.lmeval import read_lmeval  # noqa: PLC0415

    return read_lmeval(source, tasks=tasks, filter=filter)
