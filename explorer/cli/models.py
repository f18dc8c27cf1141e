"""Commands run on several models (``--model`` repeated): each model scores the same items in turn, the
rows are written with a ``model`` column, and the summary JSON holds ``by_model`` (each model's block,
exactly the single-model command's summary) and ``compare`` (paired differences with intervals,
:mod:`explorer.metrics.compare`)."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from explorer.cli.common import load_model, model_options, write_json
from explorer.errors import ExplorerError

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel


def several(args: argparse.Namespace) -> bool:
    """Whether the command was given more than one ``--model``."""
    return len(getattr(args, "models", None) or []) > 1


def each_model(args: argparse.Namespace, compute: Callable[[LoadedModel], Any]) -> dict[str, Any]:
    """``compute(model)`` for every ``--model``, keyed by the loaded model's name; models are loaded one at a
    time and let go before the next (memory holds one). A clear error for --ray or a model given twice."""
    if getattr(args, "ray", None):
        raise ExplorerError("several --model with --ray is not supported yet. Fix: run one --ray command per model "
                            "(same --data and options), or drop --ray")
    out: dict[str, Any] = {}
    for name in args.models:
        model = load_model(name, **model_options(args))
        if model.name in out:
            raise ExplorerError(f"--model {name!r} is {model.name!r}, already given: each model once. Fix: drop the "
                                "repeated --model")
        print(f"model {model.name}")
        out[model.name] = compute(model)
        del model
        gc.collect()
    return out


def write_comparison(blocks: Mapping[str, dict], compare: dict, path: str) -> str:
    """``{"models", "by_model", "compare"}`` as the summary JSON at ``path``."""
    write_json({"models": list(blocks), "by_model": dict(blocks), "compare": compare}, path)
    return path


def _fmt(d: dict | None) -> str:
    if d is None or d.get("value") is None:
        return "       -"
    ci = d.get("ci95")
    interval = f"  [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
    return f"{d['value']:+8.3f}{interval}"


def differences_text(pair: dict, metrics: list[str], *, title: str | None = None) -> str:
    """One pair's differences, a line per metric: ``accuracy  +0.031  [-0.010, +0.072]``."""
    head = title or f"{pair['model']} minus {pair['minus']} ({pair.get('n_items', '?')} items, 95% paired interval)"
    return "\n".join([head, *(f"  {name:<20}{_fmt(pair.get(name))}" for name in metrics if name in pair)])
