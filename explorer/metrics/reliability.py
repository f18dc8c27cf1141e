"""Binned calibration: the reliability curve, expected and maximum calibration error.

Inputs are a confidence c_i in [0, 1] per prediction and whether it was correct, y_i in {0, 1}.

Bins. ``uniform``: B equal-width bins with edges 0, 1/B, ..., 1. ``quantile``: equal-mass bins
whose edges are the 0, 1/B, ..., 1 quantiles of the confidences (``np.percentile``, linear
interpolation; tied confidences can make edges coincide and leave bins empty). A confidence goes
to bin b when e_b < c <= e_{b+1} (the first bin also takes c = e_0, values outside [e_0, e_B]
go to the end bins): ``np.searchsorted(inner_edges, c, side="left")``, the rule of
``sklearn.calibration.calibration_curve``, so the two agree. Empty bins are skipped.

Per bin b with n_b > 0 predictions: conf_b = mean c_i, acc_b = mean y_i.
ECE = sum_b (n_b / n) |acc_b - conf_b|;  MCE = max_b |acc_b - conf_b|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from explorer.errors import NoItemsError

Strategy = Literal["uniform", "quantile"]
STRATEGIES: tuple[str, ...] = ("uniform", "quantile")


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per non-empty bin: its index among the B bins, edges, count, mean confidence and accuracy."""

    bin: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """acc_b - conf_b: positive where the model is under-confident."""
        return self.accuracy - self.confidence


def check_inputs(confidence, correct) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of equal length; confidences in [0, 1], correctness 0/1; a clear error otherwise."""
    c = np.asarray(confidence, dtype=float).ravel()
    y = np.asarray(correct, dtype=float).ravel()
    if c.shape != y.shape:
        raise ValueError(f"confidence has {c.size} values but correct has {y.size}; give one of each per prediction")
    if c.size == 0:
        raise NoItemsError("no predictions: give at least one confidence and correctness")
    if not np.all(np.isfinite(c)) or c.min() < 0 or c.max() > 1:
        raise ValueError("confidences must be finite probabilities in [0, 1]")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("correct must hold only 0/1 (or False/True) values; drop items without a gold answer")
    return c, y


def bin_edges(confidence, n_bins: int = 10, strategy: Strategy = "uniform") -> np.ndarray:
    """The B + 1 bin edges.

    >>> bin_edges([0.2, 0.9], 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> bin_edges([0.1, 0.2, 0.3, 0.4, 0.5], 2, "quantile").tolist()
    [0.1, 0.3, 0.5]
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, int(n_bins) + 1)
    if strategy == "quantile":
        return np.percentile(np.asarray(confidence, dtype=float), np.linspace(0, 1, int(n_bins) + 1) * 100)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")


def assign_bins(confidence, edges: np.ndarray) -> np.ndarray:
    """The bin index (0..B-1) of each confidence, under the rule in the module docstring.

    >>> assign_bins([0.0, 0.25, 0.26, 1.0], np.array([0, 0.25, 0.5, 0.75, 1])).tolist()
    [0, 0, 1, 3]
    """
    return np.searchsorted(np.asarray(edges)[1:-1], np.asarray(confidence, dtype=float), side="left")


def reliability_curve(confidence, correct, *, n_bins: int = 10, strategy: Strategy = "uniform") -> ReliabilityCurve:
    """Mean confidence, accuracy and count of each non-empty bin.

    >>> r = reliability_curve([0.1, 0.3, 0.35, 0.9], [0, 1, 0, 1], n_bins=2)
    >>> r.bin.tolist(), r.count.tolist(), r.accuracy.tolist()
    ([0, 1], [3, 1], [0.3333333333333333, 1.0])
    >>> np.round(r.confidence, 4).tolist()
    [0.25, 0.9]
    """
    c, y = check_inputs(confidence, correct)
    edges = bin_edges(c, n_bins, strategy)
    ids = assign_bins(c, edges)
    n_b = np.bincount(ids, minlength=len(edges) - 1)
    sum_c = np.bincount(ids, weights=c, minlength=len(edges) - 1)
    sum_y = np.bincount(ids, weights=y, minlength=len(edges) - 1)
    keep = np.flatnonzero(n_b)
    return ReliabilityCurve(bin=keep, lower=edges[keep], upper=edges[keep + 1], count=n_b[keep],
                            confidence=sum_c[keep] / n_b[keep], accuracy=sum_y[keep] / n_b[keep])


def ece(confidence, correct, *, n_bins: int = 10, strategy: Strategy = "uniform") -> float:
    """Expected calibration error: sum_b (n_b / n) |acc_b - conf_b|.

    >>> round(ece([0.1, 0.3, 0.35, 0.9], [0, 1, 0, 1], n_bins=2), 4)  # (3/4)|1/3-0.25| + (1/4)|1-0.9|
    0.0875
    """
    r = reliability_curve(confidence, correct, n_bins=n_bins, strategy=strategy)
    return float(np.sum(r.count / r.count.sum() * np.abs(r.gap)))


def mce(confidence, correct, *, n_bins: int = 10, strategy: Strategy = "uniform") -> float:
    """Maximum calibration error: max over non-empty bins of |acc_b - conf_b|.

    >>> round(mce([0.1, 0.3, 0.35, 0.9], [0, 1, 0, 1], n_bins=2), 4)
    0.1
    """
    r = reliability_curve(confidence, correct, n_bins=n_bins, strategy=strategy)
    return float(np.max(np.abs(r.gap)))
