"""Inspect eval logs (``.eval`` zip or ``.json``), read through ``inspect_ai.log.read_eval_log_samples``.

Inspect's ``multiple_choice()`` solver shows the choices as "A) ..." and lets the model *generate* an
answer; the ``choice()`` scorer reads the letter. So a log holds, per sample, the choices as shown
(after any ``shuffle_choices(seed)``, of which the log keeps no record), the gold letter, the scorer's
answer and, when the run asked for them (``logprobs=True, top_logprobs=K``), the top-K log-probabilities
of each generated token. This reader takes, per sample, the log-probability of each label at the
position where the answer letter was generated (after "ANSWER:", else the first generated token that
is a label); a label outside the top K gets -inf. Without log-probabilities a sample's scores are the
answer alone (log p = 0 for it, -inf for the others): positions and accuracy are defined, calibration
is not (the summary says so).

Several logs of one task (a folder, or a list) are joined on sample id: each log is one order of the
choices (named by its file), the choice shown at each position identified by its text, which makes an
order study (consistency, order-averaged accuracy, accuracy by order). Needs ``inspect_ai``
(``pip install 'lm-explorer[inspect]'``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from explorer import columns as C
from explorer.errors import RunLogError
from explorer.runs.record import LETTERS, RunLog, ScoredDoc

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_JSON_LOG = re.compile(r'^\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"')
_SPACE = ("Ġ", "▁", " ")


def is_inspect_log(path: Path) -> bool:
    """An Inspect log: a ``.eval`` file, or a ``.json`` file that starts as Inspect writes one."""
    if path.suffix == ".eval" and path.is_file():
        return True
    if path.suffix == ".json" and path.is_file():
        with path.open(encoding="utf-8", errors="replace") as f:
            return bool(_JSON_LOG.match(f.read(200)))
    return False


def _inspect() -> Any:
    try:
        from inspect_ai import log  # noqa: PLC0415 - optional extra
    except ImportError:
        raise RunLogError("reading Inspect logs needs the package 'inspect_ai', which is not installed. Fix: pip "
                          "install 'lm-explorer[inspect]'") from None
    return log


def log_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The logs of ``source``: one file, every log in a folder (sorted by name), or a list of files."""
    if isinstance(source, (list, tuple)):
        return [Path(p).expanduser() for p in source]
    path = Path(source).expanduser()
    files = sorted(p for p in path.iterdir() if is_inspect_log(p)) if path.is_dir() else [path]
    if not files:
        raise RunLogError(f"{path} holds no Inspect log (.eval, or .json as Inspect writes it)")
    return files


def token_text(token: str) -> str:
    """A token as text, its leading-space marker dropped ("ĠA" -> "A")."""
    for mark in _SPACE:
        if token.startswith(mark):
            return token[len(mark):]
    return token


def answer_position(content: Sequence[Any], labels: Sequence[str], answer: str | None) -> int | None:
    """Index of the generated token that carries the answer: the answer letter after "ANSWER:" if the
    completion has it, else the first generated token that is a label."""
    texts = [token_text(c.token) for c in content]
    joined = ""
    for n, text in enumerate(texts):
        if text.strip() in labels and re.search(r"ANSWER\s*:\s*$", joined, re.IGNORECASE):
            return n
        joined += text if not content[n].token.startswith(_SPACE) else " " + text
    if answer is not None:
        hits = [n for n, t in enumerate(texts) if t.strip() == answer]
        if hits:
            return hits[0]
    return next((n for n, t in enumerate(texts) if t.strip() in labels), None)


def label_logprobs(entry: Any, labels: Sequence[str]) -> list[float]:
    """log p of each label at one generated position, from its top log-probabilities (-inf when absent)."""
    seen: dict[str, float] = {}
    for top in [*(entry.top_logprobs or []), entry]:
        text = token_text(top.token).strip()
        if text in labels:
            seen[text] = max(seen.get(text, -math.inf), float(top.logprob))
    return [seen.get(label, -math.inf) for label in labels]


def sample_doc(sample: Any, task: str, order: str | None, reference: dict[str, list[str]] | None) -> ScoredDoc | str:
    """The sample as a scored question, or a string saying why it cannot be one."""
    choices = list(sample.choices or [])
    if len(choices) < 2:
        return "it has no choices (not a multiple-choice task)"
    labels = list(LABELS[: len(choices)])
    target = sample.target if isinstance(sample.target, str) else "".join(sample.target)
    if target not in labels:
        return f"its target {target!r} is not one of the labels {''.join(labels)}"
    score = next(iter((sample.scores or {}).values()), None)
    answer = (score.answer or None) if score is not None else None
    answer = answer.strip() if isinstance(answer, str) and answer.strip() in labels else None
    choice = sample.output.choices[0] if sample.output and sample.output.choices else None
    content = choice.logprobs.content if choice is not None and choice.logprobs is not None else None
    at = answer_position(content, labels, answer) if content else None
    if at is not None:
        logprobs = label_logprobs(content[at], labels)
    elif answer is not None:
        logprobs = [0.0 if label == answer else -math.inf for label in labels]
    elif content:
        return "the model generated no answer letter (no label among its tokens)"
    else:
        return "the scorer read no answer and the log has no log-probabilities"
    if all(math.isinf(x) for x in logprobs):
        return "none of the labels is among the answer position's top log-probabilities"
    user = [m for m in sample.messages or [] if getattr(m, "role", "") == "user"]
    prompt = user[-1].text if user else str(sample.input)
    ref = reference.get(str(sample.id)) if reference is not None else None
    if ref is not None and sorted(ref) != sorted(choices):
        return "its choices differ from those of the same sample in the study's first log"
    positions = tuple(ref.index(c) for c in choices) if ref is not None else None
    logged = {"correct": 1.0 if score is not None and score.value in ("C", 1, 1.0, True) else 0.0}
    subject = (sample.metadata or {}).get("subject")
    meta = {C.TASK: task, C.SUBJECT: subject if isinstance(subject, str) else "", C.GROUP: ""}
    epoch = f"#{sample.epoch}" if getattr(sample, "epoch", 1) != 1 else ""
    return ScoredDoc(task=task, doc_id=f"{sample.id}{epoch}", question=str(sample.input), prompt=prompt,
                     choices=tuple(choices), targets=tuple(labels), labels=tuple(labels), logprobs=tuple(logprobs),
                     gold=labels.index(target), fmt=LETTERS, order=order, positions=positions, metadata=meta,
                     logged=logged)


