"""Summaries of head attribution and of head-scaling sweeps: pure pandas, no model (the dashboard's page draws
them without torch)."""

from __future__ import annotations

import pandas as pd

from explorer import columns as C


def mean_attribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean attribution over prompts per (layer, head) (``MEAN_ATTRIBUTION_COLUMNS``).

    >>> f = pd.DataFrame({"prompt_id": ["a", "a", "b", "b"], "layer": [0, 0, 0, 0], "head": [0, 1, 0, 1],
    ...                   "attribution": [1.0, -2.0, 3.0, 0.0]})
    >>> m = mean_attribution(f)
    >>> m["attribution"].tolist(), m["n_prompts"].tolist()
    ([2.0, -1.0], [2, 2])

    A frame of several models (a ``model`` column) gives one map per model, each of its own shape, the
    ``model`` column first, the models in their given order (a model's rows come layer by layer, head by head).
    """
    keys = [C.MODEL] if C.MODEL in frame else []
    g = frame.groupby([*keys, C.LAYER, C.HEAD], as_index=False, sort=not keys).agg(
        **{C.ATTRIBUTION: (C.ATTRIBUTION, "mean"), C.N_PROMPTS: (C.PROMPT_ID, "nunique")})
    return g[[*keys, *C.MEAN_ATTRIBUTION_COLUMNS]]


def top_heads(mean: pd.DataFrame, n: int = 5, *, toward: str = "target") -> list[list]:
    """The ``n`` strongest heads as ``[layer, head, mean attribution]``, strongest first:
    most positive for ``toward="target"``, most negative for ``"foil"``.

    >>> m = pd.DataFrame({"layer": [0, 0, 1], "head": [0, 1, 0], "attribution": [0.5, -2.0, 1.5]})
    >>> top_heads(m, 2), top_heads(m, 1, toward="foil")
    ([[1, 0, 1.5], [0, 0, 0.5]], [[0, 1, -2.0]])
    """
    if toward not in ("target", "foil"):
        raise ValueError(f"toward must be 'target' or 'foil', not {toward!r}")
    ranked = mean.sort_values(C.ATTRIBUTION, ascending=toward == "foil", kind="stable")
    ranked = ranked[ranked[C.ATTRIBUTION] > 0] if toward == "target" else ranked[ranked[C.ATTRIBUTION] < 0]
    return [[int(r[C.LAYER]), int(r[C.HEAD]), float(r[C.ATTRIBUTION])] for _, r in ranked.head(n).iterrows()]


def sweep_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Target rate and mean logit difference per (heads, factor) (``SWEEP_SUMMARY_COLUMNS``).

    >>> f = pd.DataFrame({"heads": "L0H1", "factor": [0.0, 0.0, 2.0, 2.0], "prompt_id": ["a", "b", "a", "b"],
    ...                   "logit_diff": [-1.0, 3.0, 2.0, 4.0], "target_wins": [False, True, True, True]})
    >>> sweep_summary(f)[["factor", "target_rate", "mean_logit_diff"]].values.tolist()
    [[0.0, 0.5, 1.0], [2.0, 1.0, 3.0]]
    """
    g = frame.groupby([C.HEADS, C.FACTOR], as_index=False, sort=False).agg(
        **{C.TARGET_RATE: (C.TARGET_WINS, "mean"), C.MEAN_LOGIT_DIFF: (C.LOGIT_DIFF, "mean"),
           C.N_PROMPTS: (C.PROMPT_ID, "nunique")})
    return g[C.SWEEP_SUMMARY_COLUMNS]
