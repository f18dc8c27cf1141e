"""Figures of runs made elsewhere, several runs (models) side by side: pure functions of the summaries the
engine computed (:func:`explorer.runs.summarize_run` blocks), nothing computed here.

Each returns the same traces for the same number of runs, so a widget updates a FigureWidget in place.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE = ("#457b9d", "#e76f51", "#2a9d8f", "#e9c46a", "#8d99ae", "#6d597a")


def positions_figure(positions: Mapping[str, Mapping | None], *, title: str = "") -> go.Figure:
    """Left: the share of predictions at each label position; right: recall (accuracy) by the gold answer's
    position; one bar per run at each position, and uniform 1/k. ``positions`` maps a run's name to one k's
    position summary (``summary["positions"][k]``), or None where the run has no such rows."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("predictions at each position", "recall by gold position"),
                        horizontal_spacing=0.1)
    labels: list[str] = []
    for n, (name, pos) in enumerate(positions.items()):
        pos = pos or {}
        labels = list(pos.get("labels") or labels)
        color = PALETTE[n % len(PALETTE)]
        share, recall = pos.get("position_share") or [], pos.get("recall_by_position") or []
        rstd = pos.get("rstd")
        fig.add_bar(x=labels[: len(share)], y=share, name=name, marker_color=color, legendgroup=name, row=1, col=1,
                    hovertemplate=f"{name}<br>%{{x}}: %{{y:.3f}} of predictions<extra></extra>")
        fig.add_bar(x=labels[: len(recall)], y=recall, name=name, marker_color=color, legendgroup=name,
                    showlegend=False, row=1, col=2,
                    hovertemplate=f"{name}<br>gold at %{{x}}: accuracy %{{y:.3f}}<br>RStd "
                                  f"{'-' if rstd is None else f'{rstd:.1f}'}<extra></extra>")
    uniform = [1 / len(labels)] * len(labels) if labels else []
    fig.add_scatter(x=labels, y=uniform, mode="lines", name="uniform 1/k", line=dict(color="black", dash="dash"),
                    row=1, col=1)
    fig.update_layout(title=title or "Where the answers go", barmode="group", height=340,
                      margin=dict(t=70, b=40, l=50, r=10), legend=dict(orientation="h", y=-0.2))
    fig.update_yaxes(range=[0, 1])
    return fig
