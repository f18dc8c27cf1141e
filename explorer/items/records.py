"""Rows (one mapping each) to items through a schema, with a policy for rows that make no valid item.

Real benchmarks hold a few items an :class:`Item` refuses (MMLU repeats a choice verbatim in 9 of
its 14,042 questions). ``invalid="raise"`` stops at the first, naming the data set, the item, the
column and the fix; ``invalid="skip"`` leaves them out and says so once (:func:`warn_skipped`).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from explorer.errors import DataError, ItemError, SkippedItemsWarning
from explorer.items.files import JSONConstant
from explorer.items.item import Item
from explorer.items.schemas import Schema, detect, is_scalar, placement

Invalid = Literal["raise", "skip"]
INVALID = ("raise", "skip")
AnswerAs = Literal["index", "text"]
ANSWER_AS = ("index", "text")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_choices(value: Any, item_id: str, column: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """(choices, their labels or None) from a list, a JSON list, ``a|b|c`` text, or the hub's
    ``{"text": [...], "label": [...]}``."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ItemError(item_id, column, "looks like a JSON list but does not parse",
                                'write it as ["a", "b", ...]') from None
        else:
            value = [c.strip() for c in text.split("|")]
    labels = None
    if isinstance(value, Mapping) and "text" in value:
        labels = tuple(str(lab) for lab in value["label"]) if "label" in value else None
        value = value["text"]
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ItemError(item_id, column, f"is a {type(value).__name__}", "give a list of strings")
    return tuple(as_text(c, item_id, column) for c in value), labels


def as_text(value: Any, item_id: str, column: str) -> str:
    """A question or choice as text: a string as it is, None as "" (refused later as empty), a finite
    number written out; NaN or infinity is an error (a gap or an overflow, not text)."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        raise ItemError(item_id, column, f"holds {value!r}, not text", "write the text (a missing value cannot be "
                        "shown to the model)")
    return str(value)


def parse_answer(value: Any, choices: Sequence[str], labels: Sequence[str] | None, item_id: str, column: str,
                 answer_as: AnswerAs | None = None) -> int | None:
    """The gold index from a label of the choices, a 0-based index, a letter or the gold choice's text.

    A typed integer (JSON number, an int column) is an index. Text is read as an index (``"2"``,
    or a letter ``"B"``) and as a choice's text; when both readings exist and disagree (choices
    ``1|2|3`` with answer ``2``) it is an error naming both, unless ``answer_as`` says which.
    """
    if isinstance(value, JSONConstant):
        raise ItemError(item_id, column, f"holds {value!r}, not an answer", "write the gold choice's 0-based index "
                        "(or null for an item without one)")
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None  # a gap in a table (parquet, a DataFrame): no gold
    if labels is not None and str(value).strip() in labels:  # ARC's labels may be "1".."4": labels first
        return list(labels).index(str(value).strip())
    if isinstance(value, bool):
        raise ItemError(item_id, column, f"{value!r} is a boolean", "use a 0-based index, a letter or the choice text")
    if isinstance(value, (int, float)) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
        if not math.isfinite(float(value)) or float(value) != int(value):
            raise ItemError(item_id, column, f"{value!r} is not a whole number", "use a 0-based choice index")
        if answer_as == "text":
            raise ItemError(item_id, column, f"{value!r} is a number, but answer_as='text' reads answers as choice "
                            "text", "write the gold choice's text, or leave answer_as unset")
        return int(value)  # pandas turns an int column with gaps into floats
    text = str(value).strip()
    readings: dict[str, int] = {}
    if text.lstrip("-").isdigit():
        readings["index"] = int(text)
    elif len(text) == 1 and text.isalpha():
        readings["index"] = LETTERS.index(text.upper())
    if text in choices:
        readings["text"] = list(choices).index(text)
        if not 0 <= readings.get("index", 0) < len(choices):  # no choice at that index: only the text reading
            del readings["index"]
    if answer_as is not None:
        if answer_as not in readings:
            way = "an index or a letter" if answer_as == "index" else "one of the choices"
            raise ItemError(item_id, column, f"{value!r} is not {way} (answer_as={answer_as!r})",
                            "fix the answer, or change answer_as")
        return readings[answer_as]
    if len(set(readings.values())) > 1:
        i, t = readings["index"], readings["text"]
        raise ItemError(item_id, column, f"{value!r} reads two ways: as an index, choice {i} ({choices[i]!r}); as "
                        f"text, choice {t} "
                        f"({choices[t]!r})", "say which with answer_as='index' or answer_as='text' "
                        "(CLI --answer-as index|text)")
    if readings:
        return next(iter(readings.values()))
    raise ItemError(item_id, column, f"{value!r} is neither a label, an index, a letter nor one of the choices",
                    "use a 0-based index, a label letter or the exact text of the gold choice")


def to_item(rec: Mapping[str, Any], schema: Schema, row: int, *, dataset: str | None = None,
            where: str = "row", answer_as: AnswerAs | None = None) -> Item:
    """One row as an item (row counts from 1; it names items without an id column)."""
    raw_id = rec.get(schema.id)
    item_id = str(raw_id) if raw_id not in (None, "") else f"item-{row}"
    for col in schema.needs:
        if col not in rec:
            raise ItemError(item_id, col, f"column {col!r} is missing ({where} {row})",
                            f"add it, or map it with fields={{'{_field_of(schema, col)}': 'your_column'}}")
    choice_col = schema.choices if isinstance(schema.choices, str) else "+".join(schema.choices)
    answer_col = next((c for c in schema.answer if c in rec), choice_col if schema.read else None)
    if schema.read is not None:
        values, gold = schema.read(rec)
        choices, _ = parse_choices(list(values), item_id, choice_col)
        answer = gold if gold >= 0 else None
    else:
        value = rec[schema.choices] if isinstance(schema.choices, str) else [rec[c] for c in schema.choices]
        choices, labels = parse_choices(value, item_id, choice_col)
        gold = rec.get(answer_col) if answer_col else None
        answer = None if _no_gold(gold, schema) else parse_answer(gold, choices, labels, item_id, answer_col,
                                                                           answer_as)
    question = as_text(rec[schema.question], item_id, schema.question)
    if schema.shuffle and answer is not None:
        order = placement(schema, question, len(choices))
        choices, answer = tuple(choices[o] for o in order), order.index(answer)
    meta = {k: v for k, v in rec.items() if k not in schema.uses and is_scalar(v)}
    if dataset is not None:
        meta.setdefault("dataset", dataset)
    columns = {"question": schema.question, "choices": choice_col, "answer": answer_col or "answer"}
    try:
        return Item(id=item_id, question=question, choices=choices, answer=answer, metadata=meta)
    except ItemError as e:  # name the source's column, not our field
        raise ItemError(e.item_id, columns.get(e.field, e.field), e.problem, e.fix) from None


def _no_gold(value: Any, schema: Schema) -> bool:
    """Whether ``value`` is one of the schema's "unlabelled" markers (-1 or "")."""
    return isinstance(value, (str, int, np.integer)) and not isinstance(value, bool) and value in schema.no_gold


