"""Reading item files (JSONL, JSON, CSV, parquet) into rows, with an error for every way a file can be
broken that names the file, the line or row, and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from explorer.errors import DataError, ItemError

FILE_TYPES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")


class JSONConstant(float):
    """A literal ``NaN`` or ``Infinity`` in a JSON file: a value someone wrote, not a missing one (JSON writes
    those as ``null``), so an answer or text holding it is an error rather than "no gold"."""

    def __repr__(self) -> str:
        return "NaN" if self != self else ("Infinity" if self > 0 else "-Infinity")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=JSONConstant)


def read_text(path: Path) -> str:
    """The file's text, or a clear error when it is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(repr(str(path)), "encoding", f"byte {e.start} is not UTF-8 text ({e.reason})",
                        "save the file as UTF-8") from None


def jsonl_records(path: Path) -> list[tuple[int, Any]]:
    """(line number, JSON value) for every non-blank line."""
    records = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((n, _loads(line)))
        except json.JSONDecodeError as e:
            raise ItemError(f"{path.name}:{n}", "line", f"not valid JSON ({e.msg})",
                            "write one JSON object per line") from None
    return records


def read_records(path: Path) -> list[Any]:
    """The rows of an items file, chosen by its suffix (``FILE_TYPES``)."""
    import pandas as pd  # noqa: PLC0415 - CSV and parquet only

    suffix = path.suffix.lower()
    where = repr(str(path))
    if suffix in (".jsonl", ".ndjson"):
        return [value for _, value in jsonl_records(path)]
    if suffix == ".json":
        try:
            data = _loads(read_text(path))
        except json.JSONDecodeError as e:
            raise DataError(where, "json", f"not valid JSON ({e.msg}, line {e.lineno})",
                            'write a JSON list of items, or {"items": [...]}') from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            return data["items"]
        if not isinstance(data, list):
            raise DataError(where, "json", f"holds a {type(data).__name__}, not a list of items",
                            'write a JSON list of items, or {"items": [...]}')
        return data
    if suffix == ".csv":
        read_text(path)  # the encoding error first, in our words
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise DataError(where, "csv", f"not a valid CSV table ({str(e).strip().splitlines()[-1]})",
                            "write one header row, then one row per item; quote fields with commas") from None
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path).to_dict("records")
        except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a broken file
            raise DataError(where, "parquet", f"not a readable parquet file ({type(e).__name__}: {e})",
                            "write it with pandas' to_parquet, or use JSONL or CSV") from None
    raise DataError(where, "source", f"unknown items file type {suffix!r}",
                    f"use one of {', '.join(FILE_TYPES)}, or a dataset folder")
