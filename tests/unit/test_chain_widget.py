"""The chain view, headless on a tiny model: comparisons score in the background, the scatter per link
shows the frame's values with the correlation, clicking a point selects the item everywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plotly.callbacks import Points

from explorer import columns as C
from explorer.metrics.chain_summary import chain_agreement
from explorer.probes.chain import chain_conditions, chain_probe
from tests.tiny import tiny_items, tiny_model
from widgets._state import SharedState
from widgets.chain import ChainWidget
from widgets.figures.chain import JITTER, agreement_figure, link_scatter_figure


@pytest.fixture(scope="module")
def model():
    return tiny_model("llama")


@pytest.fixture
def widget(model):
    w = ChainWidget(model, tiny_items(8), state=SharedState())
    w.runner.wait(120)
    assert w.runner.last_error is None
    return w


def item_traces(w):
    return w.scatter_fig.data[::3]


def test_first_comparison_fills_the_scatter_with_the_frames_values(widget, model):
    assert (widget.a.value, widget.b.value) == ("letters", "cloze") and len(widget.frame) == 16
    expect = chain_probe(model, tiny_items(8), chain_conditions(formats=["letters", "cloze"]))
    logp = item_traces(widget)[0]
    a = expect[expect[C.CONDITION] == "letters"].set_index(C.ITEM_ID)[C.LOGP_VOCAB_GOLD]
    b = expect[expect[C.CONDITION] == "cloze"].set_index(C.ITEM_ID)[C.LOGP_VOCAB_GOLD]
    np.testing.assert_allclose(logp.x, a.loc[list(logp.customdata)], atol=1e-9)
    np.testing.assert_allclose(logp.y, b.loc[list(logp.customdata)], atol=1e-9)
    rho = chain_agreement(expect, [("letters", "cloze")]).set_index(C.LINK)[C.SPEARMAN]
    assert f"ρ = {rho[C.LOGP_VOCAB_GOLD]:.2f}" in widget.scatter_fig.layout.annotations[0].text
    assert list(widget.agreement_fig.data[0].y) == pytest.approx(rho.tolist())
    assert "p_choices_gold" in widget.means.value


def test_changing_the_comparison_rescores_and_redraws(widget):
    before = tuple(item_traces(widget)[0].y)
    widget.comparison.value = "0 vs 1 demonstration"
    widget.runner.wait(120)
    assert widget.runner.last_error is None and widget.a.options == ("0-shot", "1-shot")
    assert tuple(item_traces(widget)[0].y) != before
    assert len(item_traces(widget)[0].x) < 8  # a few items were kept apart as demonstrations


def test_swapping_a_and_b_mirrors_the_points(widget):
    x, y = tuple(item_traces(widget)[2].x), tuple(item_traces(widget)[2].y)
    widget.a.value, widget.b.value = "cloze", "letters"
    np.testing.assert_allclose(item_traces(widget)[2].x, y)
    np.testing.assert_allclose(item_traces(widget)[2].y, x)


def test_clicking_a_point_selects_the_item_everywhere(widget):
    trace = item_traces(widget)[3]  # the "correct" panel
    trace._dispatch_on_click(Points(point_inds=[2], trace_index=9), None)  # as plotly does on a browser click
    chosen = trace.customdata[2]
    assert widget.state.selected_item == chosen
    ringed = widget.scatter_fig.data[2]  # the selected-item marker of the first panel
    assert len(ringed.x) == 1 and chosen in widget.detail.value and "Question:" in widget.detail.value
    widget.state.selected_item = trace.customdata[0]  # another view selects: the ring follows
    assert trace.customdata[0] in widget.detail.value


def test_head_comparison_uses_the_shared_scaling(model):
    state = SharedState()
    w = ChainWidget(model, tiny_items(6), state=state, comparison="heads scaled (Heads tab) vs not")
    assert "Heads tab" in w.note.value and w.frame.empty  # nothing to compare yet
    state.heads = {(1, 0): 0.0}
    w.runner.wait(120)
    assert w.runner.last_error is None and w.b.value == "scaled L1H0x0"
    scaled = w.frame[w.frame[C.CONDITION] == "scaled L1H0x0"]
    assert (scaled[C.INTERVENTION] == "scale L1H0x0.0").all() and w.note.value == ""


def test_from_a_ready_frame_of_two_models(model):
    frame = chain_probe({"one": model, "two": tiny_model("llama", seed=3)}, tiny_items(5))
    w = ChainWidget(frame=frame)
    assert w.comparison.disabled and (w.a.value, w.b.value) == ("one", "two")
    assert len(item_traces(w)[1].x) == 5
    assert "rows = frame" in w.code() and "chain_means(rows)" in w.code()  # code from the frame given
    empty = ChainWidget()  # a dashboard builds views before the model is loaded: empty, nothing runs
    assert empty.condition == "empty" and not empty.runner.busy and empty.code() == ""


def test_figures_are_pure_functions_with_fixed_traces():
    empty = link_scatter_figure(pd.DataFrame(columns=C.CHAIN_COLUMNS), "", "")
    assert len(empty.data) == 15 and len(agreement_figure(None).data) == 3
    frame = pd.DataFrame({C.CONDITION: ["A", "A", "B", "B"], C.ITEM_ID: ["x", "y", "x", "y"],
                          C.LOGP_VOCAB_GOLD: [-1.0, -2.0, -1.5, -0.5], C.P_VOCAB_GOLD: [0.3, 0.1, 0.2, 0.6],
                          C.P_CHOICES_GOLD: [0.5, 0.2, 0.4, 0.7], C.CORRECT: [True, False, True, True],
                          C.BRIER: [0.3, 0.9, 0.4, 0.1]})
    fig = link_scatter_figure(frame, "A", "B", selected="y")
    assert len(fig.data) == 15 and list(fig.data[0].customdata) == ["x", "y"]
    assert list(fig.data[0].x) == [-1.0, -2.0] and list(fig.data[0].y) == [-1.5, -0.5]
    assert list(fig.data[2].x) == [-2.0]  # the selected item, ringed
    correct = fig.data[9]  # 0/1 values spread by a fixed jitter, never across 0.5
    assert np.all(np.abs(np.asarray(correct.x) - np.array([1, 0])) <= JITTER)
    assert np.all(np.abs(np.asarray(correct.y) - np.array([1, 1])) <= JITTER)
    assert "ρ = –" in fig.layout.annotations[0].text  # no agreement given
    undefined = chain_agreement(frame.assign(**{C.CORRECT: True}), [("A", "B")])  # every item correct: no rho
    shown = agreement_figure(undefined).data[0].y
    assert shown[3] is None and shown[0] == pytest.approx(-1.0)  # a gap, never NaN (invalid JSON for the page)
