"""Calibration of any multiple-choice probe's output, by condition.

Input: a choice-level frame (:data:`explorer.columns.CHOICE_COLUMNS`, as from ``score_choices``,
the permutation probe, ...; extra condition columns such as ``order_id`` are kept). Each scored
prompt becomes one prediction: confidence = probability of the predicted choice (``prob_norm``,
renormalised over the choices, or the raw ``prob``), correct = the prediction is the gold choice.
Metrics are computed per group of any columns (format, shots, order_id, answer = gold position,
intervention, condition, ...). Also: cross-fitted recalibration per group, and comparisons before
and after order-debiasing and before and after an intervention.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import ItemError, NoItemsError
from explorer.metrics.recalibration import (cross_fit_platt, cross_fit_temperature, platt_at_bound,
                                            temperature_at_bound)
from explorer.metrics.reliability import Strategy, assign_bins, bin_edges, reliability_curve
from explorer.metrics.scores import balance_score, brier_top, selective_auc
from explorer.metrics.small import MIN_INTERVAL_ITEMS, warn_small
from explorer.metrics.smooth import smooth_ece_interval, smooth_reliability

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

CONFIDENCE_SOURCES = (C.PROB_NORM, C.PROB)
PROMPT_KEYS = [C.ITEM_ID, C.FORMAT, C.SHOTS, C.SEED, C.INTERVENTION, C.CONDITION, C.PROMPT]


def prompt_keys(frame: pd.DataFrame, by: Sequence[str] = ()) -> list[str]:
    """Columns that identify one scored prompt: the standard keys present, plus ``by``."""
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise KeyError(f"cannot group by {missing}: the frame has no such column(s); it has {list(frame.columns)}")
    keys = [c for c in PROMPT_KEYS if c in frame.columns]
    return keys + [c for c in by if c not in keys]


def option_matrix(frame: pd.DataFrame, keys: Sequence[str], value: str, *, carry: Sequence[str] = ()
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(one key row per prompt, values [n_prompts, k_max] by position (NaN pads), gold position per prompt).
    ``carry``: more columns, constant within a prompt (the items' metadata), kept in the key rows."""
    gid = frame.groupby(list(keys), sort=False, dropna=False).ngroup().to_numpy()
    pos = frame[C.POSITION].to_numpy(dtype=int)
    twice = pd.DataFrame({"prompt": gid, "position": pos}).duplicated().to_numpy()
    if twice.any():
        raise ItemError(str(frame[C.ITEM_ID].to_numpy()[int(np.argmax(twice))]), "id", "two rows of this item's "
                        "prompt hold the same position: two items share the id and the prompt",
                        "give every item its own id (or drop the repeated item)")
    values = np.full((gid.max() + 1, pos.max() + 1), np.nan)
    values[gid, pos] = frame[value].to_numpy(dtype=float)
    gold = np.full(gid.max() + 1, -1)
    is_gold = frame[C.IS_GOLD].fillna(False).to_numpy(dtype=bool)
    gold[gid[is_gold]] = pos[is_gold]
    first = ~pd.Series(gid).duplicated().to_numpy()
    heads = frame.loc[first, [*keys, *[c for c in carry if c not in keys]]].reset_index(drop=True)
    if np.any(gold < 0):
        item = heads.iloc[int(np.flatnonzero(gold < 0)[0])][C.ITEM_ID]
        raise ItemError(str(item), "answer", "the item has no gold answer, so correctness is unknown",
                        "give every item an answer, or drop items without one before measuring calibration")
    return heads, values, gold


def predictions(heads: pd.DataFrame, probs: np.ndarray, gold: np.ndarray, choices: np.ndarray | None = None
                ) -> pd.DataFrame:
    """The per-prompt frame from option probabilities [n, k_max] and gold positions."""
    pred = np.nanargmax(probs, axis=1)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(gold)), gold] = 1.0
    out = heads.copy()
    out[C.K] = np.sum(~np.isnan(probs), axis=1)
    out[C.PRED] = pred
    out[C.ANSWER] = gold
    out[C.CONFIDENCE] = probs[np.arange(len(pred)), pred]
    out[C.CORRECT] = pred == gold
    out[C.OPTION_BRIER] = np.nansum((probs - onehot) ** 2, axis=1)
    if choices is not None:
        out[C.PRED_CHOICE] = choices[np.arange(len(pred)), pred]
    out[C.CHOICE_PROBS] = [tuple(float(x) for x in row[~np.isnan(row)]) for row in probs]
    return out


