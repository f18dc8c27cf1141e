"""Recalibration baselines: temperature scaling and Platt scaling, fitted on held-out data.

Temperature scaling (Guo et al. 2017) rescales the options' scores z_ij (logits or log-probs;
NaN pads items with fewer options) by one T > 0: p_ij = softmax_j(z_ij / T). T minimises the
negative log-likelihood (1/n) sum_i [logsumexp_j(z_ij / T) - z_ig_i / T] on the fitting rows,
searched over 1/T in [0.01, 100] (the NLL is convex in 1/T). It never changes the argmax.

Platt scaling (Platt 1999) maps a top-label confidence c to sigmoid(a * logit(c) + b), a logistic
regression of correctness on logit(c) fitted by maximum likelihood, a and b searched in
[-100, 100]. With ``smooth=True`` the 0/1 targets become Platt's (N+ + 1)/(N+ + 2) and 1/(N- + 2),
which keeps a and b finite when the fitting rows are separable. a = 1, b = 0 is the identity.

A fit that ends at its search bound (T = 0.01 or 100; |a| or |b| = 100), or Platt without smoothing
on rows whose correctness a confidence threshold separates (no finite maximum; :func:`platt_separable`)
warns (:class:`~explorer.metrics.small.RecalibrationWarning`);
:func:`temperature_at_bound` and :func:`platt_at_bound` flag it for summaries.

Fit on one split and apply to another (``holdout_indices``), or cross-fit: split the rows into k
folds with a seed and recalibrate each fold with parameters fitted on the other folds, so every
row gets an honest out-of-fold value from a single data set.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, logit, logsumexp

import warnings

from explorer.metrics.reliability import check_inputs
from explorer.metrics.small import RecalibrationWarning

BETA_BOUNDS = (1e-2, 1e2)  # 1/T
PLATT_BOUND = 100.0  # |a|, |b|
EPS = 1e-7


def temperature_at_bound(temperature: float) -> bool:
    """True when a fitted T sits at its search bound (0.01 or 100, to 0.1%).

    >>> temperature_at_bound(100.0), temperature_at_bound(1.82)
    (True, False)
    """
    return any(abs(1.0 / temperature - b) <= 1e-3 * b for b in BETA_BOUNDS)


def platt_at_bound(params) -> bool:
    """True when a fitted (a, b) sits at the search bound |a| or |b| = 100 (to 0.1%).

    >>> platt_at_bound((100.0, 0.3)), platt_at_bound((1.2, -0.4))
    (True, False)
    """
    return any(abs(abs(float(p)) - PLATT_BOUND) <= 1e-3 * PLATT_BOUND for p in params)


def platt_separable(confidence, correct) -> bool:
    """True when correctness is a threshold of confidence (or one class only): then Platt's maximum
    likelihood without smoothing has no finite (a, b), and a fit only shows where the optimiser stopped.

    >>> platt_separable([0.6, 0.6, 0.9, 0.9], [0, 0, 1, 1]), platt_separable([0.6, 0.9, 0.9], [1, 0, 1])
    (True, False)
    """
    c, y = check_inputs(confidence, correct)
    right, wrong = c[y == 1], c[y == 0]
    return bool(not (right.size and wrong.size) or right.min() > wrong.max() or right.max() < wrong.min())


def _warn_bound(what: str) -> None:
    warnings.warn(f"{what} ended at its search bound: the fitting rows are all right, all wrong or separable, so the "
                  "recalibrated confidences say more about those rows than about the model (fit on more, or more "
                  "varied, predictions)", RecalibrationWarning, stacklevel=3)


def _scores(logits, gold=None) -> tuple[np.ndarray, np.ndarray | None]:
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2:
        raise ValueError(f"logits must be [n, k] (NaN for missing options); got shape {z.shape}")
    z = np.where(np.isnan(z), -np.inf, z)
    if gold is None:
        return z, None
    g = np.asarray(gold, dtype=int).ravel()
    if g.size != z.shape[0] or np.any((g < 0) | (g >= z.shape[1])) or np.any(~np.isfinite(z[np.arange(g.size), g])):
        raise ValueError("gold must give, for every row of logits, the index of an option with a finite score")
    return z, g


def temperature_nll(logits, gold, temperature: float) -> float:
    """Mean negative log-likelihood of the gold options under softmax(z / T).

    >>> round(temperature_nll([[0.0, 0.0]], [0], 1.0), 6)  # -log(1/2)
    0.693147
    """
    z, g = _scores(logits, gold)
    s = z / temperature
    return float(np.mean(logsumexp(s, axis=1) - s[np.arange(g.size), g]))


def fit_temperature(logits, gold, *, warn: bool = True) -> float:
    """The T minimising :func:`temperature_nll` (T in [0.01, 100]). Where a bound fits as well as the
    optimiser's answer (every fitting row right: T -> 0; no signal: T -> infinity) T is that bound, with a
    warning unless ``warn=False``.

    >>> t = fit_temperature([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]], [0, 0, 0, 0])
    >>> round(t, 4)  # accuracy 3/4 calls for confidence 3/4 on all four: sigmoid(2/T) = 3/4, T = 2/log(3)
    1.8205
    """
    z, g = _scores(logits, gold)
    rows = np.arange(g.size)

    def nll(beta: float) -> float:
        s = z * beta
        return float(np.mean(logsumexp(s, axis=1) - s[rows, g]))

    res = minimize_scalar(nll, bounds=BETA_BOUNDS, method="bounded", options={"xatol": 1e-8})
    beta = float(res.x)
    for bound in BETA_BOUNDS:  # a bound that fits as well: the optimum lies there or beyond (a flat tail)
        if nll(bound) <= nll(beta) + 1e-9:
            beta = bound
            break
    t = float(1.0 / beta)
    if warn and temperature_at_bound(t):
        _warn_bound(f"temperature scaling (T = {t:g}, fitted on {g.size} rows)")
    return t


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """softmax(z / T) over each row's options (NaN stays NaN).

    >>> apply_temperature([[np.log(3), 0.0, np.nan]], 1.0).round(3).tolist()
    [[0.75, 0.25, nan]]
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z, _ = _scores(logits)
    s = z / temperature
    p = np.exp(s - logsumexp(s, axis=1, keepdims=True))
    return np.where(np.isneginf(z), np.nan, p)


