"""One lm-evaluation-harness sample record -> a :class:`~explorer.runs.record.ScoredDoc`.

What lm-eval writes per (doc, filter) of a ``multiple_choice`` task (``lm_eval/api/task.py``,
``lm_eval/loggers/evaluation_tracker.py``, 0.4.x): one loglikelihood request per choice, its
``arguments`` (``{"gen_args_i": {"arg_0": context, "arg_1": target_delimiter + choice}}`` from 0.4.3,
``[[context, continuation], ...]`` before), ``resps`` and ``filtered_resps`` (per request
``[log-likelihood, is_greedy]``; from 0.4.3 every leaf written as a string: ``"-2.13"``, ``"False"``),
``target`` (``str(doc_to_target(doc))`` from 0.4.3: an index such as ``"2"``, or a choice's text), the
doc itself and the per-doc metrics (``acc``, ``acc_norm``, ...). ``acc_mutual_info`` tasks add N
unconditional requests ``("", choice)`` (:func:`split_unconditional`); ``multiple_input`` tasks
(Winogrande) vary the context and share the continuation. The same records come back from the hub
through ``datasets`` (parquet or JSON): ``arguments`` as a struct whose absent ``gen_args_i`` are None,
lists as arrays; both read here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer import columns as C
from explorer.runs.record import CLOZE, LETTERS, PARTIAL, ScoredDoc

ALPHABETS = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
QUESTION_KEYS = ("question", "query", "Question", "problem", "input", "ctx", "goal", "sentence", "premise", "text")
CHOICE_KEYS = ("choices", "options", "endings", "answers")
LOGGED = ("acc", "acc_norm", "acc_mutual_info", "acc_bytes", "exact_match")
_WRAPPED = re.compile(r"^[(\[]?([A-Za-z]|[1-9][0-9]?)[)\].:]?$")


class SampleError(ValueError):
    """A sample record that does not read as a multiple-choice question; the message says which field."""


class NotMultipleChoice(SampleError):
    """The record is of a generate_until or loglikelihood task (no per-choice log-likelihoods)."""


@dataclass(frozen=True)
class TaskInfo:
    """What a task's config (``results_*.json``) says that a record does not."""

    name: str
    output_type: str | None = None  # None: unknown (no results file)
    target_delimiter: str | None = None  # None: unknown, inferred as " " when every continuation starts with it
    shots: int = 0
    seed: int = 0
    metrics: tuple[str, ...] = ()
    group: str = ""
    subject: str | None = None  # from the task's name within its groups ("mmlu_abstract_algebra" -> abstract_algebra)
    extra: dict[str, str] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """Arrays (as ``datasets``/parquet gives lists) as lists, recursively."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def requests(arguments: Any) -> list[tuple[Any, Any]]:
    """(context, continuation) per request, in request order, from either layout."""
    if isinstance(arguments, Mapping):
        keyed = [(int(k.rsplit("_", 1)[1]), v) for k, v in arguments.items() if v is not None]
        out = []
        for _, arg in sorted(keyed):
            if not isinstance(arg, Mapping) or "arg_0" not in arg:
                raise SampleError(f"arguments holds {type(arg).__name__}, not {{'arg_0': context, 'arg_1': ...}}")
            out.append((arg["arg_0"], arg.get("arg_1")))
        return out
    if isinstance(arguments, (list, tuple, np.ndarray)):
        pairs = [plain(a) for a in arguments]
        if not all(isinstance(a, list) and len(a) >= 2 for a in pairs):
            raise SampleError("arguments is not a list of [context, continuation] pairs")
        return [(a[0], a[1]) for a in pairs]
    raise SampleError(f"arguments is a {type(arguments).__name__}, not the harness's requests")


def number(value: Any, what: str) -> float:
    """A log-likelihood as lm-eval wrote it: a number, or its repr as a string ("-2.13")."""
    if isinstance(value, bool) or value is None:
        raise SampleError(f"{what} is {value!r}, not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SampleError(f"{what} is {value!r}, not a number") from None


def flag(value: Any, what: str) -> bool:
    """is_greedy as written: a bool, or "True"/"False"."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value in ("True", "False"):
        return value == "True"
    raise SampleError(f"{what} is {value!r}, not True or False")


