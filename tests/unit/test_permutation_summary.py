"""The permutation summary over several numbers of choices (by_k, pooled keys) and by group, against
values computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer import columns as C
from explorer.metrics import group_table, summarize_permutation
from explorer.metrics.permutation_arrays import example_frame, permutation_frame
from explorer.metrics.permutation_summary import summarize_k
from explorer.items.orders import cyclic_orders

CYC3 = cyclic_orders(3)
PX = [[.5, .3, .2], [.6, .1, .3], [.4, .4, .2]]  # gold 0: right under order 0 only (1 of 3)
PY = [[.2, .3, .5], [.7, .2, .1], [.3, .3, .4]]  # gold 2: right under order 0 only (1 of 3)
PW = [[.7, .2, .1], [.1, .2, .7], [.2, .7, .1]]  # gold 0: picks choice 0 wherever it stands (3 of 3)


@pytest.fixture
def mixed():
    """k = 2: q0, q1 (the docstrings' example: 2 of 4 prompts right); k = 3: x, y, w (5 of 9 right)."""
    three = permutation_frame([PX, PY, PW], CYC3, [0, 2, 0], item_ids=["x", "y", "w"])
    return pd.concat([example_frame(), three], ignore_index=True)


def test_by_k_holds_each_k_full_summary(mixed):
    s = summarize_permutation(mixed, n_boot=0)
    assert list(s["by_k"]) == ["2", "3"]
    assert s["by_k"]["2"] == summarize_k(example_frame(), n_boot=0)
    assert s["by_k"]["3"] == summarize_k(mixed[mixed[C.ITEM_ID].isin(["x", "y", "w"])], n_boot=0)
    assert s["by_k"]["3"]["k"] == 3 and s["by_k"]["3"]["a_bias"] is not None


def test_pooled_keys_by_hand(mixed):
    s = summarize_permutation(mixed, n_boot=0)
    assert s["accuracy"] == pytest.approx((2 + 1 + 1 + 3) / (4 + 9))  # over all 13 prompts
    pred = mixed[mixed[C.IS_PRED]]
    assert s["accuracy"] == pytest.approx(pred[C.IS_GOLD].astype(float).mean())  # = the mean over all prompts
    assert s["consistency"] == pytest.approx(1 / 5)  # only w picks the same choice under every order
    assert s["order_avg_accuracy"] == pytest.approx(4 / 5)  # y's order-averaged favourite is choice 1, not 2
    # right under every cyclic shift: q0 and q1 (k = 2, orders "0,1" and "1,0") are each wrong once; of x, y, w only w
    assert s["circular_accuracy"] == pytest.approx(1 / 5)
    assert (s["by_k"]["2"]["circular_accuracy"], s["by_k"]["3"]["circular_accuracy"]) == (0.0, pytest.approx(1 / 3))
    assert (s["n_items"], s["n_gold_items"], s["n_prompts"], s["ks"]) == (5, 5, 13, [2, 3])
    for per_k_only in ("k", "a_bias", "rstd", "mean_prob_by_position", "position_share", "pride_accuracy",
                       "labels", "n_orders", "chi2", "recall_by_position", "entropy_norm"):
        assert s[per_k_only] is None, per_k_only
    assert set(s) - {"by_k"} == set(s["by_k"]["2"])  # the same keys at the top as for one k
    assert "position metrics are per number of choices" in s["notes"][0]


def test_one_k_summary_is_that_k_at_the_top():
    s = summarize_permutation(example_frame(), n_boot=0)
    assert {k: v for k, v in s.items() if k != "by_k"} == s["by_k"]["2"] and s["k"] == 2 and s["ks"] == [2]


def test_pooled_intervals_resample_items(mixed):
    s = summarize_permutation(mixed, n_boot=300, seed=1)
    assert set(s["ci95"]) == {"accuracy", "consistency", "order_avg_accuracy", "circular_accuracy"}
    for name, (lo, hi) in s["ci95"].items():
        assert lo <= s[name] <= hi
    same = pd.concat([permutation_frame([PW], CYC3, [0], item_ids=["w"]),
                      permutation_frame([[[.9, .1], [.1, .9]]], [(0, 1), (1, 0)], [0], item_ids=["v"])])
    assert summarize_permutation(same, n_boot=50)["ci95"]["accuracy"] == [1.0, 1.0]  # every resample is right


def test_pooled_accuracy_uses_items_with_gold_and_consistency_all(mixed):
    frame = mixed.copy()
    frame.loc[frame[C.ITEM_ID] == "w", C.IS_GOLD] = pd.NA
    s = summarize_permutation(frame, n_boot=0)
    assert s["accuracy"] == pytest.approx((2 + 1 + 1) / (4 + 6)) and s["n_gold_items"] == 4
    assert s["consistency"] == pytest.approx(1 / 5)


def test_by_group(mixed):
    frame = mixed.assign(subject=mixed[C.ITEM_ID].map({"q0": "bio", "q1": "chem", "x": "bio", "y": "chem"}))
    s = summarize_permutation(frame, by=["subject"], n_boot=0)
    assert s["by"] == ["subject"] and [g["subject"] for g in s["groups"]] == ["bio", "chem", None]  # w has none
    bio = s["groups"][0]
    assert bio["accuracy"] == pytest.approx((1 + 1) / (2 + 3)) and bio["ks"] == [2, 3]
    assert s["groups"][2]["accuracy"] == 1.0 and s["groups"][2]["k"] == 3
    assert s["accuracy"] == summarize_permutation(mixed, n_boot=0)["accuracy"]  # the pooled value stays on top
    table = group_table(s)
    assert list(table.columns) == ["subject", "n_items", "accuracy", "order_avg_accuracy", "consistency"]
    assert table["n_items"].tolist() == [2, 2, 1]
    with pytest.raises(KeyError, match="cannot group by \\['topic'\\]"):
        summarize_permutation(frame, by=["topic"])


def test_the_frame_becomes_arrays_once_per_k(mixed, monkeypatch):
    """Every metric reads the same arrays; the frame is converted once per number of choices (and once
    more per group), never once per metric or per bootstrap resample."""
    import explorer.metrics.permutation as pm
    import explorer.metrics.permutation_arrays as pa
    import explorer.metrics.permutation_summary as ps

    conversions = []
    original = pa.permutation_arrays

    def counting(data):
        if not isinstance(data, pa.PermutationArrays):
            conversions.append(len(data))
        return original(data)

    for module in (pa, pm, ps):
        monkeypatch.setattr(module, "permutation_arrays", counting)
    summarize_permutation(mixed, n_boot=20)
    assert len(conversions) == 2  # k = 2 and k = 3
    conversions.clear()
    grouped = mixed.assign(subject=mixed[C.ITEM_ID].map({"q0": "a", "q1": "a", "x": "b", "y": "b", "w": "b"}))
    summarize_permutation(grouped, by=["subject"], n_boot=20)
    assert len(conversions) == 2 + 2  # the whole frame (two k), then each group (one k each)
