"""The per-item quantity chain and how two conditions agree along it (``PAPERS.md`` section 5).

Per item i with choice scores l_ij = log p(target_j | prompt) out of the whole vocabulary (string
and cloze formats: the summed log-probability of the choice's tokens) and gold choice g_i:

- ``logp_vocab_gold`` = l_ig
- ``p_vocab_gold`` = exp(l_ig)
- ``p_choices_gold`` = exp(l_ig) / sum_j exp(l_ij): renormalised, so it depends on the wrong choices' mass
- ``correct`` = argmax_j l_ij == g (first position on ties)
- ``brier`` = sum_j (p_choices_ij - y_ij)^2, y_ij = 1 for the gold choice: multi-class, renormalised

and the mass on wrong choices: ``p_vocab_wrong`` = sum_{j != g} exp(l_ij), ``p_vocab_wrong_max`` its
largest term, ``p_choices_wrong_max`` the largest wrong choice after renormalising.

Two conditions A and B (two models, 0 vs k shots, a head scaled or not, two formats) are compared
item by item at each link: the Spearman (and Pearson) correlation over items of the link's value
under A and under B, and the share of items whose change B - A has the same sign at a link as at
the first one. Brier is negated for the sign, so that up means better at every link.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from explorer import columns as C
from explorer.metrics.scores import brier_per_item, check_options

HIGHER_IS_BETTER = {C.LOGP_VOCAB_GOLD: True, C.P_VOCAB_GOLD: True, C.P_CHOICES_GOLD: True, C.CORRECT: True,
                    C.BRIER: False}


def chain_quantities(logprobs, gold) -> dict[str, np.ndarray]:
    """Every quantity of the chain per item, from choice log-probabilities [n, k] (NaN pads items with
    fewer choices) and gold positions [n].

    >>> q = chain_quantities(np.log([[0.5, 0.3, 0.1], [0.2, 0.4, np.nan]]), [0, 0])
    >>> [round(float(v), 4) for v in q["p_choices_gold"]], q["correct"].tolist()
    ([0.5556, 0.3333], [True, False])
    >>> [round(float(v), 4) for v in q["brier"]]  # (4/9)^2 + (1/3)^2 + (1/9)^2;  (2/3)^2 + (2/3)^2
    [0.321, 0.8889]
    """
    lp, g = check_options(logprobs, gold, name="logprobs")
    rows = np.arange(g.size)
    p = np.exp(lp)  # NaN pads stay NaN
    norm = np.exp(lp - np.logaddexp.reduce(np.where(np.isnan(lp), -np.inf, lp), axis=1, keepdims=True))
    wrong = np.ones_like(p, dtype=bool)
    wrong[rows, g] = False
    wrong &= ~np.isnan(p)
    return {
        C.LOGP_VOCAB_GOLD: lp[rows, g],
        C.P_VOCAB_GOLD: p[rows, g],
        C.P_CHOICES_GOLD: norm[rows, g],
        C.P_VOCAB_WRONG: np.where(wrong, p, 0.0).sum(axis=1),
        C.P_VOCAB_WRONG_MAX: np.where(wrong, p, -np.inf).max(axis=1),
        C.P_CHOICES_WRONG_MAX: np.where(wrong, norm, -np.inf).max(axis=1),
        C.PRED: np.nanargmax(lp, axis=1),
        C.CORRECT: np.nanargmax(lp, axis=1) == g,
        C.BRIER: brier_per_item(norm, g),
    }


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"the two conditions have {x.size} and {y.size} values; give one per item under each")
    return x, y


def pearson(a, b) -> float:
    """Linear correlation over items; NaN when either side is constant (or fewer than 2 items).

    >>> pearson([1, 2, 3], [2, 4, 7])
    0.9933992677987828
    """
    x, y = _pair(a, b)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    return float(np.sum(x * y) / np.sqrt(np.sum(x * x) * np.sum(y * y)))


def spearman(a, b) -> float:
    """Rank correlation over items: Pearson of the ranks, ties given their average rank; NaN when
    either side is constant.

    >>> spearman([1, 2, 3, 4], [10, 30, 20, 40])  # ranks 1 2 3 4 vs 1 3 2 4: 1 - 6 * 2 / (4 * 15)
    0.8
    >>> round(spearman([0, 0, 1, 1], [1, 2, 3, 4]), 4)  # ranks 1.5 1.5 3.5 3.5
    0.8944
    """
    x, y = _pair(a, b)
    return pearson(stats.rankdata(x), stats.rankdata(y))


def same_sign_share(delta_first, delta_last) -> float:
    """Share of items whose change has the same sign (+, 0 or -) at the two links.

    >>> same_sign_share([0.5, -1.0, 0.2, 0.0], [0.1, 0.3, -0.2, 0.0])  # +/+ yes, -/+ no, +/- no, 0/0 yes
    0.5
    """
    x, y = _pair(delta_first, delta_last)
    if x.size == 0:
        return float("nan")
    return float(np.mean(np.sign(x) == np.sign(y)))


def oriented(link: str, values) -> np.ndarray:
    """``values`` of ``link`` turned so that up means better (Brier negated).

    >>> oriented("brier", [0.2, 0.5]).tolist()
    [-0.2, -0.5]
    """
    v = np.asarray(values, dtype=float)
    return v if HIGHER_IS_BETTER[link] else -v


def link_agreement(a: dict[str, np.ndarray], b: dict[str, np.ndarray],
                   links: tuple[str, ...] = tuple(C.CHAIN_LINKS)) -> list[dict]:
    """Per link: Spearman and Pearson of A vs B over items, and the share of items whose oriented
    change B - A has the same sign as at the first link. ``a`` and ``b`` map each link to its values
    for the same items in the same order.

    >>> a = {"logp_vocab_gold": np.array([-1.0, -2.0, -3.0]), "brier": np.array([0.2, 0.9, 0.5])}
    >>> b = {"logp_vocab_gold": np.array([-0.5, -2.5, -1.0]), "brier": np.array([0.1, 0.8, 0.7])}
    >>> [(r["link"], round(r["spearman"], 2), round(r["same_sign"], 4))
    ...  for r in link_agreement(a, b, ("logp_vocab_gold", "brier"))]  # changes + - +, then (Brier down = up) + + -
    [('logp_vocab_gold', 0.5, 1.0), ('brier', 1.0, 0.3333)]
    """
    first = oriented(links[0], b[links[0]]) - oriented(links[0], a[links[0]])
    out = []
    for link in links:
        change = oriented(link, b[link]) - oriented(link, a[link])
        out.append({C.LINK: link, C.SPEARMAN: spearman(a[link], b[link]), C.PEARSON: pearson(a[link], b[link]),
                    C.SAME_SIGN: same_sign_share(first, change), C.N: int(np.size(a[link]))})
    return out
