"""Figures of the attentiveness probe: pure functions from the probe's frames to plotly figures.

Each builder returns the same number of traces whatever the data, so a widget can update a
``FigureWidget`` in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C

CHOICE_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f"]
INVALID_COLOURS = ["#d62728", "#ff7f0e", "#f7b6d2"]
REST_COLOUR = "#dddddd"


def mass_bars(rows: pd.DataFrame, *, k_max: int = 4, n_invalid: int = 3, labels: tuple[str, ...] = (),
              choices: Mapping[str, Sequence[str]] | None = None) -> go.Figure:
    """Per item (one row of ``rows`` each), a horizontal stacked bar of next-token mass: each valid
    choice (hover: its text, from ``choices`` by item id), then the top ``n_invalid`` invalid tokens
    (named on the bar), then everything else; a black marker on the gold choice's segment, visible
    however thin the segment is. Traces: k_max choices, n_invalid invalid, everything else, gold."""
    ids = rows[C.ITEM_ID].astype(str).tolist() if len(rows) else []
    probs = rows[C.CHOICE_PROBS].tolist() if len(rows) else []
    gold = rows[C.ANSWER].tolist() if len(rows) else []
    inv = rows[C.TOP_INVALID].tolist() if len(rows) else []
    inv_p = rows[C.TOP_INVALID_PROBS].tolist() if len(rows) else []
    texts = [list((choices or {}).get(i, ())) for i in ids]
    fig = go.Figure()
    for j in range(k_max):
        name = f"choice {labels[j] if j < len(labels) else j + 1}"
        x = [p[j] if j < len(p) else 0.0 for p in probs]
        custom = [t[j] if j < len(t) else "" for t in texts]
        fig.add_bar(y=ids, x=x, orientation="h", name=name, marker_color=CHOICE_COLOURS[j % len(CHOICE_COLOURS)],
                    customdata=custom, hovertemplate=f"{name}: %{{customdata}}<br>p = %{{x:.3f}}<extra>%{{y}}</extra>")
    shown = []
    for i in range(n_invalid):
        x = [p[i] if i < len(p) else 0.0 for p in inv_p]
        text = [repr(t[i]) if i < len(t) else "" for t in inv]
        shown.append(x)
        fig.add_bar(y=ids, x=x, orientation="h", name=f"invalid #{i + 1}", text=text, textposition="inside",
                    marker_color=INVALID_COLOURS[i % len(INVALID_COLOURS)],
                    hovertemplate="invalid token %{text}: p = %{x:.3f}<extra>%{y}</extra>")
    pma = rows[C.PMA].tolist() if len(rows) else []
    rest = [max(0.0, 1.0 - m - sum(col[n] for col in shown)) for n, m in enumerate(pma)]
    fig.add_bar(y=ids, x=rest, orientation="h", name="everything else", marker_color=REST_COLOUR,
                hovertemplate="everything else: %{x:.3f}<extra>%{y}</extra>")
    gx, gy, gt = [], [], []
    for item, p, g, t in zip(ids, probs, gold, texts):
        if g is pd.NA or g is None or pd.isna(g) or int(g) >= len(p):
            continue
        gx.append(float(sum(p[: int(g)]) + p[int(g)] / 2))  # the middle of the gold segment
        gy.append(item)
        gt.append(t[int(g)] if int(g) < len(t) else "")
    fig.add_scatter(x=gx, y=gy, mode="markers", name="gold choice", customdata=gt,
                    marker=dict(symbol="diamond", size=10, color="white", line=dict(color="black", width=2)),
                    hovertemplate="gold: %{customdata}<extra>%{y}</extra>")
    fig.update_layout(barmode="stack", title_text="Where the next-token probability goes (◆ = gold choice)",
                      xaxis=dict(title="probability", range=[0, 1]), yaxis=dict(autorange="reversed", automargin=True),
                      height=max(320, 140 + 24 * len(ids)), margin=dict(l=10, r=10, t=80, b=40),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, xanchor="left", traceorder="normal"),
                      title=dict(y=0.98, yanchor="top"))
    return fig


def pma_scatter(rows: pd.DataFrame) -> go.Figure:
    """PMA against the margin p1 - p2, coloured by correctness; above the line 1 - PMA the item is
    resolved (the stray mass could not flip the answer)."""
    fig = go.Figure()
    correct = rows[C.CORRECT] if len(rows) else pd.Series(dtype="boolean")
    groups = [("correct", correct.fillna(False).astype(bool), "#2ca02c"),
              ("wrong", (~correct.fillna(True)).astype(bool), "#d62728"),
              ("no gold", correct.isna(), "#7f7f7f")]
    for name, mask, colour in groups:
        sub = rows[mask.to_numpy()] if len(rows) else rows
        fig.add_scatter(x=sub[C.PMA].tolist() if len(sub) else [],
                        y=(sub[C.P1] - sub[C.P2]).tolist() if len(sub) else [],
                        customdata=sub[C.ITEM_ID].tolist() if len(sub) else [], mode="markers", name=name,
                        marker=dict(color=colour, size=9),
                        hovertemplate="%{customdata}<br>PMA %{x:.3f}, margin %{y:.3f}<extra></extra>")
    fig.add_scatter(x=[0, 1], y=[1, 0], mode="lines", name="SFC bound: margin = 1 − PMA",
                    line=dict(dash="dash", color="#555"), hoverinfo="skip")
    fig.update_layout(title="PMA vs correctness (click an item)",
                      xaxis=dict(title="PMA (mass on valid choices)", range=[0, 1.02]),
                      yaxis=dict(title="p1 − p2", range=[0, 1.02]), height=360, margin=dict(l=50, r=10, t=40, b=40),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def layer_curve(layers: pd.DataFrame, item_id: str = "", *, extra: pd.DataFrame | None = None,
                n_mean: int | None = None) -> go.Figure:
    """Mean PMA per layer over the first ``n_mean`` items of ``layers`` (all when None), and the chosen
    item's PMA and gold probability per layer. ``extra`` (an edited item's layer rows) is drawn instead
    of ``item_id``'s when given."""
    fig = go.Figure()
    ids = list(dict.fromkeys(layers[C.ITEM_ID])) if len(layers) else []
    first = layers[layers[C.ITEM_ID].isin(ids[:n_mean] if n_mean is not None else ids)] if len(layers) else layers
    mean = first.groupby(C.LAYER)[C.PMA].mean() if len(first) else pd.Series(dtype=float)
    n = first[C.ITEM_ID].nunique() if len(first) else 0
    fig.add_scatter(x=mean.index.tolist(), y=mean.tolist(), mode="lines", name=f"mean PMA ({n} items)",
                    line=dict(color="#1f77b4"))
    one = extra if extra is not None and len(extra) else (
        layers[layers[C.ITEM_ID] == item_id] if len(layers) else layers)
    label = str(one[C.ITEM_ID].iloc[0]) if len(one) else "item"
    fig.add_scatter(x=one[C.LAYER].tolist() if len(one) else [], y=one[C.PMA].tolist() if len(one) else [],
                    mode="lines+markers", name=f"PMA: {label}", line=dict(color="#ff7f0e"))
    fig.add_scatter(x=one[C.LAYER].tolist() if len(one) else [], y=one[C.P_GOLD].tolist() if len(one) else [],
                    mode="lines", name=f"p(gold): {label}", line=dict(color="#2ca02c", dash="dot"))
    fig.update_layout(title="PMA layer by layer (logit lens)", xaxis=dict(title="layer (0 = embeddings)"),
                      yaxis=dict(title="probability", range=[0, 1.02]), height=360,
                      margin=dict(l=50, r=10, t=40, b=40), legend=dict(orientation="h", y=-0.25))
    return fig