def fit_platt(confidence, correct, *, smooth: bool = True, warn: bool = True) -> tuple[float, float]:
    """(a, b) of sigmoid(a * logit(c) + b), maximum likelihood (Platt's smoothed targets if ``smooth``),
    a and b in [-100, 100] (at a bound, a warning unless ``warn=False``).

    >>> a, b = fit_platt([0.6, 0.6, 0.9, 0.9], [1, 0, 1, 1], smooth=False)
    >>> np.round(apply_platt([0.6, 0.9], (a, b)), 4).tolist()  # the bins' accuracies
    [0.5, 1.0]
    """
    c, y = check_inputs(confidence, correct)
    if smooth:
        n_pos, n_neg = y.sum(), y.size - y.sum()
        y = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    x = logit(np.clip(c, EPS, 1 - EPS))

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        u = theta[0] * x + theta[1]
        loss = np.mean(np.logaddexp(0, u) - y * u)
        r = expit(u) - y
        return float(loss), np.array([np.mean(r * x), np.mean(r)])

    res = minimize(nll, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", options={"gtol": 1e-10},
                   bounds=[(-PLATT_BOUND, PLATT_BOUND)] * 2)
    a, b = float(res.x[0]), float(res.x[1])
    if warn and (platt_at_bound((a, b)) or not smooth and platt_separable(c, y)):
        _warn_bound(f"Platt scaling (a = {a:g}, b = {b:g}, fitted on {c.size} rows{', separable' * (not smooth)})")
    return a, b


def apply_platt(confidence, params: tuple[float, float]) -> np.ndarray:
    """sigmoid(a * logit(c) + b) for each confidence.

    >>> apply_platt([0.25, 0.5], (1.0, 0.0)).tolist()
    [0.25, 0.5]
    """
    a, b = params
    c = np.clip(np.asarray(confidence, dtype=float), EPS, 1 - EPS)
    return expit(a * logit(c) + b)


def fold_ids(n: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number (0..folds-1) per row: a seeded shuffle dealt round-robin, so sizes differ by <= 1.

    >>> np.bincount(fold_ids(10, 3)).tolist()
    [4, 3, 3]
    """
    if not 2 <= folds <= n:
        raise ValueError(f"cross-fitting needs 2 <= folds <= n rows; got folds={folds}, n={n}")
    ids = np.empty(n, dtype=int)
    ids[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    return ids


def holdout_indices(n: int, fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, evaluation rows): a seeded random split with ``fraction`` of the rows for fitting.

    >>> fit, ev = holdout_indices(10, 0.3)
    >>> len(fit), len(ev), sorted([*fit, *ev]) == list(range(10))
    (3, 7, True)
    """
    k = int(round(n * fraction))
    if not 0 < k < n:
        raise ValueError(f"a hold-out split of {n} rows with fraction {fraction} leaves one side empty")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def cross_fit_temperature(logits, gold, *, folds: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold probabilities [n, k], the T fitted for each fold)."""
    z = np.asarray(logits, dtype=float)
    g = np.asarray(gold, dtype=int)
    ids = fold_ids(len(z), folds, seed)
    probs = np.full(z.shape, np.nan)
    temps = np.empty(folds)
    for f in range(folds):
        temps[f] = fit_temperature(z[ids != f], g[ids != f], warn=False)
        probs[ids == f] = apply_temperature(z[ids == f], temps[f])
    hit = [t for t in temps if temperature_at_bound(t)]
    if hit:
        _warn_bound(f"temperature scaling in {len(hit)} of {folds} folds (T = {hit[0]:g})")
    return probs, temps


def cross_fit_platt(confidence, correct, *, folds: int = 5, seed: int = 0,
                    smooth: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold recalibrated confidences, the (a, b) fitted for each fold [folds, 2])."""
    c, y = check_inputs(confidence, correct)
    ids = fold_ids(c.size, folds, seed)
    out = np.empty(c.size)
    params = np.empty((folds, 2))
    for f in range(folds):
        params[f] = fit_platt(c[ids != f], y[ids != f], smooth=smooth, warn=False)
        out[ids == f] = apply_platt(c[ids == f], tuple(params[f]))
    hit = [p for f, p in enumerate(params)
           if platt_at_bound(p) or not smooth and platt_separable(c[ids != f], y[ids != f])]
    if hit:
        _warn_bound(f"Platt scaling in {len(hit)} of {folds} folds (a = {hit[0][0]:g}, b = {hit[0][1]:g})")
    return out, params