def item_confidence(frame: pd.DataFrame, *, by: Sequence[str] = (), prob: str = C.PROB_NORM) -> pd.DataFrame:
    """One row per scored prompt: its keys, ``by`` columns, the items' metadata columns, k, pred, answer,
    confidence, correct, option_brier, pred_choice and choice_probs (probabilities by position)."""
    if prob not in CONFIDENCE_SOURCES:
        raise ValueError(f"prob must be one of {CONFIDENCE_SOURCES} (renormalised or raw), got {prob!r}")
    if frame.empty:
        raise NoItemsError("no items: item_confidence was given a choice frame without rows")
    keys = prompt_keys(frame, by)
    heads, probs, gold = option_matrix(frame, keys, prob, carry=C.metadata_columns(frame))
    gid = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    choices = np.full(probs.shape, "", dtype=object)
    choices[gid, frame[C.POSITION].to_numpy(dtype=int)] = frame[C.CHOICE].to_numpy()
    return predictions(heads, probs, gold, choices)


def _groups(items: pd.DataFrame, by: Sequence[str]):
    missing = [c for c in by if c not in items.columns]
    if missing:
        raise KeyError(f"cannot group by {missing}: no such column(s); the columns are {list(items.columns)}")
    if not by:
        yield (), items
        return
    for key, g in items.groupby(list(by), sort=True, dropna=False):
        yield key, g


def summarize(items: pd.DataFrame, *, by: Sequence[str] = (), n_bins: int = 10,
              strategy: Strategy = "uniform", n_boot: int = 200, seed: int = 0, warn: bool = True) -> pd.DataFrame:
    """One row per group: :data:`explorer.columns.SUMMARY_METRICS` of its predictions; ``smece`` with a
    percentile bootstrap 95% interval from ``n_boot`` resamples (0: no interval). A group of fewer than
    10 predictions gets one warning for the table (``warn=False``: none); of one, NaN bounds."""
    if items.empty:
        raise NoItemsError("no predictions: summarize was given no rows")
    rows = []
    for key, g in _groups(items, by):
        c, y = g[C.CONFIDENCE].to_numpy(float), g[C.CORRECT].to_numpy(float)
        event = g[C.EVENT].fillna(False).to_numpy(bool) if C.EVENT in g else None
        r = reliability_curve(c, y, n_bins=n_bins, strategy=strategy)
        gap = np.abs(r.gap)
        rows.append({**dict(zip(by, key)), C.N: len(g), C.ACCURACY: y.mean(), C.MEAN_CONFIDENCE: c.mean(),
                     C.ECE: float(np.sum(r.count / r.count.sum() * gap)), C.MCE: float(gap.max()),
                     C.BRIER: float(g[C.OPTION_BRIER].mean()), C.BRIER_TOP: brier_top(c, y),
                     C.BALANCE: balance_score(c, y, event=event), C.SELECTIVE_AUC: selective_auc(c, y),
                     **dict(zip((C.SMECE, C.SMECE_LOW, C.SMECE_HIGH),
                                smooth_ece_interval(c, y, n_boot=n_boot, seed=seed, warn=False)))})
    table = pd.DataFrame(rows, columns=[*by, *C.SUMMARY_METRICS])
    if warn and n_boot > 0 and table[C.N].min() < MIN_INTERVAL_ITEMS:
        warn_small(int(table[C.N].min()), "predictions",
                   where=f"calibration summary, {int((table[C.N] < MIN_INTERVAL_ITEMS).sum())} of {len(table)} groups")
    return table


def reliability_frame(items: pd.DataFrame, *, by: Sequence[str] = (), n_bins: int = 10,
                      strategy: Strategy = "uniform") -> pd.DataFrame:
    """One row per group x non-empty bin: :data:`explorer.columns.RELIABILITY_COLUMNS`."""
    parts = []
    for key, g in _groups(items, by):
        r = reliability_curve(g[C.CONFIDENCE], g[C.CORRECT].astype(float), n_bins=n_bins, strategy=strategy)
        part = pd.DataFrame({C.BIN: r.bin, C.BIN_LOW: r.lower, C.BIN_HIGH: r.upper, C.COUNT: r.count,
                             C.CONFIDENCE: r.confidence, C.ACCURACY: r.accuracy, C.GAP: r.gap})
        for col, value in zip(by, key):
            part[col] = value
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[[*by, *C.RELIABILITY_COLUMNS]]


