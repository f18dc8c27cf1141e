"""The probe views the dashboard offers, in one place: how to build each, and what it exports.

A view is built empty (on the kernel's main thread, before any model is loaded, so the page shows its
frame at once) and then handed the model and items with ``configure(model, items, setup)``; its
``code()`` reproduces what it shows.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from widgets._state import SharedState


@dataclass(frozen=True)
class View:
    """A dashboard tab: ``build`` makes the empty probe widget; ``data`` and ``figure`` give what the
    export buttons save."""

    key: str
    title: str
    build: Callable[[SharedState], Any]
    data: Callable[[Any], pd.DataFrame]
    figure: Callable[[Any], go.FigureWidget]

    def prepare(self) -> None:
        """Import the view's module (plotly's widget and the metrics it draws), creating no widget: safe off
        the kernel's main thread, so the widgets can then be built on it quickly. ``go.FigureWidget`` is one of
        plotly's lazy names: its first use imports plotly's renderers, nbformat and jsonschema (1.6 s, most of it
        compiling a URI grammar), so it is touched here rather than by the first figure built."""
        importlib.import_module(f"widgets.{self.key}")
        _ = go.FigureWidget


def _attentiveness(state: SharedState) -> Any:
    from widgets.attentiveness import AttentivenessWidget  # noqa: PLC0415

    return AttentivenessWidget(state=state, max_shots=2, layer_items=8)


def _permutation(state: SharedState) -> Any:
    from widgets.permutation import PermutationWidget  # noqa: PLC0415

    return PermutationWidget(state=state, n_boot=100)


def _heads(state: SharedState) -> Any:
    from widgets.heads import HeadsWidget  # noqa: PLC0415

    return HeadsWidget(state=state, prompts="items")


def _calibration(state: SharedState) -> Any:
    from widgets.calibration import CalibrationWidget  # noqa: PLC0415

    return CalibrationWidget(state=state)


def _chain(state: SharedState) -> Any:
    from widgets.chain import ChainWidget  # noqa: PLC0415

    return ChainWidget(state=state)


VIEWS: list[View] = [
    View("attentiveness", "Attentiveness", _attentiveness, lambda w: w.rows, lambda w: w.bars_fig),
    View("permutation", "Order bias", _permutation, lambda w: w.frame, lambda w: w.position_fig),
    View("heads", "Heads", _heads, lambda w: w.attribution, lambda w: w.heat_fig),
    View("calibration", "Calibration", _calibration, lambda w: w.frame, lambda w: w.fig),
    View("chain", "Chain", _chain, lambda w: w.frame, lambda w: w.scatter_fig),
]


def view(key: str) -> View:
    """The view registered under ``key``."""
    for v in VIEWS:
        if v.key == key:
            return v
    raise KeyError(f"no view {key!r}; views: {[v.key for v in VIEWS]}")
