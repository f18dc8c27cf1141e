"""Where a data set keeps an item's parts, recognised from its column names alone.

The hub's multiple-choice benchmarks each have their own columns; :data:`SCHEMAS` lists how each
becomes an :class:`~explorer.items.item.Item`, and :func:`detect` picks one from the columns, so
``load_items("allenai/ai2_arc", config="ARC-Challenge")`` needs no mapping. ``fields={...}`` maps
any other layout. Columns a schema does not use are kept as the item's metadata when their values
are scalars (subject, category, ...); list and mapping columns (TruthfulQA's ``mc2_targets``) and
long text that belongs to the item (SciQ's ``support``, MedMCQA's ``exp``) are not.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.errors import DataError

Reader = Callable[[Mapping[str, Any]], tuple[Sequence[Any], int]]


@dataclass(frozen=True)
class Schema:
    """How one layout of columns makes an item.

    ``question``: the question's column. ``choices``: one column holding a list (or the hub's
    ``{"text": [...], "label": [...]}``), or several columns holding one choice each. ``answer``:
    candidate gold columns, the first present wins; a gold value is a label of the choices (``"B"``,
    or ARC's ``"3"``), a 0-based index, a letter, or the gold choice's text. ``id``: the id column
    (else ``item-<row>``, counting from 1). ``no_gold``: values meaning "unlabelled" (hidden test
    labels). ``content``: more columns of the item's text, kept out of the metadata. ``read``: a
    custom reader of (choices, gold index). ``shuffle``: the source always lists the correct answer
    first, so each item's choices are placed in an order drawn with a seed made from its question
    (the same on every load and sample).
    """

    name: str
    title: str
    needs: tuple[str, ...]
    question: str = "question"
    choices: str | tuple[str, ...] = "choices"
    answer: tuple[str, ...] = ("answer",)
    id: str = "id"
    no_gold: tuple[Any, ...] = ()
    content: tuple[str, ...] = ()
    read: Reader | None = None
    shuffle: bool = False
    uses: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        choices = (self.choices,) if isinstance(self.choices, str) else self.choices
        object.__setattr__(self, "uses", frozenset({self.question, *choices, *self.answer, self.id, *self.content}))

    def matches(self, columns: Iterable[str]) -> bool:
        return set(self.needs) <= set(columns)


def _sciq(rec: Mapping[str, Any]) -> tuple[list[Any], int]:
    return [rec["correct_answer"], rec["distractor1"], rec["distractor2"], rec["distractor3"]], 0


def _mc1(rec: Mapping[str, Any]) -> tuple[list[Any], int]:
    targets = rec["mc1_targets"]
    labels = [int(v) for v in targets["labels"]]
    return list(targets["choices"]), labels.index(1) if 1 in labels else -1


# First match wins: the more specific layouts come before the general question + choices one.
SCHEMAS: tuple[Schema, ...] = (
    Schema("truthfulqa_mc1", "TruthfulQA MC1 (question, mc1_targets)", ("question", "mc1_targets"),
           choices="mc1_targets", answer=(), content=("mc2_targets",), read=_mc1, shuffle=True),
    Schema("hellaswag", "HellaSwag (ctx, endings, label)", ("ctx", "endings"), question="ctx", choices="endings",
           answer=("label",), id="ind", no_gold=("", -1), content=("ctx_a", "ctx_b")),
    Schema("sciq", "SciQ (question, correct_answer, distractor1..3)",
           ("question", "correct_answer", "distractor1", "distractor2", "distractor3"),
           choices=("correct_answer", "distractor1", "distractor2", "distractor3"), answer=(), content=("support",),
           read=_sciq, shuffle=True),
    Schema("piqa", "PIQA (goal, sol1, sol2, label)", ("goal", "sol1", "sol2"), question="goal",
           choices=("sol1", "sol2"), answer=("label",), no_gold=(-1, "")),
    Schema("medmcqa", "MedMCQA (question, opa..opd, cop)", ("question", "opa", "opb", "opc", "opd"),
           choices=("opa", "opb", "opc", "opd"), answer=("cop",), no_gold=(-1, ""), content=("exp",)),
    Schema("mmlu_pro", "MMLU-Pro (question, options, answer_index)", ("question", "options"), choices="options",
           answer=("answer_index", "answer"), id="question_id", content=("cot_content",)),
    Schema("openbookqa", "OpenBookQA (question_stem, choices, answerKey)", ("question_stem", "choices", "answerKey"),
           question="question_stem", answer=("answerKey",), no_gold=("",)),
    Schema("arc", "ARC / CommonsenseQA (question, choices: {text, label}, answerKey)",
           ("question", "choices", "answerKey"), answer=("answerKey",), no_gold=("",)),
    Schema("choices", "MMLU and your own files (question, choices, answer)", ("question", "choices")),
)

FIELDS = ("id", "question", "choices", "answer")


def from_fields(fields: Mapping[str, str | Sequence[str]], columns: Iterable[str], dataset: str) -> Schema:
    """A schema from an explicit mapping of our fields (id, question, choices, answer) to columns;
    ``choices`` may name one column or a list of columns (one choice each)."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise DataError(dataset, unknown[0], f"fields= maps {unknown}, which are not item fields",
                        f"map only {list(FIELDS)} to your columns")
    choices = fields.get("choices", "choices")
    choices = choices if isinstance(choices, str) else tuple(choices)
    answer = fields.get("answer", "answer")
    schema = Schema("fields", "your mapping", needs=(fields.get("question", "question"),
                    *((choices,) if isinstance(choices, str) else choices)),
                    question=str(fields.get("question", "question")), choices=choices,
                    answer=(str(answer),), id=str(fields.get("id", "id")))
    columns = set(columns)
    missing = [c for c in schema.needs if c not in columns]
    if columns and missing:
        raise DataError(dataset, missing[0], f"fields= names column {missing[0]!r}, which is not among its columns "
                        f"{sorted(columns)}", "map each field to one of those columns")
    return schema


def detect(columns: Iterable[str], dataset: str, fields: Mapping[str, str | Sequence[str]] | None = None) -> Schema:
    """The schema for these columns: ``fields`` when given, else the first of :data:`SCHEMAS` that fits."""
    columns = list(columns)
    if fields:
        return from_fields(fields, columns, dataset)
    for schema in SCHEMAS:
        if schema.matches(columns):
            return schema
    missing = next(c for c in ("question", "choices") if c not in columns)
    known = "; ".join(s.title for s in SCHEMAS)
    raise DataError(dataset, missing, f"its columns {sorted(columns)} match no multiple-choice layout lm-explorer "
                    f"knows (known: {known})", "map them: fields={'question': COLUMN, 'choices': COLUMN or "
                    "[COLUMN, ...], 'answer': COLUMN} (CLI: --fields question=COL,choices=COL,answer=COL)")


def placement(schema: Schema, question: str, k: int) -> list[int]:
    """The seeded order a ``shuffle`` schema shows its k choices in: the same for the same question.

    >>> sciq = SCHEMAS[2]
    >>> placement(sciq, "Which gas do plants take in?", 4) == placement(sciq, "Which gas do plants take in?", 4)
    True
    """
    order = list(range(k))
    random.Random(f"{schema.name}:{question}").shuffle(order)
    return order


def is_scalar(value: Any) -> bool:
    """Whether a column's value can be a metadata column (groupable, writable to CSV and parquet)."""
    return value is None or isinstance(value, (str, int, float, bool, np.generic))
