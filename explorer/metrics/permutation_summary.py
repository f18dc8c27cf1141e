"""The permutation probe's summary: every metric in one JSON-ready dict, per number of choices, pooled
across them, and per group of items (``by=["subject"]``).

Position metrics (response by position, A-bias, shares, RStd, PriDe, ...) exist for one k only.
Metrics defined per item pool across k: each is a per-item (value, weight) pair, and the pooled
metric is sum(value) / sum(weight) over the items of every k: accuracy is (correct prompts,
prompts), so pooled accuracy is the mean over all prompts; consistency and order-averaged accuracy
are (0 or 1, 1), means over items. Their 95% intervals resample items (all k together).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import ExplorerError, NoItemsError
from explorer.metrics.permutation import (GOLD_METRICS, POOLED_METRICS, POSITION_METRICS, accuracy_by_order,
                                          bootstrap_ci, chi2_positions, circular_accuracy, order_symmetry_test,
                                          position_response, position_share, pride, recall_by_position)
from explorer.metrics.permutation_arrays import Data, PermutationArrays, example_frame, permutation_arrays
from explorer.metrics.small import MIN_INTERVAL_ITEMS, SmallSampleWarning, interval_note

__all__ = ["summarize_permutation", "summarize_k", "group_table", "split_by_k", "pooled", "pooled_interval"]

Parts = tuple[np.ndarray, np.ndarray]  # per-item values and weights


def split_by_k(frame: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """The probe's frame split by each item's number of choices (positions per prompt), k ascending."""
    k = frame.groupby(C.ITEM_ID, sort=False)[C.POSITION].transform("max").to_numpy(int) + 1
    return {int(v): frame[k == v] for v in np.unique(k)}


def pooled(parts: Sequence[Parts]) -> float | None:
    """sum(values) / sum(weights) over the parts of every k (None when there are no items).

    >>> pooled([(np.array([3, 1]), np.array([4, 4])), (np.array([5]), np.array([5]))])
    0.6923076923076923
    """
    values = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    weights = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    return float(values.sum() / weights.sum()) if weights.sum() > 0 else None


def pooled_interval(parts: Sequence[Parts], *, n_boot: int, seed: int = 0, level: float = 0.95) -> list[float]:
    """Percentile bootstrap interval of :func:`pooled`, resampling items of every k together."""
    values = np.concatenate([p[0] for p in parts]).astype(float)
    weights = np.concatenate([p[1] for p in parts]).astype(float)
    idx = np.random.default_rng(seed).integers(0, len(values), size=(n_boot, len(values)))
    with np.errstate(invalid="ignore", divide="ignore"):
        est = values[idx].sum(axis=1) / weights[idx].sum(axis=1)
    lo, hi = np.nanpercentile(est, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return [float(lo), float(hi)]


def pooled_summary(per_k: Mapping[str, dict], parts: Mapping[str, list[Parts]], *, n_boot: int,
                   seed: int = 0) -> dict:
    """The summary of items with several k: the keys of one k's summary, None where a metric exists per
    k only; ``parts[name]`` holds each k's (values, weights) of the pooled metrics."""
    first = next(iter(per_k.values()))
    out: dict = dict.fromkeys(first)
    out.update(n_items=sum(s["n_items"] for s in per_k.values()),
               n_gold_items=sum(s["n_gold_items"] for s in per_k.values()),
               n_prompts=sum(s["n_prompts"] for s in per_k.values()), ks=sorted(int(k) for k in per_k))
    for name, p in parts.items():
        out[name] = pooled(p)
    out["ci95"] = {name: pooled_interval(p, n_boot=n_boot, seed=seed) for name, p in parts.items()
                   if n_boot and out[name] is not None}
    out["notes"] = [f"items have {', '.join(str(k) for k in out['ks'])} choices: {', '.join(parts)} pool over all "
                    "of them; position metrics are per number of choices (by_k)"]
    return out


def grouped(frame: pd.DataFrame, by: Sequence[str], summarize: Callable[[pd.DataFrame], dict]) -> list[dict]:
    """One record per group of ``by`` (missing values are a group of their own): the group's values of
    ``by`` and ``summarize`` of its rows."""
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise KeyError(f"cannot group by {missing}: no such column(s); the frame's metadata columns are "
                       f"{C.metadata_columns(frame)}")
    records = []
    for key, rows in frame.groupby(list(by), sort=True, dropna=False):
        values = {col: (None if pd.isna(v) else v) for col, v in zip(by, key)}
        records.append({**values, **summarize(rows)})
    return records


