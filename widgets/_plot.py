"""Updating a displayed figure in place, and one engine run per model at a time."""

from __future__ import annotations

import threading

import plotly.graph_objects as go

from explorer.models.handle import LoadedModel

_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def refresh(fig: go.FigureWidget, new: go.Figure) -> bool:
    """Copy ``new``'s traces and layout into the displayed ``fig`` under one batch update (no new
    widget, no flicker). Traces are replaced only when their number changed; returns whether they were."""
    replaced = len(fig.data) != len(new.data)
    if replaced:
        fig.data = ()
        fig.add_traces(list(new.data))
    with fig.batch_update():
        for trace, src in zip(fig.data, new.data):
            trace.update(src.to_plotly_json(), overwrite=True)
        fig.layout.update(new.layout.to_plotly_json(), overwrite=True)
    return replaced


def model_lock(model: LoadedModel) -> threading.Lock:
    """The lock every view takes around its engine work on ``model``: registering intervention
    hooks while another thread runs the same modules is not safe, so one run at a time."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(id(model), threading.Lock())
