"""Reliability diagram with bin counts: a pure function of the reliability frame (no computing here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from explorer import columns as C

ALL = "all"


def group_label(value) -> str:
    return ALL if value is None else str(value)


def reliability_figure(rel: pd.DataFrame, *, group: str | None = None, title: str = "",
                       smooth: pd.DataFrame | None = None) -> go.Figure:
    """Top: accuracy against mean confidence per non-empty bin, one curve per group, and the diagonal
    of perfect calibration. Bottom: bin counts. Each point's customdata is (group, bin).
    ``smooth`` (from ``smooth_reliability_frame``) adds, after those traces, each group's smoothed
    curve with its 95% band (three traces per group, no customdata)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", hoverinfo="skip",
                             line=dict(color="#999", dash="dash", width=1)), row=1, col=1)
    groups = [(None, rel)] if not group or rel.empty else list(rel.groupby(group, sort=True))
    for n, (value, g) in enumerate(groups):
        value = value[0] if isinstance(value, tuple) else value
        name, color = group_label(value), qualitative.Plotly[n % len(qualitative.Plotly)]
        custom = [[name, int(b)] for b in g[C.BIN]]
        hover = ("bin %{customdata[1]}: [%{text}]<br>confidence %{x:.3f}<br>accuracy %{y:.3f}"
                 "<extra>" + name + "</extra>")
        text = [f"{lo:.2f}, {hi:.2f}" for lo, hi in zip(g[C.BIN_LOW], g[C.BIN_HIGH])]
        fig.add_trace(go.Scatter(x=g[C.CONFIDENCE].to_numpy(float), y=g[C.ACCURACY].to_numpy(float),
                                 mode="lines+markers", name=name, legendgroup=name, customdata=custom, text=text, hovertemplate=hover,
                                 marker=dict(size=[8 + min(c, 40) ** 0.5 * 2 for c in g[C.COUNT]], color=color),
                                 line=dict(color=color)), row=1, col=1)
        lo, hi = g[C.BIN_LOW].to_numpy(float), g[C.BIN_HIGH].to_numpy(float)
        fig.add_trace(go.Bar(x=(lo + hi) / 2, y=g[C.COUNT].to_numpy(float), width=hi - lo,
                             name=name, legendgroup=name, showlegend=False, customdata=custom, opacity=0.6,
                             marker=dict(color=color), hovertemplate="bin %{customdata[1]}: %{y} predictions"
                             "<extra>" + name + "</extra>"), row=2, col=1)
    if smooth is not None:
        add_smooth_curves(fig, smooth, group=group)
    fig.update_layout(title=dict(text=title or "Reliability diagram", y=0.98, yanchor="top"), barmode="overlay",
                      height=500, margin=dict(l=60, r=20, t=95, b=50),
                      legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0, xanchor="left"))
    fig.update_xaxes(range=[0, 1.01], row=1, col=1)
    fig.update_xaxes(range=[0, 1.01], title_text="confidence", row=2, col=1)
    fig.update_yaxes(range=[-0.02, 1.02], title_text="accuracy", row=1, col=1)
    fig.update_yaxes(title_text="count", row=2, col=1)
    return fig


def add_smooth_curves(fig: go.Figure, smooth: pd.DataFrame, *, group: str | None = None) -> None:
    """Per group, into the top panel: the band's upper edge, its lower edge filled up to it, and the
    kernel-smoothed accuracy, with smECE in the legend."""
    groups = [(None, smooth)] if not group or smooth.empty else list(smooth.groupby(group, sort=True))
    for n, (value, g) in enumerate(groups):
        value = value[0] if isinstance(value, tuple) else value
        name, color = group_label(value), qualitative.Plotly[n % len(qualitative.Plotly)]
        x = g[C.MESH].to_numpy(float)
        fig.add_trace(go.Scatter(x=x, y=g[C.SMOOTH_HIGH].to_numpy(float), mode="lines", line=dict(width=0),
                                 legendgroup=name, showlegend=False, hoverinfo="skip"), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=g[C.SMOOTH_LOW].to_numpy(float), mode="lines", line=dict(width=0),
                                 fill="tonexty", fillcolor=_transparent(color), legendgroup=name, showlegend=False,
                                 hoverinfo="skip"), row=1, col=1)
        smece = float(g[C.SMECE].iloc[0]) if len(g) else float("nan")
        fig.add_trace(go.Scatter(x=x, y=g[C.SMOOTH_ACCURACY].to_numpy(float), mode="lines", legendgroup=name,
                                 name=f"{name} smoothed (smECE {smece:.3f})", line=dict(color=color, width=2),
                                 hovertemplate="confidence %{x:.3f}<br>smoothed accuracy %{y:.3f}<extra>" + name
                                 + "</extra>"), row=1, col=1)


def _transparent(color: str, alpha: float = 0.18) -> str:
    """A "#rrggbb" colour as rgba with ``alpha``."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