def group_table(summary: dict, metrics: Sequence[str] = ("n_items", "accuracy", "order_avg_accuracy",
                                                         "consistency")) -> pd.DataFrame:
    """The summary's groups (``summarize_permutation(..., by=[...])``) as a table: one row per group,
    the ``by`` columns then ``metrics`` (None where a group lacks one)."""
    by = summary.get("by") or []
    rows = [{**{c: g[c] for c in by}, **{m: g.get(m) for m in metrics}} for g in summary.get("groups") or []]
    return pd.DataFrame(rows, columns=[*by, *metrics])


def summarize_permutation(data: Data, *, by: Sequence[str] = (), n_boot: int = 1000, seed: int = 0,
                          pride_share: float = 0.05) -> dict:
    """Every metric in one JSON-ready dict, with bootstrap 95% intervals (``ci95``) over items.

    ``by_k``: for each number of choices (as a string), that k's full summary (:func:`summarize_k`).
    With one k the top level is that summary; with several, the top level keeps the same keys,
    holding the pooled metrics (``POOLED_METRICS``: accuracy over all prompts, consistency,
    order-averaged and circular accuracy over all items) and None for the metrics that exist per k only.
    ``by``: metadata (or any) columns; adds ``by`` and ``groups``, one record per group with the
    group's values and its own summary. ``n_boot=0`` skips the intervals.

    >>> s = summarize_permutation(example_frame(), n_boot=0)
    >>> s["accuracy"], s["order_avg_accuracy"], s["pride_accuracy"], s["circular_accuracy"], list(s["by_k"])
    (0.5, 1.0, 1.0, 0.0, ['2'])
    """
    if isinstance(data, pd.DataFrame) and data.empty:
        raise NoItemsError("no items: summarize_permutation was given no rows")
    return _summarize(data, by, dict(n_boot=n_boot, seed=seed, pride_share=pride_share), warn=True)


def _summarize(data: Data, by: Sequence[str], options: dict, *, warn: bool) -> dict:
    """:func:`summarize_permutation`; ``warn``: say once when intervals rest on few items (groups say it in
    their notes, the call once for all of them)."""
    n_boot = options["n_boot"]
    if by:
        if isinstance(data, PermutationArrays):
            raise ExplorerError("grouping needs the probe's frame (with its metadata columns), not arrays")
        out = _summarize(data, (), options, warn=warn)
        out["by"] = list(by)
        out["groups"] = grouped(data, by, lambda rows: _summarize(rows, (), options, warn=False))
        small = [g for g in out["groups"] if n_boot and g["n_items"] < MIN_INTERVAL_ITEMS]
        if small and warn:
            warnings.warn(f"summarize_permutation: {len(small)} of {len(out['groups'])} groups have fewer than "
                          f"{MIN_INTERVAL_ITEMS} items (fewest: {min(g['n_items'] for g in small)}); their ci95 are "
                          "too narrow to trust (see each group's notes)", SmallSampleWarning, stacklevel=3)
        return out
    if isinstance(data, PermutationArrays) or data.empty:
        arrays = {permutation_arrays(data).k: permutation_arrays(data)}
    else:
        arrays = {k: permutation_arrays(rows) for k, rows in split_by_k(data).items()}
    per_k = {str(k): summarize_k(a, **options) for k, a in arrays.items()}
    if len(per_k) == 1:
        out = dict(next(iter(per_k.values())))
    else:
        parts = {name: [_parts(a, name, fn) for a in arrays.values()] for name, fn in POOLED_METRICS.items()
                 if all(s[name] is not None for s in per_k.values())}  # circular accuracy needs every k's shifts
        out = pooled_summary(per_k, {name: [p for p in ps if len(p[0])] for name, ps in parts.items()},
                             n_boot=n_boot, seed=options["seed"])
    out["by_k"] = per_k
    note = interval_note(out["n_items"]) if n_boot else None
    if note is not None:
        if warn:
            warnings.warn(f"summarize_permutation: {note}", SmallSampleWarning, stacklevel=3)
        if len(per_k) > 1:
            out.setdefault("notes", []).append(f"ci95: {note}")
    return out


