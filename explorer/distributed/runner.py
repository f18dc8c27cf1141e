"""Run a probe over a Ray cluster into a resumable run folder.

Ray Data does the scheduling: the units not yet in the folder become a dataset, ``map_batches``
hands blocks of them to a fixed pool of :class:`~explorer.distributed.worker.ProbeWorker` actors
(each loads the model once; ``num_gpus`` per actor), and the driver writes each block of rows
that comes back as one parquet part while the others are still computing. Ray restarts a killed
actor and retries its block; a part is written only once its block is complete, so the folder
never holds half a unit, and a run started again into the same folder computes only what is
missing.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from explorer.distributed.cluster import connect
from explorer.distributed.folder import Manifest, RunFolder, RunFolderError
from explorer.distributed.spec import ModelSpec
from explorer.distributed.tasks import task
from explorer.distributed.units import Unit, digest, dumps, kind_of
from explorer.distributed.worker import FINGERPRINT, UNIT, ProbeWorker
from explorer.errors import Cancelled, ExplorerError
from explorer.scoring.progress import ProgressFn, check_cancel


class DistributedRunError(ExplorerError, RuntimeError):
    """An actor failed for a reason a retry does not fix (its model did not load, its probe raised)."""


def _cause(error: Exception) -> str:
    """The original error's last line (Ray's message carries the actor's whole traceback)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return lines[-1] if lines else type(error).__name__


@dataclass
class RunResult:
    """What a call of :func:`run_probe` did; ``rows()`` reads the finished dataset."""

    folder: RunFolder
    manifest: Manifest
    computed: list[str] = field(default_factory=list)  # units computed by this call, in the order written
    skipped: int = 0  # units already in the folder
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.manifest.complete

    def rows(self) -> pd.DataFrame:
        return self.folder.rows()


def run_probe(
    probe: str,
    model: ModelSpec | str | None,
    units: Sequence[Unit],
    out: str | os.PathLike,
    *,
    options: dict[str, Any] | None = None,
    address: str | None = "local",
    actors: int = 2,
    gpus_per_actor: float = 0,
    cpus_per_actor: float | None = None,
    units_per_block: int | None = None,
    batch_size: int = 32,
    cache: bool = False,
    command: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RunResult:
    """Compute ``probe`` on every unit (items, or counterfactual records for ``heads``/``sweep``/
    ``known``) over a Ray cluster; rows go to the run folder ``out``.

    ``model``: a :class:`ModelSpec` or a name for ``load_model``; each actor loads it once.
    ``options``: the probe's keyword options (e.g. ``{"orders": "all"}`` for ``permutation``).
    ``address``: ``"local"`` starts Ray on this machine; else a cluster address (an initialised
    Ray is reused). ``actors`` actors, each with ``gpus_per_actor`` GPUs and ``cpus_per_actor``
    CPUs (default: this machine's cores shared out locally, one on a cluster).
    ``cache``: let actors use their node's result cache (off: the run folder is the cache).
    ``progress(done, total)`` counts units; ``cancel()`` stops after the block being written
    (raising :class:`~explorer.errors.Cancelled`; what was written stays).
    """
    spec = model if isinstance(model, ModelSpec) else ModelSpec.of(model)
    units = list(units)
    t = task(probe)
    if not units:
        raise ValueError(f"no units to run {probe!r} on")
    if kind_of(units) != t.kind:
        raise TypeError(f"{probe!r} runs on {'items' if t.kind == 'item' else 'counterfactual records'}")
    ids = [u.id for u in units]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise RunFolderError(f"unit ids must be unique in a run; {repeated[0]!r} repeats. Fix: give every item an id "
                             "of its own")
    opts = t.prepare(units, dict(options or {}))
    folder = RunFolder(out)
    try:  # the folder's writer lock is held from start to finish, and let go if the run fails
        manifest = folder.start(Manifest(
            probe=probe, model=spec.to_json(), options=opts, unit_key=t.key, row_key=list(t.row_key), unit_ids=ids,
            units_digest=digest(units), rows_per_unit=[t.rows_per_unit(u, opts) for u in units], command=command))
        done = folder.done_units(t.key)
        todo = [u for u in units if u.id not in done]
        result = RunResult(folder, manifest, skipped=len(units) - len(todo))
        if progress is not None:
            progress(result.skipped, len(units))
        if todo:
            _compute(folder, manifest, spec, probe, opts, todo, result, address=address, actors=actors,
                     gpus=gpus_per_actor, cpus=cpus_per_actor, per_block=units_per_block, batch_size=batch_size,
                     cache=cache, progress=progress, cancel=cancel, total=len(units))
        result.problems = folder.finish(manifest)
    finally:
        folder.release()
    return result


def _compute(folder: RunFolder, manifest: Manifest, spec: ModelSpec, probe: str, opts: dict, todo: list[Unit],
             result: RunResult, *, address, actors: int, gpus: float, cpus: float | None, per_block: int | None,
             batch_size: int, cache: bool, progress: ProgressFn | None, cancel, total: int) -> None:
    local = address in (None, "", "local")
    if actors < 1:
        raise ValueError(f"actors must be at least 1, got {actors}")
    cpus = cpus if cpus is not None else (max(1, (os.cpu_count() or 1) // actors) if local else 1)
    ray = connect(address, num_cpus=max(os.cpu_count() or 1, math.ceil(actors * cpus)))
    per_block = per_block or max(1, min(64, math.ceil(len(todo) / (4 * actors))))  # >= 4 blocks per actor
    actors = min(actors, math.ceil(len(todo) / per_block))  # an actor without a block would load the model for nothing
    context = ray.data.DataContext.get_current()
    saved = context.target_max_block_size, context.enable_progress_bars
    context.target_max_block_size = None  # a block of rows is never split: each part holds whole units
    context.enable_progress_bars = False
    key = manifest.unit_key
    blocks = None
    try:
        data = ray.data.from_items([{UNIT: dumps(u)} for u in todo],
                                   override_num_blocks=math.ceil(len(todo) / per_block))
        mapped = data.map_batches(
            ProbeWorker, fn_constructor_kwargs={"model": spec.to_json(), "probe": probe, "options": opts,
                                                "batch_size": batch_size, "cache": cache},
            batch_size=per_block, batch_format="pandas", compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=cpus, num_gpus=gpus or None)
        blocks = iter(mapped.iter_batches(batch_size=None, batch_format="pyarrow"))
        for rows in blocks:
            if not rows.num_rows:
                continue
            folder.record_fingerprint(manifest, rows.column(FINGERPRINT)[0].as_py())
            folder.write_part(rows.drop_columns([FINGERPRINT]))
            result.computed.extend(pd.unique(rows.column(key).to_pandas()).tolist())
            if progress is not None:
                progress(result.skipped + len(result.computed), total)
            check_cancel(cancel)
    except Cancelled:
        raise Cancelled(f"cancelled after {len(result.computed)} units; {folder.path} keeps them and a run "
                        "into the same folder computes the rest") from None
    except ray.exceptions.RayError as e:  # an actor could not start, or the probe raised inside one
        raise DistributedRunError(f"the run over Ray stopped: {_cause(e)}. {folder.path} keeps the "
                                  f"{len(result.computed)} units written; fix the cause and run again into the same "
                                  "folder") from e
    finally:
        if blocks is not None and hasattr(blocks, "close"):
            blocks.close()  # stops the streaming executor and its actors
        context.target_max_block_size, context.enable_progress_bars = saved
