"""Reading item files (JSONL, JSON, CSV, parquet) into rows, with an error for every way a file can be
broken that names the file, the line or row, and the fix. A file on disk and an upload's bytes go through
the same parser (:func:`parse_records`)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.errors import DataError, ItemError

FILE_TYPES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")
TOO_DEEP = "nested deeper than Python's JSON reader allows"
FLAT = "write each item as one flat object: question, choices (a list), answer"


@dataclass(frozen=True)
class FileBytes:
    """A file's content in memory (an upload): ``load_items(FileBytes("mine.jsonl", data))`` reads it as the
    file ``name`` would be read, and errors name it, never a temporary path."""

    name: str
    content: bytes

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


def decode(data: bytes, where: str) -> str:
    """The bytes as UTF-8 text, or a clear error naming ``where``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(where, "encoding", f"byte {e.start} is not UTF-8 text ({e.reason})",
                        "save the file as UTF-8") from None


class JSONConstant(float):
    """A literal ``NaN`` or ``Infinity`` in a JSON file: a value someone wrote, not a missing one (JSON writes
    those as ``null``), so an answer or text holding it is an error rather than "no gold"."""

    def __repr__(self) -> str:
        return "NaN" if self != self else ("Infinity" if self > 0 else "-Infinity")


def read_text(path: Path) -> str:
    """The file's text, or a clear error when it is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(repr(str(path)), "encoding", f"byte {e.start} is not UTF-8 text ({e.reason})",
                        "save the file as UTF-8") from None


def loads_json(text: str) -> Any:
    """``json.loads``, with nesting too deep for Python's reader raised as a ``ValueError`` (never a
    RecursionError that would take the caller's stack with it)."""
    try:
        return json.loads(text, parse_constant=JSONConstant)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def jsonl_lines(text: str, name: str) -> list[tuple[int, Any]]:
    """(line number, JSON value) for every non-blank line; ``name`` is how errors call the file."""
    records = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((n, loads_json(line)))
        except json.JSONDecodeError as e:
            raise ItemError(f"{name}:{n}", "line", f"not valid JSON ({e.msg})",
                            "write one JSON object per line") from None
        except ValueError as e:
            raise ItemError(f"{name}:{n}", "line", str(e), FLAT) from None
    return records


def jsonl_records(path: Path) -> list[tuple[int, Any]]:
    """(line number, JSON value) for every non-blank line of the file."""
    return jsonl_lines(read_text(path), path.name)


def read_records(path: Path) -> list[Any]:
    """The rows of an items file, chosen by its suffix (``FILE_TYPES``)."""
    return parse_records(path, path.suffix.lower(), where=repr(str(path)), name=path.name)


def parse_records(source: Path | bytes, suffix: str, *, where: str, name: str) -> list[Any]:
    """The rows of a file (a path, or its bytes: an upload), read as ``suffix`` says; ``where`` (quoted) and
    ``name`` (short) are how errors name the file."""
    import pandas as pd  # noqa: PLC0415 - CSV and parquet only

    data = source if isinstance(source, bytes) else None
    text = lambda: decode(data, where) if data is not None else read_text(source)  # noqa: E731
    table = io.BytesIO(data) if data is not None else source  # pandas reads a path without copying it first
    if suffix in (".jsonl", ".ndjson"):
        return [value for _, value in jsonl_lines(text(), name)]
    if suffix == ".json":
        try:
            value = loads_json(text())
        except json.JSONDecodeError as e:
            raise DataError(where, "json", f"not valid JSON ({e.msg}, line {e.lineno})",
                            'write a JSON list of items, or {"items": [...]}') from None
        except ValueError as e:
            raise DataError(where, "json", str(e), FLAT) from None
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            return value["items"]
        if not isinstance(value, list):
            raise DataError(where, "json", f"holds a {type(value).__name__}, not a list of items",
                            'write a JSON list of items, or {"items": [...]}')
        return value
    if suffix == ".csv":
        text()  # the encoding error first, in our words
        try:
            return pd.read_csv(table, dtype=str, keep_default_na=False).to_dict("records")
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise DataError(where, "csv", f"not a valid CSV table ({str(e).strip().splitlines()[-1]})",
                            "write one header row, then one row per item; quote fields with commas") from None
    if suffix == ".parquet":
        try:
            return pd.read_parquet(table).to_dict("records")
        except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a broken file
            raise DataError(where, "parquet", f"not a readable parquet file ({type(e).__name__}: {e})",
                            "write it with pandas' to_parquet, or use JSONL or CSV") from None
    raise DataError(where, "source", f"unknown items file type {suffix!r}",
                    f"use one of {', '.join(FILE_TYPES)}, or a dataset folder")