def responses(sample: Mapping, n: int) -> list[tuple[float, bool]]:
    """(log-likelihood, is_greedy) of each of the ``n`` requests, from ``filtered_resps`` (else ``resps``)."""
    raw = sample.get("filtered_resps")
    if raw is None or not len(raw):
        raw = [r[0] if isinstance(r, (list, tuple)) and r else r for r in plain(sample.get("resps") or [])]
    raw = [r.tolist() if isinstance(r, np.ndarray) else r for r in raw]  # datasets' arrays, one level deep
    if len(raw) != n:
        raise SampleError(f"filtered_resps has {len(raw)} responses for {n} requests")
    out = []
    for i, r in enumerate(raw):
        if not isinstance(r, list) or len(r) != 2:
            raise NotMultipleChoice(f"filtered_resps[{i}] is {str(r)[:40]!r}, not [log-likelihood, is_greedy]")
        out.append((number(r[0], f"filtered_resps[{i}][0]"), flag(r[1], f"filtered_resps[{i}][1]")))
    return out


def common_prefix(texts: Sequence[str]) -> str:
    """The longest prefix every text shares.

    >>> common_prefix(["The cat sat", "The cab"])
    'The ca'
    """
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def label_alphabet(strings: Sequence[str]) -> bool:
    """Whether the scored strings are the first k labels of one alphabet (A, B, ... or 1, 2, ...),
    optionally wrapped as "(A)", "A.", "A)".

    >>> label_alphabet(["A", "B", "C"]), label_alphabet(["(A)", "(B)"]), label_alphabet(["B", "A"])
    (True, True, False)
    >>> label_alphabet(["1", "2", "3"]), label_alphabet(["3", "5"]), label_alphabet(["True", "False"])
    (True, False, False)
    """
    cores = [m.group(1) if (m := _WRAPPED.match(s)) else None for s in strings]
    if None in cores or len(strings) < 2:
        return False
    if all(c.isdigit() for c in cores):  # type: ignore[union-attr]
        return cores == [str(i + 1) for i in range(len(cores))]
    return any(cores == list(a[: len(cores)]) for a in ALPHABETS)


@functools.lru_cache(maxsize=256)
def _marker(label: str) -> re.Pattern:
    return re.compile(rf"(?m)^[ \t]*{re.escape(label)}(?:[.):])?[ \t]+(\S.*)$")


def shown_labels(prompt: str, labels: Sequence[str]) -> list[str] | None:
    """The text after each label where the prompt lists the choices ("A. 8"; the last list when
    demonstrations precede it), or None when some label starts no line of the prompt."""
    texts = []
    for label in labels:
        found = _marker(label).findall(prompt)
        if not found:
            return None
        texts.append(found[-1].strip())
    return texts


def doc_choices(doc: Any, k: int) -> list[str] | None:
    """The doc's own list of k choice texts (MMLU's ``choices``, MMLU-Pro's ``options``, ARC's
    ``choices.text``), or None."""
    if not isinstance(doc, Mapping):
        return None
    for key in CHOICE_KEYS:
        value = plain(doc.get(key))
        if isinstance(value, Mapping):
            value = plain(value.get("text"))
        if isinstance(value, list) and len(value) == k and all(isinstance(v, str) for v in value):
            return value
    return None


def doc_question(doc: Any, prompt: str) -> str:
    """The question's text: the doc's own field, else the prompt's last paragraph."""
    if isinstance(doc, Mapping):
        for key in QUESTION_KEYS:
            if isinstance(doc.get(key), str) and doc[key].strip():
                return doc[key].strip()
    return prompt.strip().split("\n\n")[-1]


def gold_index(target: Any, strings: Sequence[str], pred: int, acc: float | None) -> int | None:
    """The gold position, as lm-eval resolves it: an index (an int, or digits), or a choice string's
    position. A target that reads both ways is settled by the record's own ``acc``; None when it names
    no choice (lm-eval's -100)."""
    target = plain(target)
    if isinstance(target, str) and target.startswith("[") and target.endswith("]") or isinstance(target, list):
        raise SampleError(f"target {str(target)[:40]!r} lists several gold answers (multiple_target tasks "
                          "are not read)")
    found: list[int] = []
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        found.append(int(target))
    elif isinstance(target, str) and target.isdigit():
        found.append(int(target))
    if isinstance(target, str) and target in strings:
        found.append(list(strings).index(target))
    found = [g for g in dict.fromkeys(found) if 0 <= g < len(strings)]
    if len(found) > 1 and acc is not None:
        agree = [g for g in found if (g == pred) == (acc == 1.0)]
        found = agree or found
    return found[0] if found else None


