"""What a distributed run computes for a batch of units: the project's own probe functions, unchanged.

A :class:`Task` names the unit kind, the column that identifies a unit in the rows, the columns
that identify a row, how many rows a unit gives, how to check and normalise the options on the
driver (before any model is loaded), and how to compute the rows of some units inside an actor.
Options are plain JSON (they are written to the run's manifest); ``compute`` decodes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from explorer import columns as C
from explorer.distributed.units import Kind, Unit, decode, encode
from explorer.items.item import Item
from explorer.models.handle import LoadedModel
from explorer.probes.attentiveness import PREMISE, attentiveness
from explorer.probes.choices import score_choices
from explorer.probes.counterfactual import known_facts
from explorer.probes.heads import head_attribution
from explorer.items.orders import check_labels, resolve_orders
from explorer.probes.permutation import permutation_format, permutation_probe
from explorer.probes.sweep import sweep_heads
from explorer.prompts.format import PromptFormat, get_format

Options = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One probe as a distributed computation over units."""

    name: str
    kind: Kind
    key: str  # the column naming a row's unit
    row_key: tuple[str, ...]  # the columns naming a row (unique in a run)
    prepare: Callable[[Sequence[Unit], Options], Options]  # driver: check, fill defaults, return JSON options
    compute: Callable[..., pd.DataFrame]  # actor: (model, units, options, *, batch_size, cache) -> rows
    rows_per_unit: Callable[[Unit, Options], int | None]  # None: known once the first unit is scored


# --- options shared by the item probes ---------------------------------------------------------------
def _fmt_json(fmt: str | PromptFormat) -> str | dict:
    return fmt if isinstance(fmt, str) else {"prompt_format": dataclasses.asdict(fmt)}


def _fmt(value: str | dict) -> str | PromptFormat:
    return value if isinstance(value, str) else PromptFormat(**value["prompt_format"])


def _pool_json(pool: Sequence[Item | dict], items: Sequence[Unit]) -> list[dict]:
    """The demonstration pool without the scored items, as JSON. Each actor sees only its own items,
    so removing all of them here keeps every draw the one an in-process run makes."""
    scored = {u.id for u in items}
    pool = [p if isinstance(p, Item) else decode("item", p) for p in pool]
    return [encode(p) for p in pool if p.id not in scored]


def _pool(options: Options) -> list[Item]:
    return [decode("item", p) for p in options.get("pool", [])]


def _with_defaults(options: Options, defaults: Options) -> Options:
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; this probe takes {sorted(defaults)}")
    return {**defaults, **options}


# --- permutation ---------------------------------------------------------------------------------------
def _prepare_permutation(items: Sequence[Item], options: Options) -> Options:
    o = _with_defaults(options, {"orders": "cyclic", "fmt": "letters", "labels": None, "template": None,
                                 "shots": 0, "pool": [], "seed": 0})
    check_labels(items, permutation_format(o["fmt"], labels=o["labels"], template=o["template"]))
    for k in sorted({i.k for i in items}):
        resolve_orders(o["orders"], k, seed=o["seed"])  # a bad order spec fails here, not in an actor
    orders = o["orders"] if isinstance(o["orders"], (str, int)) else [list(map(int, x)) for x in o["orders"]]
    labels = o["labels"] if o["labels"] is None or isinstance(o["labels"], str) else list(o["labels"])
    return {**o, "orders": orders, "labels": labels, "fmt": _fmt_json(o["fmt"]), "pool": _pool_json(o["pool"], items)}


def _permutation(model: LoadedModel, items: list[Item], o: Options, **engine) -> pd.DataFrame:
    return permutation_probe(model, items, orders=o["orders"], fmt=_fmt(o["fmt"]), labels=o["labels"],
                             template=o["template"], shots=o["shots"], pool=_pool(o), seed=o["seed"], **engine)


def _permutation_rows(item: Item, o: Options) -> int:
    return len(resolve_orders(o["orders"], item.k, seed=o["seed"])) * item.k


# --- attentiveness -------------------------------------------------------------------------------------
def _prepare_attentiveness(items: Sequence[Item], options: Options) -> Options:
    o = _with_defaults(options, {"formats": ["letters", "string", "cloze"], "shots": [0], "seeds": [0], "pool": [],
                                 "premise": PREMISE, "n_invalid": 5})
    for fmt in o["formats"]:
        for item in items:
            get_format(fmt).check(item)
    return {**o, "formats": [_fmt_json(f) for f in o["formats"]], "shots": [int(n) for n in o["shots"]],
            "seeds": [int(s) for s in o["seeds"]], "pool": _pool_json(o["pool"], items)}