def read_inspect(source: str | Path | Sequence[str | Path], *, tasks: Sequence[str] | None = None) -> RunLog:
    """The Inspect log(s) at ``source`` (see the module docstring); ``tasks`` keeps those tasks' logs."""
    log_api = _inspect()
    files = log_files(source)
    headers = [log_api.read_eval_log(str(f), header_only=True) for f in files]
    if tasks:
        keep = [(f, h) for f, h in zip(files, headers) if h.eval.task in tasks]
        if not keep:
            raise RunLogError(f"no log of task {list(tasks)} in {source}; the logs are of "
                              f"{sorted({h.eval.task for h in headers})}")
        files, headers = [f for f, _ in keep], [h for _, h in keep]
    models = sorted({h.eval.model for h in headers})
    if len(models) > 1:
        raise RunLogError(f"{source} holds logs of {len(models)} models ({', '.join(models)}): one run is one model. "
                          "Fix: give the logs of one model (open several runs side by side to compare models)")
    by_task: dict[str, list[tuple[Path, Any]]] = {}
    for f, h in zip(files, headers):
        by_task.setdefault(h.eval.task, []).append((f, h))
    run = RunLog(docs=[], model=models[0], source=f"inspect_ai {headers[0].eval.packages.get('inspect_ai', '')}".strip(),
                 path=str(source if not isinstance(source, (list, tuple)) else Path(files[0]).parent),
                 details={"logs": [f.name for f in files], "logprobs": False})
    for task, logs in by_task.items():
        run.docs += _task_docs(log_api, task, logs, run)
    if not run.docs:
        raise RunLogError(f"no sample of {source} reads as a multiple-choice question: {'; '.join(run.notes)}")
    return run


def _task_docs(log_api: Any, task: str, logs: list[tuple[Path, Any]], run: RunLog) -> list[ScoredDoc]:
    """One task's samples; several logs become the orders of an order study, over the samples every log has."""
    study = len(logs) > 1
    per_log, reference = [], None
    for f, header in logs:
        if header.status != "success":
            run.note(f"{f.name}: the run's status is {header.status!r}; the samples it holds are read")
        samples = list(log_api.read_eval_log_samples(str(f), all_samples_required=False))
        if study and reference is None:
            reference = {str(s.id): list(s.choices or []) for s in samples}
        docs, skipped = [], []
        for s in samples:
            doc = sample_doc(s, task, f.stem if study else None, reference)
            if isinstance(doc, str):
                skipped.append(f"{s.id} ({doc})")
            else:
                docs.append(doc)
                if s.output and s.output.choices and s.output.choices[0].logprobs is not None:
                    run.details["logprobs"] = True
        if skipped:
            run.note(f"{f.name}: {len(skipped)} sample(s) left out: {'; '.join(skipped[:3])}"
                     f"{' ...' if len(skipped) > 3 else ''}")
        scores = header.results.scores if header.results else []
        accuracy = next((m.value for sc in scores for name, m in sc.metrics.items() if name == "accuracy"), None)
        if accuracy is not None:  # the scorer's: an answer it cannot read counts as wrong
            run.logged.setdefault(task, {})["scorer_accuracy" + (f" ({f.stem})" if study else "")] = float(accuracy)
        per_log.append(docs)
    if not study:
        return per_log[0]
    common = set.intersection(*({d.doc_id for d in docs} for docs in per_log))
    for (f, _), docs in zip(logs, per_log):
        texts = {d.doc_id: sorted(d.choices) for d in docs}
        mismatch = [i for i in common if texts[i] != sorted(reference.get(i.split("#")[0], []))]
        if mismatch:
            raise RunLogError(f"{f.name}: sample {mismatch[0]!r} has other choices than in {logs[0][0].name}: the logs "
                              "are not orders of one task's samples. Fix: give logs of the same task and data")
    dropped = sum(len(docs) for docs in per_log) - len(common) * len(per_log)
    if dropped:
        run.note(f"task {task}: {dropped} sample(s) missing from some log left out of the order study")
    return [d for docs in per_log for d in docs if d.doc_id in common]