def smooth_reliability_frame(items: pd.DataFrame, *, by: Sequence[str] = (), n_boot: int = 100,
                             seed: int = 0) -> pd.DataFrame:
    """One row per group x mesh point: the smoothed reliability curve with its bootstrap band
    (:data:`explorer.columns.SMOOTH_RELIABILITY_COLUMNS` and the group's ``smece``), from relplot."""
    parts = []
    for key, g in _groups(items, by):
        part = smooth_reliability(g[C.CONFIDENCE].to_numpy(float), g[C.CORRECT].to_numpy(float), n_boot=n_boot,
                                  seed=seed)
        parts.append(part.assign(**dict(zip(by, key))))
    return pd.concat(parts, ignore_index=True)[[*by, *C.SMOOTH_RELIABILITY_COLUMNS, C.SMECE]]


def with_bins(items: pd.DataFrame, *, by: Sequence[str] = (), n_bins: int = 10,
              strategy: Strategy = "uniform") -> pd.DataFrame:
    """``items`` with a ``bin`` column: each prediction's bin under its group's edges."""
    out = items.copy()
    out[C.BIN] = -1
    for _, g in _groups(items, by):
        edges = bin_edges(g[C.CONFIDENCE].to_numpy(float), n_bins, strategy)
        out.loc[g.index, C.BIN] = assign_bins(g[C.CONFIDENCE].to_numpy(float), edges)
    return out


def recalibrated(frame: pd.DataFrame, method: str = "temperature", *, by: Sequence[str] = (), folds: int = 5,
                 seed: int = 0, prob: str = C.PROB_NORM, keep: Sequence[str] = ()) -> pd.DataFrame:
    """:func:`item_confidence` after cross-fitted recalibration, fitted within each group of ``by``.

    ``temperature``: softmax(logprob / T) over the options (T per fold; renormalised whatever
    ``prob`` says); ``platt``: the top-label confidence through sigmoid(a logit(c) + b), which
    leaves the other options undefined, so ``option_brier`` is NaN; ``none``: as scored.
    The median fitted T per group is in ``temperature`` (Platt: a, b in ``platt_a``, ``platt_b``);
    ``at_bound`` says whether a fold's fit ended at its search bound (with a warning). Groups smaller than
    ``folds`` use as many folds as they have predictions (at least 2). ``keep``: more per-prompt
    columns to carry into the result (e.g. ``order_id``) without fitting within them.
    """
    carried = [*by, *[c for c in keep if c not in by]]
    items = item_confidence(frame, by=carried, prob=prob)
    if method == "none":
        return items
    if method not in ("temperature", "platt"):
        raise ValueError(f"unknown recalibration {method!r}; choose 'none', 'temperature' or 'platt'")
    heads, logits, gold = option_matrix(frame, prompt_keys(frame, carried), C.LOGPROB,
                                        carry=C.metadata_columns(frame))
    parts = []
    for _, g in _groups(items.assign(_row=np.arange(len(items))), by):
        rows = g["_row"].to_numpy()
        k = min(folds, len(rows))
        if k < 2:
            raise ValueError(f"group {g[list(by)].iloc[0].tolist()} has {len(rows)} prediction(s); cross-fitted "
                             "recalibration needs at least 2")
        if method == "temperature":
            probs, temps = cross_fit_temperature(logits[rows], gold[rows], folds=k, seed=seed)
            part = predictions(heads.iloc[rows].reset_index(drop=True), probs, gold[rows])
            part[C.PRED_CHOICE] = g[C.PRED_CHOICE].to_numpy()
            part[C.TEMPERATURE] = float(np.median(temps))
            part[C.AT_BOUND] = any(temperature_at_bound(t) for t in temps)
            part["_row"] = rows
        else:
            conf, params = cross_fit_platt(g[C.CONFIDENCE], g[C.CORRECT].astype(float), folds=k, seed=seed)
            part = g.assign(**{C.CONFIDENCE: conf, C.OPTION_BRIER: np.nan, C.PLATT_A: float(np.median(params[:, 0])),
                               C.PLATT_B: float(np.median(params[:, 1])),
                               C.AT_BOUND: any(platt_at_bound(p) for p in params)})
        parts.append(part.reset_index(drop=True))
    out = pd.concat(parts, ignore_index=True).sort_values("_row", ignore_index=True)
    extra = [C.TEMPERATURE, C.AT_BOUND] if method == "temperature" else [C.PLATT_A, C.PLATT_B, C.AT_BOUND]
    return out[[*items.columns, *extra]]


