"""Every permutation metric against values computed by hand (the arithmetic is written out)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from explorer.errors import ExplorerError, ItemError
from explorer.metrics import permutation as M
from explorer.metrics import permutation_arrays as MA
from explorer.metrics.permutation_arrays import permutation_arrays, permutation_frame
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.items import orders as O
from explorer.items.orders import cyclic_orders

CYC3 = cyclic_orders(3)  # (0,1,2), (1,2,0), (2,0,1)
# x: gold choice 0; y: gold choice 2. Rows: orders; columns: label positions.
PX = [[.5, .3, .2], [.6, .1, .3], [.4, .4, .2]]
PY = [[.2, .3, .5], [.7, .2, .1], [.3, .3, .4]]
PZ = [[.8, .1, .1], [.8, .1, .1], [.8, .1, .1]]  # no gold


@pytest.fixture
def xy():
    return permutation_frame([PX, PY], CYC3, [0, 2], item_ids=["x", "y"])


def test_doctests():
    for module in (M, MA, O):
        assert doctest.testmod(module).failed == 0


def test_position_level(xy):
    # pos0: (.5+.6+.4+.2+.7+.3)/6, pos1: (.3+.1+.4+.3+.2+.3)/6, pos2: (.2+.3+.2+.5+.1+.4)/6
    assert np.allclose(M.position_response(xy), [2.7 / 6, 1.6 / 6, 1.7 / 6])
    assert M.a_bias(xy) == pytest.approx(2.7 / 6 - 1 / 3)
    # predicted positions: x 0,0,0 (o2 ties .4/.4 -> first); y 2,0,2
    assert M.position_share(xy).tolist() == pytest.approx([4 / 6, 0, 2 / 6])
    # chi-square vs 2 expected each: (2^2 + 2^2 + 0) / 2 = 4; df 2 -> p = exp(-2)
    stat, p = M.chi2_positions(xy)
    assert stat == pytest.approx(4.0) and p == pytest.approx(math.exp(-2))


def test_accuracy_family(xy):
    # x: o0 pos0 = choice 0 (right), o1 pos0 = choice 1, o2 pos0 = choice 2; y: o0 pos2 = choice 2 (right),
    # o1 pos0 = choice 1, o2 pos2 = choice 1
    assert M.correct(xy).tolist() == [[True, False, False], [True, False, False]]
    assert M.accuracy(xy) == pytest.approx(2 / 6)
    assert M.accuracy_by_order(xy).to_dict() == {"0,1,2": 1.0, "1,2,0": 0.0, "2,0,1": 0.0}
    # gold at pos0: (x,o0) right, (y,o2) wrong; pos1: (x,o2), (y,o1) wrong; pos2: (x,o1) wrong, (y,o0) right
    assert M.recall_by_position(xy).tolist() == [0.5, 0.0, 0.5]
    assert M.rstd(xy) == pytest.approx(100 * math.sqrt(((1 / 6) ** 2 * 2 + (1 / 3) ** 2) / 3))
    # Cochran's Q: T = [2, 0, 0], R = [1, 1], N = 2, m = 3: 2 (3*4 - 4) / (3*2 - 2) = 4, p = exp(-2)
    q, p = M.order_symmetry_test(xy)
    assert q == pytest.approx(4.0) and p == pytest.approx(math.exp(-2))


def test_content_level(xy):
    qx = [(.5 + .3 + .4) / 3, (.3 + .6 + .2) / 3, (.2 + .1 + .4) / 3]
    qy = [(.2 + .1 + .3) / 3, (.3 + .7 + .4) / 3, (.5 + .2 + .3) / 3]
    assert np.allclose(M.content_response(xy), [qx, qy])
    assert M.order_avg_accuracy(xy) == 0.5  # x -> choice 0 (gold), y -> choice 1 (gold 2)
    assert M.consistency(xy) == 0.0  # x picks 0,1,2; y picks 2,1,1
    h = [-sum(v * math.log(v) for v in q) / math.log(3) for q in (qx, qy)]
    assert M.entropy_norm(xy) == pytest.approx(np.mean(h))
    kl = [sum(v * math.log2(3 * v) for v in q) for q in (qx, qy)]
    assert M.kl_uniform_bits(xy) == pytest.approx(np.mean(kl))
    assert M.kl_uniform_bits(xy) == pytest.approx(math.log2(3) * (1 - M.entropy_norm(xy)))


def test_extremes():
    always_a = permutation_frame([[[1.0, 0, 0, 0]] * 4] * 2, cyclic_orders(4), [0, 1])
    assert M.a_bias(always_a) == pytest.approx(0.75)
    assert M.accuracy(always_a) == 0.25 and M.consistency(always_a) == 0.0
    assert M.entropy_norm(always_a) == pytest.approx(1.0)  # order-averaged: each choice gets 1/4
    assert M.rstd(always_a) == pytest.approx(100 * math.sqrt(3) / 4)  # recall [1, 0, 0, 0]
    content = permutation_frame([[[.7, .3], [.3, .7]]], [(0, 1), (1, 0)], [0])  # follows choice 0 everywhere
    assert M.consistency(content) == 1.0 and M.a_bias(content) == pytest.approx(0.0)
    assert M.kl_uniform_bits(content) == pytest.approx(.7 * math.log2(1.4) + .3 * math.log2(.6))
    sure = permutation_frame([[[1.0, 0.0], [0.0, 1.0]]], [(0, 1), (1, 0)], [0])
    assert M.entropy_norm(sure) == 0.0 and M.kl_uniform_bits(sure) == pytest.approx(1.0)


def test_pride(xy):
    prior, est = M.pride_prior(xy, seed=0)
    assert est == ("y",)  # round(5% of 2) -> at least 1 item, drawn with seed 0
    g = np.array([(.2 * .7 * .3) ** (1 / 3), (.3 * .2 * .3) ** (1 / 3), (.5 * .1 * .4) ** (1 / 3)])
    assert np.allclose(prior, g / g.sum())  # softmax of mean log p = normalised geometric mean
    # on x: p / prior -> o0 picks pos0 (choice 0, right), o1 pos0 (choice 1), o2 pos1 (choice 0, right)
    result = M.pride(xy, seed=0)
    assert result["accuracy"] == pytest.approx(2 / 3) and result["accuracy_before"] == pytest.approx(1 / 3)
    both, est2 = M.pride_prior(xy, share=1.0)
    gx = np.array([(.5 * .6 * .4) ** (1 / 3), (.3 * .1 * .4) ** (1 / 3), (.2 * .3 * .2) ** (1 / 3)])
    assert est2 == ("x", "y") and np.allclose(both, (gx / gx.sum() + g / g.sum()) / 2)
    with pytest.raises(ExplorerError, match="none are left"):
        M.pride(xy, share=1.0)


def test_pride_needs_cyclic_shifts():
    frame = permutation_frame([[[.6, .3, .1], [.5, .3, .2]]], [(0, 1, 2), (0, 2, 1)], [0])
    with pytest.raises(ExplorerError, match="cyclic shift"):
        M.pride_prior(frame)


def test_gold_less_items():
    frame = permutation_frame([PX, PY, PZ], CYC3, [0, 2, None], item_ids=["x", "y", "z"])
    assert np.allclose(M.position_response(frame), [(2.7 + 2.4) / 9, (1.6 + .3) / 9, (1.7 + .3) / 9])
    assert M.consistency(frame) == 0.0  # z always answers "A": choices 0, 1, 2 under the three shifts
    with pytest.raises(ItemError, match="'z'.*'answer'.*no gold"):
        M.accuracy(frame)
    s = summarize_permutation(frame, n_boot=0)
    assert s["n_items"] == 3 and s["n_gold_items"] == 2 and s["accuracy"] == pytest.approx(1 / 3)
    assert "2 of 3 items" in s["notes"][0]
    none = summarize_permutation(permutation_frame([PZ], CYC3, [None]), n_boot=0)
    assert none["accuracy"] is None and none["pride_accuracy"] is None and none["a_bias"] == pytest.approx(.8 - 1 / 3)


def test_bootstrap(xy):
    same = permutation_frame([PX, PX, PX], CYC3, [0, 0, 0], item_ids=["a", "b", "c"])
    assert M.bootstrap_ci(same, M.accuracy, n_boot=50) == pytest.approx((1 / 3, 1 / 3))
    lo, hi = M.bootstrap_ci(xy, M.order_avg_accuracy, n_boot=400, seed=1)
    assert lo == 0.0 and hi == 1.0  # resamples of {right, wrong} give 0, .5 and 1
    assert M.bootstrap_ci(xy, M.a_bias, n_boot=50, seed=3) == M.bootstrap_ci(xy, M.a_bias, n_boot=50, seed=3)


def test_summary_keys(xy):
    s = summarize_permutation(xy, n_boot=100)
    for key in ("accuracy", "a_bias", "position_share", "mean_prob_by_position", "rstd", "order_avg_accuracy",
                "pride_accuracy", "consistency", "entropy_norm", "chi2_p", "n_items", "n_orders"):
        assert key in s
    assert s["n_items"] == 2 and s["n_orders"] == 3 and s["labels"] == ["A", "B", "C"]
    assert s["pride_accuracy"] == pytest.approx(2 / 3) and s["chi2_p"] == pytest.approx(math.exp(-2))
    assert isinstance(s["position_share"], list) and set(s["ci95"]) >= {"accuracy", "a_bias", "rstd"}
    lo, hi = s["ci95"]["accuracy"]
    assert lo <= s["accuracy"] <= hi


def test_frame_errors(xy):
    with pytest.raises(ExplorerError, match="same orders"):
        permutation_arrays(xy.iloc[:-3])  # y lacks its last order
    with pytest.raises(ExplorerError, match="lacks columns"):
        permutation_arrays(xy.drop(columns=["order"]))
