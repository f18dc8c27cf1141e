"""Figures of the permutation probe: pure functions from its frame (or summary) to a plotly figure.

Each returns the same traces for any input (empty included), so a widget can update a
``go.FigureWidget`` in place.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C

GOLD = "#2a9d8f"
BIAS = "#e76f51"
MUTED = "#8d99ae"


def _labels(frame: pd.DataFrame) -> list[str]:
    first = frame.drop_duplicates(C.POSITION).sort_values(C.POSITION)
    return [lab or str(pos) for lab, pos in zip(first[C.LABEL], first[C.POSITION])]


def position_response_figure(frame: pd.DataFrame) -> go.Figure:
    """Mean renormalised probability and share of predictions per label position, against 1/k."""
    fig = go.Figure(layout=dict(title="Position-level response", barmode="group", height=320, yaxis_title="share",
                                yaxis_range=[0, 1], margin=dict(t=40, b=40, l=50, r=10),
                                legend=dict(orientation="h", y=-0.2)))
    labels, mean_p, share, uniform = [], [], [], []
    if not frame.empty:
        labels = _labels(frame)
        mean_p = frame.groupby(C.POSITION)[C.PROB_NORM].mean().tolist()
        share = frame[frame[C.IS_PRED]].groupby(C.POSITION).size().reindex(range(len(labels)), fill_value=0)
        share = (share / share.sum()).tolist()
        uniform = [1 / len(labels)] * len(labels)
    fig.add_bar(x=labels, y=mean_p, name="mean p (renormalised)", marker_color=BIAS)
    fig.add_bar(x=labels, y=share, name="share of predictions", marker_color=MUTED)
    fig.add_scatter(x=labels, y=uniform, name="uniform 1/k", mode="lines", line=dict(color="black", dash="dash"))
    return fig


def prediction_grid_figure(frame: pd.DataFrame) -> go.Figure:
    """Item x order grid coloured by the predicted position; text: label, and whether it is right."""
    fig = go.Figure(layout=dict(title="Predicted position per item and order (click a row)", height=360,
                                xaxis_title="order (original choice at A, B, ...)", margin=dict(t=40, b=60, l=10, r=10),
                                yaxis=dict(autorange="reversed", automargin=True)))
    if frame.empty:
        fig.add_heatmap(x=[], y=[], z=[], text=[], texttemplate="%{text}", colorscale="Oranges", showscale=False)
        return fig
    pred = frame[frame[C.IS_PRED]]
    items, orders = list(dict.fromkeys(frame[C.ITEM_ID])), list(dict.fromkeys(frame[C.ORDER]))
    z = pred.pivot_table(index=C.ITEM_ID, columns=C.ORDER, values=C.POSITION, aggfunc="first")
    z = z.reindex(index=items, columns=orders)
    gold = pred.assign(mark=pred[C.IS_GOLD].map({True: " ✓", False: " ✗"}).fillna(""))
    text = (gold[C.LABEL].astype(str) + gold["mark"]).to_frame("t").set_index(
        [gold[C.ITEM_ID], gold[C.ORDER]])["t"].unstack().reindex(index=items, columns=orders)
    k = int(frame[C.POSITION].max()) + 1
    fig.add_heatmap(x=orders, y=items, z=z.to_numpy(float), text=text.fillna("").to_numpy(), texttemplate="%{text}",
                    colorscale="Oranges", zmin=0, zmax=max(k - 1, 1), showscale=False,
                    hovertemplate="%{y}<br>order %{x}<br>predicted %{text}<extra></extra>")
    return fig


def accuracy_figure(summary: dict | None) -> go.Figure:
    """Accuracy per prompt, averaged over orders, and before/after PriDe on the same items."""
    fig = go.Figure(layout=dict(title="Accuracy before and after debiasing", height=320, yaxis_range=[0, 1],
                                margin=dict(t=40, b=40, l=50, r=10), legend=dict(orientation="h", y=-0.2)))
    names = ["per prompt", "order-averaged", "PriDe: before", "PriDe: after"]
    keys = ["accuracy", "order_avg_accuracy", "pride_accuracy_before", "pride_accuracy"]
    values = [None if not summary else summary.get(key) for key in keys]
    chance = [1 / summary["k"]] * len(names) if summary else []
    fig.add_bar(x=names, y=values, marker_color=[BIAS, GOLD, MUTED, GOLD],
                text=["-" if v is None else f"{v:.2f}" for v in values], textposition="outside", name="accuracy")
    fig.add_scatter(x=names if summary else [], y=chance, mode="lines", name="chance 1/k",
                    line=dict(color="black", dash="dash"))
    return fig


def item_orders_figure(frame: pd.DataFrame, item_id: str) -> go.Figure:
    """For one item: the probability each original choice gets under each order (one trace per choice)."""
    fig = go.Figure(layout=dict(title=f"{item_id}: probability of each choice, by order", barmode="group",
                                height=320, yaxis_range=[0, 1], xaxis_title="order",
                                margin=dict(t=40, b=40, l=50, r=10),
                                legend=dict(orientation="h", y=-0.3)))
    rows = frame[frame[C.ITEM_ID] == item_id] if not frame.empty else frame
    for index, g in rows.groupby(C.CHOICE_INDEX, sort=True):
        gold = bool(g[C.IS_GOLD].fillna(False).any())
        fig.add_bar(x=g[C.ORDER].tolist(), y=g[C.PROB_NORM].tolist(), name=f"{g[C.CHOICE].iloc[0]}{' (gold)' * gold}",
                    text=g[C.LABEL].tolist(), textposition="inside",
                    marker_line=dict(width=3 if gold else 0, color="black"))
    return fig