def _field_of(schema: Schema, column: str) -> str:
    choices = (schema.choices,) if isinstance(schema.choices, str) else schema.choices
    return "question" if column == schema.question else "choices" if column in choices else "answer"


def items_from_records(records: Iterable[Mapping[str, Any]], *, label: str, columns: Sequence[str] | None = None,
                       fields: Mapping[str, Any] | None = None, dataset: str | None = None,
                       invalid: Invalid = "raise", where: str = "row", answer_as: AnswerAs | None = None
                       ) -> tuple[list[Item], list[ItemError], Schema | None]:
    """(items, the errors of skipped rows, the schema used). The schema is detected from ``columns``
    (else the first row's keys); ``label`` names the data set in errors; ``dataset`` is added to each
    item's metadata (unless a column of that name exists)."""
    if invalid not in INVALID:
        raise DataError(label, "invalid", f"{invalid!r} is not a policy for invalid items", f"use one of {INVALID}")
    if answer_as not in (None, *ANSWER_AS):
        raise DataError(label, "answer_as", f"{answer_as!r} is not a way to read answers", f"use one of {ANSWER_AS}")
    items: list[Item] = []
    skipped: list[ItemError] = []
    schema: Schema | None = None
    for row, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise ItemError(f"{where} {row}", "record", f"is a {type(rec).__name__}", "give one object per item")
        if schema is None:
            schema = detect(columns if columns is not None else list(rec), label, fields)
        try:
            items.append(to_item(rec, schema, row, dataset=dataset, where=where, answer_as=answer_as))
        except ItemError as e:
            if invalid == "raise":
                raise e.within(label) from None
            skipped.append(e.within(label))
    if skipped and not items:
        first = skipped[0]
        raise ItemError(first.item_id, first.field, f"{first.problem} (and all {len(skipped)} items are invalid, so "
                        "none are left)", first.fix, source=label)
    unique(items, label)
    return items, skipped, schema


def unique(items: list[Item], label: str | None = None) -> list[Item]:
    """The items, or a clear error naming the first id two of them share."""
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ItemError(item.id, "id", "two items share this id", "give every item a unique id, or map another "
                            "id column with fields={'id': 'your_column'}", source=label)
        seen.add(item.id)
    return items


def warn_skipped(label: str, skipped: Sequence[ItemError], total: int, *, shown: int = 3) -> None:
    """One warning for all skipped items: how many, and the first few ids with their reasons."""
    if not skipped:
        return
    examples = "; ".join(f"{e.item_id!r} ({e.field}: {e.problem})" for e in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    warnings.warn(f"dataset {label}: skipped {len(skipped)} of {total} items that cannot be used: {examples}{more}. "
                  "Pass invalid='raise' (CLI --invalid raise) to stop at the first instead", SkippedItemsWarning,
                  stacklevel=3)
