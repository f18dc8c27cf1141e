"""Surface-form attentiveness metrics (Wiegreffe et al. 2023): PMA, the SFC bound, baselines, summaries.

Formulas, for one prompt with valid-choice scores s_1..s_k (probabilities out of the whole
vocabulary, or sequence probabilities for string formats):

- PMA = sum_i s_i; the stray mass is 1 - PMA.
- SFC bound: with p1 >= p2 the two largest s_i, the item is *resolved* when 1 - PMA < p1 - p2
  (no redistribution of the stray mass onto the choices could flip the argmax).
- Domain-conditional PMI score: log s_i - log p(choice_i | premise), premise = "Answer:".
- Length-normalised score (lm-evaluation-harness ``acc_norm``): log s_i / len(choice_i in characters).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import NoItemsError
from explorer.metrics.small import MIN_INTERVAL_ITEMS, SmallSampleWarning, warn_small


def top_two(probs: Sequence[float]) -> tuple[float, float]:
    """The two largest values (p1 >= p2).

    >>> top_two([0.1, 0.5, 0.2])
    (0.5, 0.2)
    """
    p = np.sort(np.asarray(probs, dtype=float))[::-1]
    if len(p) < 2:
        raise ValueError(f"need at least two choice scores, got {len(p)}")
    return float(p[0]), float(p[1])


def sfc_resolved(pma: float | np.ndarray, p1: float | np.ndarray, p2: float | np.ndarray) -> bool | np.ndarray:
    """True where the stray mass 1 - PMA is smaller than the margin p1 - p2.

    >>> bool(sfc_resolved(0.9, 0.6, 0.2))  # 0.1 < 0.4
    True
    >>> bool(sfc_resolved(0.5, 0.3, 0.1))  # 0.5 >= 0.2
    False
    """
    out = (1.0 - np.asarray(pma, dtype=float)) < (np.asarray(p1, dtype=float) - np.asarray(p2, dtype=float))
    return bool(out) if out.ndim == 0 else out


def pmi_scores(logprob: Sequence[float], premise_logprob: Sequence[float]) -> np.ndarray:
    """Domain-conditional PMI: log p(choice | prompt) - log p(choice | premise).

    >>> pmi_scores(np.log([0.2, 0.1]), np.log([0.4, 0.05])).round(4).tolist()
    [-0.6931, 0.6931]
    """
    return np.asarray(logprob, dtype=float) - np.asarray(premise_logprob, dtype=float)


def length_normalised(logprob: Sequence[float], n_chars: Sequence[int]) -> np.ndarray:
    """lm-evaluation-harness ``acc_norm`` score: summed log-probability per character of the choice.

    >>> length_normalised([-2.0, -3.0], [4, 10]).tolist()
    [-0.5, -0.3]
    """
    n = np.asarray(n_chars, dtype=float)
    if np.any(n <= 0):
        raise ValueError("every choice needs at least one character to length-normalise")
    return np.asarray(logprob, dtype=float) / n


def bootstrap_ci(values: Sequence[float], *, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0, warn: bool = True) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (NaNs dropped; (nan, nan) when fewer than two values are
    left, where it is undefined, or ``n_boot`` is 0). Under 10 values a
    :class:`~explorer.metrics.small.SmallSampleWarning` unless ``warn=False`` (the caller says it once).

    >>> bootstrap_ci([1.0, 1.0, 1.0], warn=False)
    (1.0, 1.0)
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if warn and n_boot > 0:
        warn_small(len(v), "values", where="bootstrap_ci")
    if len(v) < 2 or n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
    alpha = (1.0 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation over pairs with no NaN; NaN when fewer than 3 pairs or one side is constant.

    >>> round(pearson([0.1, 0.5, 0.9], [0, 1, 1]), 4)
    0.866
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


# Per-item quantities averaged over seeds, then over items (with a bootstrap over items).
MEANS = {"pma_mean": C.PMA, "accuracy": C.CORRECT, "accuracy_pmi": C.CORRECT_PMI,
         "accuracy_norm": C.CORRECT_NORM, "resolved_share": C.RESOLVED, "invalid_share": C.GREEDY_INVALID}


def with_greedy_invalid(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``greedy_invalid`` (not ``greedy_valid``), the column ``invalid_share`` averages."""
    return rows.assign(**{C.GREEDY_INVALID: ~rows[C.GREEDY_VALID].astype(bool)})


def item_means(rows: pd.DataFrame, *, sort: bool = False) -> pd.DataFrame:
    """Each item's :data:`MEANS` columns averaged over its rows (seeds), indexed by item id (given
    :func:`with_greedy_invalid` rows); ``sort``: items in id order, else as they first appear."""
    cols = list(MEANS.values())
    return rows[[C.ITEM_ID, *cols]].astype({c: "float64" for c in cols}).groupby(C.ITEM_ID, sort=sort).mean()


