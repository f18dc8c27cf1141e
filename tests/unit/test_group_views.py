"""Views by group, headless: each probe widget's "group by" shows per-group bars from the engine's grouped
summary with the pooled value; the permutation view shows one k at a time; the data panel loads
benchmarks (id or folder, config, split, seeded sample) and says what it loaded."""

from __future__ import annotations

import ast
import html

import numpy as np
import pytest

from explorer import columns as C
from explorer.errors import SkippedItemsWarning
from explorer.items import load_items
from explorer.metrics.attentiveness import summarize_attentiveness
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.calibration import item_confidence, summarize
from tests.unit.test_metadata_columns import ITEMS
from widgets._state import SharedState
from widgets.attentiveness import AttentivenessWidget
from widgets.calibration import CalibrationWidget
from widgets.dashboard import Dashboard
from widgets.data_panel import AUTO, HUB, DataPanel
from widgets.permutation import PermutationWidget
from widgets.registry import view


def test_permutation_groups_and_one_k_at_a_time(tiny):
    w = PermutationWidget(tiny, ITEMS, n_boot=0)
    w.runner.wait(60)
    assert w.runner.last_error is None
    assert list(w.k.options) == [2, 3, 4, 5] and w.k.layout.display is None
    assert [v for _, v in w.group.options] == ["", "k", "subject", "meta_label", "year"]
    w.k.value = 5
    assert list(w.position_fig.data[0].x) == ["A", "B", "C", "D", "E"]
    assert np.allclose(w.position_fig.data[2].y, 0.2)  # uniform for k = 5
    assert list(w.grid_fig.data[0].y) == ["it"]
    w.group.value = "subject"
    expect = summarize_permutation(w.frame, by=["subject"], n_boot=0)
    bars, pooled = w.group_fig.data
    assert list(bars.x) == ["europe", "south"]
    assert np.allclose(bars.y, [g["accuracy"] for g in expect["groups"]])
    assert np.allclose(pooled.y, expect["accuracy"]) and expect["accuracy"] == w.summary["accuracy"]
    w.metric.value = "consistency"
    assert np.allclose(w.group_fig.data[0].y, [g["consistency"] for g in expect["groups"]])
    assert "k = 2, 3, 4, 5" in w.headline.value


def test_attentiveness_group_bars(tiny):
    w = AttentivenessWidget(tiny, ITEMS, layer_items=2)
    w.runner.wait(60)
    w.group.value = "subject"
    by = summarize_attentiveness(w.rows, by=["subject"], n_boot=0)
    bars, pooled = w.group_fig.data
    assert list(bars.x) == ["europe", "south"] and np.allclose(bars.y, by["pma_mean"])
    assert np.allclose(pooled.y, w.rows[C.PMA].mean())
    w.metric.value = "accuracy"
    assert np.allclose(w.group_fig.data[0].y, by["accuracy"])


def test_calibration_group_bars(tiny):
    w = CalibrationWidget(tiny, ITEMS, formats=("letters",), folds=2)
    w.runner.wait(60)
    assert "subject" in w.group.options
    w.group.value = "subject"
    table = summarize(item_confidence(w.frame), by=["subject"], n_bins=10)
    bars, pooled = w.group_fig.data
    assert list(bars.x) == ["europe", "south"] and np.allclose(bars.y, table[C.ECE])
    assert np.allclose(pooled.y, summarize(item_confidence(w.frame), n_bins=10)[C.ECE].iloc[0])


@pytest.fixture
def panel():
    seen, errors = [], []
    p = DataPanel(SharedState(), seen.append, errors.append, n_items=4)
    return p, seen, errors


def test_data_panel_loads_a_benchmark_and_says_what(panel, hub):
    p, seen, errors = panel
    p.dataset.value = HUB
    assert p.hub_box.layout.display is None
    p.source.value = "allenai/ai2_arc"  # a recognised id suggests its configs and split
    assert p.config.value == "ARC-Challenge" and "ARC-Easy" in p.config.options and p.split.value == "test"
    p.source.value, p.split.value, p.seed.value = str(hub["arc"]), AUTO, 1
    p.load_benchmark()
    p.runner.wait(60)
    expect = load_items(hub["arc"], config="ARC-Challenge", n=4, seed=1)
    assert [i.id for i in p.items] == [i.id for i in expect] and seen[-1] == p.items and not errors
    assert "ai2_arc · config ARC-Challenge · split test · 4 of 6 items · k = " in p.status.value
    code = p.code()
    ast.parse(code)
    assert f"config='ARC-Challenge', split='test', n=4, seed=1" in code


def test_data_panel_errors_and_builtins(panel, hub):
    p, _, errors = panel
    p.dataset.value = "mmlu"
    assert len(p.items) == 4 and "mmlu · 4 of 285 items · k = 4" in p.status.value
    p.dataset.value = HUB
    p.source.value, p.config.value = str(hub["arc"]), "ARC-Hard"
    p.load_benchmark()
    p.runner.wait(60)
    assert "has no config 'ARC-Hard'" in errors[-1] and "color:#b00" in p.status.value
    assert len(p.items) == 4  # the previous items stay


def test_dashboard_shows_code_for_a_benchmark(tiny, hub):
    d = Dashboard(start=False, n_items=4)
    d._model_loaded(tiny)
    d.data.dataset.value = HUB
    d.data.source.value, d.data.config.value = str(hub["mmlu"]), "all"
    with pytest.warns(SkippedItemsWarning):
        d.data.load_benchmark()
        d.data.runner.wait(60)
    assert [i.metadata["subject"] for i in d.data.items]
    assert ("mmlu · config all · split test · 4 of 285 items · k = 4 · 3 invalid skipped (e.g. 'item-286': "
            "choices 2 and 3 are both") in html.unescape(d.data.status.value)
    w = d.build(view("permutation"))
    w.runner.wait(60)
    code = d.code_for(view("permutation"))
    ast.parse(code)
    assert f"explorer.load_items({str(hub['mmlu'])!r}, config='all', split='test', n=4, seed=0)" in code
    for w in d.views.values():
        w.runner.cancel()
