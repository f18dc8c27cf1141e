"""Load items from anywhere: a file, a built-in set, a Hugging Face dataset id or a local copy of one,
a ``datasets`` object, a DataFrame, or a list of records.

The layout of the columns is recognised (:mod:`explorer.items.schemas`); ``fields=`` maps any
other. ``n``/``seed`` keep a sample; ``invalid`` says what happens to rows an :class:`Item`
refuses. Default: ``"skip"`` (one warning) for benchmarks (hub ids, dataset folders, ``datasets``
objects, built-in sets), whose rows you cannot fix; ``"raise"`` for your own files, frames and
records, whose rows you can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from explorer.errors import DataError, ItemError, NoItemsError
from explorer.items.builtin import DATASETS, builtin_items
from explorer.items.files import FILE_TYPES, read_records
from explorer.items.hub import describe, load_split, pick_split
from explorer.items.item import Item
from explorer.items.records import AnswerAs, Invalid, items_from_records, unique, warn_skipped
from explorer.items.sampling import sample

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")  # "name" or "owner/name"
BENCHMARK_KINDS = ("dataset", "builtin")  # where invalid items are skipped by default


@dataclass(frozen=True)
class Loaded:
    """What :func:`load_source` loaded: the items, and where from (for messages and the dashboard)."""

    items: list[Item]
    name: str  # path, hub id, folder name or built-in name
    kind: str  # "file", "dataset", "builtin", "frame" or "records"
    config: str | None = None
    split: str | None = None
    schema: str | None = None  # the recognised layout (explorer.items.schemas), None for built-ins and items
    n_available: int = 0  # valid items before sampling
    skipped: tuple[ItemError, ...] = ()  # rows left out (invalid="skip")
    revision: str | None = None  # the hub dataset's pinned commit, tag or branch

    @property
    def ks(self) -> list[int]:
        """The numbers of choices present, sorted."""
        return sorted({i.k for i in self.items})

    def describe(self) -> str:
        """One line: name, config, split, how many items of how many, k, and what was skipped."""
        ks = self.ks
        k = "-" if not ks else str(ks[0]) if len(ks) == 1 else f"{ks[0]}-{ks[-1]}"
        parts = [self.name, *(f"{key} {v}" for key, v in (("config", self.config), ("split", self.split),
                                                          ("revision", self.revision)) if v),
                 f"{len(self.items)} of {self.n_available} items" if len(self.items) < self.n_available
                 else f"{len(self.items)} items", f"k = {k}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} invalid skipped")
        return " · ".join(parts)


def load_items(source: Any, *, config: str | None = None, split: str | None = None,
               fields: Mapping[str, str | Sequence[str]] | None = None, n: int | None = None,
               seed: int | None = None, invalid: Invalid | None = None, answer_as: AnswerAs | None = None,
               revision: str | None = None) -> list[Item]:
    """Items from ``source`` (see :func:`load_source`, which also says where they came from)."""
    return load_source(source, config=config, split=split, fields=fields, n=n, seed=seed, invalid=invalid,
                       answer_as=answer_as, revision=revision).items


def load_source(source: Any, *, config: str | None = None, split: str | None = None,
                fields: Mapping[str, str | Sequence[str]] | None = None, n: int | None = None,
                seed: int | None = None, invalid: Invalid | None = None, answer_as: AnswerAs | None = None,
                revision: str | None = None) -> Loaded:
    """Load items and describe what was loaded.

    ``source``: a path (``.jsonl``/``.json``/``.csv``/``.parquet``), a folder holding a copy of a hub
    dataset repo, a built-in set (``capitals``, ``arithmetic``, ``mmlu``), a hub dataset id
    (``cais/mmlu``), a ``datasets`` Dataset or DatasetDict, a DataFrame, a list of dicts, or a list
    of :class:`Item`. A path that exists wins over a built-in name and a hub id.
    ``config``/``split``: of a dataset; ``split=None`` picks ``test``, else the only split.
    ``fields``: our fields (id, question, choices, answer) mapped to the source's columns;
    ``choices`` may be a list of columns. ``n``: keep n items, the first n or, with ``seed``, n drawn
    with it (in source order). ``invalid``: ``"raise"`` or ``"skip"`` rows that make no valid item
    (default: skip for benchmarks, raise for your own data; see the module docstring).
    ``answer_as``: how to read a gold answer written as text that could be an index or a letter and
    also a choice's text (choices ``1|2|3``, answer ``2``): ``"index"`` or ``"text"``; unset, such an
    answer is an error naming both readings (a typed number is always an index).
    ``revision``: a hub dataset's commit, tag or branch, so a run reads the same data wherever and
    whenever it runs (hub ids only).
    """
    kind, name, config, split, records, where = _open(source, config, split, revision)
    label = describe(name, config, split)
    policy = invalid or ("skip" if kind in BENCHMARK_KINDS else "raise")
    if kind in ("items", "builtin"):
        items, skipped, schema = unique(list(records), label), [], None
    else:
        columns = list(records.column_names) if getattr(records, "column_names", None) else None
        tag = name if kind == "dataset" and isinstance(source, (str, Path)) else None  # metadata "dataset"
        items, skipped, found = items_from_records(records, label=label, columns=columns, fields=fields, dataset=tag,
                                                   invalid=policy, where=where, answer_as=answer_as)
        schema = found.name if found is not None else None
    warn_skipped(label, skipped, len(items) + len(skipped))
    if not items:
        raise NoItemsError(f"no items in {label}{f' ({len(skipped)} skipped)' if skipped else ''}. Fix: give a data "
                           "set with at least one item")
    return Loaded(sample(items, n, seed), name, "records" if kind == "items" else kind, config, split, schema,
                  len(items), tuple(skipped), revision)


def _open(source: Any, config: str | None, split: str | None,
          revision: str | None) -> tuple[str, str, str | None, str | None, Any, str]:
    """(kind, name, config, split, records or items, how a row is named) for any source."""
    if isinstance(source, (str, Path)):
        return _open_text(str(source), config, split, revision)
    if isinstance(source, pd.DataFrame):
        _no_dataset_options("a DataFrame", config, split, revision)
        return "frame", "DataFrame", None, None, source.to_dict("records"), "DataFrame row"
    if type(source).__module__.startswith("datasets"):
        _no_revision("datasets object", revision)
        if isinstance(source, Mapping):  # a DatasetDict: choose the split
            split = pick_split(list(source), split, describe("datasets object"))
            source = source[split]
        return "dataset", "datasets object", config, split, source, "dataset row"
    if isinstance(source, Iterable):
        _no_dataset_options("a list", config, split, revision)
        records = list(source)
        if records and all(isinstance(r, Item) for r in records):
            return "items", "items", None, None, records, "item"
        return "records", "records", None, None, records, "record"
    raise TypeError(f"cannot load items from {type(source).__name__}; give a path, a hub id, a built-in name, a "
                    "DataFrame, a datasets dataset or a list")


def _open_text(text: str, config: str | None, split: str | None,
               revision: str | None) -> tuple[str, str, str | None, str | None, Any, str]:
    path = Path(text).expanduser()
    if path.is_dir():
        _no_revision(path.resolve().name, revision)
        ds, config, split = load_split(str(path.resolve()), name=path.resolve().name, config=config, split=split,
                                       local=True)
        return "dataset", path.resolve().name, config, split, ds, "dataset row"
    if path.is_file():
        _no_dataset_options(f"{path.name!r} (a file)", config, split, revision)
        return "file", str(path), None, None, read_records(path), f"{path.name} line" if path.suffix.lower() in (
            ".jsonl", ".ndjson") else f"{path.name} row"
    if text in DATASETS:
        _no_dataset_options(f"{text!r} (a built-in set)", config, split, revision)
        return "builtin", text, None, None, builtin_items(text), "item"
    if path.suffix.lower() in FILE_TYPES or text.startswith((".", "/", "~")) or not HUB_ID.match(text):
        raise FileNotFoundError(f"no items file or dataset folder at {path}, and {text!r} is neither a built-in set "
                                f"({', '.join(DATASETS)}) nor a hub dataset id (owner/name)")
    ds, config, split = load_split(text, name=text, config=config, split=split, revision=revision)
    return "dataset", text, config, split, ds, "dataset row"


def _no_dataset_options(label: str, config: str | None, split: str | None, revision: str | None = None) -> None:
    for key, value in (("config", config), ("split", split)):
        if value is not None:
            raise DataError(label, key, f"{key} {value!r} was given, but only datasets have configs and splits",
                            f"leave out {key}= (CLI --{key}), or give a hub id or a dataset folder")
    _no_revision(label, revision)


def _no_revision(label: str, revision: str | None) -> None:
    if revision is not None:
        raise DataError(label, "revision", f"revision {revision!r} was given, but only hub datasets have revisions",
                        "leave out revision= (CLI --revision), or give a hub dataset id")


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
