"""lm-evaluation-harness output folders (``--output_path DIR --log_samples``), as lm-eval 0.4.x writes them.

::

    DIR/<model_name_sanitized>/results_<date>.json             0.4.3 on; <date> is ISO with ":" as "-"
    DIR/<model_name_sanitized>/samples_<task>_<date>.jsonl     one JSON record per line, per (doc, filter)
    DIR/results.json                                            0.4.0-0.4.2
    DIR/<model_args with / and = as __>_<task>.jsonl            one indented JSON array per task

The reader takes the folder, the model's folder inside it, or one file; per task it reads the newest
date. Records become :class:`~explorer.runs.record.ScoredDoc` through :mod:`explorer.runs.lmeval_samples`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from explorer.errors import RunLogError
from explorer.runs.lmeval_samples import NotMultipleChoice, SampleError, TaskInfo, sample_doc
from explorer.runs.record import RunLog, ScoredDoc

NO_SAMPLES_FIX = ("lm-eval writes per-sample logs only when asked. Fix: re-run lm-eval with --log_samples "
                  "--output_path DIR, then give DIR")
AGGREGATES = ("acc", "acc_norm", "acc_mutual_info")
_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d\d-\d\dT[\d.-]+)\.jsonl?$")
_RESULTS = re.compile(r"^results_(?P<date>\d{4}-\d\d-\d\dT[\d.-]+)\.json$")


@dataclass
class Output:
    """The files of one run: its results file (None when absent) and each task's samples file."""

    folder: Path
    results: Path | None
    samples: dict[str, Path]
    layout: str  # "samples-jsonl" (0.4.3 on) or "json-array" (0.4.0-0.4.2)
    date: str | None = None


def read_lmeval(path: str | Path, *, tasks: Sequence[str] | None = None, filter: str | None = None) -> RunLog:
    """Every multiple-choice task of the lm-eval run at ``path`` (a folder, the model's folder in it, or a
    results or samples file). ``tasks``: names, groups (their tasks) or globs (``mmlu_*``) to keep;
    ``filter``: which filter's records to read (default ``none``, else the first a task logs).
    Tasks that are not multiple-choice are skipped with a note; a truncated line is left out with a note."""
    out = find_output(Path(path).expanduser())
    results = _load_json(out.results) if out.results else {}
    infos = task_infos(results, out.samples)
    chosen = select_tasks(list(out.samples), results, tasks, where=out.folder)
    log = RunLog(docs=[], model=model_name(results, out.folder), source=source_name(results, out.layout),
                 path=str(out.folder), details={"layout": out.layout, "date": out.date,
                                                "results_file": out.results.name if out.results else None,
                                                "filters": {}})
    for task in chosen:
        docs, used = read_task(out.samples[task], infos[task], log, filter=filter)
        if docs:
            log.docs += docs
            log.details["filters"][task] = used
            log.logged[task] = logged_metrics(results, task, used)
    version = str(results.get("lm_eval_version") or "")
    if re.fullmatch(r"0\.4\.[5-8](\.\d+)?", version) and any(d.unconditional for d in log.docs):
        log.note(f"lm-eval {version} appended acc_mutual_info's unconditional requests but read them as interleaved "
                 "(lls[1::2]), so its logged acc_mutual_info pairs choices with the wrong requests; the one recomputed "
                 "here pairs each choice with its own")
    if not log.docs:
        raise RunLogError(f"{out.folder} holds no multiple-choice task among {chosen}: "
                          f"{'; '.join(log.notes) or 'no records'}. Fix: give a run of multiple_choice tasks "
                          "(generate_until tasks have no per-choice log-likelihoods)")
    return log


# --- files -------------------------------------------------------------------------------------------
def find_output(path: Path) -> Output:
    """Locate one run's files (see the module docstring), or say what is missing."""
    if not path.exists():
        raise RunLogError(f"no lm-eval output at {path}. Fix: give the folder lm-eval wrote (its --output_path)")
    if path.is_file():
        return _from_file(path)
    folders = [path, *sorted(p for p in path.iterdir() if p.is_dir())]
    found = [o for o in (_in_folder(f) for f in folders) if o is not None]
    if len(found) > 1:
        raise RunLogError(f"{path} holds the runs of {len(found)} models ({', '.join(o.folder.name for o in found)}). "
                          f"Fix: give one of them, e.g. {found[0].folder}")
    if found:
        return found[0]
    has_results = any(_RESULTS.match(p.name) or p.name == "results.json" for f in folders for p in f.iterdir()
                      if p.is_file())
    what = "a results file but no per-sample logs" if has_results else "no lm-eval results or per-sample logs"
    raise RunLogError(f"{path} holds {what} (samples_<task>_<date>.jsonl). {NO_SAMPLES_FIX}")


