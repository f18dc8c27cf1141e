"""Temperature and Platt scaling: closed-form cases, recovery of known parameters, sklearn agreement."""

import doctest

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from explorer.metrics import recalibration
from explorer.metrics.recalibration import (apply_platt, apply_temperature, cross_fit_platt, cross_fit_temperature,
                                            fit_platt, fit_temperature, fold_ids, holdout_indices, temperature_nll)
from explorer.metrics.reliability import ece


def test_doctests():
    result = doctest.testmod(recalibration)
    assert result.attempted > 0 and result.failed == 0


def test_temperature_closed_form_binary():
    # margin m, accuracy q on every row: the optimum has sigmoid(m / T) = q
    z = np.array([[3.0, 0.0]] * 8 + [[0.0, 3.0]] * 2)
    gold = np.zeros(10, dtype=int)
    t = fit_temperature(z, gold)
    assert t == pytest.approx(3.0 / logit(0.8), rel=1e-5)
    p = apply_temperature(z, t)
    assert p[:, 0].max() == pytest.approx(0.8, abs=1e-6)
    assert temperature_nll(z, gold, t) <= temperature_nll(z, gold, t * 1.01)
    assert temperature_nll(z, gold, t) <= temperature_nll(z, gold, t * 0.99)


def test_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=(4000, 4))
    p_true = apply_temperature(z, 2.5)
    gold = np.array([rng.choice(4, p=row) for row in p_true])
    assert fit_temperature(z, gold) == pytest.approx(2.5, rel=0.08)


def test_temperature_ragged_options_and_argmax_kept():
    z = np.array([[2.0, 1.0, np.nan], [0.5, 1.5, -1.0]])
    p = apply_temperature(z, 0.7)
    assert np.isnan(p[0, 2])
    np.testing.assert_allclose(np.nansum(p, axis=1), 1.0)
    assert np.nanargmax(p, axis=1).tolist() == [0, 1]
    with pytest.raises(ValueError, match="positive"):
        apply_temperature(z, 0.0)
    with pytest.raises(ValueError, match="finite score"):
        fit_temperature(z, [2, 0])


def test_platt_recovers_known_parameters():
    rng = np.random.default_rng(1)
    c = rng.uniform(0.3, 0.99, 20000)
    y = (rng.uniform(size=c.size) < expit(0.6 * logit(c) - 0.4)).astype(int)
    a, b = fit_platt(c, y, smooth=False)
    assert a == pytest.approx(0.6, abs=0.06) and b == pytest.approx(-0.4, abs=0.06)


def test_platt_matches_unpenalised_sklearn_logistic_regression():
    rng = np.random.default_rng(2)
    c = rng.uniform(0.2, 0.95, 300)
    y = (rng.uniform(size=300) < c ** 2).astype(int)
    a, b = fit_platt(c, y, smooth=False)
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(logit(c)[:, None], y)
    assert a == pytest.approx(lr.coef_[0, 0], abs=1e-4) and b == pytest.approx(lr.intercept_[0], abs=1e-4)
    np.testing.assert_allclose(apply_platt(c, (a, b)), lr.predict_proba(logit(c)[:, None])[:, 1], atol=1e-5)


def test_platt_smoothing_keeps_separable_data_finite():
    c, y = [0.2, 0.3, 0.8, 0.9], [0, 0, 1, 1]
    a, b = fit_platt(c, y)  # smoothed targets 1/4 and 3/4
    assert np.isfinite(a) and np.isfinite(b)
    np.testing.assert_allclose(apply_platt(c, (a, b)).round(2), [0.2, 0.28, 0.72, 0.8], atol=0.08)


def test_folds_and_holdout():
    ids = fold_ids(11, 5, seed=3)
    assert sorted(np.bincount(ids).tolist()) == [2, 2, 2, 2, 3]
    assert (fold_ids(11, 5, seed=3) == ids).all() and not (fold_ids(11, 5, seed=4) == ids).all()
    fit, ev = holdout_indices(8, 0.5, seed=1)
    assert len(set(fit) & set(ev)) == 0 and len(fit) == 4
    with pytest.raises(ValueError, match="folds"):
        fold_ids(3, 5)


def test_cross_fitting_is_out_of_fold_and_helps_overconfident_scores():
    rng = np.random.default_rng(4)
    z = rng.normal(0, 1, size=(600, 4))
    gold = np.array([rng.choice(4, p=row) for row in apply_temperature(z, 1.0)])
    z_hot = z * 4  # an over-confident model: true T = 4
    probs, temps = cross_fit_temperature(z_hot, gold, folds=5, seed=0)
    assert temps.shape == (5,) and np.all(np.abs(temps - 4) < 1)
    ids = fold_ids(600, 5, 0)
    for f in range(5):  # fold f's probabilities come from the T refitted on the other folds, not on f
        out_of_fold = fit_temperature(z_hot[ids != f], gold[ids != f])
        assert temps[f] == pytest.approx(out_of_fold, rel=1e-9)
        assert abs(fit_temperature(z_hot[ids == f], gold[ids == f]) - out_of_fold) > 1e-3
        np.testing.assert_allclose(probs[ids == f], apply_temperature(z_hot[ids == f], out_of_fold))
    conf_raw = apply_temperature(z_hot, 1.0).max(axis=1)
    correct = np.argmax(z_hot, axis=1) == gold
    assert ece(probs.max(axis=1), correct) < ece(conf_raw, correct) / 2
    cal, params = cross_fit_platt(conf_raw, correct, folds=4, seed=0)
    assert params.shape == (4, 2) and ece(cal, correct) < ece(conf_raw, correct) / 2
    ids = fold_ids(600, 4, 0)
    for f in range(4):  # the same for Platt scaling
        out_of_fold = fit_platt(conf_raw[ids != f], correct[ids != f])
        np.testing.assert_allclose(params[f], out_of_fold, rtol=1e-9)
        assert np.abs(np.subtract(fit_platt(conf_raw[ids == f], correct[ids == f]), out_of_fold)).max() > 1e-3
        np.testing.assert_allclose(cal[ids == f], apply_platt(conf_raw[ids == f], out_of_fold))
