"""The frames the metric functions read, cut from a run frame (:mod:`explorer.runs.frame`); nothing is
recomputed that a probe's frame would not hold.

- the frame itself is a choice frame (``explorer.probes.calibration.item_confidence``) and, for the
  letters tasks, a permutation frame with one order (``summarize_permutation``: position shares, recall
  by gold position, RStd);
- :func:`prompt_rows`: one row per prompt in the attentiveness probe's columns that a log determines
  (PMA, the SFC bound, lm-eval's ``acc_norm`` and ``acc_mutual_info`` predictions, whether the greedy
  token is a label), for ``summarize_attentiveness``;
- :func:`chain_frame`: the quantity chain of one or more runs, each run a condition (``summarize_chain``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.metrics.attentiveness import pmi_scores, sfc_resolved
from explorer.probes.calibration import option_matrix, prompt_keys
from explorer.probes.chain import chain_rows
from explorer.runs.record import LETTERS

PROMPT_COLUMNS = [C.ITEM_ID, C.ORDER_ID, C.FORMAT, C.SHOTS, C.SEED, C.K, C.ANSWER, C.PMA, C.P1, C.P2, C.RESOLVED,
                  C.GREEDY_VALID, C.PRED, C.CORRECT, C.PRED_PMI, C.CORRECT_PMI, C.PRED_NORM, C.CORRECT_NORM,
                  C.CHOICE_PROBS, C.CHOICE_CHARS, C.INTERVENTION, C.PROMPT]


def letters(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the tasks whose scored strings are labels (where positions and PMA mean what they say)."""
    return frame[frame[C.FORMAT] == LETTERS]


def _keys(frame: pd.DataFrame) -> list[str]:
    return [*prompt_keys(frame), *([C.ORDER_ID] if C.ORDER_ID in frame else [])]


def _matrix(frame: pd.DataFrame, keys: list[str], column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column].astype("Float64"), errors="coerce").to_numpy(float, na_value=np.nan)
    return option_matrix(frame.assign(_v=values), keys, "_v")[1]


def _argmax(scores: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Argmax per row (first on ties) where the row is known, else -1."""
    filled = np.where(np.isnan(scores), -np.inf, scores)
    return np.where(known, filled.argmax(axis=1), -1)


def prompt_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per prompt (:data:`PROMPT_COLUMNS`, then the metadata columns); ``<NA>`` where the log does
    not say (``pred_norm`` without choice lengths, ``pred_pmi`` without unconditional log-likelihoods,
    ``greedy_valid`` without is_greedy)."""
    keys = _keys(frame)
    heads, lp, gold = option_matrix(frame, keys, C.LOGPROB, carry=C.metadata_columns(frame))
    chars = _matrix(frame, keys, C.N_CHARS) if C.N_CHARS in frame else np.full_like(lp, np.nan)
    uncond = _matrix(frame, keys, C.LOGPROB_UNCONDITIONAL) if C.LOGPROB_UNCONDITIONAL in frame else np.full_like(lp, np.nan)
    greedy = _matrix(frame, keys, C.IS_GREEDY) if C.IS_GREEDY in frame else np.full_like(lp, np.nan)
    valid = ~np.isnan(lp)
    k = valid.sum(axis=1)
    probs = np.exp(lp)
    top = -np.sort(-np.where(valid, probs, -np.inf), axis=1)
    pma = np.nansum(probs, axis=1)
    pred = _argmax(lp, np.ones(len(lp), bool))
    norm_known = (np.isnan(chars) == ~valid).all(axis=1) & np.all(np.where(valid, chars, 1) > 0, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pred_norm = _argmax(lp / chars, norm_known)
    pmi_known = (np.isnan(uncond) == ~valid).all(axis=1)
    pred_pmi = _argmax(pmi_scores(lp, uncond), pmi_known)
    greedy_known = (np.isnan(greedy) == ~valid).all(axis=1)

    def maybe(values: np.ndarray, known: np.ndarray, dtype: str) -> pd.array:
        return pd.array([v if ok else pd.NA for v, ok in zip(values.tolist(), known)], dtype=dtype)

    out = heads.copy()
    out[C.K], out[C.ANSWER] = k, pd.array(gold, dtype="Int64")
    out[C.PMA], out[C.P1], out[C.P2] = pma, top[:, 0], top[:, 1]
    out[C.RESOLVED] = sfc_resolved(pma, top[:, 0], top[:, 1])
    out[C.GREEDY_VALID] = maybe(np.nansum(greedy, axis=1) > 0, greedy_known, "boolean")
    out[C.PRED], out[C.CORRECT] = pred, pd.array(pred == gold, dtype="boolean")
    out[C.PRED_PMI] = maybe(pred_pmi, pmi_known, "Int64")
    out[C.CORRECT_PMI] = maybe(pred_pmi == gold, pmi_known, "boolean")
    out[C.PRED_NORM] = maybe(pred_norm, norm_known, "Int64")
    out[C.CORRECT_NORM] = maybe(pred_norm == gold, norm_known, "boolean")
    out[C.CHOICE_PROBS] = [row[ok].tolist() for row, ok in zip(probs, valid)]
    out[C.CHOICE_CHARS] = [row[ok].astype(int).tolist() if known else [] for row, ok, known in
                           zip(np.nan_to_num(chars), valid, norm_known)]
    meta = [c for c in heads.columns if c not in PROMPT_COLUMNS]
    return out[[*PROMPT_COLUMNS, *meta]]


def chain_frame(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The quantity chain of each run (:data:`explorer.columns.CHAIN_COLUMNS`), the run's name as its
    condition and model: with several runs of the same questions, ``summarize_chain`` compares them."""
    parts = [chain_rows(f, condition=name, model=str(f.attrs.get("model", name))) for name, f in frames.items()]
    return pd.concat(parts, ignore_index=True)
