"""Commands run on several models (``--model`` repeated): each model scores the same items in turn, the
rows are written with a ``model`` column, and the summary JSON holds ``by_model`` (each model's block,
exactly the single-model command's summary) and ``compare`` (paired differences with intervals,
:mod:`explorer.metrics.compare`).

With ``--ray`` each model gets an actor pool of its own (``--actors`` actors, ``--gpus-per-actor`` GPUs
each), one model after the other, so a cluster holds one model's pool at a time; its rows go to a run
folder of its own inside the command's::

    RUN/models.json            the models in order, their folders, the command (for `lm-explorer summarize`)
    RUN/models/<model>/        an ordinary run folder: the single-model --ray command's, resumable alone

A run started again into ``RUN`` computes only what each model's folder lacks.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.cli.common import load_model, model_options, write_json
from explorer.errors import ExplorerError

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

MODELS_FILE = "models.json"
MODELS_FORMAT = "lm-explorer-models/1"


def several(args: argparse.Namespace) -> bool:
    """Whether the command was given more than one ``--model``."""
    return len(getattr(args, "models", None) or []) > 1


def each_model(args: argparse.Namespace, compute: Callable[[LoadedModel], Any], *,
               on_ray: Callable[[argparse.Namespace, Path], Any] | None = None) -> dict[str, Any]:
    """``compute(model)`` for every ``--model``, keyed by the loaded model's name; models are loaded one at a
    time and let go before the next (memory holds one). With ``--ray``, ``on_ray(model_args, folder)`` instead:
    the command's arguments for that one model and its run folder (see the module docstring), keyed by the
    name as given. A clear error for a model given twice."""
    if getattr(args, "ray", None):
        if on_ray is None:
            raise ExplorerError(f"several --model with --ray is not supported by {args.command}. Fix: run one --ray "
                                "command per model, or drop --ray")
        return {name: on_ray(model_args(args, name), folder) for name, folder in model_folders(args).items()}
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


def model_args(args: argparse.Namespace, name: str) -> argparse.Namespace:
    """The command's arguments for ``name`` alone (what its manifest records: ``summarize`` of that model's
    folder gives the single-model summary)."""
    return argparse.Namespace(**{**vars(args), "model": name, "models": [name]})


def slug(name: str) -> str:
    """A model's folder name: ``HuggingFaceTB/SmolLM2-135M`` -> ``HuggingFaceTB-SmolLM2-135M``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "model"


def model_folders(args: argparse.Namespace) -> dict[str, Path]:
    """{model name as given: its run folder} under the command's run folder, recorded in ``models.json``
    (written before any model runs, so a run that stops halfway says what it was)."""
    from explorer.cli.scale import command_record, run_folder  # noqa: PLC0415
    from explorer.distributed.folder import MANIFEST  # noqa: PLC0415

    root = run_folder(args.out)[0]
    folders: dict[str, Path] = {}
    taken: dict[str, str] = {}
    for name in args.models:
        if name in folders:
            raise ExplorerError(f"--model {name!r} is given twice: each model once. Fix: drop the repeated --model")
        folder = slug(name)
        if folder.lower() in taken:
            raise ExplorerError(f"--model {name!r} and --model {taken[folder.lower()]!r} would share the run folder "
                                f"{root / 'models' / folder}. Fix: name one of them another way (a folder's full "
                                "path, say)")
        taken[folder.lower()] = name
        folders[name] = root / "models" / folder
    if (root / MANIFEST).is_file():
        raise ExplorerError(f"{root} holds a run of one model; several models need a folder of their own. Fix: give "
                            "another --out")
    record = {"format": MODELS_FORMAT, "models": [{"name": n, "folder": str(f.relative_to(root))}
                                                  for n, f in folders.items()], "command": command_record(args)}
    root.mkdir(parents=True, exist_ok=True)
    write_json(record, root / MODELS_FILE)
    return folders


def read_models(root: str | Path) -> dict[str, Any] | None:
    """``RUN/models.json`` of a several-model --ray run (None where there is none); a clear error if damaged."""
    path = Path(root) / MODELS_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExplorerError(f"{path} cannot be read ({e}). Fix: run the same command again into {root}; it rewrites "
                            "the file and computes only what is missing") from None
    if not isinstance(record, dict) or record.get("format") != MODELS_FORMAT or not record.get("models"):
        raise ExplorerError(f"{path} is not a models file of this lm-explorer (format {MODELS_FORMAT}). Fix: run the "
                            f"same command again into {root}")
    return record


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
