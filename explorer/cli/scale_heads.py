"""``lm-explorer heads --ray``: the head probe in up to three resumable runs, one folder.

``OUT/`` holds the attribution rows (one unit per prompt: every layer x head); ``OUT/known/`` the
fact check of ``--data capitals`` / ``--known-only`` (against the answers of all the records, as
in-process), or ``OUT/contrasts/`` the scoring that picks each multiple-choice item's foil;
``OUT/sweep/`` the scaling sweep of the strongest head each way (every factor of a prompt in one
actor call). The summary is the in-process one, from these rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from explorer import columns as C
from explorer.cli.heads_summary import attribution_summary, strongest, with_sweeps
from explorer.cli.scale import distributed_rows, model_name, run_folder, write_rows
from explorer.distributed.folder import RunFolder
from explorer.probes.counterfactual import Counterfactual

KNOWN, SWEEP = "known", "sweep"


def known_on_ray(args: argparse.Namespace, records: list[Counterfactual]) -> list[Counterfactual]:
    """The records whose facts the model knows, checked by a distributed run in ``OUT/known``."""
    known = distributed_rows(args, "known", records, {}, folder=run_folder(args.out)[0] / KNOWN)
    keep = set(known.loc[known[C.KNOWN].astype(bool), C.PROMPT_ID])
    return [r for r in records if r.id in keep]


def run_heads(args: argparse.Namespace, records: list[Counterfactual], *, n_loaded: int):
    """(attribution rows, the summary with the sweep of the strongest heads) over Ray, for records already chosen."""
    folder = run_folder(args.out)[0]
    frame = distributed_rows(args, "heads", records, {}, folder=folder, extra={"n_loaded": n_loaded})
    write_rows(frame, args)
    summary = attribution_summary(frame, args, model_name(args), n_loaded=n_loaded)
    roles = strongest(summary)
    sweep = distributed_rows(args, "sweep", records, {"head_sets": [[list(h)] for h in roles.values()],
                                                       "factors": args.alphas}, folder=folder / SWEEP)
    return frame, with_sweeps(summary, {role: sweep for role in roles})


def heads_summary(folder: Path, args: argparse.Namespace, extra: dict) -> dict:
    """The summary of a finished ``heads --ray`` run, from its folders."""
    summary = attribution_summary(RunFolder(folder).rows(), args, model_name(args), n_loaded=extra["n_loaded"])
    sweep = RunFolder(folder / SWEEP).rows()
    return with_sweeps(summary, {role: sweep for role in strongest(summary)})

