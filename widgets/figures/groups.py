"""Per-group bars with the pooled value: a pure function of a summary table (no computing here).

Every probe view shows its groups (for MMLU, per subject) this way once a "group by" is chosen.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

BAR = "#457b9d"
POOLED = "#e76f51"
NONE_LABEL = "(none)"


def group_bars(table: pd.DataFrame, group: str | None, metric: str, pooled: float | None, *,
               title: str = "", count: str = "n_items") -> go.Figure:
    """One bar per row of ``table`` (its ``group`` column as labels, ``metric`` as height, ``count`` in
    the hover) and a dashed line at the ``pooled`` value over all items. Always two traces."""
    fig = go.Figure(layout=dict(title=title or (f"{metric} by {group}" if group else "choose a group"), height=340,
                                yaxis_title=metric, margin=dict(t=70, b=40, l=50, r=10), xaxis=dict(automargin=True),
                                # legend just above the plot at the right, under the title (no overlap)
                                legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1)))
    shown = table if group and not table.empty else pd.DataFrame(columns=[group or "group", metric, count])
    labels = [NONE_LABEL if pd.isna(v) else str(v) for v in shown[group or "group"]]
    values = [None if v is None or pd.isna(v) else float(v) for v in shown[metric]]
    counts = shown[count].tolist() if count in shown else [None] * len(labels)
    fig.add_bar(x=labels, y=values, name=metric, marker_color=BAR, customdata=counts,
                hovertemplate="%{x}<br>" + metric + " %{y:.3f}<br>n = %{customdata}<extra></extra>")
    line = [pooled] * len(labels) if pooled is not None and labels else []
    fig.add_scatter(x=labels if line else [], y=line, mode="lines", name=f"pooled {metric}",
                    line=dict(color=POOLED, dash="dash"))
    return fig
