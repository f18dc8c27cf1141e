"""Calibration by condition on a tiny model's choice frames: per-prompt confidence, groups, recalibration,
order-debiasing and intervention comparisons."""

import contextlib

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.errors import ItemError
from explorer.items import capitals
from explorer.metrics.recalibration import cross_fit_temperature
from explorer.metrics.reliability import ece, reliability_curve
from explorer.metrics.scores import brier_multiclass, selective_auc
from explorer.probes import calibration as cal
from explorer.probes.choices import score_choices
from tests.tiny import tiny_model

CYCLIC = [(0, 1, 2, 3), (1, 2, 3, 0), (2, 3, 0, 1), (3, 0, 1, 2)]


@pytest.fixture(scope="module")
def model():
    return tiny_model("llama")


@pytest.fixture(scope="module")
def frame(model):
    items = capitals(16)
    letters = score_choices(model, items, "letters", cache=None)
    cloze = score_choices(model, items, "cloze", cache=None)
    return pd.concat([letters, cloze], ignore_index=True)


@pytest.fixture(scope="module")
def orders_frame(model):
    items = capitals(10)
    permuted = [i.permuted(order) for order in CYCLIC for i in items]
    part = score_choices(model, permuted, "letters", cache=None)
    return part.assign(**{C.ORDER_ID: np.repeat(np.arange(4), len(part) // 4)})


def test_item_confidence_is_the_predicted_choices_probability(frame):
    items = cal.item_confidence(frame)
    assert len(items) == 32 and set(items[C.FORMAT]) == {"letters", "cloze"}
    for _, row in items.sample(6, random_state=0).iterrows():
        rows = frame[(frame[C.ITEM_ID] == row[C.ITEM_ID]) & (frame[C.FORMAT] == row[C.FORMAT])]
        pred = rows.loc[rows[C.IS_PRED]].iloc[0]
        assert row[C.CONFIDENCE] == pytest.approx(pred[C.PROB_NORM])
        assert row[C.CORRECT] == bool(pred[C.IS_GOLD])
        assert row[C.PRED] == pred[C.POSITION] and row[C.PRED_CHOICE] == pred[C.CHOICE]
        assert row[C.ANSWER] == rows.loc[rows[C.IS_GOLD].astype(bool), C.POSITION].iloc[0]
        assert row[C.CHOICE_PROBS] == pytest.approx(rows[C.PROB_NORM].tolist())
    raw = cal.item_confidence(frame, prob=C.PROB)
    assert (raw[C.CONFIDENCE] <= items[C.CONFIDENCE] + 1e-12).all()
    assert (raw[C.PRED] == items[C.PRED]).all()


def test_summary_by_group_equals_metrics_on_the_subset(frame):
    items = cal.item_confidence(frame)
    summary = cal.summarize(items, by=[C.FORMAT], n_bins=5, strategy="quantile").set_index(C.FORMAT)
    for fmt in ("letters", "cloze"):
        sub = items[items[C.FORMAT] == fmt]
        c, y = sub[C.CONFIDENCE].to_numpy(), sub[C.CORRECT].to_numpy(float)
        probs = np.array([list(p) for p in sub[C.CHOICE_PROBS]])
        assert summary.loc[fmt, C.N] == 16
        assert summary.loc[fmt, C.ACCURACY] == pytest.approx(y.mean())
        assert summary.loc[fmt, C.ECE] == pytest.approx(ece(c, y, n_bins=5, strategy="quantile"))
        assert summary.loc[fmt, C.BRIER] == pytest.approx(brier_multiclass(probs, sub[C.ANSWER]))
        assert summary.loc[fmt, C.SELECTIVE_AUC] == pytest.approx(selective_auc(c, y))


def test_reliability_frame_and_bins_agree(frame):
    items = cal.item_confidence(frame)
    rel = cal.reliability_frame(items, by=[C.FORMAT], n_bins=4)
    binned = cal.with_bins(items, by=[C.FORMAT], n_bins=4)
    assert list(rel.columns) == [C.FORMAT, *C.RELIABILITY_COLUMNS]
    for (fmt, b), g in binned.groupby([C.FORMAT, C.BIN]):
        row = rel[(rel[C.FORMAT] == fmt) & (rel[C.BIN] == b)].iloc[0]
        assert row[C.COUNT] == len(g)
        assert row[C.CONFIDENCE] == pytest.approx(g[C.CONFIDENCE].mean())
        assert row[C.ACCURACY] == pytest.approx(g[C.CORRECT].mean())
    assert rel.groupby(C.FORMAT)[C.COUNT].sum().tolist() == [16, 16]
    one = reliability_curve(items[C.CONFIDENCE], items[C.CORRECT].astype(float), n_bins=4)
    assert cal.reliability_frame(items, n_bins=4)[C.COUNT].tolist() == one.count.tolist()


def test_group_by_gold_position_and_unknown_column(frame):
    items = cal.item_confidence(frame)
    by_gold = cal.summarize(items, by=[C.ANSWER])
    assert by_gold[C.N].sum() == 32 and set(by_gold[C.ANSWER]) <= {0, 1, 2, 3}
    with pytest.raises(KeyError, match="order_id"):
        cal.item_confidence(frame, by=[C.ORDER_ID])


def test_missing_gold_names_the_item(model):
    items = [capitals(2)[0], capitals(2)[1].with_(answer=None)]
    f = score_choices(model, items, "letters", cache=None)
    with pytest.raises(ItemError, match=items[1].id):
        cal.item_confidence(f)


def test_temperature_recalibration_matches_softmax_of_logprobs(frame):
    out = cal.recalibrated(frame, "temperature", by=[C.FORMAT], folds=4, seed=0)
    items = cal.item_confidence(frame, by=[C.FORMAT])
    assert len(out) == len(items) and (out[C.ITEM_ID] == items[C.ITEM_ID]).all()
    assert (out[C.PRED] == items[C.PRED]).all()  # temperature never changes the argmax
    assert out[C.TEMPERATURE].gt(0).all()
    for fmt in ("cloze", "letters"):  # each format's rows: softmax(logprob / T) with T fitted on the other folds
        sub = frame[frame[C.FORMAT] == fmt]
        _, logits, gold = cal.option_matrix(sub, cal.prompt_keys(sub), C.LOGPROB)
        probs, temps = cross_fit_temperature(logits, gold, folds=4, seed=0)
        got = out[out[C.FORMAT] == fmt]
        np.testing.assert_allclose(got[C.CONFIDENCE], probs.max(axis=1), rtol=1e-9)
        assert got[C.TEMPERATURE].iloc[0] == pytest.approx(np.median(temps))
    assert out.groupby(C.FORMAT)[C.TEMPERATURE].nunique().eq(1).all()


def test_platt_recalibration_and_none(frame):
    none = cal.recalibrated(frame, "none")
    pd.testing.assert_frame_equal(none, cal.item_confidence(frame))
    platt = cal.recalibrated(frame, "platt", folds=3)
    assert platt[C.OPTION_BRIER].isna().all() and platt[C.CONFIDENCE].between(0, 1).all()
    assert {C.PLATT_A, C.PLATT_B} <= set(platt.columns)
    with pytest.raises(ValueError, match="recalibration"):
        cal.recalibrated(frame, "isotonic")


def test_debias_orders_averages_content_over_orders(orders_frame):
    deb = cal.debias_orders(orders_frame)
    assert set(deb[C.N_ORDERS]) == {4} and len(deb) == 40
    item = orders_frame[C.ITEM_ID].iloc[0]
    for ci in range(4):
        expected = orders_frame[(orders_frame[C.ITEM_ID] == item) & (orders_frame[C.CHOICE_INDEX] == ci)][C.PROB_NORM]
        got = deb[(deb[C.ITEM_ID] == item) & (deb[C.CHOICE_INDEX] == ci)][C.PROB_NORM].iloc[0]
        assert got == pytest.approx(expected.mean())
    assert deb.groupby(C.ITEM_ID)[C.PROB_NORM].sum().to_numpy() == pytest.approx(1.0)
    both = cal.compare_debiasing(orders_frame)
    counts = both[C.CONDITION].value_counts()
    assert counts["orders"] == 40 and counts["debiased"] == 10
    summary = cal.summarize(both, by=[C.CONDITION])
    assert set(summary[C.CONDITION]) == {"orders", "debiased"}


def test_compare_intervention_runs_inside_the_context(model):
    items = capitals(6)
    entered = []

    @contextlib.contextmanager
    def halve_final_norm():  # a context manager that does not announce itself through model.intervention
        handle = model.parts.final_norm().register_forward_hook(lambda mod, args, out: out * 0.5)
        entered.append(True)
        try:
            yield
        finally:
            handle.remove()

    score_choices(model, items, "letters")  # fill the cache without the intervention
    out = cal.compare_intervention(model, score_choices, halve_final_norm, items=items, fmt="letters")
    assert entered and set(out[C.CONDITION]) == {"baseline", "intervention"}
    base = out[out[C.CONDITION] == "baseline"][C.PROB_NORM].to_numpy()
    after = out[out[C.CONDITION] == "intervention"][C.PROB_NORM].to_numpy()
    assert not np.allclose(base, after)  # not served from the cache
    again = score_choices(model, items, "letters", cache=None)[C.PROB_NORM].to_numpy()
    np.testing.assert_allclose(again, base, atol=1e-6)  # model restored
    assert len(cal.summarize(cal.item_confidence(out), by=[C.CONDITION])) == 2
