"""Paired differences between models scored on the same items: "model 2 minus model 1, 95% CI".

The items are shared, so the interval resamples *items* once per bootstrap draw and evaluates every
model's metric on that same resample (a paired bootstrap): the item-to-item spread that both models
share cancels, and the interval is narrower than one built from two independent intervals. Each
difference's value is the difference of the models' own summary values, so it matches the
``by_model`` summaries exactly. Every model is compared with the first (the reference).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.metrics.attentiveness import MEANS as ATTENTIVENESS_MEANS
from explorer.metrics.attentiveness import item_means, mean_or_nan, with_greedy_invalid
from explorer.metrics.permutation import a_bias, accuracy, consistency, order_avg_accuracy, rstd
from explorer.metrics.permutation_arrays import PermutationArrays, permutation_arrays
from explorer.metrics.permutation_summary import split_by_k
from explorer.metrics.reliability import Strategy, ece

__all__ = ["paired_difference", "compare_permutation", "compare_attentiveness", "compare_predictions"]

Statistic = Callable[[np.ndarray], float]  # a model's metric on the items at these indices

PERMUTATION_METRICS: dict[str, Callable[[PermutationArrays], float]] = {
    "a_bias": a_bias, "consistency": consistency}
PERMUTATION_GOLD_METRICS: dict[str, Callable[[PermutationArrays], float]] = {
    "accuracy": accuracy, "order_avg_accuracy": order_avg_accuracy, "rstd": rstd}
ATTENTIVENESS_METRICS = ("pma_mean", "accuracy", "resolved_share", "invalid_share")


def paired_difference(reference: Statistic, other: Statistic, n_items: int, *, n_boot: int = 1000, seed: int = 0,
                      level: float = 0.95) -> dict:
    """``{"value": other(all) - reference(all), "ci95": [lo, hi]}``: the percentile interval of the same
    difference over ``n_boot`` resamples of the ``n_items`` items, one resample shared by both models
    (``ci95`` None without resamples, or where the metric is undefined on every resample).

    >>> ref = np.array([1.0, 0.0, 1.0, 1.0]); new = np.array([1.0, 1.0, 1.0, 1.0])
    >>> d = paired_difference(lambda i: ref[i].mean(), lambda i: new[i].mean(), 4, n_boot=200)
    >>> d["value"], 0 <= d["ci95"][0] <= d["ci95"][1] <= 0.75
    (0.25, True)
    """
    everything = np.arange(n_items)
    value = float(other(everything) - reference(everything))
    if n_boot <= 0 or n_items == 0:
        return {"value": _number(value), "ci95": None}
    draws = np.random.default_rng(seed).integers(0, n_items, size=(n_boot, n_items))
    diffs = np.array([other(idx) - reference(idx) for idx in draws], dtype=float)
    if np.all(np.isnan(diffs)):
        return {"value": _number(value), "ci95": None}
    lo, hi = np.nanpercentile(diffs, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return {"value": _number(value), "ci95": [float(lo), float(hi)]}


def _number(value: float) -> float | None:
    return None if value != value else value  # NaN: undefined (JSON null)


def _pairs(frames: Mapping[str, object], compare: Callable[[object, object], dict]) -> dict:
    names = list(frames)
    if len(names) < 2:
        raise ExplorerError(f"a comparison needs at least two models; got {names}")
    ref = names[0]
    return {"reference": ref,
            "pairs": [{"model": name, "minus": ref, **compare(frames[ref], frames[name])} for name in names[1:]]}


def _same_items(ref_ids: Sequence[str], ids: Sequence[str], what: str) -> None:
    if list(ref_ids) != list(ids):
        only = sorted(set(ref_ids) ^ set(ids))
        raise ExplorerError(f"the models scored different {what} ({len(set(ref_ids))} vs {len(set(ids))}; first "
                            f"difference {only[0] if only else 'in order'!r}): a paired comparison needs the same items. "
                            "Fix: score the same items (and orders) with every model")


def compare_permutation(frames: Mapping[str, pd.DataFrame], *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Paired differences of the permutation metrics (A-bias, consistency; with gold: accuracy,
    order-averaged accuracy, RStd) of each model minus the first, per number of choices k (``by_k``;
    one k: at the top of each pair too). ``frames``: each model's permutation-probe rows."""
    def one(ref_frame: pd.DataFrame, frame: pd.DataFrame) -> dict:
        ref_k, other_k = split_by_k(ref_frame), split_by_k(frame)
        _same_items([str(k) for k in ref_k], [str(k) for k in other_k], "numbers of choices")
        by_k = {}
        for k in ref_k:
            a, b = permutation_arrays(ref_k[k]), permutation_arrays(other_k[k])
            _same_items(a.item_ids, b.item_ids, "items")
            _same_items(a.orders, b.orders, "orders")
            metrics = {**PERMUTATION_METRICS, **(PERMUTATION_GOLD_METRICS if (a.gold >= 0).all() else {})}
            block = {"n_items": len(a.item_ids), "n_orders": len(a.orders)}
            for name, metric in metrics.items():
                block[name] = paired_difference(lambda i, m=metric: m(a.take(i)), lambda i, m=metric: m(b.take(i)),
                                                len(a.item_ids), n_boot=n_boot, seed=seed)
            by_k[str(k)] = block
        return {**(next(iter(by_k.values())) if len(by_k) == 1 else {}), "by_k": by_k}

    return {**_pairs(frames, one), "n_boot": n_boot, "level": 0.95}