def split_unconditional(reqs: list[tuple[Any, Any]], resp: list[tuple[float, bool]]
                        ) -> tuple[list[tuple[Any, Any]], list[tuple[float, bool]], tuple[float, ...] | None]:
    """(conditional requests, their responses, the unconditional log-likelihoods or None): acc_mutual_info
    tasks add ("", choice) per choice, after the N conditional requests from lm-eval 0.4.5 on
    (with the target delimiter from 0.4.9), interleaved with them before (0.4.0-0.4.4, which ordered
    requests by choice). Each unconditional request is matched to its choice by the continuation."""
    n = len(reqs)
    if n < 4 or n % 2:
        return reqs, resp, None
    for cond, uncond in ((list(range(n // 2)), list(range(n // 2, n))), (list(range(0, n, 2)), list(range(1, n, 2)))):
        if all(reqs[u][0] == "" and reqs[c][0] != "" and str(reqs[c][1]).endswith(str(reqs[u][1]))
               for c, u in zip(cond, uncond)):
            return [reqs[c] for c in cond], [resp[c] for c in cond], tuple(resp[u][0] for u in uncond)
    return reqs, resp, None


def sample_doc(sample: Mapping, task: TaskInfo) -> ScoredDoc:
    """The record as a scored question (see the module docstring); :class:`SampleError` says why not."""
    if task.output_type not in (None, "multiple_choice"):
        raise NotMultipleChoice(f"output_type {task.output_type!r}")
    reqs = requests(sample.get("arguments"))
    if not reqs:
        raise SampleError("arguments holds no request")
    if any(not isinstance(cont, str) for _, cont in reqs):
        raise NotMultipleChoice("its requests are generations (arguments hold generation settings)")
    resp = responses(sample, len(reqs))
    reqs, resp, unconditional = split_unconditional(reqs, resp)
    if len(reqs) < 2:
        raise NotMultipleChoice("one request per doc (a loglikelihood task, not multiple choice)")
    contexts, targets = [str(c) for c, _ in reqs], [str(t) for _, t in reqs]
    logprobs = tuple(ll for ll, _ in resp)
    greedy = tuple(g for _, g in resp)
    doc = sample.get("doc")
    if len(set(contexts)) > 1:  # multiple_input: the choices sit in the contexts
        prompt = common_prefix(contexts)
        fmt, choices, labels, strings, n_chars = PARTIAL, [c[len(prompt):] for c in contexts], [""] * len(reqs), \
            [c[len(prompt):] for c in contexts], None
    else:
        prompt = contexts[0]
        delim = task.target_delimiter if task.target_delimiter is not None else (
            " " if all(t.startswith(" ") for t in targets) else "")
        strings = [t[len(delim):] if t.startswith(delim) else None for t in targets]
        if None in strings:
            strings, n_chars = [t.lstrip() for t in targets], None
        else:
            n_chars = tuple(len(s) for s in strings)
        listed = doc_choices(doc, len(strings)) if label_alphabet(strings) else None
        if listed is not None and all(_marker(lab).search(prompt) for lab in strings):
            fmt, labels, choices = LETTERS, list(strings), listed
        elif label_alphabet(strings) and (shown := shown_labels(prompt, strings)) is not None:
            fmt, labels, choices = LETTERS, list(strings), shown
        else:
            fmt, labels, choices = CLOZE, [""] * len(strings), list(strings)
    logged = {}
    for key in LOGGED:
        if key in sample and sample[key] is not None:
            logged[key] = number(sample[key], key)
    pred = int(np.argmax(logprobs))
    gold = gold_index(sample.get("target"), strings, pred, logged.get("acc"))
    if gold is None:
        raise SampleError(f"target {sample.get('target')!r} names none of its {len(strings)} choices")
    meta = dict(task.extra)
    subject = doc.get("subject") if isinstance(doc, Mapping) and isinstance(doc.get("subject"), str) else task.subject
    meta.update({C.TASK: task.name, C.SUBJECT: subject or "", C.GROUP: task.group})
    return ScoredDoc(task=task.name, doc_id=str(sample.get("doc_id")), question=doc_question(doc, prompt),
                     prompt=prompt, choices=tuple(choices), targets=tuple(targets), labels=tuple(labels),
                     logprobs=logprobs, gold=gold, fmt=fmt, shots=task.shots, seed=task.seed, is_greedy=greedy,
                     unconditional=unconditional, n_chars=n_chars if fmt != PARTIAL else None, metadata=meta,
                     logged=logged)
