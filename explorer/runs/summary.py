"""A run's summary from its frame, every number from the engine's own metric functions.

- ``calibration``: :func:`explorer.probes.calibration.summarize` of the per-prompt predictions
  (confidence = renormalised probability of the predicted choice): ECE, smooth ECE, Brier, selective AUC...
- ``positions`` (tasks scored as labels): :func:`explorer.metrics.summarize_permutation` of the run's one
  order: the share of predictions at each position, recall by gold position, RStd, A-bias (an Inspect order
  study adds consistency, order-averaged accuracy and accuracy by order).
- ``attentiveness`` (the same tasks): :func:`explorer.metrics.summarize_attentiveness`: PMA (the mass on
  the labels), the share the SFC bound resolves, how often the greedy token is no label.
- ``chain``: :func:`explorer.metrics.summarize_chain` (one condition: the run).
- ``reported``: per task, the run's own ``acc`` (``acc_norm``, ``acc_mutual_info``) beside the same metric
  recomputed from its log-likelihoods (lm-eval's definitions: argmax, argmax of logprob / characters,
  argmax of logprob - unconditional logprob).

Each block also comes per task (``by_task``) and, where questions carry one, per subject (``by_subject``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.metrics.attentiveness import summarize_attentiveness
from explorer.metrics.chain_summary import summarize_chain
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.calibration import item_confidence, summarize
from explorer.runs.record import LETTERS
from explorer.runs.views import chain_frame, letters, prompt_rows

POSITION_KEYS = ("n_items", "k", "labels", "mean_prob_by_position", "position_share", "recall_by_position", "rstd",
                 "a_bias", "chi2", "chi2_p", "accuracy")
ORDER_KEYS = ("n_orders", "orders", "consistency", "order_avg_accuracy", "accuracy_by_order")  # an order study
ATTENTIVENESS_KEYS = ("n_items", "pma_mean", "pma_mean_lo", "pma_mean_hi", "resolved_share", "invalid_share",
                      "accuracy")
REPRODUCED = {"acc": C.CORRECT, "acc_norm": C.CORRECT_NORM, "acc_mutual_info": C.CORRECT_PMI}


def summarize_run(frame: pd.DataFrame, *, logged: Mapping[str, Mapping[str, float]] | None = None,
                  n_bins: int = 10, n_boot: int = 100, seed: int = 0) -> dict:
    """JSON-ready summary of one run frame (see the module docstring). ``logged``: the run's own metrics per
    task (``RunLog.logged``; default: the frame's ``attrs["logged"]``), compared with the recomputed ones. ``n_boot`` resamples give the 95%
    intervals of the whole run's smooth ECE and PMA (groups get none, to stay fast)."""
    attrs = dict(frame.attrs)
    logged = logged if logged is not None else attrs.get("logged")
    frame = frame.copy(deep=False)
    frame.attrs = {}  # pandas deep-copies attrs into every intermediate frame: seconds on a whole MMLU run
    rows = prompt_rows(frame)
    items = item_confidence(frame, by=[c for c in (C.ORDER_ID,) if c in frame])
    tasks = list(dict.fromkeys(frame[C.TASK])) if C.TASK in frame else []
    out: dict = {"model": attrs.get("model"), "source": attrs.get("source"),
                 "path": attrs.get("path"), "tasks": tasks, "n_items": int(frame[C.ITEM_ID].nunique()),
                 "n_prompts": len(rows), "formats": sorted(set(rows[C.FORMAT])),
                 "accuracy": float(rows[C.CORRECT].astype(float).mean())}
    notes = out["notes"] = list(attrs.get("notes") or [])
    scored = attrs.get("logprobs", True)  # False: an Inspect log without log-probabilities
    out["calibration"] = _calibration(items, (), n_bins=n_bins, n_boot=n_boot, seed=seed)[0] if scored else None
    out["positions"] = position_summary(frame)
    attentive = attentive_rows(rows)
    out["attentiveness"] = _attentiveness(attentive, (), n_boot=n_boot, seed=seed) if scored else None
    single = frame[C.ORDER_ID].nunique() == 1
    out["chain"] = summarize_chain(chain_frame({str(attrs.get("model", "run")): frame})) \
        if single and scored else None
    if not scored:
        notes.append("the log holds the answers but no log-probabilities: calibration, PMA and the chain need them "
                     "(Inspect: eval(..., logprobs=True, top_logprobs=20))")
    elif len(attentive) < (rows[C.FORMAT] == LETTERS).sum():
        notes.append("PMA and the SFC bound are left out where the log does not say whether the greedy token is a "
                     "label (Inspect logs)")
    out["reported"] = reported(rows, logged or {})
    for name, by in (("by_task", C.TASK), ("by_subject", C.SUBJECT)):
        if by in frame and frame[by].astype(str).str.len().gt(0).any() and frame[by].nunique() > 1:
            same = by == C.SUBJECT and "by_task" in out and one_to_one(frame, C.TASK, C.SUBJECT)
            out[name] = relabelled(out["by_task"], frame, C.TASK, C.SUBJECT) if same else grouped(
                frame, items, attentive, by, n_bins=n_bins, scored=scored)
    return out


def one_to_one(frame: pd.DataFrame, a: str, b: str) -> bool:
    """Whether columns ``a`` and ``b`` group the rows alike (one subject per task and one task per subject, as
    lm-eval's mmlu_<subject> tasks do): then the groups' summaries are computed once."""
    pairs = frame[[a, b]].drop_duplicates()
    return bool(pairs[a].is_unique and pairs[b].is_unique)


def relabelled(records: list[dict], frame: pd.DataFrame, a: str, b: str) -> list[dict]:
    """Group records of column ``a`` as those of ``b`` (see :func:`one_to_one`)."""
    names = dict(frame[[a, b]].drop_duplicates().itertuples(index=False, name=None))
    return [{b: names[r[a]], **{k: v for k, v in r.items() if k != a}} for r in records]


def attentive_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The prompt rows the attentiveness summary reads: label tasks whose log says whether the greedy token
    is a label (lm-eval's is_greedy)."""
    return rows[(rows[C.FORMAT] == LETTERS) & rows[C.GREEDY_VALID].notna()]


def reported(rows: pd.DataFrame, logged: Mapping[str, Mapping[str, float]]) -> dict:
    """Per task: each metric the run reported (``logged``) beside the same metric recomputed from the
    log-likelihoods (``reproduced``; None for a metric this reader cannot recompute, such as an Inspect
    scorer's accuracy, which counts answers in the wrong format as wrong)."""
    out = {}
    for task, g in rows.groupby(C.TASK, sort=False):
        theirs, entry = dict(logged.get(task) or {}), {}
        for metric, column in REPRODUCED.items():
            values = g[column]
            mine = None if values.isna().any() else float(values.astype(float).mean())
            if mine is not None or metric in theirs:
                entry[metric] = {"logged": theirs.pop(metric, None), "reproduced": mine}
        entry.update({metric: {"logged": value, "reproduced": None} for metric, value in theirs.items()})
        out[str(task)] = entry
    return out


def grouped(frame: pd.DataFrame, items: pd.DataFrame, attentive: pd.DataFrame, by: str, *, n_bins: int,
            scored: bool = True) -> list[dict]:
    """One record per group of ``by``: the calibration scores, and positions and PMA where it has label tasks."""
    calibration = {r[by]: r for r in _calibration(items, (by,), n_bins=n_bins, n_boot=0, seed=0)} if scored else {}
    positions = summarize_permutation(letters(frame), by=[by], n_boot=0)["groups"] if len(letters(frame)) else []
    positions = {g[by]: _pick(g, POSITION_KEYS) for g in positions}
    att = _attentiveness(attentive, (by,), n_boot=0, seed=0) if scored else None
    att = {r[by]: {k: v for k, v in r.items() if k != by} for r in att} if isinstance(att, list) else {}
    return [{by: key, "n_items": int(frame.loc[frame[by] == key, C.ITEM_ID].nunique()),
             "accuracy": float(items.loc[items[by] == key, C.CORRECT].mean()),
             "calibration": {k: v for k, v in calibration[key].items() if k != by} if key in calibration else None,
             "positions": positions.get(key), "attentiveness": att.get(key)}
            for key in dict.fromkeys(frame[by])]


def _calibration(items: pd.DataFrame, by: Sequence[str], *, n_bins: int, n_boot: int, seed: int) -> list[dict]:
    table = summarize(items, by=by, n_bins=n_bins, n_boot=n_boot, seed=seed)
    return [_json(r) for r in table.to_dict("records")]


def position_summary(frame: pd.DataFrame) -> dict | None:
    """Per number of choices (as a string), the position metrics of a frame's label tasks (None without any)."""
    frame = letters(frame)
    if frame.empty:
        return None
    summary = summarize_permutation(frame, n_boot=0)
    return {k: _pick(s, POSITION_KEYS + (ORDER_KEYS if s["n_orders"] > 1 else ())) for k, s in summary["by_k"].items()}


def _attentiveness(rows: pd.DataFrame, by: Sequence[str], *, n_boot: int, seed: int) -> dict | list | None:
    if rows.empty:
        return None
    table = summarize_attentiveness(rows, by=by, n_boot=n_boot, seed=seed)
    records = [_json({k: r[k] for k in (*by, *ATTENTIVENESS_KEYS) if k in r}) for r in table.to_dict("records")]
    if by:
        return records
    return records[0] if len(records) == 1 else {f"{r['format']} · {r['shots']}-shot": r for r in
                                                 [_json(x) for x in table.to_dict("records")]}


def _pick(summary: Mapping, keys: Sequence[str]) -> dict:
    return _json({k: summary.get(k) for k in keys})


def _json(record: Mapping) -> dict:
    """NaN as None, numpy scalars as Python numbers."""
    out = {}
    for k, v in record.items():
        if isinstance(v, (np.floating, float)):
            v = None if not np.isfinite(v) else float(v)
        elif isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, list):
            v = [None if isinstance(x, float) and not np.isfinite(x) else x for x in v]
        out[str(k)] = v
    return out
