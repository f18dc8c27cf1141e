"""Arguments and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="bundled alias (smollm2-135m, gemma-3-270m), .gguf path, "
                        "model folder or hub id (default: the bundled SmolLM2-135M-Instruct)")


def add_batch_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch-size", type=int, default=32, help="rows per forward pass (default 32)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")


def cache_arg(args: argparse.Namespace):
    """The ``cache=`` value for the engine: None with ``--no-cache``, else the default cache."""
    from explorer.scoring.engine import DEFAULT  # noqa: PLC0415

    return None if getattr(args, "no_cache", False) else DEFAULT


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV, JSONL or parquet, chosen by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix in (".jsonl", ".ndjson"):
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(f"unknown output type {suffix!r} for {path}; use .csv, .jsonl or .parquet")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_json(data: dict, path: str | Path) -> Path:
    """Write a summary as JSON (numpy scalars and arrays converted, NaN as null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