def _parts(a: PermutationArrays, name: str, fn: Callable[[PermutationArrays], Parts]) -> Parts:
    """A pooled metric's per-item parts for one k: over the items with gold for accuracy-type metrics."""
    if name in GOLD_METRICS or name == "circular_accuracy":
        a = a.take(np.flatnonzero(a.gold >= 0))
    return fn(a) if len(a.item_ids) else (np.zeros(0), np.zeros(0))


def summarize_k(data: Data, *, n_boot: int = 1000, seed: int = 0, pride_share: float = 0.05) -> dict:
    """The summary of items with one number of choices k, bootstrap 95% intervals (``ci95``) over items.

    Accuracy-type values use only the items with gold (``n_gold_items``; ``None`` when there are none);
    ``pride_*`` and ``circular_accuracy`` are ``None`` when the orders lack the cyclic shifts (or, PriDe,
    too few items have gold);
    ``notes`` says why. ``n_boot=0`` skips the intervals.

    >>> summarize_k(example_frame(), n_boot=0)["n_prompts"]
    4
    """
    a = permutation_arrays(data)
    chi2, chi2_p = chi2_positions(a)
    out: dict = {"n_items": len(a.item_ids), "n_orders": len(a.orders), "n_prompts": len(a.item_ids) * len(a.orders),
                 "k": a.k, "ks": [a.k], "labels": list(a.labels),
                 "orders": list(a.orders), "mean_prob_by_position": position_response(a).tolist(),
                 "position_share": position_share(a).tolist(), "chi2": chi2, "chi2_p": chi2_p,
                 **{name: fn(a) for name, fn in POSITION_METRICS.items()}}
    notes: list[str] = []
    has_gold = np.flatnonzero(a.gold >= 0)
    g = a.take(has_gold) if len(has_gold) else None
    out["n_gold_items"] = len(has_gold)
    if g is None:
        notes.append("no item has a gold answer: accuracy-type metrics are None")
    elif len(has_gold) < len(a.item_ids):
        notes.append(f"accuracy-type metrics use the {len(has_gold)} of {len(a.item_ids)} items that have gold")
    for name, fn in GOLD_METRICS.items():
        out[name] = fn(g) if g is not None else None
    out["accuracy_by_order"] = accuracy_by_order(g).to_dict() if g is not None else None
    out["recall_by_position"] = recall_by_position(g).tolist() if g is not None else None
    out["order_q"], out["order_q_p"] = order_symmetry_test(g) if g is not None else (None, None)
    out["circular_accuracy"] = None
    if g is not None:
        try:
            out["circular_accuracy"] = circular_accuracy(g)
        except ExplorerError as e:
            notes.append(f"circular accuracy not computed: {e}")
    out["pride_accuracy"] = out["pride_accuracy_before"] = out["pride_prior"] = out["pride_items"] = None
    if g is not None:
        try:
            pr = pride(g, share=pride_share, seed=seed)
            out.update(pride_accuracy=pr["accuracy"], pride_accuracy_before=pr["accuracy_before"],
                       pride_prior=pr["prior"].tolist(), pride_items=list(pr["estimation_items"]))
        except ExplorerError as e:
            notes.append(f"PriDe not computed: {e}")
    out["ci95"] = {}
    small = interval_note(len(a.item_ids)) if n_boot else None
    if small is not None:
        notes.append(f"ci95: {small}")
    if n_boot and len(a.item_ids) < 2:
        out["ci95"] = {name: None for name in (*POSITION_METRICS, *(GOLD_METRICS if g is not None else ()))}
    elif n_boot:
        metrics = {**POSITION_METRICS, **(GOLD_METRICS if g is not None else {})}
        for name, fn in metrics.items():
            out["ci95"][name] = list(bootstrap_ci(g if name in GOLD_METRICS else a, fn, n_boot=n_boot, seed=seed))
        if out["circular_accuracy"] is not None:
            out["ci95"]["circular_accuracy"] = list(bootstrap_ci(g, circular_accuracy, n_boot=n_boot, seed=seed))
    out["notes"] = notes
    return out

