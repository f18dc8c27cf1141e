"""The probe views the dashboard offers, in one place: how to build each, and what it exports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from explorer.items import Item
from explorer.models.handle import LoadedModel
from explorer.probes.counterfactual import capital_counterfactuals, known_facts
from widgets._state import SharedState


@dataclass(frozen=True)
class View:
    """A dashboard tab: ``build`` makes the probe widget (it may do model work: it runs off the
    message loop); ``data`` and ``figure`` give what the export buttons save; ``code`` is a
    snippet that reproduces the view with the library (``{model}`` and ``{data}`` filled in)."""

    key: str
    title: str
    build: Callable[[LoadedModel, Sequence[Item], SharedState], Any]
    data: Callable[[Any], pd.DataFrame]
    figure: Callable[[Any], go.FigureWidget]
    code: str


def _attentiveness(model: LoadedModel, items: Sequence[Item], state: SharedState) -> Any:
    from widgets.attentiveness import AttentivenessWidget  # noqa: PLC0415

    return AttentivenessWidget(model, items, state=state, max_shots=2, layer_items=8)


def _permutation(model: LoadedModel, items: Sequence[Item], state: SharedState) -> Any:
    from widgets.permutation import PermutationWidget  # noqa: PLC0415

    return PermutationWidget(model, items, state=state, n_boot=100)


def _heads(model: LoadedModel, items: Sequence[Item], state: SharedState) -> Any:
    from widgets.heads import HeadsWidget  # noqa: PLC0415

    records = known_facts(model, capital_counterfactuals(24))[:12]
    if not records:
        raise ValueError(f"{model.name} knows none of the built-in capitals without context, so the "
                         "counterfactual prompts would test nothing; try a larger model")
    return HeadsWidget(model, records, state=state)


def _calibration(model: LoadedModel, items: Sequence[Item], state: SharedState) -> Any:
    from widgets.calibration import CalibrationWidget  # noqa: PLC0415

    return CalibrationWidget(model, items, state=state)


def _chain(model: LoadedModel, items: Sequence[Item], state: SharedState) -> Any:
    from widgets.chain import ChainWidget  # noqa: PLC0415

    return ChainWidget(model, items, state=state)


_LOAD = "import explorer\nmodel = explorer.load_model({model})\nitems = {data}\n"

VIEWS: list[View] = [
    View("attentiveness", "Attentiveness", _attentiveness, lambda w: w.rows, lambda w: w.scatter_fig,
         _LOAD + "from explorer.probes import attentiveness\nfrom explorer.metrics import summarize_attentiveness\n"
         "rows = attentiveness(model, items, ['letters', 'string', 'cloze'], shots=[0, 1])\n"
         "summary = summarize_attentiveness(rows)\n"),
    View("permutation", "Order bias", _permutation, lambda w: w.frame, lambda w: w.position_fig,
         _LOAD + "from explorer.probes import permutation_probe\nfrom explorer.metrics import summarize_permutation\n"
         "rows = permutation_probe(model, items, orders='cyclic')\nsummary = summarize_permutation(rows)\n"),
    View("heads", "Heads", _heads, lambda w: w.attribution, lambda w: w.heat_fig,
         "import explorer\nfrom explorer.probes import capital_counterfactuals, head_attribution, known_facts, "
         "mean_attribution\nmodel = explorer.load_model({model})\n"
         "records = known_facts(model, capital_counterfactuals(24))[:12]\n"
         "attribution = head_attribution(model, records)\nper_head = mean_attribution(attribution)\n"),
    View("calibration", "Calibration", _calibration, lambda w: w.frame, lambda w: w.fig,
         _LOAD + "from explorer.probes import item_confidence, score_choices, summarize\n"
         "frame = score_choices(model, items, 'letters')\nsummary = summarize(item_confidence(frame), n_bins=10)\n"),
    View("chain", "Chain", _chain, lambda w: w.frame, lambda w: w.scatter_fig,
         _LOAD + "from explorer.probes import chain_conditions, chain_probe\n"
         "from explorer.metrics import summarize_chain\n"
         "rows = chain_probe(model, items, chain_conditions(formats=['letters', 'cloze']))\n"
         "summary = summarize_chain(rows)\n"),
]


def view(key: str) -> View:
    """The view registered under ``key``."""
    for v in VIEWS:
        if v.key == key:
            return v
    raise KeyError(f"no view {key!r}; views: {[v.key for v in VIEWS]}")
