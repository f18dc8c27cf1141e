"""Arguments and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer import columns as C
from explorer.errors import ExplorerError, SkippedItemsWarning
from explorer.items.records import ANSWER_AS, INVALID
from explorer.models.names import DTYPES

if TYPE_CHECKING:  # parsing arguments (and --help) imports no pandas, torch or transformers
    import pandas as pd

    from explorer.items.item import Item

DATA_HELP = ("items: a .jsonl, .json, .csv or .parquet file (question, choices, answer), a built-in set (capitals, "
             "arithmetic, mmlu), a Hugging Face dataset id (cais/mmlu, allenai/ai2_arc, ...) or a local copy of a "
             "hub dataset repo (a folder)")


def load_model(name: str | None = None, **options: Any):
    """:func:`explorer.models.load_model`, imported when a command runs (``--help`` stays fast)."""
    from explorer.models.load import load_model as load  # noqa: PLC0415

    return load(name, **options)


class _Models(argparse.Action):
    """``--model``: ``args.model`` is the first given (or None), ``args.models`` every one given, in order; a
    command that compares no models refuses a second."""

    def __init__(self, *args: Any, several: bool = False, **kwargs: Any) -> None:
        self.several = several
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        models = [*(getattr(namespace, "models", None) or []), values]
        if len(models) > 1 and not self.several:
            parser.error("--model is given more than once: this command runs one model (permutation, attentiveness, "
                         "calibration and heads compare several)")
        namespace.models, namespace.model = models, models[0]


def add_model_argument(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    """``--model``; with ``several``, repeatable (``--model smollm2 --model gemma-3-270m``) to compare models."""
    again = "; repeat it to compare models on the same items (e.g. --model smollm2 --model gemma-3-270m)" if several else ""
    parser.add_argument("--model", default=None, action=_Models, several=several,
                        help="bundled alias (smollm2-135m, gemma-3-270m), .gguf path, model folder or hub id "
                        f"(default: the bundled SmolLM2-135M-Instruct){again}")
    parser.set_defaults(models=[])


def add_batch_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch-size", type=int, default=32, help="rows per forward pass (default 32)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")


def _fields(text: str) -> dict[str, str | list[str]]:
    """``question=q,choices=a+b+c,answer=gold`` as a fields mapping (``+`` joins one-choice columns)."""
    out: dict[str, str | list[str]] = {}
    for part in (p for p in text.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise argparse.ArgumentTypeError(f"--fields {text!r}: write FIELD=COLUMN pairs, e.g. "
                                             "question=q,choices=opa+opb+opc,answer=cop")
        cols = [c.strip() for c in value.split("+")]
        out[key.strip()] = cols if len(cols) > 1 else cols[0]
    return out


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def add_data_arguments(parser: argparse.ArgumentParser, *, seed_help: str = "", data_help: str = DATA_HELP) -> None:
    """``--data``, ``--config``, ``--split``, ``--revision``, ``--fields``, ``--limit``, ``--seed``, ``--invalid``:
    what every probe command reads its items with (:func:`load_data`). ``seed_help`` says what else
    the command draws with ``--seed``; ``data_help`` what else ``--data`` takes."""
    group = parser.add_argument_group("data")
    group.add_argument("--data", required=True, help=data_help)
    group.add_argument("--config", default=None, help="the dataset's config, e.g. ARC-Challenge or all")
    group.add_argument("--split", default=None, help="the dataset's split (default: test, else its only split)")
    group.add_argument("--revision", default=None, help="a hub dataset's commit, tag or branch, so every run reads "
                       "the same data (default: the newest)")
    group.add_argument("--fields", type=_fields, default=None, help="map item fields to other columns: "
                       "question=COL,choices=COL (or COL+COL+...),answer=COL,id=COL")
    group.add_argument("--limit", type=_positive, default=None,
                       help="keep N items: the first N, or with --seed a seeded sample of N")
    group.add_argument("--seed", type=int, default=None, help=f"seed of the --limit sample{seed_help} (default 0 "
                       "for what the command draws; without it --limit keeps the first N)")
    group.add_argument("--answer-as", choices=ANSWER_AS, default=None, help="read answers written as text that "
                       "could be an index (or letter) and also a choice's text as an index or as text (default: such "
                       "an answer is an error naming both readings)")
    group.add_argument("--invalid", choices=INVALID, default=None,
                       help="items a data set holds but lm-explorer refuses (a repeated choice, a gold out of range): "
                       "skip them with a warning (default for hub datasets and built-in sets) or raise (default for "
                       "your own files)")


def load_data(args: argparse.Namespace) -> list[Item]:
    """The items the data arguments ask for; says what was loaded (and what was skipped) in one line each."""
    from explorer.items.io import load_source  # noqa: PLC0415

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_source(args.data, config=args.config, split=args.split, fields=args.fields, n=args.limit,
                             seed=args.seed, invalid=args.invalid, answer_as=args.answer_as,
                             revision=getattr(args, "revision", None))
    for w in caught:
        if issubclass(w.category, SkippedItemsWarning):
            print(f"lm-explorer {args.command}: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not loaded.items:
        raise ExplorerError(f"no items in {loaded.describe()}. Fix: give a data set with at least one item")
    print(f"data: {loaded.describe()}", flush=True)
    return loaded.items


def seed_of(args: argparse.Namespace) -> int:
    """The seed for what the command draws (orders, PriDe items, folds): --seed, else 0."""
    return 0 if args.seed is None else args.seed


def _names(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def add_by_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", type=_names, default=[], help="metadata columns to group the summary by, "
                        "comma-separated (e.g. subject for MMLU, category for MMLU-Pro)")


def check_by(by: list[str], items: list[Item]) -> None:
    """A clear error, before any scoring, when a --by column is neither item metadata nor a frame column."""
    keys = {k for item in items for k in item.metadata}
    known = keys | {C.META_PREFIX + k for k in keys} | C.DOCUMENTED
    unknown = [c for c in by if c not in known]
    if unknown:
        raise ExplorerError(f"--by {','.join(unknown)}: no such metadata column; the items have "
                            f"{sorted(keys) or 'no metadata'}. Fix: group by one of those (or k)")


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
    g.add_argument("--dtype", default=None, choices=sorted(DTYPES), help="float32 (default), bfloat16 or "
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
