"""Updating a displayed figure in place."""

from __future__ import annotations

from copy import deepcopy

import plotly.graph_objects as go


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
    # The edits above reach pages already connected as messages; a page that connects later (Voila's
    # pre-heated kernel) reads the widget's state, which plotly sets only at creation and display. Keep it
    # current, as plotly's own _repr_mimebundle_ does (its front end ignores changes to these two traits).
    fig._widget_data = deepcopy(fig._data)
    fig._widget_layout = deepcopy(fig._layout_obj._props)
    return replaced
