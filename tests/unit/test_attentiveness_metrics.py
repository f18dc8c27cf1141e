"""Attentiveness metrics against values computed by hand."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.metrics import attentiveness as M


def test_doctests():
    assert doctest.testmod(M).failed == 0


def test_sfc_bound_by_hand():
    # choices 0.5, 0.3, 0.1 -> PMA 0.9, stray 0.1, margin 0.2: resolved
    pma, (p1, p2) = 0.9, M.top_two([0.3, 0.5, 0.1])
    assert (p1, p2) == (0.5, 0.3)
    assert M.sfc_resolved(pma, p1, p2) is True
    # choices 0.2, 0.15, 0.05 -> PMA 0.4, stray 0.6 >= margin 0.05: not resolved
    assert M.sfc_resolved(0.4, 0.2, 0.15) is False
    # boundary: stray == margin is not resolved (strict inequality)
    assert M.sfc_resolved(0.75, 0.5, 0.25) is False
    np.testing.assert_array_equal(M.sfc_resolved(np.array([0.9, 0.4]), np.array([0.5, 0.2]), np.array([0.3, 0.15])),
                                  [True, False])


def test_pmi_by_hand():
    # p(c|x) = [0.30, 0.20], p(c|"Answer:") = [0.60, 0.10]: raw picks 0, PMI picks 1 (log 0.5 < log 2)
    lp, prem = np.log([0.30, 0.20]), np.log([0.60, 0.10])
    scores = M.pmi_scores(lp, prem)
    assert scores == pytest.approx([math.log(0.5), math.log(2.0)])
    assert int(np.argmax(lp)) == 0 and int(np.argmax(scores)) == 1


def test_length_normalisation_by_hand():
    # "Paris" (5 chars) log p = -2.0 -> -0.4; "Buenos Aires" (12 chars) log p = -3.6 -> -0.3: normalising flips it
    lp = [-2.0, -3.6]
    norm = M.length_normalised(lp, [len("Paris"), len("Buenos Aires")])
    assert norm == pytest.approx([-0.4, -0.3])
    assert int(np.argmax(lp)) == 0 and int(np.argmax(norm)) == 1
    with pytest.raises(ValueError):
        M.length_normalised([-1.0], [0])


def test_bootstrap_and_pearson():
    lo, hi = M.bootstrap_ci([0.0, 1.0] * 50, n_boot=2000)
    assert lo < 0.5 < hi and hi - lo < 0.3
    assert M.bootstrap_ci([np.nan]) == (pytest.approx(np.nan, nan_ok=True), pytest.approx(np.nan, nan_ok=True))
    assert math.isnan(M.pearson([1, 1, 1], [0, 1, 0]))
    assert M.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)


def _rows():
    # two items, letters 0-shot (seed 0) and 1-shot (seeds 0, 1)
    return pd.DataFrame({
        C.ITEM_ID: ["a", "b", "a", "b", "a", "b"],
        C.FORMAT: ["letters"] * 6,
        C.SHOTS: [0, 0, 1, 1, 1, 1],
        C.SEED: [0, 0, 0, 0, 1, 1],
        C.PMA: [0.1, 0.3, 0.8, 0.9, 0.6, 0.7],
        C.CORRECT: pd.array([True, False, True, False, False, False], dtype="boolean"),
        C.CORRECT_PMI: pd.array([True, True, True, True, True, False], dtype="boolean"),
        C.CORRECT_NORM: pd.array([True, False, True, False, False, False], dtype="boolean"),
        C.RESOLVED: [False, False, True, True, False, True],
        C.GREEDY_VALID: [False, False, True, True, True, False],
    })


def test_summary_by_hand():
    s = M.summarize_attentiveness(_rows(), n_boot=200).set_index(C.SHOTS)
    zero, one = s.loc[0], s.loc[1]
    assert zero["n_items"] == 2 and zero["n_rows"] == 2 and one["n_rows"] == 4
    assert zero["pma_mean"] == pytest.approx(0.2)
    assert zero["accuracy"] == pytest.approx(0.5)
    assert zero["accuracy_pmi"] == pytest.approx(1.0)
    assert zero["resolved_share"] == pytest.approx(0.0)
    assert zero["invalid_share"] == pytest.approx(1.0)
    # 1-shot: per item over seeds a: (0.8+0.6)/2 = 0.7, b: (0.9+0.7)/2 = 0.8 -> 0.75
    assert one["pma_mean"] == pytest.approx(0.75)
    assert one["accuracy"] == pytest.approx(0.25)  # a: 0.5, b: 0
    assert one["accuracy_pmi"] == pytest.approx(0.75)  # a: 1, b: 0.5
    assert one["resolved_share"] == pytest.approx(0.75)  # a: 0.5, b: 1
    assert one["invalid_share"] == pytest.approx(0.25)  # a: 0, b: 0.5
    assert one["pma_mean_lo"] <= one["pma_mean"] <= one["pma_mean_hi"]
    assert one["pma_mean_lo"] >= 0.7 - 1e-12 and one["pma_mean_hi"] <= 0.8 + 1e-12


def test_relation_more_mass_lower_accuracy():
    rel = M.pma_accuracy_relation(M.summarize_attentiveness(_rows(), n_boot=50))
    # PMA rises from 0.2 to 0.75 while accuracy falls from 0.5 to 0.25
    assert rel["n_cells"] == 2 and math.isnan(rel["corr"])  # correlation needs at least 3 cells
    assert rel["pma_up_acc_down"] == 1.0
