"""The calibration widget, headless on a tiny model: controls recompute metrics without re-scoring."""

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.items import capitals
from explorer.probes.calibration import item_confidence, reliability_frame
from explorer.probes.choices import score_choices
from tests.tiny import tiny_model
from widgets._state import SharedState
from widgets.calibration import NONE, CalibrationWidget
from widgets.figures.calibration import reliability_figure


@pytest.fixture(scope="module")
def model():
    return tiny_model("llama")


@pytest.fixture(scope="module")
def widget(model):
    w = CalibrationWidget(model, capitals(12), formats=("letters", "cloze"), state=SharedState())
    w.runner.wait(120)
    assert w.runner.last_error is None
    return w


def curve_data(w):
    return [(tuple(t.x), tuple(t.y)) for t in w.fig.data[1:]]


def test_scored_once_and_grouped_by_format(widget):
    assert widget.scoring_runs == 1 and len(widget.frame) == 12 * 4 * 2
    assert widget.group.value == C.FORMAT and C.ANSWER in widget.group.options
    names = {t.name for t in widget.fig.data[1:]}
    assert names == {"letters", "cloze"} and len(widget.fig.data) == 5  # diagonal + (curve, counts) x 2
    assert "ece" in widget.table.value


def test_bins_and_strategy_change_the_figure_without_rescoring(widget):
    widget.bins.value = 10
    before = curve_data(widget)
    widget.bins.value = 3
    after = curve_data(widget)
    assert after != before and widget.scoring_runs == 1
    expected = reliability_frame(item_confidence(widget.frame), by=[C.FORMAT], n_bins=3)
    cloze = next(t for t in widget.fig.data[1:] if t.name == "cloze" and t.type == "scatter")
    np.testing.assert_allclose(cloze.x, expected[expected[C.FORMAT] == "cloze"][C.CONFIDENCE])
    widget.strategy.value = "quantile"
    assert curve_data(widget) != after and widget.scoring_runs == 1
    widget.strategy.value = "uniform"


def test_group_by_and_recalibration(widget):
    widget.group.value = NONE
    assert len(widget.fig.data) == 3 and widget.fig.data[1].name == "all"
    raw = curve_data(widget)
    widget.recalibration.value = "temperature"
    assert curve_data(widget) != raw and "temperature" in widget.fig.layout.title.text
    widget.recalibration.value = "none"
    widget.group.value = C.FORMAT
    assert widget.scoring_runs == 1


def test_clicking_a_bin_lists_its_prompts(widget):
    widget.bins.value = 5
    curve = next(t for t in widget.fig.data[1:] if t.name == "letters" and t.type == "scatter")
    group, b = curve.customdata[0]
    rows = widget.show_bin(group, b)
    assert len(rows) > 0
    assert (rows[C.FORMAT] == "letters").all() and (rows[C.BIN] == b).all()
    assert "Question:" in widget.detail.value and len(widget.bin_items.options) == len(rows)
    widget.bin_items.value = 0
    assert widget.state.selected_item == rows[C.ITEM_ID].iloc[0]


def test_intervention_change_rescores(model):
    state = SharedState()
    w = CalibrationWidget(model, capitals(4), formats=("letters",), state=state)
    w.runner.wait(60)
    state.heads = {(0, 1): 0.0}
    state.apply_intervention = True
    w.runner.wait(60)
    assert w.runner.last_error is None and w.scoring_runs >= 2
    assert (w.frame[C.INTERVENTION] != "").all()


def test_from_any_probe_frame_groups_by_order(model):
    items = capitals(6)
    orders = [(0, 1, 2, 3), (1, 2, 3, 0)]
    frame = score_choices(model, [i.permuted(o) for o in orders for i in items], "letters", cache=None)
    frame[C.ORDER_ID] = np.repeat([0, 1], len(frame) // 2)
    w = CalibrationWidget(frame=frame)
    assert w.scoring_runs == 0 and C.ORDER_ID in w.group.options
    w.group.value = C.ORDER_ID
    assert {t.name for t in w.fig.data[1:]} == {"0", "1"}


def test_figure_is_a_pure_function_of_the_reliability_frame():
    rel = pd.DataFrame({C.BIN: [0, 2], C.BIN_LOW: [0.0, 0.5], C.BIN_HIGH: [0.25, 0.75], C.COUNT: [3, 1],
                        C.CONFIDENCE: [0.2, 0.6], C.ACCURACY: [0.33, 1.0], C.GAP: [0.13, 0.4]})
    fig = reliability_figure(rel)
    assert list(fig.data[1].x) == [0.2, 0.6] and list(fig.data[2].y) == [3, 1]
    assert list(fig.data[2].width) == [0.25, 0.25]
