"""Units of work as JSON: items and counterfactual records travel to the actors and into manifests.

The unit of a distributed run is one item (or one counterfactual record): every order, format,
demonstration and scaling factor of it is computed in one actor call, so its prompts share one
prefix tree. Units are plain JSON on the way, so any Ray node reads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from explorer.items.item import Item
from explorer.probes.counterfactual import Counterfactual

Kind = Literal["item", "record"]
Unit = Item | Counterfactual


def _plain(value: Any) -> Any:
    """JSON for metadata values that numpy or pandas left behind (scalars, arrays); text otherwise."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def encode(unit: Unit) -> dict[str, Any]:
    """A JSON-ready dict that :func:`decode` turns back into the same unit."""
    if isinstance(unit, Item):
        return {"id": unit.id, "question": unit.question, "choices": list(unit.choices), "answer": unit.answer,
                "metadata": dict(unit.metadata), "origin": list(unit.origin)}
    if isinstance(unit, Counterfactual):
        return {"id": unit.id, "prompt": unit.prompt, "target": unit.target, "foil": unit.foil,
                "fact_prompt": unit.fact_prompt, "metadata": dict(unit.metadata)}
    raise TypeError(f"a distributed run takes Items or Counterfactual records, not {type(unit).__name__}")


def decode(kind: Kind, data: dict[str, Any]) -> Unit:
    """The unit ``encode`` described."""
    if kind == "item":
        return Item(id=data["id"], question=data["question"], choices=tuple(data["choices"]), answer=data["answer"],
                    metadata=data.get("metadata") or {}, origin=tuple(data.get("origin") or ()))
    return Counterfactual(data["id"], data["prompt"], data["target"], data["foil"], data.get("fact_prompt", ""),
                          data.get("metadata") or {})


def dumps(unit: Unit) -> str:
    return json.dumps(encode(unit), ensure_ascii=False, sort_keys=True, default=_plain)


def loads(kind: Kind, text: str) -> Unit:
    return decode(kind, json.loads(text))


def kind_of(units: Sequence[Unit]) -> Kind:
    """``item`` or ``record`` (all units of one run are of one kind)."""
    kinds = {"item" if isinstance(u, Item) else "record" if isinstance(u, Counterfactual) else type(u).__name__
             for u in units}
    if len(kinds) != 1 or not kinds <= {"item", "record"}:
        raise TypeError(f"a distributed run takes a list of Items or of Counterfactual records, got {sorted(kinds)}")
    return kinds.pop()  # type: ignore[return-value]


def digest(units: Sequence[Unit]) -> str:
    """A digest of the units in order: a resumed run must score exactly the same data."""
    h = hashlib.sha256()
    for u in units:
        h.update(dumps(u).encode())
        h.update(b"\n")
    return h.hexdigest()
