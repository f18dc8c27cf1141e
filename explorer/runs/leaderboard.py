"""Open LLM Leaderboard details: ``open-llm-leaderboard/<org>__<model>-details`` on the Hub, or a local copy.

The repo is lm-eval's output pushed to the Hub (``--hf_hub_log_args``) with a dataset card::

    README.md                        configs: <org>__<model>__<task> (split per run date, and "latest"),
                                     groups listing their tasks' files, and <org>__<model>__results
    <org>__<model>/results_<date>.json
    <org>__<model>/samples_<task>_<date>.json[l]   lm-eval sample records, one per line

Each task's records are read with ``datasets.load_dataset(repo, "<org>__<model>__<task>", split="latest")``,
for a hub id and a local copy alike. ``datasets`` gives ``arguments`` as a dict when records have different
numbers of choices (a JSON feature), the Hub's parquet conversion as a struct holding every ``gen_args_i``
any record has (None where a record has fewer choices), and lists may come as arrays;
:mod:`explorer.runs.lmeval_samples` reads all of them. The results file (the
run's own metrics, each task's target delimiter and few-shot count) is read as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from explorer.errors import DataError, RunLogError
from explorer.items.hub import load_split
from explorer.runs.lmeval import logged_metrics, select_tasks, task_infos
from explorer.runs.lmeval_samples import NotMultipleChoice, SampleError, sample_doc
from explorer.runs.record import RunLog

ORG = "open-llm-leaderboard"
_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def is_leaderboard(source: str | Path) -> bool:
    """A leaderboard details hub id, or a local folder holding such a repo (a dataset card whose configs
    name ``__results`` beside a folder of lm-eval samples)."""
    path = Path(source).expanduser()
    if path.is_dir():
        card = path / "README.md"
        return card.is_file() and "__results" in card.read_text(encoding="utf-8", errors="replace")[:200_000] and \
            any(path.glob("*/samples_*.json*"))
    return bool(_ID.match(str(source))) and (str(source).startswith(f"{ORG}/") or str(source).endswith("-details"))


def model_prefix(source: str | Path, configs: Sequence[str]) -> str:
    """``<org>__<model>``: from the repo's name, else the configs' shared prefix before ``__results``."""
    name = Path(str(source)).name
    if name.endswith("-details"):
        return name[: -len("-details")]
    results = [c[: -len("__results")] for c in configs if c.endswith("__results")]
    if not results:
        raise RunLogError(f"{source} has no '<org>__<model>__results' config: it is not a leaderboard details "
                          "repo. Fix: give open-llm-leaderboard/<org>__<model>-details or a copy of it")
    return results[0]


def read_leaderboard(source: str | Path, *, tasks: Sequence[str] | None = None, split: str = "latest",
                     revision: str | None = None) -> RunLog:
    """Every multiple-choice task of a leaderboard details repo (hub id or local copy); ``tasks``: names or
    globs of the repo's tasks (``leaderboard_bbh_*``); ``split``: a run's date or ``latest``."""
    import datasets  # noqa: PLC0415 - the data extra

    local = Path(source).expanduser().is_dir()
    path = str(Path(source).expanduser()) if local else str(source)
    try:
        configs = datasets.get_dataset_config_names(path, **({"revision": revision} if revision else {}))
    except Exception as e:  # noqa: BLE001 - datasets raises many kinds; load_split words them
        try:
            load_split(path, name=str(source), local=local, revision=revision)
        except DataError as explained:
            raise explained from None
        raise RunLogError(f"{source}: {type(e).__name__}: {' '.join(str(e).split())}") from None
    prefix = model_prefix(source, configs)
    names = [c[len(prefix) + 2:] for c in configs if c.startswith(prefix + "__") and not c.endswith("__results")]
    results = _results(path, local=local, prefix=prefix, revision=revision)
    groups = set(results.get("group_subtasks") or {}) | {t for t in names if any(o.startswith(t + "_") for o in names)}
    leaves = [t for t in names if t not in groups and t != "leaderboard"]
    if tasks:  # a group named by results' group_subtasks, or by the card alone (its tasks' names extend it)
        known = set(results.get("group_subtasks") or {})
        wanted = [f"{p}_*" if p in groups and p not in known else p for p in tasks]
        leaves = select_tasks(leaves, results, wanted, where=Path(str(source)))
    infos = task_infos(results, {t: None for t in leaves})
    log = RunLog(docs=[], model=prefix.replace("__", "/", 1), source=f"{ORG} details",
                 path=path, details={"repo": str(source), "split": split, "revision": revision, "filters": {}})
    for task in leaves:
        ds, _, _ = load_split(path, name=str(source), config=f"{prefix}__{task}", split=split, local=local,
                              revision=revision)
        docs = []
        try:
            for n, rec in enumerate(ds):
                if str(rec.get("filter") or "none") != "none":
                    continue
                docs.append(sample_doc(rec, infos[task]))
        except NotMultipleChoice as e:
            log.note(f"task {task} is not multiple-choice ({e}): skipped")
            continue
        except SampleError as e:
            raise RunLogError(f"{source}, task {task}, record {n} (doc {rec.get('doc_id')!r}): {e}") from None
        log.docs += docs
        log.details["filters"][task] = "none"
        log.logged[task] = logged_metrics(results, task, "none")
    if not log.docs:
        raise RunLogError(f"{source} holds no multiple-choice task among {leaves}: {'; '.join(log.notes)}")
    return log


def _results(path: str, *, local: bool, prefix: str, revision: str | None) -> dict:
    """The newest ``results_<date>.json`` of the repo ({} when there is none)."""
    if local:
        files = sorted(Path(path).glob(f"{prefix}/results_*.json")) or sorted(Path(path).glob("*/results_*.json"))
        return json.loads(files[-1].read_text(encoding="utf-8")) if files else {}
    from huggingface_hub import HfApi, hf_hub_download  # noqa: PLC0415

    names = sorted(f for f in HfApi().list_repo_files(path, repo_type="dataset", revision=revision)
                   if re.search(r"/results_[^/]+\.json$", f))
    if not names:
        return {}
    return json.loads(Path(hf_hub_download(path, names[-1], repo_type="dataset", revision=revision)).read_text())
