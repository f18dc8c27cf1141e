"""Smooth calibration error and the smoothed reliability curve (Blasiok & Nakkiran 2023, ``PAPERS.md``
section 6), computed with their reference implementation, the ``relplot`` package.

smECE smooths the residuals (correct - confidence) with a reflected Gaussian kernel whose bandwidth
sigma is chosen so that the smoothed error equals sigma; unlike binned ECE it is consistent and has
no bins to choose. Its interval is a percentile bootstrap over predictions
(:func:`explorer.metrics.scores.bootstrap_interval`, seeded). ``relplot`` is imported on first use
(it imports matplotlib, seaborn and scikit-learn). Results are memoised on the exact inputs, so a
view redrawn with other bins does not recompute them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.metrics.reliability import check_inputs
from explorer.metrics.scores import bootstrap_interval
from explorer.metrics.small import warn_small


def smooth_ece(confidence, correct) -> float:
    """``relplot.smECE(confidence, correct)``: 0 for a perfectly calibrated sample.

    One bin would see no error here (mean confidence = accuracy = 0.75); the smooth estimate does:

    >>> round(smooth_ece([0.9, 0.8, 0.7, 0.6], [1, 1, 0, 1]), 4)
    0.0958
    """
    import relplot  # noqa: PLC0415 - slow import (matplotlib, seaborn), only when used

    c, y = check_inputs(confidence, correct)
    return float(relplot.smECE(c, y))


@lru_cache(maxsize=256)
def _interval(c: bytes, y: bytes, n_boot: int, level: float, seed: int) -> tuple[float, float, float]:
    return bootstrap_interval(smooth_ece, np.frombuffer(c), np.frombuffer(y), n_boot=n_boot, level=level, seed=seed,
                              warn=False)


def smooth_ece_interval(confidence, correct, *, n_boot: int = 200, level: float = 0.95,
                        seed: int = 0, warn: bool = True) -> tuple[float, float, float]:
    """(smECE, low, high): the estimate and a percentile bootstrap interval over predictions
    (``n_boot=0``: NaN bounds; fewer than 10 predictions: a warning unless ``warn=False``; one: NaN bounds).

    >>> est, lo, hi = smooth_ece_interval([0.9, 0.8, 0.7, 0.6, 0.95, 0.55], [1, 1, 0, 1, 1, 0], n_boot=50)
    >>> lo <= est <= hi
    True
    """
    c, y = check_inputs(confidence, correct)
    if n_boot <= 0:
        return smooth_ece(c, y), float("nan"), float("nan")
    if warn:
        warn_small(c.size, "predictions", where="smooth_ece_interval")
    if c.size < 2:
        return smooth_ece(c, y), float("nan"), float("nan")
    return _interval(c.tobytes(), y.tobytes(), int(n_boot), float(level), int(seed))


@lru_cache(maxsize=64)
def _curve(c: bytes, y: bytes, n_boot: int, seed: int) -> pd.DataFrame:
    import relplot  # noqa: PLC0415

    state = np.random.get_state()  # relplot bags with numpy's global generator: seed it, then restore it
    np.random.seed(seed)
    try:
        d = relplot.prepare_rel_diagram(np.frombuffer(c), np.frombuffer(y), num_bootstrap=n_boot,
                                        report_CE_std=False)
    finally:
        np.random.set_state(state)
    return pd.DataFrame({C.MESH: d["mesh"], C.SMOOTH_ACCURACY: d["mu"], C.SMOOTH_LOW: d["lower"],
                         C.SMOOTH_HIGH: d["upper"], C.DENSITY: d["density"], C.SMECE: d["ce"]})


def smooth_reliability(confidence, correct, *, n_boot: int = 100, seed: int = 0) -> pd.DataFrame:
    """The smoothed reliability curve on relplot's mesh over [0, 1] (:data:`SMOOTH_RELIABILITY_COLUMNS`
    plus ``smece``): ``relplot.prepare_rel_diagram`` with ``n_boot`` bootstrapped fits for the 95% band,
    seeded so the band is reproducible.

    >>> curve = smooth_reliability([0.9, 0.8, 0.7, 0.6, 0.3], [1, 1, 0, 1, 0], n_boot=20)
    >>> len(curve), bool((curve.smooth_low <= curve.smooth_high).all())
    (200, True)
    """
    c, y = check_inputs(confidence, correct)
    if n_boot < 2:
        raise ValueError(f"the band needs at least 2 bootstrap fits, got n_boot={n_boot}")
    return _curve(c.tobytes(), y.tobytes(), int(n_boot), int(seed)).copy()
