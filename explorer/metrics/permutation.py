"""Summary metrics of the permutation probe's frame (see ``PAPERS.md`` section 2).

Every function takes the probe's frame (or the :class:`PermutationArrays` built from it once) with
one number of choices k and the same orders for every item. Notation: ``p[i, o, j]`` is the
renormalised probability of label position j for item i under order o; ``c[i, o, j]`` the original
choice shown there; ``pred[i, o] = argmax_j p[i, o, j]``; ``g[i]`` the gold choice.

Items without gold: position-level metrics (response, A-bias, shares, consistency, entropy, KL,
chi-square) use every item; accuracy-type metrics (accuracy, RStd, order-averaged, PriDe, the
order-symmetry test) raise :class:`explorer.errors.ItemError` naming the first item without gold.
:func:`~explorer.metrics.permutation_summary.summarize_permutation` computes them on the items that
have gold and says so in ``notes`` (``None`` when no item has gold), and handles items with
different k (per k, and pooled where a metric is defined across k).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.metrics.permutation_arrays import (Data, PermutationArrays, example_frame, permutation_arrays,
                                                 permutation_frame, require_gold)
from explorer.items.orders import cyclic_orders, order_string

__all__ = ["PermutationArrays", "permutation_arrays", "permutation_frame", "example_frame", "predictions",
           "position_response", "a_bias", "position_share", "correct", "accuracy", "accuracy_by_order",
           "recall_by_position", "rstd", "content_response", "order_avg_accuracy", "consistency", "entropy_norm",
           "kl_uniform_bits", "chi2_positions", "order_symmetry_test", "cyclic_order_index", "circular_correct",
           "circular_accuracy", "circular_parts", "pride_prior", "pride", "pride_accuracy",
           "bootstrap_ci", "accuracy_parts", "consistency_parts", "order_avg_parts", "POSITION_METRICS",
           "GOLD_METRICS", "POOLED_METRICS"]


def predictions(data: Data) -> np.ndarray:
    """pred[i, o]: the predicted position (first on ties)."""
    return permutation_arrays(data).probs.argmax(axis=2)


def position_response(data: Data) -> np.ndarray:
    """Position-level response: r[j] = mean over items and orders of p[i, o, j].

    >>> position_response(example_frame()).round(4).tolist()
    [0.75, 0.25]
    """
    return permutation_arrays(data).probs.mean(axis=(0, 1))


def a_bias(data: Data) -> float:
    """A-bias = r[0] - 1/k: 0 when unbiased, 1 - 1/k when "A" always gets all the mass.

    >>> round(a_bias(example_frame()), 4)
    0.25
    """
    a = permutation_arrays(data)
    return float(position_response(a)[0] - 1 / a.k)


def position_share(data: Data) -> np.ndarray:
    """s[j] = share of (item, order) prompts whose prediction is position j.

    >>> position_share(example_frame()).tolist()
    [1.0, 0.0]
    """
    a = permutation_arrays(data)
    return np.bincount(predictions(a).ravel(), minlength=a.k) / predictions(a).size


def correct(data: Data) -> np.ndarray:
    """correct[i, o] = c[i, o, pred[i, o]] == g[i] (needs gold)."""
    a = require_gold(data)
    return np.take_along_axis(a.content, predictions(a)[..., None], axis=2)[..., 0] == a.gold[:, None]


def accuracy(data: Data) -> float:
    """Share of correct (item, order) prompts.

    >>> accuracy(example_frame())
    0.5
    """
    return float(correct(data).mean())


def accuracy_by_order(data: Data) -> pd.Series:
    """Accuracy under each order (index: the order as written in the frame).

    >>> accuracy_by_order(example_frame()).tolist()
    [0.5, 0.5]
    """
    a = permutation_arrays(data)
    return pd.Series(correct(a).mean(axis=0), index=pd.Index(a.orders, name=C.ORDER), name="accuracy")


def recall_by_position(data: Data) -> np.ndarray:
    """recall[j] = accuracy over prompts whose gold stands at position j (NaN if none does).

    >>> recall_by_position(example_frame()).tolist()
    [1.0, 0.0]
    """
    a = require_gold(data)
    gold_pos = (a.content == a.gold[:, None, None]).argmax(axis=2)
    ok = correct(a)
    return np.array([ok[gold_pos == j].mean() if (gold_pos == j).any() else np.nan for j in range(a.k)])


def rstd(data: Data) -> float:
    """RStd = 100 x population std of recall over gold positions (positions never gold skipped).

    >>> rstd(example_frame())
    50.0
    """
    return float(100 * np.nanstd(recall_by_position(data)))


def content_response(data: Data) -> np.ndarray:
    """q[i, c] = mean over orders of the probability choice c gets wherever it stands.

    >>> content_response(example_frame()).round(4).tolist()
    [[0.6, 0.4], [0.4, 0.6]]
    """
    a = permutation_arrays(data)
    return np.take_along_axis(a.probs, a.content.argsort(axis=2), axis=2).mean(axis=1)


def order_avg_accuracy(data: Data) -> float:
    """Content-level accuracy: share of items with argmax_c q[i, c] == g[i].

    >>> order_avg_accuracy(example_frame())
    1.0
    """
    return float(order_avg_parts(data)[0].mean())


def consistency(data: Data) -> float:
    """Share of items whose predicted choice c[i, o, pred[i, o]] is the same under every order.

    >>> consistency(example_frame())
    0.0
    """
    return float(consistency_parts(data)[0].mean())


# Per-item (value, weight) of the metrics that pool across numbers of choices: the pooled metric is
# sum(value) / sum(weight) over items of every k (explorer.metrics.permutation_summary).
def accuracy_parts(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """(correct prompts, prompts) per item.

    >>> [v.tolist() for v in accuracy_parts(example_frame())]
    [[1, 1], [2, 2]]
    """
    ok = correct(data)
    return ok.sum(axis=1), np.full(len(ok), ok.shape[1])


def consistency_parts(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """(1 if the predicted choice is the same under every order else 0, 1) per item."""
    a = permutation_arrays(data)
    chosen = np.take_along_axis(a.content, predictions(a)[..., None], axis=2)[..., 0]
    return (chosen == chosen[:, :1]).all(axis=1).astype(float), np.ones(len(chosen))


def order_avg_parts(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """(1 if argmax_c q[i, c] == g[i] else 0, 1) per item."""
    a = require_gold(data)
    return (content_response(a).argmax(axis=1) == a.gold).astype(float), np.ones(len(a.gold))


def entropy_norm(data: Data) -> float:
    """Mean over items of H(q[i]) / log k, with 0 log 0 = 0: 1 for a uniform order-adjusted response.

    >>> round(entropy_norm(example_frame()), 4)
    0.971
    """
    q = content_response(data)
    h = -np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0.0), axis=1)
    return float(np.mean(h / np.log(q.shape[1])))


def kl_uniform_bits(data: Data) -> float:
    """Mean over items of KL(q[i] || uniform) in bits = sum_c q log2(q k) = log2 k (1 - H/log k).

    >>> round(kl_uniform_bits(example_frame()), 4)
    0.029
    """
    q = content_response(data)
    return float(np.mean(np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1) * q.shape[1]), 0.0), axis=1)))


def chi2_positions(data: Data) -> tuple[float, float]:
    """Chi-square goodness of fit of prediction counts per position against uniform (df k-1).
    Prompts of one item are not independent, so read p as descriptive rather than exact.

    >>> tuple(round(v, 4) for v in chi2_positions(example_frame()))
    (4.0, 0.0455)
    """
    a = permutation_arrays(data)
    res = stats.chisquare(np.bincount(predictions(a).ravel(), minlength=a.k))
    return float(res.statistic), float(res.pvalue)


def order_symmetry_test(data: Data) -> tuple[float, float]:
    """Cochran's Q test that accuracy is the same under every order (items matched across orders):
    Q = (m-1)(m sum_o T_o^2 - N^2) / (m N - sum_i R_i^2); T_o, R_i column and row totals of correct,
    m orders, N = sum; p from chi-square with m-1 df. (0, 1) when no item changes correctness.

    >>> order_symmetry_test(example_frame())
    (0.0, 1.0)
    """
    x = correct(data).astype(float)
    m, n_total = x.shape[1], x.sum()
    denom = m * n_total - np.sum(x.sum(axis=1) ** 2)
    if m < 2 or denom == 0:
        return 0.0, 1.0
    q = (m - 1) * (m * np.sum(x.sum(axis=0) ** 2) - n_total**2) / denom
    return float(q), float(stats.chi2.sf(q, m - 1))


def cyclic_order_index(data: Data, *, needed_by: str) -> list[int]:
    """Where each of the k cyclic shifts sits among the frame's orders (shift s first at s); a clear
    error naming ``needed_by`` when one is missing."""
    a = permutation_arrays(data)
    shifts = [order_string(o) for o in cyclic_orders(a.k)]
    if not set(shifts) <= set(a.orders):
        raise ExplorerError(f"{needed_by} needs every cyclic shift {shifts} among the orders, which are "
                            f"{list(a.orders)}; score with orders='cyclic' or 'all'")
    return [a.orders.index(s) for s in shifts]


def circular_correct(data: Data) -> np.ndarray:
    """Per item: correct under every one of the k cyclic shifts of its choices (OpenCompass
    CircularEval); other orders in the frame are ignored. Needs gold and all k shifts.

    >>> circular_correct(example_frame()).tolist()  # q0 is right as 0,1 but wrong as 1,0; q1 wrong as 0,1
    [False, False]
    """
    return correct(data)[:, cyclic_order_index(data, needed_by="circular accuracy")].all(axis=1)


def circular_accuracy(data: Data) -> float:
    """Share of items answered correctly under all k cyclic shifts: at most the accuracy of any one shift.

    >>> circular_accuracy(permutation_frame([[[.6, .4], [.4, .6]], [[.9, .1], [.8, .2]]], [(0, 1), (1, 0)], [0, 0]))
    0.5
    """
    return float(circular_correct(data).mean())


def circular_parts(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """(1 if correct under all k cyclic shifts else 0, 1) per item (needs gold and the shifts)."""
    ok = circular_correct(data)
    return ok.astype(float), np.ones(len(ok))


def pride_prior(data: Data, *, share: float = 0.05, seed: int = 0) -> tuple[np.ndarray, tuple[str, ...]]:
    """PriDe prior over positions from a seeded ``share`` of items (at least one) under the k cyclic
    shifts: prior = mean over those items of softmax_j(mean over shifts of log p[i, s, j]).

    >>> prior, est = pride_prior(example_frame())
    >>> prior.round(4).tolist(), est
    ([0.7101, 0.2899], ('q1',))
    """
    a = permutation_arrays(data)
    shifts = cyclic_order_index(a, needed_by="PriDe")
    n_est = max(1, int(round(share * len(a.item_ids))))
    est = np.sort(np.random.default_rng(seed).choice(len(a.item_ids), n_est, replace=False))
    logp = np.log(np.clip(a.probs[est][:, shifts], 1e-300, None)).mean(axis=1)
    per_item = np.exp(logp - logp.max(axis=1, keepdims=True))
    prior = (per_item / per_item.sum(axis=1, keepdims=True)).mean(axis=0)
    return prior, tuple(a.item_ids[i] for i in est)


def pride(data: Data, *, share: float = 0.05, seed: int = 0) -> dict:
    """PriDe on the items not used for the prior: debiased score log p[i, o, j] - log prior[j]; returns
    ``prior``, ``estimation_items``, ``accuracy`` (debiased) and ``accuracy_before`` (same prompts).

    >>> {k: v for k, v in pride(example_frame()).items() if "acc" in k}
    {'accuracy': 1.0, 'accuracy_before': 0.5}
    """
    a = permutation_arrays(data)
    prior, est = pride_prior(a, share=share, seed=seed)
    rest = np.array([i for i, item in enumerate(a.item_ids) if item not in est], dtype=int)
    if not len(rest):
        raise ExplorerError("PriDe keeps its estimation items apart, and none are left to evaluate; score more items")
    r = require_gold(a.take(rest))
    debiased = np.log(np.clip(r.probs, 1e-300, None)) - np.log(prior)
    chosen = np.take_along_axis(r.content, debiased.argmax(axis=2)[..., None], axis=2)[..., 0]
    return {"prior": prior, "estimation_items": est, "accuracy": float((chosen == r.gold[:, None]).mean()),
            "accuracy_before": accuracy(r)}


def pride_accuracy(data: Data, *, share: float = 0.05, seed: int = 0) -> float:
    """Accuracy after PriDe debiasing, on the items not used to estimate the prior (see :func:`pride`)."""
    return pride(data, share=share, seed=seed)["accuracy"]


def bootstrap_ci(data: Data, metric: Callable[[PermutationArrays], float], *, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric`` over items (resampled with replacement, orders kept)."""
    a = permutation_arrays(data)
    rng = np.random.default_rng(seed)
    n = len(a.item_ids)
    values = [metric(a.take(rng.integers(0, n, n))) for _ in range(n_boot)]
    lo, hi = np.nanpercentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


POSITION_METRICS: dict[str, Callable[[PermutationArrays], float]] = {
    "a_bias": a_bias, "consistency": consistency, "entropy_norm": entropy_norm, "kl_uniform_bits": kl_uniform_bits}
GOLD_METRICS: dict[str, Callable[[PermutationArrays], float]] = {
    "accuracy": accuracy, "rstd": rstd, "order_avg_accuracy": order_avg_accuracy}
# Metrics also defined across k, as per-item (value, weight): pooled at the top of a mixed-k summary.
POOLED_METRICS: dict[str, Callable[[PermutationArrays], tuple[np.ndarray, np.ndarray]]] = {
    "accuracy": accuracy_parts, "consistency": consistency_parts, "order_avg_accuracy": order_avg_parts,
    "circular_accuracy": circular_parts}
