"""The chain's per-item quantities and the agreement of two conditions, against hand-computed values."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.metrics import chain, chain_summary, scores
from explorer.metrics.chain import chain_quantities, link_agreement, pearson, same_sign_share, spearman
from explorer.metrics.chain_summary import chain_agreement, chain_means, summarize_chain
from explorer.metrics.scores import brier_per_item


@pytest.mark.parametrize("module", [chain, chain_summary, scores])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_quantities_by_hand():
    # item 0: p_vocab = .4 .1 .1 (gold 1); item 1: .05 .15 pad (gold 1)
    q = chain_quantities(np.log([[0.4, 0.1, 0.1], [0.05, 0.15, np.nan]]), [1, 1])
    assert q[C.LOGP_VOCAB_GOLD] == pytest.approx(np.log([0.1, 0.15]))
    assert q[C.P_VOCAB_GOLD] == pytest.approx([0.1, 0.15])
    assert q[C.P_CHOICES_GOLD] == pytest.approx([0.1 / 0.6, 0.15 / 0.2])
    assert q[C.P_VOCAB_WRONG] == pytest.approx([0.5, 0.05])
    assert q[C.P_VOCAB_WRONG_MAX] == pytest.approx([0.4, 0.05])
    assert q[C.P_CHOICES_WRONG_MAX] == pytest.approx([0.4 / 0.6, 0.25])
    assert q[C.PRED].tolist() == [0, 1] and q[C.CORRECT].tolist() == [False, True]
    # Brier over the renormalised choices: (2/3)^2 + (1/6 - 1)^2 + (1/6)^2;  (1/4)^2 + (3/4 - 1)^2
    assert q[C.BRIER] == pytest.approx([4 / 9 + 25 / 36 + 1 / 36, 1 / 16 + 1 / 16])


def test_ties_predict_the_first_position_and_bad_gold_is_refused():
    q = chain_quantities(np.log([[0.3, 0.3]]), [1])
    assert q[C.PRED].tolist() == [0] and not q[C.CORRECT][0]
    with pytest.raises(ValueError, match="gold index"):
        chain_quantities(np.log([[0.3, np.nan]]), [1])
    with pytest.raises(ValueError, match=r"\[n, k\]"):
        chain_quantities(np.log([0.3, 0.2]), [0])


def test_brier_per_item_by_hand():
    assert brier_per_item([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], [0, 0, 1]).tolist() == [0.0, 2.0, 0.5]


def test_spearman_by_hand_and_against_scipy():
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(1 - 6 * 4 / (5 * 24))  # d^2 = 1+1+1+1
    # ties: ranks (1.5, 1.5, 3) and (1, 2, 3); Pearson of those = 0.866...
    assert spearman([0, 0, 1], [1, 2, 3]) == pytest.approx(np.sqrt(3) / 2)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=40), rng.normal(size=40)
    x[:5] = x[5]  # a tie block
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert spearman(np.exp(x), y) == pytest.approx(spearman(x, y))  # ranks ignore monotone maps: log p vs p
    assert pearson(np.exp(x), y) != pytest.approx(pearson(x, y))  # a linear correlation does not
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic)


def test_correlations_are_nan_when_undefined():
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3])) and np.isnan(pearson([1.0], [2.0]))
    with pytest.raises(ValueError, match="one per item"):
        spearman([1, 2], [1, 2, 3])


def test_same_sign_share_by_hand():
    assert same_sign_share([1, -1, 0, 2], [3, -0.1, 0, -2]) == 0.75
    assert np.isnan(same_sign_share([], []))


def test_link_agreement_orients_brier():
    a = {C.LOGP_VOCAB_GOLD: np.array([-2.0, -1.0]), C.BRIER: np.array([0.8, 0.4])}
    b = {C.LOGP_VOCAB_GOLD: np.array([-1.0, -2.0]), C.BRIER: np.array([0.5, 0.9])}  # item 0 better, item 1 worse
    rows = link_agreement(a, b, (C.LOGP_VOCAB_GOLD, C.BRIER))
    assert [r[C.SAME_SIGN] for r in rows] == [1.0, 1.0]  # a lower Brier is an improvement, like a higher log p
    b[C.BRIER] = np.array([0.9, 0.3])  # now Brier moves against log p on both items
    assert link_agreement(a, b, (C.LOGP_VOCAB_GOLD, C.BRIER))[1][C.SAME_SIGN] == 0.0


def chain_frame() -> pd.DataFrame:
    """Three items under conditions A and B (and C for one item), values chosen by hand."""
    rows = []
    values = {  # item: (logp, p_choices, correct, brier) under A, then under B
        "q1": ((-3.0, 0.2, 0, 0.9), (-1.0, 0.3, 0, 0.8)),
        "q2": ((-2.0, 0.5, 1, 0.4), (-2.5, 0.6, 1, 0.3)),
        "q3": ((-1.0, 0.7, 1, 0.2), (-0.5, 0.4, 0, 0.7)),
    }
    for item, conds in values.items():
        for name, (lp, pc, ok, br) in zip("AB", conds):
            rows.append({C.CONDITION: name, C.ITEM_ID: item, C.LOGP_VOCAB_GOLD: lp, C.P_VOCAB_GOLD: np.exp(lp),
                         C.P_CHOICES_GOLD: pc, C.CORRECT: bool(ok), C.BRIER: br, C.P_VOCAB_WRONG: 0.1})
    rows.append({**rows[0], C.CONDITION: "C"})
    return pd.DataFrame(rows)


def test_agreement_frame_by_hand():
    ag = chain_agreement(chain_frame(), [("A", "B")]).set_index(C.LINK)
    assert list(ag.index) == C.CHAIN_LINKS and (ag[C.N] == 3).all()
    # logp ranks A (1, 2, 3), B (2, 1, 3): rho = 1 - 6 * 2 / 24 = 0.5; p_vocab the same (exp is monotone)
    assert ag.loc[C.LOGP_VOCAB_GOLD, C.SPEARMAN] == pytest.approx(0.5)
    assert ag.loc[C.P_VOCAB_GOLD, C.SPEARMAN] == pytest.approx(0.5)
    # p_choices ranks A (1, 2, 3), B (1, 3, 2): 0.5; correct A (0,1,1) B (0,1,0): ranks (1,2.5,2.5) (1.5,3,1.5)
    assert ag.loc[C.P_CHOICES_GOLD, C.SPEARMAN] == pytest.approx(0.5)
    assert ag.loc[C.CORRECT, C.SPEARMAN] == pytest.approx(0.5)
    assert ag.loc[C.BRIER, C.SPEARMAN] == pytest.approx(0.5)  # A (3, 2, 1), B (3, 1, 2)
    # changes in logp: +2, -0.5, +0.5; in -Brier: +0.1, +0.1, -0.5 -> same sign on q1 only
    assert ag.loc[C.BRIER, C.SAME_SIGN] == pytest.approx(1 / 3)
    # p_choices changes +0.1, +0.1, -0.3 -> same sign as logp on q1 only; correct: 0, 0, -1 -> q3 only
    assert ag.loc[C.P_CHOICES_GOLD, C.SAME_SIGN] == pytest.approx(1 / 3)
    assert ag.loc[C.CORRECT, C.SAME_SIGN] == pytest.approx(0.0)


def test_pairs_use_the_items_both_conditions_have():
    ag = chain_agreement(chain_frame())
    assert set(zip(ag[C.CONDITION_A], ag[C.CONDITION_B])) == {("A", "B"), ("A", "C"), ("B", "C")}
    assert (ag.loc[ag[C.CONDITION_B] == "C", C.N] == 1).all()


def test_means_and_summary_keys():
    frame = chain_frame()
    means = chain_means(frame).set_index(C.CONDITION)
    assert list(means.index) == ["A", "B", "C"]
    assert means.loc["A", C.ACCURACY] == pytest.approx(2 / 3) and means.loc["B", C.BRIER] == pytest.approx(0.6)
    assert means.loc["A", C.LOGP_VOCAB_GOLD] == pytest.approx(-2.0) and means.loc["C", "n_items"] == 1
    s = summarize_chain(frame)
    keys = {"logp_vocab_gold", "p_vocab_gold", "p_choices_gold", "accuracy", "brier", "n_items"}
    assert all(keys <= set(v) for v in s["conditions"].values()) and "accuracy" not in s  # several conditions
    pair = s["correlations"]["A vs B"]
    assert pair["spearman"]["logp_vocab_gold"] == pytest.approx(0.5) and pair["n_items"] == 3
    assert pair["same_sign_share"] == pytest.approx(1 / 3) and s["links"] == C.CHAIN_LINKS
    assert s["correlations"]["A vs C"]["spearman"]["logp_vocab_gold"] is None  # one item: undefined
    single = summarize_chain(frame[frame[C.CONDITION] == "A"])
    assert keys <= set(single) and single["accuracy"] == pytest.approx(2 / 3) and single["correlations"] == {}


def test_frame_errors_name_the_fix():
    frame = chain_frame()
    with pytest.raises(ExplorerError, match="appears twice"):
        chain_means(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(ExplorerError, match="lacks columns"):
        chain_means(frame.drop(columns=[C.BRIER]))
    with pytest.raises(ExplorerError, match="no rows for condition 'Z'"):
        chain_agreement(frame, [("A", "Z")])
