"""Arguments and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError
from explorer.models.precision import DTYPE_NAMES


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


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """Big models on one box (--dtype, --device-map, --max-memory) and runs over a Ray cluster
    (--ray, --actors, --gpus-per-actor, --cpus-per-actor)."""
    g = parser.add_argument_group("big models and clusters")
    g.add_argument("--dtype", default=None, choices=sorted(DTYPE_NAMES), help="float32 (default), bfloat16 or "
                   "float16; bfloat16/float16 on the CPU report their largest probability difference from float32 once")
    g.add_argument("--device-map", default=None, help="spread the model over devices (accelerate): 'auto' (GPUs, "
                   "then CPU, then disk) or a JSON object mapping modules to a device, 'cpu' or 'disk'")
    g.add_argument("--max-memory", default=None, help="with --device-map: limits per device, e.g. 0=70GiB,cpu=200GiB")
    g.add_argument("--ray", default=None, metavar="ADDRESS|local", help="run over Ray (needs lm-explorer[scale]): "
                   "'local' starts it on this machine, else a cluster address (ray://host:10001, auto). --out may "
                   "then be a folder: a resumable parquet dataset (a file --out keeps it in FILE.run/ beside it)")
    g.add_argument("--actors", type=int, default=None, help="with --ray: actors, each holding one model (default 2)")
    g.add_argument("--gpus-per-actor", type=float, default=None, help="with --ray: GPUs per actor (default 0)")
    g.add_argument("--cpus-per-actor", type=float, default=None,
                   help="with --ray: CPUs per actor (default: this machine's cores shared out; 1 on a cluster)")


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_model``'s placement keywords from the arguments of :func:`add_scale_arguments`."""
    if not getattr(args, "ray", None):
        given = [f for f in ("actors", "gpus_per_actor", "cpus_per_actor") if getattr(args, f, None) is not None]
        if given:
            raise ExplorerError(f"--{given[0].replace('_', '-')} only applies with --ray. Fix: add --ray local "
                                "(or a cluster address), or drop it")
    device_map = getattr(args, "device_map", None)
    if device_map and device_map.lstrip().startswith("{"):
        try:
            device_map = json.loads(device_map)
        except json.JSONDecodeError as e:
            raise ExplorerError(f"--device-map {args.device_map!r} is not valid JSON ({e.msg}). Fix: write e.g. "
                                '\'{"model.embed_tokens": 0, "model.layers": "cpu", "lm_head": 0}\' or auto') from None
    return {"dtype": getattr(args, "dtype", None), "device_map": device_map,
            "max_memory": _memory(getattr(args, "max_memory", None))}


def _memory(text: str | None) -> dict[int | str, str] | None:
    """``0=70GiB,cpu=200GiB`` -> {0: "70GiB", "cpu": "200GiB"}."""
    if not text:
        return None
    out: dict[int | str, str] = {}
    for part in text.split(","):
        device, _, amount = part.partition("=")
        if not amount:
            raise ExplorerError(f"--max-memory {text!r}: write device=amount pairs, e.g. 0=70GiB,cpu=200GiB")
        out[int(device) if device.strip().isdigit() else device.strip()] = amount.strip()
    return out