def _attentiveness(model: LoadedModel, items: list[Item], o: Options, *, batch_size: int, cache) -> pd.DataFrame:
    return attentiveness(model, items, [_fmt(f) for f in o["formats"]], shots=o["shots"], seeds=o["seeds"],
                         pool=_pool(o), premise=o["premise"], n_invalid=o["n_invalid"], batch_size=batch_size,
                         cache=cache)


def _attentiveness_rows(item: Item, o: Options) -> int:
    return len(o["formats"]) * sum(len(o["seeds"]) if n else 1 for n in o["shots"])


# --- choices (the calibration probe's scores) ----------------------------------------------------------
def _prepare_choices(items: Sequence[Item], options: Options) -> Options:
    o = _with_defaults(options, {"fmt": "letters", "shots": 0, "pool": [], "seed": 0})
    for item in items:
        get_format(o["fmt"]).check(item)
    return {**o, "fmt": _fmt_json(o["fmt"]), "pool": _pool_json(o["pool"], items)}


def _choices(model: LoadedModel, items: list[Item], o: Options, **engine) -> pd.DataFrame:
    return score_choices(model, items, _fmt(o["fmt"]), shots=o["shots"], pool=_pool(o), seed=o["seed"], **engine)


# --- head probe: attribution, scaling sweep, fact check ------------------------------------------------
def _prepare_heads(records, options: Options) -> Options:
    return _with_defaults(options, {})


def _heads(model: LoadedModel, records, o: Options, *, batch_size: int, cache) -> pd.DataFrame:
    return head_attribution(model, records, batch_size=batch_size)


def _prepare_sweep(records, options: Options) -> Options:
    o = _with_defaults(options, {"head_sets": [], "factors": []})
    if not o["head_sets"] or not o["factors"]:
        raise ValueError("a sweep needs head_sets (lists of [layer, head]) and factors")
    return {"head_sets": [[[int(l), int(h)] for l, h in s] for s in o["head_sets"]],
            "factors": [float(a) for a in o["factors"]]}


def _sweep(model: LoadedModel, records, o: Options, *, batch_size: int, cache) -> pd.DataFrame:
    frames = [sweep_heads(model, records, [tuple(h) for h in heads], o["factors"], batch_size=batch_size)
              for heads in o["head_sets"]]
    return pd.concat(frames, ignore_index=True)


def _prepare_known(records, options: Options) -> Options:
    o = _with_defaults(options, {"rule": "candidates", "answers": []})
    missing = [r.id for r in records if not r.fact_prompt]
    if missing:
        raise ValueError(f"record {missing[0]!r} has no fact_prompt, so the fact cannot be checked")
    answers = sorted(set(o["answers"]) | {a for r in records for a in (r.target, r.foil)})
    return {"rule": o["rule"], "answers": answers}


def _known(model: LoadedModel, records, o: Options, *, batch_size: int, cache) -> pd.DataFrame:
    kept = {r.id for r in known_facts(model, records, rule=o["rule"], answers=o["answers"], batch_size=batch_size)}
    return pd.DataFrame({C.PROMPT_ID: [r.id for r in records], C.KNOWN: [r.id in kept for r in records]})


TASKS: dict[str, Task] = {t.name: t for t in [
    Task("permutation", "item", C.ITEM_ID, (C.ITEM_ID, C.ORDER_ID, C.POSITION), _prepare_permutation, _permutation,
         _permutation_rows),
    Task("attentiveness", "item", C.ITEM_ID, (C.ITEM_ID, C.FORMAT, C.SHOTS, C.SEED), _prepare_attentiveness,
         _attentiveness, _attentiveness_rows),
    Task("calibration", "item", C.ITEM_ID, (C.ITEM_ID, C.POSITION), _prepare_choices, _choices,
         lambda item, o: item.k),
    Task("heads", "record", C.PROMPT_ID, (C.PROMPT_ID, C.LAYER, C.HEAD), _prepare_heads, _heads,
         lambda record, o: None),
    Task("sweep", "record", C.PROMPT_ID, (C.PROMPT_ID, C.HEADS, C.FACTOR), _prepare_sweep, _sweep,
         lambda record, o: len(o["head_sets"]) * len(o["factors"])),
    Task("known", "record", C.PROMPT_ID, (C.PROMPT_ID,), _prepare_known, _known, lambda record, o: 1),
]}


def task(name: str) -> Task:
    """The task registered under ``name``, or a clear error listing them."""
    if name not in TASKS:
        raise ValueError(f"no distributed probe {name!r}; choose one of {sorted(TASKS)}")
    return TASKS[name]