def mean_or_nan(values: np.ndarray) -> float:
    """The mean of the defined values (NaN: no gold, say), NaN when none is defined, without a warning."""
    return float(np.nanmean(values)) if np.any(~np.isnan(values)) else float("nan")


def summarize_attentiveness(rows: pd.DataFrame, *, by: Sequence[str] = (), n_boot: int = 1000, level: float = 0.95,
                            seed: int = 0) -> pd.DataFrame:
    """One row per format x shots (x each group of ``by``, e.g. ``["subject"]``, any metadata column):
    the means in ``MEANS`` with ``<name>_lo``/``<name>_hi`` bootstrap bounds, ``n_items``, ``n_rows``
    (items x seeds) and ``pma_accuracy_corr`` (item-level Pearson correlation between PMA and
    correctness). Groups come sorted; a missing metadata value is a group of its own.

    Each item's values are first averaged over seeds, so the bootstrap resamples items. Intervals
    of a cell with fewer than 10 items come with one warning for the table (NaN bounds for one item),
    and a correlation the cell leaves undefined (fewer than 3 items, or a constant) with another
    (:mod:`explorer.metrics.small`).
    """
    if rows.empty:
        raise NoItemsError("no items: summarize_attentiveness was given no rows")
    missing = [c for c in by if c not in rows.columns]
    if missing:
        raise KeyError(f"cannot group by {missing}: no such column(s); the metadata columns are "
                       f"{C.metadata_columns(rows)}")
    frame = with_greedy_invalid(rows)
    out = []
    for key, g in frame.groupby([C.FORMAT, C.SHOTS, *by], sort=False, dropna=False):
        fmt, shots, *groups = key
        per_item = item_means(g)
        rec: dict[str, object] = {C.FORMAT: fmt, C.SHOTS: int(shots),
                                  **{c: (None if pd.isna(v) else v) for c, v in zip(by, groups)},
                                  "n_items": len(per_item), "n_rows": len(g)}
        for name, col in MEANS.items():
            vals = per_item[col].to_numpy()
            rec[name] = mean_or_nan(vals)
            rec[f"{name}_lo"], rec[f"{name}_hi"] = bootstrap_ci(vals, n_boot=n_boot, level=level, seed=seed,
                                                                warn=False)
        rec["pma_accuracy_corr"] = pearson(per_item[C.PMA], per_item[C.CORRECT])
        out.append(rec)
    table = pd.DataFrame(out)
    if n_boot > 0 and (table["n_items"] < MIN_INTERVAL_ITEMS).any():
        warn_small(int(table["n_items"].min()), where=f"summarize_attentiveness, {int((table['n_items'] < 10).sum())} "
                   f"of {len(table)} cells (fewest items)")
    undefined = int(table["pma_accuracy_corr"].isna().sum())
    if undefined:
        warnings.warn(f"summarize_attentiveness: pma_accuracy_corr is undefined (NaN) in {undefined} of {len(table)} "
                      "cells: fewer than 3 items, or PMA or correctness constant across them", SmallSampleWarning,
                      stacklevel=2)
    if by:  # cells in order of appearance, groups sorted within each
        cell = table.groupby([C.FORMAT, C.SHOTS], sort=False).ngroup().rename("_cell")
        table = table.join(cell).sort_values(["_cell", *by], kind="stable").drop(columns="_cell")
    return table.reset_index(drop=True)


def pma_accuracy_relation(summary: pd.DataFrame) -> dict[str, float]:
    """How PMA and accuracy move together across the format x shots cells of a summary.

    ``corr``: Pearson correlation of pma_mean and accuracy over cells; ``pma_up_acc_down``: share of
    pairs of cells where the one with more PMA has lower accuracy (the paper's point: more mass on
    the choices does not always mean higher accuracy).

    >>> s = pd.DataFrame({"pma_mean": [0.1, 0.5, 0.9], "accuracy": [0.5, 0.7, 0.6]})
    >>> pma_accuracy_relation(s)["pma_up_acc_down"]
    0.3333333333333333
    """
    pma, acc = summary["pma_mean"].to_numpy(float), summary["accuracy"].to_numpy(float)
    pairs = [(i, j) for i in range(len(pma)) for j in range(i + 1, len(pma)) if pma[i] != pma[j]]
    down = [(acc[j] - acc[i]) * (pma[j] - pma[i]) < 0 for i, j in pairs]
    return {"corr": pearson(pma, acc), "pma_up_acc_down": float(np.mean(down)) if down else float("nan"),
            "n_cells": len(pma)}