def _in_folder(folder: Path) -> Output | None:
    files = [p for p in folder.iterdir() if p.is_file()]
    new: dict[str, dict[str, Path]] = {}
    for p in files:
        if m := _SAMPLES.match(p.name):
            new.setdefault(m["task"], {})[m["date"]] = p
    results = {m["date"]: p for p in files if (m := _RESULTS.match(p.name))}
    if new:
        samples = {task: dates[max(dates)] for task, dates in sorted(new.items())}
        date = max(max(dates) for dates in new.values())
        return Output(folder, results.get(date) or (results[max(results)] if results else None), samples,
                      "samples-jsonl", date)
    old = folder / "results.json"
    if old.is_file():
        configs = _load_json(old).get("configs", {})
        samples = {}
        for p in sorted(files):
            if p.suffix in (".json", ".jsonl") and p.name != "results.json":
                task = max((t for t in configs if p.stem.endswith(f"_{t}") or p.stem == t), key=len, default=p.stem)
                samples[task] = p
        return Output(folder, old, samples, "json-array") if samples else None
    return None


def _from_file(path: Path) -> Output:
    folder = path.parent
    if m := _SAMPLES.match(path.name):
        results = folder / f"results_{m['date']}.json"
        return Output(folder, results if results.is_file() else None, {m["task"]: path}, "samples-jsonl", m["date"])
    whole = _in_folder(folder)
    if whole is None:
        raise RunLogError(f"{path} is not an lm-eval results or samples file, and {folder} holds no per-sample "
                          f"logs. {NO_SAMPLES_FIX}")
    if _RESULTS.match(path.name) or path.name == "results.json":
        return whole
    task = next((t for t, p in whole.samples.items() if p == path), None)
    if task is None:
        raise RunLogError(f"{path} is not one of the run's sample files ({sorted(p.name for p in whole.samples.values())})")
    return Output(folder, whole.results, {task: path}, whole.layout, whole.date)


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise RunLogError(f"{path}, line {e.lineno}: not valid JSON ({e.msg}). Fix: give the file lm-eval wrote, "
                          "whole") from None
    if not isinstance(data, dict):
        raise RunLogError(f"{path} holds a {type(data).__name__}, not lm-eval's results object")
    return data


def records(path: Path, log: RunLog) -> Iterator[tuple[int, dict]]:
    """(line, record) of a samples file: JSON Lines, or one JSON array (0.4.0-0.4.2). A line or array
    element that does not parse (a write cut short) is left out with a note; the rest is read."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        yield from _array(text, path, log)
        return
    bad = []
    for n, line in enumerate(text.split("\n"), 1):  # lines end at "\n" only: records keep \x85, \u2028 raw
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad.append(n)
            continue
        yield n, rec
    if bad:
        log.note(f"{path.name}: line{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad[:5]))}"
                 f"{' ...' if len(bad) > 5 else ''} {'are' if len(bad) > 1 else 'is'} not valid JSON (a write cut "
                 "short?) and left out; the other lines are read")


def _array(text: str, path: Path, log: RunLog) -> Iterator[tuple[int, dict]]:
    decoder = json.JSONDecoder()
    at = text.index("[") + 1
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            return
        line = text.count("\n", 0, at) + 1
        try:
            rec, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            log.note(f"{path.name}: the array is cut at line {line} (a write cut short?); the records before it are "
                     "read")
            return
        yield line, rec


# --- results -----------------------------------------------------------------------------------------
def parents(results: Mapping) -> dict[str, str]:
    """Each task or group's enclosing group (``group_subtasks``)."""
    out: dict[str, str] = {}
    for group, subtasks in (results.get("group_subtasks") or {}).items():
        for sub in subtasks:
            out.setdefault(sub, group)
    return out


def task_infos(results: Mapping, samples: Mapping[str, Path]) -> dict[str, TaskInfo]:
    """What each task's config says: output type, target delimiter, shots, seed, metrics, group, subject."""
    configs, shots, up = results.get("configs") or {}, results.get("n-shot") or {}, parents(results)
    seed = (results.get("config") or {}).get("fewshot_seed")
    out = {}
    for task in samples:
        cfg = configs.get(task) or {}
        chain, at = [], task
        while at in up:
            at = up[at]
            chain.append(at)
        subject = next((task[len(g) + 1:] for g in chain if task.startswith(g + "_")), None)
        alias = cfg.get("task_alias")
        if subject is None and chain and isinstance(alias, str) and alias.strip() and alias != task:
            subject = alias.strip()
        n_shot = shots.get(task, cfg.get("num_fewshot")) or 0
        out[task] = TaskInfo(name=task, output_type=cfg.get("output_type"), target_delimiter=cfg.get("target_delimiter"),
                             shots=int(n_shot) if str(n_shot).isdigit() else 0,
                             seed=int(seed) if isinstance(seed, int) else 0,
                             metrics=tuple(m.get("metric", "") for m in cfg.get("metric_list") or [] if
                                           isinstance(m, Mapping)),
                             group=chain[0] if chain else "", subject=subject)
    return out


