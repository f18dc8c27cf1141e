"""Probes on a list of models (one frame, a ``model`` column, each model's rows a single run's) and the
paired differences between models, checked against single runs and hand-computed values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.metrics.compare import compare_attentiveness, compare_permutation, compare_predictions, paired_difference
from explorer.metrics.permutation import a_bias, accuracy, order_avg_accuracy
from explorer.metrics.permutation_arrays import permutation_arrays
from explorer.metrics.reliability import ece
from explorer.probes.attentiveness import attentiveness
from explorer.probes.calibration import item_confidence
from explorer.probes.choices import score_choices
from explorer.probes.models import by_model
from explorer.probes.permutation import permutation_probe
from tests.tiny import tiny_items, tiny_model


@pytest.fixture(scope="module")
def two():
    """Two tiny models with different weights and names."""
    return [dataclasses.replace(tiny_model("llama", seed=0), name="base"),
            dataclasses.replace(tiny_model("llama", seed=1), name="tuned")]


ITEMS = tiny_items(12)


def test_each_models_rows_equal_a_single_run(two):
    frame = permutation_probe(two, ITEMS, orders="all", cache=None)
    assert list(frame.columns[:2]) == [C.MODEL, C.ITEM_ID] and list(frame[C.MODEL].unique()) == ["base", "tuned"]
    for model, rows in by_model(frame).items():
        single = permutation_probe(next(m for m in two if m.name == model), ITEMS, orders="all", cache=None)
        pd.testing.assert_frame_equal(rows, single)
    att = attentiveness(two, ITEMS, ["letters", "cloze"], cache=None)
    pd.testing.assert_frame_equal(by_model(att)["tuned"], attentiveness(two[1], ITEMS, ["letters", "cloze"], cache=None))
    scored = score_choices(two, ITEMS, cache=None)
    pd.testing.assert_frame_equal(by_model(scored)["base"], score_choices(two[0], ITEMS, cache=None))


def test_a_model_given_twice_is_refused(two):
    with pytest.raises(ExplorerError, match="'base' is given 2 times"):
        score_choices([two[0], two[0]], ITEMS, cache=None)


def test_paired_difference_by_hand():
    ref, new = np.array([1.0, 0.0, 0.0, 1.0]), np.array([1.0, 1.0, 0.0, 1.0])
    same = paired_difference(lambda i: ref[i].mean(), lambda i: ref[i].mean(), 4, n_boot=100)
    assert same == {"value": 0.0, "ci95": [0.0, 0.0]}  # one resample for both: no spread at all
    d = paired_difference(lambda i: ref[i].mean(), lambda i: new[i].mean(), 4, n_boot=2000, seed=3)
    assert d["value"] == 0.25
    # The per-item difference is (0, 1, 0, 0): a resample's difference is the share of draws of item 1,
    # a multiple of 1/4 between 0 and 1; its 2.5th percentile is 0 (P(no draw of item 1) = 0.316).
    assert d["ci95"][0] == 0.0 and d["ci95"][1] in (0.5, 0.75)
    assert paired_difference(lambda i: 0.0, lambda i: 1.0, 3, n_boot=0) == {"value": 1.0, "ci95": None}


def test_permutation_differences_are_the_models_metrics_minus_the_references(two):
    frames = by_model(permutation_probe(two, ITEMS, orders="cyclic", cache=None))
    out = compare_permutation(frames, n_boot=200)
    pair = out["pairs"][0]
    assert out["reference"] == "base" and pair["model"] == "tuned" and pair["minus"] == "base"
    a, b = permutation_arrays(frames["base"]), permutation_arrays(frames["tuned"])
    for name, metric in {"a_bias": a_bias, "accuracy": accuracy, "order_avg_accuracy": order_avg_accuracy}.items():
        assert pair[name]["value"] == pytest.approx(metric(b) - metric(a), abs=1e-12)
        lo, hi = pair[name]["ci95"]
        assert lo <= hi
    assert pair["n_items"] == 12 and pair["n_orders"] == 4 and pair["by_k"]["4"]["a_bias"] == pair["a_bias"]
    # Identical models: every paired difference and its interval is exactly zero.
    twin = compare_permutation({"base": frames["base"], "again": frames["base"]}, n_boot=50)["pairs"][0]
    assert twin["accuracy"] == {"value": 0.0, "ci95": [0.0, 0.0]}


def test_different_items_are_refused(two):
    frames = by_model(permutation_probe(two, ITEMS, cache=None))
    fewer = frames["tuned"][frames["tuned"][C.ITEM_ID] != "q3"]
    with pytest.raises(ExplorerError, match="different items"):
        compare_permutation({"base": frames["base"], "tuned": fewer}, n_boot=0)


def test_attentiveness_and_calibration_differences(two):
    rows = by_model(attentiveness(two, ITEMS, ["letters", "cloze"], cache=None))
    out = compare_attentiveness(rows, n_boot=100)
    cells = {c[C.FORMAT]: c for c in out["pairs"][0]["cells"]}
    for fmt in ("letters", "cloze"):
        a, b = (rows[m][rows[m][C.FORMAT] == fmt] for m in ("base", "tuned"))
        assert cells[fmt]["pma_mean"]["value"] == pytest.approx(b[C.PMA].mean() - a[C.PMA].mean(), abs=1e-12)
        assert cells[fmt]["accuracy"]["value"] == pytest.approx(b[C.CORRECT].astype(float).mean()
                                                                - a[C.CORRECT].astype(float).mean(), abs=1e-12)
    preds = {m: item_confidence(f) for m, f in by_model(score_choices(two, ITEMS, cache=None)).items()}
    cal = compare_predictions(preds, n_bins=5, n_boot=100)["pairs"][0]
    base, tuned = preds["base"], preds["tuned"]
    expected = (ece(tuned[C.CONFIDENCE], tuned[C.CORRECT], n_bins=5) - ece(base[C.CONFIDENCE], base[C.CORRECT], n_bins=5))
    assert cal["ece"]["value"] == pytest.approx(expected, abs=1e-12) and cal["n_items"] == 12
    assert cal["brier"]["value"] == pytest.approx(tuned[C.OPTION_BRIER].mean() - base[C.OPTION_BRIER].mean())


def test_doctests():
    import doctest

    from explorer.metrics import compare

    assert doctest.testmod(compare).failed == 0


def test_head_attribution_gives_one_map_per_model_of_its_own_shape():
    from explorer.probes.heads import head_attribution, mean_attribution, top_heads
    from tests.unit.test_head_attribution import RECORDS

    small = dataclasses.replace(tiny_model("llama", seed=0), name="2x4")
    other = dataclasses.replace(tiny_model("llama", seed=2, num_hidden_layers=3, num_attention_heads=2,
                                           num_key_value_heads=1), name="3x2")
    frame = head_attribution([small, other], RECORDS)
    assert list(frame.columns[:2]) == [C.MODEL, C.PROMPT_ID]
    for m in (small, other):  # each model's rows are exactly its single run
        pd.testing.assert_frame_equal(by_model(frame)[m.name], head_attribution(m, RECORDS))
    maps = mean_attribution(frame)
    assert list(maps[C.MODEL].unique()) == ["2x4", "3x2"]
    assert maps.groupby(C.MODEL, sort=False).size().tolist() == [2 * 4, 3 * 2]
    for name, rows in maps.groupby(C.MODEL, sort=False):  # each map is the single model's map
        single = mean_attribution(by_model(frame)[name])
        pd.testing.assert_frame_equal(rows.drop(columns=C.MODEL).reset_index(drop=True), single)
        assert top_heads(rows.drop(columns=C.MODEL)) == top_heads(single)