def debias_orders(frame: pd.DataFrame, *, keep: Sequence[str] = (C.FORMAT, C.SHOTS, C.INTERVENTION)) -> pd.DataFrame:
    """Content-level probabilities averaged over option orders: one prompt per item (x ``keep``).

    prob_norm(item, choice) = mean over the orders of prob_norm of that choice (wherever it was
    shown); likewise prob. The result is a choice frame with position = choice_index,
    logprob = log(mean prob_norm), prompt "mean over N orders", ``n_orders`` and the items' metadata columns.
    """
    keys = [C.ITEM_ID, *[c for c in keep if c in frame.columns]]
    meta = [c for c in C.metadata_columns(frame) if c not in keys]
    g = frame.groupby([*keys, C.CHOICE_INDEX], sort=False, dropna=False)
    out = g.agg(**{C.PROB_NORM: (C.PROB_NORM, "mean"), C.PROB: (C.PROB, "mean"), C.CHOICE: (C.CHOICE, "first"),
                   C.IS_GOLD: (C.IS_GOLD, "first"), C.K: (C.K, "first"), C.SEED: (C.SEED, "first"),
                   C.N_ORDERS: (C.PROMPT, "nunique"), **{c: (c, "first") for c in meta}}).reset_index()
    texts = frame.groupby([C.ITEM_ID, C.CHOICE_INDEX], sort=False)[C.CHOICE].nunique()
    if texts.gt(1).any():
        item = texts[texts.gt(1)].index[0][0]
        raise ItemError(str(item), "id", "its orders show different texts for one original choice: two different "
                        "items share this id", "give every item its own id before averaging over orders")
    if g[C.IS_GOLD].nunique(dropna=False).gt(1).any():
        raise ValueError("the gold answer differs between orders of one item; were the orders' frames mixed up?")
    out[C.POSITION] = out[C.CHOICE_INDEX]
    out[C.LABEL] = ""
    out[C.TARGET] = out[C.CHOICE]
    out[C.LOGPROB] = np.log(out[C.PROB_NORM])
    out[C.N_TOKENS] = 0
    out[C.PROMPT] = "mean over " + out.groupby(keys, sort=False)[C.N_ORDERS].transform("max").astype(str) + " orders"
    best = out.groupby(keys, sort=False)[C.PROB_NORM].transform("max")
    out[C.IS_PRED] = out[C.PROB_NORM] == best
    for col in (C.FORMAT, C.SHOTS, C.INTERVENTION):
        if col not in out.columns:
            out[col] = frame[col].iloc[0] if col in frame.columns else ""
    return out[[*C.CHOICE_COLUMNS, C.N_ORDERS, *meta]]


def compare_debiasing(frame: pd.DataFrame, *, order_column: str = C.ORDER_ID, prob: str = C.PROB_NORM,
                      keep: Sequence[str] = (C.FORMAT, C.SHOTS, C.INTERVENTION)) -> pd.DataFrame:
    """Per-prompt predictions before (each order on its own, condition "orders") and after
    order-debiasing (condition "debiased"); summarise with ``summarize(..., by=["condition"])``."""
    if order_column not in frame.columns:
        raise KeyError(f"the frame has no {order_column!r} column; pass order_column= naming the order column")
    before = item_confidence(frame, by=[order_column, *[c for c in keep if c in frame.columns]], prob=prob)
    after = item_confidence(debias_orders(frame, keep=keep), prob=prob)
    return pd.concat([before.assign(**{C.CONDITION: "orders"}), after.assign(**{C.CONDITION: "debiased"})],
                     ignore_index=True)


def compare_intervention(model: LoadedModel, score: Callable[..., pd.DataFrame],
                         intervention: Callable[[], AbstractContextManager], *,
                         labels: tuple[str, str] = ("baseline", "intervention"), **score_kwargs) -> pd.DataFrame:
    """The choice frames of ``score(model, **score_kwargs)`` without and inside ``intervention()``,
    concatenated with a ``condition`` column (e.g. ``score=score_choices``,
    ``intervention=lambda: scale_heads(model, {(12, 3): 0.0})``).

    When the context manager does not announce itself through ``model.intervention`` (the
    model's ``state_key`` is unchanged inside it), the inside run is scored with ``cache=None``
    so that results cached without the intervention are never served for it.
    """
    before = score(model, **score_kwargs)
    state = model.state_key()
    with intervention():
        kwargs = dict(score_kwargs)
        if model.state_key() == state:
            kwargs["cache"] = None
        after = score(model, **kwargs)
    return pd.concat([before.assign(**{C.CONDITION: labels[0]}), after.assign(**{C.CONDITION: labels[1]})],
                     ignore_index=True)
