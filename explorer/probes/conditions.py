"""The conditions a chain compares (model, format, demonstrations, head scaling), named for the frame; plain data,
no model (a dashboard's page builds them without torch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

from explorer.interventions.describe import Head


@dataclass(frozen=True)
class Condition:
    """One way of asking: ``model`` (a key of the models given to :func:`chain_probe`; "" for the only
    one), ``fmt`` (a named format), ``shots`` (demonstrations from the pool) and ``heads``
    ({(layer, head): factor}, scaled with :func:`explorer.interventions.scale_heads`)."""

    name: str
    model: str = ""
    fmt: str = "letters"
    shots: int = 0
    heads: Mapping[Head, float] = field(default_factory=dict)


def chain_conditions(*, models: Sequence[str] = ("",), formats: Sequence[str] = ("letters",),
                     shots: Sequence[int] = (0,),
                     interventions: Mapping[str, Mapping[Head, float]] | None = None) -> list[Condition]:
    """Every combination of models x formats x shots x interventions ({label: heads}; default: none),
    named by the parts that vary ("smollm2-135m · 1-shot"); a single condition by its model (when
    named), format, shots and intervention (when there is one).

    >>> [c.name for c in chain_conditions(shots=[0, 1])]
    ['0-shot', '1-shot']
    >>> [c.name for c in chain_conditions()]
    ['letters · 0-shot']
    >>> scaled = {"none": {}, "L3H1x0": {(3, 1): 0.0}}
    >>> [c.name for c in chain_conditions(formats=["letters", "cloze"], interventions=scaled)]
    ['letters · none', 'letters · L3H1x0', 'cloze · none', 'cloze · L3H1x0']
    """
    interventions = dict(interventions) if interventions else {"no intervention": {}}
    grid = list(product(models, formats, shots, interventions))
    single = len(grid) == 1
    varying = [len(set(parts)) > 1 for parts in zip(*grid)] if not single else [True] * 4
    out = []
    for model, fmt, k, label in grid:
        parts = [model, fmt, f"{k}-shot", label if interventions[label] or not single else ""]
        name = " · ".join(p for p, v in zip(parts, varying) if v and p)
        out.append(Condition(name=name, model=model, fmt=fmt, shots=int(k), heads=dict(interventions[label])))
    return out
