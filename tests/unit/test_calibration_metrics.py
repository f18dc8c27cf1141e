"""Calibration metrics against hand-computed values and scikit-learn's calibration_curve."""

import doctest

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from explorer.metrics import reliability, scores
from explorer.metrics.reliability import bin_edges, ece, mce, reliability_curve
from explorer.metrics.scores import (balance_score, bootstrap_interval, brier_multiclass, brier_top, selective_auc,
                                     selective_curve)


@pytest.mark.parametrize("module", [reliability, scores])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_reliability_by_hand_uniform():
    conf = [0.05, 0.15, 0.12, 0.55, 0.58, 0.95, 1.0]
    corr = [0, 0, 1, 1, 0, 1, 1]
    r = reliability_curve(conf, corr, n_bins=4)  # bins (0,.25], (.25,.5] empty, (.5,.75], (.75,1]
    assert r.bin.tolist() == [0, 2, 3]
    assert r.count.tolist() == [3, 2, 2]
    np.testing.assert_allclose(r.confidence, [(0.05 + 0.15 + 0.12) / 3, 0.565, 0.975])
    np.testing.assert_allclose(r.accuracy, [1 / 3, 0.5, 1.0])
    np.testing.assert_allclose(r.lower, [0, 0.5, 0.75])
    np.testing.assert_allclose(r.upper, [0.25, 0.75, 1.0])
    gaps = [abs(1 / 3 - 0.32 / 3), 0.065, 0.025]
    assert ece(conf, corr, n_bins=4) == pytest.approx((3 * gaps[0] + 2 * gaps[1] + 2 * gaps[2]) / 7)
    assert mce(conf, corr, n_bins=4) == pytest.approx(max(gaps))


def test_edges_right_closed():
    r = reliability_curve([0.5, 0.5000001], [1, 0], n_bins=2)
    assert r.bin.tolist() == [0, 1]  # 0.5 belongs to (0, 0.5]


def test_quantile_equal_mass_by_hand():
    conf = np.array([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    corr = np.array([0, 1, 0, 1, 1, 1, 0, 1])
    edges = bin_edges(conf, 4, "quantile")
    np.testing.assert_allclose(edges, [0.3, 0.475, 0.65, 0.825, 1.0])
    r = reliability_curve(conf, corr, n_bins=4, strategy="quantile")
    assert r.count.tolist() == [2, 2, 2, 2]
    np.testing.assert_allclose(r.accuracy, [0.5, 0.5, 1.0, 0.5])
    np.testing.assert_allclose(r.confidence, [0.35, 0.55, 0.75, 0.95])


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [3, 5, 10, 15])
def test_matches_sklearn(strategy, n_bins):
    rng = np.random.default_rng(n_bins)
    conf = rng.uniform(0.25, 1.0, 400)
    corr = (rng.uniform(size=400) < conf ** 1.5).astype(int)
    r = reliability_curve(conf, corr, n_bins=n_bins, strategy=strategy)
    prob_true, prob_pred = calibration_curve(corr, conf, n_bins=n_bins, strategy=strategy)
    np.testing.assert_allclose(r.accuracy, prob_true)
    np.testing.assert_allclose(r.confidence, prob_pred)


def test_matches_sklearn_with_ties_and_empty_bins():
    conf = np.array([0.25] * 6 + [0.5] * 3 + [1.0] * 5)  # quantile edges coincide; uniform bins empty
    corr = np.array([0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0])
    for strategy in ("uniform", "quantile"):
        r = reliability_curve(conf, corr, n_bins=10, strategy=strategy)
        prob_true, prob_pred = calibration_curve(corr, conf, n_bins=10, strategy=strategy)
        np.testing.assert_allclose(r.accuracy, prob_true)
        np.testing.assert_allclose(r.confidence, prob_pred)
        assert r.count.sum() == len(conf) and np.all(r.count > 0)


def test_perfect_calibration_has_zero_ece():
    conf = [0.8] * 5 + [0.6] * 5
    corr = [1, 1, 1, 1, 0, 1, 1, 1, 0, 0]
    assert ece(conf, corr) == pytest.approx(0.0)
    assert balance_score(conf, corr) == pytest.approx(0.0)


def test_brier_scores_by_hand():
    probs = [[0.6, 0.3, 0.1, np.nan], [0.25, 0.25, 0.25, 0.25]]
    # item 0: (0.4^2 + 0.3^2 + 0.1^2) = 0.26 ; item 1: 0.75^2 + 3 * 0.0625 = 0.75
    assert brier_multiclass(probs, [0, 2]) == pytest.approx((0.26 + 0.75) / 2)
    assert brier_top([0.6, 0.25], [1, 0]) == pytest.approx((0.16 + 0.0625) / 2)
    with pytest.raises(ValueError, match="gold"):
        brier_multiclass(probs, [3, 0])


def test_selective_curve_by_hand():
    cov, acc = selective_curve([0.2, 0.9, 0.6, 0.4], [1, 1, 0, 0])
    np.testing.assert_allclose(cov, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(acc, [1.0, 0.5, 1 / 3, 0.5])
    assert selective_auc([0.2, 0.9, 0.6, 0.4], [1, 1, 0, 0]) == pytest.approx((1 + 0.5 + 1 / 3 + 0.5) / 4)
    # ties: the answer does not depend on the input order
    a = selective_auc([0.5, 0.5, 0.9], [1, 0, 1])
    b = selective_auc([0.5, 0.5, 0.9], [0, 1, 1])
    assert a == pytest.approx(b) == pytest.approx((1 + 0.75 + 2 / 3) / 3)


def test_bootstrap_interval_covers_and_is_seeded():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.3, 1, 200)
    corr = (rng.uniform(size=200) < conf).astype(int)
    est, lo, hi = bootstrap_interval(lambda c, y: ece(c, y), conf, corr, n_boot=200, seed=1)
    assert lo < hi and lo <= est + 0.05 and est == pytest.approx(ece(conf, corr))
    assert bootstrap_interval(lambda c, y: ece(c, y), conf, corr, n_boot=200, seed=1)[1] == lo
    est, lo, hi = bootstrap_interval(np.mean, np.full(10, 0.7), n_boot=50)
    assert est == lo == hi == pytest.approx(0.7)


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ece([1.2], [1])
    with pytest.raises(ValueError, match="0/1"):
        ece([0.5], [2])
    with pytest.raises(ValueError, match="one of each"):
        ece([0.5, 0.6], [1])
    with pytest.raises(ValueError, match="strategy"):
        ece([0.5], [1], strategy="kmeans")


def test_balance_terms_for_binary_events_match_choi_et_al():
    from explorer.metrics.scores import balance_terms

    # f(p, y): 1 - p (p >= .5, y = 1); p (p < .5, y = 0); -p (p >= .5, y = 0); p - 1 (p < .5, y = 1)
    p, y = [0.5, 0.9, 0.2, 0.7, 0.1], [1, 1, 0, 0, 1]
    assert balance_terms(p, y, event=[True] * 5).tolist() == pytest.approx([0.5, 0.1, 0.2, -0.7, -0.9])
    assert balance_terms(p, y).tolist() == pytest.approx([0.5, 0.1, -0.2, -0.7, 0.9])  # top-label rows: y - c
    with pytest.raises(ValueError, match="one per prediction"):
        balance_terms(p, y, event=[True])
