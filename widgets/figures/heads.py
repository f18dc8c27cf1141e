"""Figures of the head probe: pure functions from its frames to a plotly figure (or an HTML table).

Each returns the same traces for any input (empty included), so a widget can update a
``go.FigureWidget`` in place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from widgets._text import esc

TARGET = "#2a9d8f"
FOIL = "#e76f51"


def attribution_heatmap(mean: pd.DataFrame, *, selected: tuple[int, int] | None = None,
                        title: str = "Direct logit attribution, target - foil (click a head)") -> go.Figure:
    """Layer x head map of ``attribution`` (diverging at 0: blue pushes to the target, red to the
    foil) with the selected head outlined. Trace 0 is the heatmap, trace 1 the selection marker."""
    fig = go.Figure(layout=dict(title=title, height=560, xaxis_title="head", yaxis_title="layer",
                                margin=dict(t=50, b=50, l=55, r=20), xaxis=dict(dtick=1)))
    if mean.empty:
        z, layers, heads = np.zeros((0, 0)), [], []
    else:
        grid = mean.pivot_table(index=C.LAYER, columns=C.HEAD, values=C.ATTRIBUTION)
        z, layers, heads = grid.to_numpy(float), grid.index.tolist(), grid.columns.tolist()
    bound = float(np.abs(z).max()) if z.size else 1.0
    fig.add_heatmap(z=z, x=heads, y=layers, colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound,
                    colorbar=dict(title=dict(text="target −<br>foil logit", side="top"), thickness=14, len=0.9,
                                  tickformat=".2g"),
                    hovertemplate="layer %{y} head %{x}<br>attribution %{z:.3f}<extra></extra>")
    sel_x, sel_y = ([selected[1]], [selected[0]]) if selected is not None else ([], [])
    fig.add_scatter(x=sel_x, y=sel_y, mode="markers", hoverinfo="skip", showlegend=False,
                    marker=dict(symbol="square-open", size=16, color="black", line=dict(width=3)))
    return fig


def sweep_figure(summary: pd.DataFrame, *, current: float | None = None, base_rate: float | None = None,
                 head: tuple[int, int] | None = None) -> go.Figure:
    """Target rate against the factor (trace 0), the current factor's point (trace 1), and the
    unscaled rate as a dashed line (trace 2)."""
    label = f"L{head[0]}H{head[1]}" if head is not None else "no head selected"
    fig = go.Figure(layout=dict(title=f"Target rate as {label} is scaled", height=320, xaxis_title="factor",
                                yaxis_title="target rate", yaxis_range=[-0.02, 1.02], xaxis_range=[-10.5, 10.5],
                                margin=dict(t=40, b=40, l=50, r=10), showlegend=False))
    s = summary.sort_values(C.FACTOR) if not summary.empty else summary
    x = s[C.FACTOR].tolist() if not s.empty else []
    y = s[C.TARGET_RATE].tolist() if not s.empty else []
    fig.add_scatter(x=x, y=y, mode="lines+markers", line=dict(color=TARGET), name="target rate",
                    hovertemplate="factor %{x}<br>target rate %{y:.2f}<extra></extra>")
    at = s[s[C.FACTOR] == current] if current is not None and not s.empty else s.iloc[:0] if not s.empty else s
    fig.add_scatter(x=at[C.FACTOR].tolist() if len(at) else [], y=at[C.TARGET_RATE].tolist() if len(at) else [],
                    mode="markers", marker=dict(size=14, color=FOIL), name="current")
    fig.add_scatter(x=[-10.5, 10.5] if base_rate is not None else [],
                    y=[base_rate, base_rate] if base_rate is not None else [], mode="lines",
                    line=dict(color="black", dash="dash"), name="unscaled", hoverinfo="skip")
    return fig


def prompt_table(rows: pd.DataFrame, *, selected: str = "") -> str:
    """HTML table, one row per prompt: target and foil with their probabilities and the winner."""
    if rows.empty:
        return "<i>no results yet</i>"
    body = []
    for _, r in rows.iterrows():
        pt, pf = float(np.exp(r[C.TARGET_LOGPROB])), float(np.exp(r[C.FOIL_LOGPROB]))
        win = "target" if r[C.TARGET_WINS] else "foil"
        style = " style='background:#fff3b0'" if r[C.PROMPT_ID] == selected else ""
        body.append(f"<tr{style}><td>{esc(str(r[C.PROMPT_ID]))}</td><td>{esc(str(r[C.TARGET]))}</td>"
                    f"<td>{pt:.3f}</td><td>{esc(str(r[C.FOIL]))}</td><td>{pf:.3f}</td>"
                    f"<td>{r[C.LOGIT_DIFF]:+.2f}</td><td style='color:{TARGET if win == 'target' else FOIL}'>"
                    f"{win}</td></tr>")
    head = ("<tr><th>prompt</th><th>target</th><th>p(target)</th><th>foil</th><th>p(foil)</th>"
            "<th>logit diff</th><th>wins</th></tr>")
    return f"<table style='font-size:12px'>{head}{''.join(body)}</table>"
