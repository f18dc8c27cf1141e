"""Calibration scores that need no bins, selective accuracy, and bootstrap intervals.

Notation: n predictions; confidence c_i in [0, 1]; correctness y_i in {0, 1}; for multi-class
scores, p_ij the probability of option j of item i (renormalised over the options) and
y_ij = 1 for the gold option, else 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from explorer.errors import NoItemsError
from explorer.metrics.reliability import check_inputs
from explorer.metrics.small import warn_small


def check_options(values, gold, *, name: str = "values") -> tuple[np.ndarray, np.ndarray]:
    """``values`` [n, k] (NaN pads items with fewer options) as floats and ``gold`` [n] as ints; a clear
    error unless every gold index points at an option that has a value."""
    v = np.asarray(values, dtype=float)
    g = np.asarray(gold, dtype=int).ravel()
    if g.size == 0:
        raise NoItemsError(f"no items: {name} and gold are empty; a score of nothing is not a number")
    if v.ndim != 2 or v.shape[0] != g.size:
        raise ValueError(f"{name} must be [n, k] with n = len(gold) = {g.size}; got shape {v.shape}")
    if np.any((g < 0) | (g >= v.shape[1])) or np.any(np.isnan(v[np.arange(g.size), g])):
        raise ValueError(f"every gold index must point at an option with a value in {name}")
    return v, g


def brier_per_item(probs, gold) -> np.ndarray:
    """Brier score of each item over its options: sum_j (p_ij - y_ij)^2 (0 is perfect, 2 the worst).

    ``probs`` is [n, k]; items with fewer options pad with NaN, which is left out of the sum.

    >>> brier_per_item([[0.7, 0.2, 0.1], [0.5, 0.5, np.nan]], [0, 1]).round(6).tolist()  # .09+.04+.01, .25+.25
    [0.14, 0.5]
    """
    p, g = check_options(probs, gold, name="probs")
    y = np.zeros_like(p)
    y[np.arange(g.size), g] = 1.0
    return np.nansum((p - y) ** 2, axis=1)


def brier_multiclass(probs, gold) -> float:
    """Brier score over the options, averaged over items: mean_i sum_j (p_ij - y_ij)^2.

    >>> round(brier_multiclass([[0.7, 0.2, 0.1], [0.5, 0.5, np.nan]], [0, 1]), 6)  # (0.14 + 0.5) / 2
    0.32
    """
    return float(np.mean(brier_per_item(probs, gold)))


def brier_top(confidence, correct) -> float:
    """Top-label Brier score: mean_i (c_i - y_i)^2.

    >>> round(brier_top([0.9, 0.6], [1, 0]), 6)  # (0.01 + 0.36) / 2
    0.185
    """
    c, y = check_inputs(confidence, correct)
    return float(np.mean((c - y) ** 2))


def balance_score(confidence, correct, *, event=None) -> float:
    """Balance score (Choi et al. 2023): the mean over predictions of a gain (1 - c when right) or a
    loss (-c when wrong), i.e. accuracy minus confidence of the predicted answer; 0 when calibrated
    on average, < 0 over-confident.

    ``event`` marks rows whose ``confidence`` is the probability p that a binary event holds (P(True):
    the proposal is correct) and whose ``correct`` says whether it held. Such a row predicts the
    event when p >= 0.5, with confidence max(p, 1 - p): its term is 1 - p or -p when p >= 0.5,
    p or p - 1 when p < 0.5 (:func:`balance_terms`). Without ``event`` every row is a top-label
    confidence.

    >>> round(balance_score([0.9, 0.7], [1, 0]), 6)  # 0.5 - 0.8
    -0.3
    >>> round(balance_score([0.9, 0.1], [0, 1], event=[True, True]), 6)  # (-0.9 + (0.1 - 1)) / 2
    -0.9
    """
    return float(balance_terms(confidence, correct, event=event).mean())


def balance_terms(confidence, correct, *, event=None) -> np.ndarray:
    """Per-prediction gain or loss of :func:`balance_score`.

    >>> balance_terms([0.8, 0.3, 0.3, 0.8], [1, 0, 1, 0], event=[False, True, True, True]).round(6).tolist()
    [0.2, 0.3, -0.7, -0.8]
    """
    c, y = check_inputs(confidence, correct)
    if event is None:
        return y - c
    e = np.asarray(event, dtype=bool).ravel()
    if e.shape != c.shape:
        raise ValueError(f"event has {e.size} values but there are {c.size} predictions; give one per prediction")
    says_true = c >= 0.5
    predicted_conf = np.where(says_true, c, 1 - c)  # confidence of the side the row predicts
    event_terms = np.where(says_true == (y == 1), 1 - predicted_conf, -predicted_conf)
    return np.where(e, event_terms, y - c)


def selective_curve(confidence, correct) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, accuracy): accuracy of the m most confident predictions, coverage m / n, m = 1..n.

    Predictions sorted by confidence, highest first. Ties are broken at random in expectation:
    within a block of equal confidences each one counts as the block's mean correctness, so the
    curve does not depend on the input order.

    >>> cov, acc = selective_curve([0.9, 0.8, 0.8, 0.3], [1, 1, 0, 1])
    >>> cov.tolist(), acc.tolist()
    ([0.25, 0.5, 0.75, 1.0], [1.0, 0.75, 0.6666666666666666, 0.75])
    """
    c, y = check_inputs(confidence, correct)
    order = np.argsort(-c, kind="stable")
    c, y = c[order], y[order]
    _, block, counts = np.unique(-c, return_inverse=True, return_counts=True)
    block_mean = np.bincount(block, weights=y) / counts
    expected = block_mean[block]
    m = np.arange(1, c.size + 1)
    return m / c.size, np.cumsum(expected) / m


def selective_auc(confidence, correct) -> float:
    """Area under the accuracy-coverage curve: (1/n) sum_{m=1..n} acc(m / n).

    Equals the accuracy when confidence carries no information, approaches 1 when every wrong
    answer is less confident than every right one.

    >>> round(selective_auc([0.9, 0.8, 0.8, 0.3], [1, 1, 0, 1]), 6)  # (1 + 0.75 + 2/3 + 0.75) / 4
    0.791667
    """
    _, acc = selective_curve(confidence, correct)
    return float(acc.mean())


def bootstrap_interval(statistic: Callable[..., float], *arrays, n_boot: int = 1000, level: float = 0.95,
                       seed: int = 0, warn: bool = True) -> tuple[float, float, float]:
    """(estimate, low, high): the statistic on the data and a percentile bootstrap interval.

    Resamples the n rows (the first axis of every array, jointly) with replacement ``n_boot``
    times; low/high are the (1 - level)/2 and (1 + level)/2 quantiles of the resampled statistic.
    Under 10 rows a :class:`~explorer.metrics.small.SmallSampleWarning` (unless ``warn=False``: the
    caller says it once); over one row the interval is undefined (NaN bounds).

    >>> est, lo, hi = bootstrap_interval(balance_score, [0.9, 0.8, 0.6, 0.7], [1, 1, 0, 1], n_boot=200)
    >>> round(est, 3), lo <= est <= hi
    (0.0, True)
    """
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("every array must have one row per prediction")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if warn:
        warn_small(n, "predictions", where="bootstrap_interval")
    if n < 2:
        return float(statistic(*arrays)), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stats = np.array([statistic(*(a[idx] for a in arrays)) for idx in rng.integers(0, n, size=(n_boot, n))])
    lo, hi = np.nanquantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(statistic(*arrays)), float(lo), float(hi)