def select_tasks(available: Sequence[str], results: Mapping, wanted: Sequence[str] | None, *, where: Path) -> list[str]:
    """The tasks named by ``wanted`` (task names, groups or globs), in the run's order."""
    if not wanted:
        return list(available)
    subtasks = results.get("group_subtasks") or {}

    def leaves(name: str) -> list[str]:
        return [t for sub in subtasks[name] for t in leaves(sub)] if name in subtasks else [name]

    keep: set[str] = set()
    for pattern in wanted:
        hits = {t for t in available if fnmatch.fnmatchcase(t, pattern)} | (set(leaves(pattern)) & set(available))
        if not hits:
            raise RunLogError(f"{where} holds no task {pattern!r}; its tasks are {list(available)}"
                              f"{' and groups ' + str(sorted(subtasks)) if subtasks else ''}. Fix: --task one of them")
        keep |= hits
    return [t for t in available if t in keep]


def model_name(results: Mapping, folder: Path) -> str:
    """The model as lm-eval names it (``model_name``, else ``pretrained=`` of the model args, else the folder)."""
    if isinstance(results.get("model_name"), str) and results["model_name"]:
        return results["model_name"]
    args = (results.get("config") or {}).get("model_args")
    if isinstance(args, Mapping) and args.get("pretrained"):
        return str(args["pretrained"])
    if isinstance(args, str) and (m := re.search(r"(?:^|,)pretrained=([^,]+)", args)):
        return m.group(1)
    return folder.name


def source_name(results: Mapping, layout: str) -> str:
    version = results.get("lm_eval_version")
    if version:
        return f"lm-eval {version}"
    return "lm-eval 0.4.0-0.4.2 (JSON array samples)" if layout == "json-array" else "lm-eval"


def logged_metrics(results: Mapping, task: str, filter_name: str) -> dict[str, float]:
    """The run's own aggregate ``acc``, ``acc_norm``, ``acc_mutual_info`` of ``task`` under the filter read."""
    row = (results.get("results") or {}).get(task) or {}
    return {m: float(row[f"{m},{filter_name}"]) for m in AGGREGATES if isinstance(row.get(f"{m},{filter_name}"),
                                                                                  (int, float))}


# --- samples -----------------------------------------------------------------------------------------
def read_task(path: Path, info: TaskInfo, log: RunLog, *, filter: str | None = None) -> tuple[list[ScoredDoc], str]:
    """The task's records under one filter, as scored questions, and the filter read ("" when none)."""
    if info.output_type not in (None, "multiple_choice"):
        log.note(f"task {info.name} is {info.output_type}, not multiple_choice (no per-choice log-likelihoods): "
                 "skipped")
        return [], ""
    by_filter: dict[str, list[tuple[int, dict]]] = {}
    for line, rec in records(path, log):
        if not isinstance(rec, dict):
            raise RunLogError(f"{path.name}, line {line}: a {type(rec).__name__}, not an lm-eval sample record")
        by_filter.setdefault(str(rec.get("filter", "")), []).append((line, rec))
    if not by_filter:
        log.note(f"{path.name} holds no records: task {info.name} skipped")
        return [], ""
    names = list(by_filter)
    if filter is not None and filter not in names and names != [""]:
        raise RunLogError(f"task {info.name} logs filters {names}, not {filter!r}. Fix: --filter one of them")
    used = filter if filter in names else ("none" if "none" in names else names[0])
    key = used or "none"  # 0.4.0-0.4.2 records name no filter; their results say "none"
    if len(names) > 1:
        log.note(f"task {info.name} logs {len(names)} filters ({', '.join(names)}): read {used!r}, one record per doc "
                 "(--filter / filter= picks another)")
    docs, seen, dropped = [], set(), []
    for line, rec in by_filter[used]:
        try:
            doc = sample_doc(rec, info)
        except NotMultipleChoice as e:
            log.note(f"task {info.name} is not multiple-choice ({e}): skipped")
            return [], ""
        except SampleError as e:
            if "names none of its" in str(e):
                dropped.append(str(rec.get("doc_id")))
                continue
            raise RunLogError(f"{path.name}, line {line} (doc {rec.get('doc_id')!r}): {e}. Fix: give the file lm-eval "
                              "wrote") from None
        if doc.doc_id in seen:  # 0.4.0-0.4.2 wrote each filter's records without naming the filter
            continue
        seen.add(doc.doc_id)
        docs.append(doc)
    if dropped:
        log.note(f"task {info.name}: {len(dropped)} doc(s) whose target names no choice left out (lm-eval counts "
                 f"them wrong): {', '.join(dropped[:5])}")
    repeated = len(by_filter[used]) - len(dropped) - len(seen)
    if repeated:
        log.note(f"task {info.name}: {repeated} repeated record(s) of a doc (one per filter) left out; the first of "
                 "each doc is read")
    return docs, key