def compare_attentiveness(frames: Mapping[str, pd.DataFrame], *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Paired differences of mean PMA, accuracy, SFC-resolved share and invalid-greedy share, each model
    minus the first, per format x shots cell (``cells``). ``frames``: each model's attentiveness rows."""
    names = {m: ATTENTIVENESS_MEANS[m] for m in ATTENTIVENESS_METRICS}

    def one(ref_rows: pd.DataFrame, rows: pd.DataFrame) -> dict:
        ref_rows, rows = with_greedy_invalid(ref_rows), with_greedy_invalid(rows)
        theirs = {key: g for key, g in rows.groupby([C.FORMAT, C.SHOTS], sort=False)}
        cells = []
        for (fmt, shots), g in ref_rows.groupby([C.FORMAT, C.SHOTS], sort=False):
            if (fmt, shots) not in theirs:
                raise ExplorerError(f"format {fmt!r} with {shots} shots is scored for one model only: a paired "
                                    "comparison needs the same formats and shots for every model")
            a, b = item_means(g, sort=True), item_means(theirs[(fmt, shots)], sort=True)
            _same_items(list(a.index), list(b.index), "items")
            cell = {C.FORMAT: fmt, C.SHOTS: int(shots), "n_items": len(a)}
            for name, col in names.items():
                x, y = a[col].to_numpy(), b[col].to_numpy()
                cell[name] = paired_difference(lambda i, v=x: mean_or_nan(v[i]), lambda i, v=y: mean_or_nan(v[i]), len(a),
                                               n_boot=n_boot, seed=seed)
            cells.append(cell)
        return {"cells": cells}

    return {**_pairs(frames, one), "n_boot": n_boot, "level": 0.95}


def compare_predictions(frames: Mapping[str, pd.DataFrame], *, n_bins: int = 10, strategy: Strategy = "uniform",
                        n_boot: int = 1000, seed: int = 0) -> dict:
    """Paired differences of accuracy, ECE (``n_bins``, ``strategy``) and Brier score, each model minus the
    first. ``frames``: each model's predictions, one row per item (``item_confidence`` or
    ``recalibrated(..., "none")``: columns item_id, confidence, correct, option_brier)."""
    def arrays(items: pd.DataFrame) -> pd.DataFrame:
        if items[C.ITEM_ID].duplicated().any():
            first = items.loc[items[C.ITEM_ID].duplicated(), C.ITEM_ID].iloc[0]
            raise ExplorerError(f"item {first!r} has several predictions (formats or shots?): compare the models one "
                                "condition at a time. Fix: filter the frames to one format and shots")
        return items.set_index(C.ITEM_ID).sort_index()[[C.CONFIDENCE, C.CORRECT, C.OPTION_BRIER]].astype(float)

    def one(ref_items: pd.DataFrame, items: pd.DataFrame) -> dict:
        a, b = arrays(ref_items), arrays(items)
        _same_items(list(a.index), list(b.index), "items")
        out: dict = {"n_items": len(a)}
        stats = {"accuracy": lambda t: lambda i: t[C.CORRECT].to_numpy()[i].mean(),
                 "ece": lambda t: lambda i: ece(t[C.CONFIDENCE].to_numpy()[i], t[C.CORRECT].to_numpy()[i],
                                                n_bins=n_bins, strategy=strategy),
                 "brier": lambda t: lambda i: t[C.OPTION_BRIER].to_numpy()[i].mean()}
        for name, stat in stats.items():
            out[name] = paired_difference(stat(a), stat(b), len(a), n_boot=n_boot, seed=seed)
        return out

    return {**_pairs(frames, one), "n_boot": n_boot, "level": 0.95, "bins": n_bins, "strategy": strategy}
