"""Figures of the chain probe: pure functions of its frame (and agreement frame) to plotly figures.

Each returns the same traces for any input (empty included), so a widget can update a
``go.FigureWidget`` in place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import columns as C

TITLES = {C.LOGP_VOCAB_GOLD: "log p_vocab(gold)", C.P_VOCAB_GOLD: "p_vocab(gold)",
          C.P_CHOICES_GOLD: "p_choices(gold)", C.CORRECT: "correct", C.BRIER: "Brier"}
POINT = "#457b9d"
SELECTED = "#e63946"
DIAGONAL = "#999"
JITTER = 0.12  # spread of the 0/1 "correct" values, so that items do not sit on four points


def _jitter(n: int, salt: float) -> np.ndarray:
    """A fixed spread in [-JITTER, JITTER] per item (the golden-ratio sequence: no randomness)."""
    return ((np.arange(n) * 0.6180339887 + salt) % 1 - 0.5) * 2 * JITTER


def pair_values(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Item ids and each link's value under ``a`` (``{link}_a``) and ``b`` (``{link}_b``), items both have."""
    if frame.empty or a == b:
        return pd.DataFrame(columns=[C.ITEM_ID, *(f"{l}_{s}" for l in C.CHAIN_LINKS for s in "ab")])
    cols = [C.ITEM_ID, *C.CHAIN_LINKS]
    rows = [frame.loc[frame[C.CONDITION] == name, cols].astype({C.CORRECT: float}) for name in (a, b)]
    return rows[0].merge(rows[1], on=C.ITEM_ID, suffixes=("_a", "_b"), sort=False)


def link_scatter_figure(frame: pd.DataFrame, a: str, b: str, *, agreement: pd.DataFrame | None = None,
                        selected: str = "") -> go.Figure:
    """One panel per link of the chain: each item's value under ``a`` (x) against ``b`` (y), the
    diagonal, the Spearman correlation in the panel's title, and the ``selected`` item ringed.
    Traces per link: items (customdata = item id), the diagonal, the selected item."""
    rho = {} if agreement is None or agreement.empty else dict(zip(agreement[C.LINK], agreement[C.SPEARMAN]))
    titles = [f"{TITLES[l]}<br>ρ = {rho[l]:.2f}" if pd.notna(rho.get(l, np.nan)) else f"{TITLES[l]}<br>ρ = –"
              for l in C.CHAIN_LINKS]
    fig = make_subplots(rows=1, cols=len(C.CHAIN_LINKS), subplot_titles=titles, horizontal_spacing=0.05)
    pairs = pair_values(frame, a, b)
    ids = pairs[C.ITEM_ID].astype(str).to_numpy()
    for n, link in enumerate(C.CHAIN_LINKS, start=1):
        x, y = pairs[f"{link}_a"].to_numpy(float), pairs[f"{link}_b"].to_numpy(float)
        if link == C.CORRECT:
            x, y = x + _jitter(len(x), 0.1), y + _jitter(len(y), 0.6)
        both = np.concatenate([x, y])
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=TITLES[link], customdata=ids, showlegend=False,
                                 marker=dict(size=7, color=POINT, opacity=0.75),
                                 hovertemplate="%{customdata}<br>" + a + ": %{x:.4g}<br>" + b + ": %{y:.4g}"
                                 "<extra></extra>"), row=1, col=n)
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=DIAGONAL, dash="dash", width=1)), row=1, col=n)
        pick = ids == selected
        fig.add_trace(go.Scatter(x=x[pick], y=y[pick], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(color=SELECTED, width=3))),
                      row=1, col=n)
    fig.update_xaxes(title_text=a or "A")
    fig.update_yaxes(title_text=b or "B", col=1)
    fig.update_layout(title=f"Item by item: {b} against {a} at each link (click an item)", height=360,
                      margin=dict(l=50, r=20, t=95, b=50))
    fig.update_annotations(font_size=11)
    return fig


def agreement_figure(agreement: pd.DataFrame) -> go.Figure:
    """Along the chain: Spearman and Pearson correlation of the two conditions over items, and the
    share of items whose change has the same direction as at the first link."""
    fig = go.Figure(layout=dict(title="Where the items stop agreeing", height=360, yaxis_range=[-1, 1.05],
                                yaxis_title="over items", margin=dict(l=50, r=20, t=40, b=40),
                                xaxis=dict(automargin=True), legend=dict(orientation="h", y=-0.3)))
    rows = agreement if agreement is not None else pd.DataFrame(columns=C.CHAIN_AGREEMENT_COLUMNS)
    x = [TITLES[l] for l in rows[C.LINK]]
    for col, name, dash in ((C.SPEARMAN, "Spearman ρ", "solid"), (C.PEARSON, "Pearson r", "dot"),
                            (C.SAME_SIGN, "same direction as at the first link", "dash")):
        y = [None if pd.isna(v) else float(v) for v in rows[col]]  # undefined (NaN) is a gap, not invalid JSON
        fig.add_scatter(x=x, y=y, mode="lines+markers", name=name, line=dict(dash=dash))
    return fig
