"""Load items from JSONL, CSV, a pandas DataFrame or a Hugging Face ``datasets`` dataset."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from explorer.errors import ItemError
from explorer.items.item import Item

DEFAULT_COLUMNS = {"id": "id", "question": "question", "choices": "choices", "answer": "answer"}


def load_items(source: Any, *, columns: Mapping[str, str] | None = None, split: str | None = None) -> list[Item]:
    """Items from a path (``.jsonl``/``.json``/``.csv``), a DataFrame, a ``datasets`` dataset,
    a list of dicts, or a list of :class:`Item` (returned as they are).

    ``columns`` maps our field names (id, question, choices, answer) to the source's column names;
    missing ids become the row number. ``answer`` may be a 0-based index, a label letter, or the
    gold choice's text. In CSV, ``choices`` is a JSON list or text split on ``|``.
    """
    if isinstance(source, (str, Path)):
        return _from_path(Path(source), columns)
    if isinstance(source, pd.DataFrame):
        return _from_records(source.to_dict("records"), columns, "DataFrame row")
    if _is_hf_dataset(source):
        ds = source[split] if split is not None else source
        return _from_records((dict(r) for r in ds), columns, "dataset row")
    if isinstance(source, Iterable):
        records = list(source)
        if all(isinstance(r, Item) for r in records):
            return _unique(records)
        return _from_records(records, columns, "record")
    raise TypeError(f"cannot load items from {type(source).__name__}; give a path, DataFrame, dataset or list")


def _is_hf_dataset(source: Any) -> bool:
    return type(source).__module__.startswith("datasets")


def _from_path(path: Path, columns: Mapping[str, str] | None) -> list[Item]:
    if not path.exists():
        raise FileNotFoundError(f"no items file at {path}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        records = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ItemError(f"{path.name}:{n}", "line", f"not valid JSON ({e.msg})",
                                "write one JSON object per line") from None
        return _from_records(records, columns, f"{path.name} line")
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return _from_records(data if isinstance(data, list) else data["items"], columns, f"{path.name} entry")
    if suffix == ".csv":
        return _from_records(pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records"),
                             columns, f"{path.name} row")
    raise ValueError(f"unknown items file type {suffix!r} for {path}; use .jsonl, .json or .csv")


def _from_records(records: Iterable[Mapping[str, Any]], columns: Mapping[str, str] | None, where: str) -> list[Item]:
    names = {**DEFAULT_COLUMNS, **(columns or {})}
    items = []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise ItemError(f"{where} {n}", "record", f"is a {type(rec).__name__}", "give one object per item")
        item_id = str(rec.get(names["id"], "") or f"item-{n}")
        for need in ("question", "choices"):
            if names[need] not in rec:
                raise ItemError(item_id, need, f"column {names[need]!r} is missing ({where} {n})",
                                f"add it, or map it with columns={{'{need}': 'your_column'}}")
        choices = _parse_choices(rec[names["choices"]], item_id)
        answer = _parse_answer(rec.get(names["answer"]), choices, item_id)
        meta = {k: v for k, v in rec.items() if k not in set(names.values())}
        items.append(Item(id=item_id, question=str(rec[names["question"]]), choices=choices, answer=answer, metadata=meta))
    return _unique(items)


def _parse_choices(value: Any, item_id: str) -> tuple[str, ...]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ItemError(item_id, "choices", "looks like a JSON list but does not parse",
                                'write it as ["a", "b", ...]') from None
        else:
            value = [c.strip() for c in text.split("|")]
    if isinstance(value, Mapping) and "text" in value:  # datasets' {"label": [...], "text": [...]}
        value = value["text"]
    if not isinstance(value, Sequence) or isinstance(value, str):
        if hasattr(value, "tolist"):
            value = value.tolist()
        else:
            raise ItemError(item_id, "choices", f"is a {type(value).__name__}", "give a list of strings")
    return tuple(str(c) if not isinstance(c, str) else c for c in value)


def _parse_answer(value: Any, choices: Sequence[str], item_id: str) -> int | None:
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    if isinstance(value, bool):
        raise ItemError(item_id, "answer", f"{value!r} is a boolean", "use a 0-based index, a letter or the choice text")
    if isinstance(value, (int, float)) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
        if float(value) != int(value):
            raise ItemError(item_id, "answer", f"{value!r} is not a whole number", "use a 0-based choice index")
        return int(value)  # pandas turns an int column with gaps into floats
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if len(text) == 1 and text.isalpha() and text not in choices:
        return "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(text.upper())
    if text in choices:
        return list(choices).index(text)
    raise ItemError(item_id, "answer", f"{value!r} is neither an index, a letter nor one of the choices",
                    "use a 0-based index, a label letter or the exact text of the gold choice")


def _unique(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ItemError(item.id, "id", "two items share this id", "give every item a unique id")
        seen.add(item.id)
    return items


def items_to_frame(items: Sequence[Item]) -> pd.DataFrame:
    """One row per item: id, question, choices (list), answer, and metadata columns."""
    return pd.DataFrame([{"id": i.id, "question": i.question, "choices": list(i.choices), "answer": i.answer,
                          **dict(i.metadata)} for i in items])


def save_jsonl(items: Sequence[Item], path: str | Path) -> Path:
    """Write items as JSONL that :func:`load_items` reads back."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        for i in items:
            f.write(json.dumps({"id": i.id, "question": i.question, "choices": list(i.choices), "answer": i.answer,
                                **dict(i.metadata)}) + "\n")
    return path
